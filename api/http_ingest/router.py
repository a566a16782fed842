"""POST /api/v1/ingest: an edge gateway's envelope over HTTP, for sites where MQTT cannot get out.

The body is the same bytes a gateway publishes on MQTT (JSON, or zlib after a leading 'Z'). The caller is a
machine token with the 'ingest' scope; a token from a certificate login posts only envelopes of the gateway
its certificate's CN names (as the MQTT broker lets a client certificate publish only under its own gateway);
the envelope's gateway must be registered and active; the envelope is checked as the MQTT bridge checks it and
forwarded to Kafka. 202 only once Kafka acknowledged it. Refusals of the envelope are audited, not dead-lettered.

A gateway writes only its own devices (ingest/binding.py): the batches of devices bound to another gateway, or
unknown while auto-registration is off, are refused one device at a time, as over MQTT, so that they never cost
the gateway's own devices. They are dead-lettered with their reason and listed in the answer's `refused`; the
others are forwarded (202). When every device is refused, nothing is forwarded and the answer is 403.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from api.audit import auditlog
from api.auth.deps import IngestToken
from api.deps import ClientIP, Conn
from api.errors import Unavailable
from api.http_ingest.kafka_link import KafkaLink
from carbon_domain.schemas import DeviceColumns
from carbon_domain.wire import decode_envelope, encode_device_record
from carbonflow.device_bindings import bindings_of_async, claim_devices_async, gateway_site_async
from ingest.binding import Verdict, after_claim, judge
from ingest.validation import Rejected, split_by_device, validate_payload

router = APIRouter(tags=["http_ingest"])

_TYPES = ("application/json", "application/octet-stream")
_MAX_BODY = 16 * 1024 * 1024


class RefusedDevice(BaseModel):
    device: str
    readings: int
    reason: str = Field(description="why, and what to do; the batch is in the dead letters with this reason")


class Accepted(BaseModel):
    gateway: str
    seq_first: int
    seq_last: int
    readings: int = Field(description="readings forwarded to Kafka")
    refused: list[RefusedDevice] = Field(description="devices the gateway may not write, each dead-lettered")


_BODY = {
    "required": True,
    "description": ("an envelope (version 2, a list per field per device, or version 1, an object per reading;"
                    " docs/ingest.md) as a gateway publishes it: JSON, or 'Z' followed by zlib-compressed JSON"),
    "content": {"application/json": {"schema": {"type": "object"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "the envelope is invalid; the message gives the reason"},
    403: {"description": "not a machine token with the 'ingest' scope, a certificate's token posting another "
                          "gateway's envelope, the gateway is not registered and active, or every device of the "
                          "envelope is one the gateway may not write (each reason given, each dead-lettered)"},
    413: {"description": "the body is too large"},
    415: {"description": "the body is neither application/json nor application/octet-stream"},
    503: {"description": "Kafka is not configured or did not acknowledge the batch"},
}


async def _gateway_status(conn: psycopg.AsyncConnection, gateway: str) -> str | None:
    cur = await conn.execute("SELECT status FROM gateways WHERE gateway_id = %s", (gateway,))
    row = await cur.fetchone()
    return None if row is None else str(row[0])


def _claimed_gateway(payload: bytes) -> str:
    """The gateway the envelope names, or '' when it cannot be read (validation then says why)."""
    try:
        return decode_envelope(payload).gateway
    except ValueError:
        return ""


@router.post("/ingest", status_code=202, response_model=Accepted, openapi_extra={"requestBody": _BODY},
             responses=_RESPONSES)
async def ingest(request: Request, caller: IngestToken, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Accept one gateway envelope; answers with the readings forwarded to Kafka."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _TYPES:
        raise HTTPException(415, f"send the envelope as {' or '.join(_TYPES)}, not {media or 'no content type'!r}")
    payload = await request.body()
    if len(payload) > _MAX_BODY:
        raise HTTPException(413, f"body of {len(payload)} bytes exceeds {_MAX_BODY} bytes")
    received = datetime.now(UTC)
    claimed = await asyncio.to_thread(_claimed_gateway, payload)
    try:
        envelope = validate_payload(payload, claimed or "-", received)
    except Rejected as exc:
        await auditlog.record(conn, action="ingest.envelope", client_ip=ip, principal=caller,
                              target=f"gateway:{claimed}" if claimed else None, outcome="rejected",
                              detail={"reason": str(exc), "bytes": len(payload)})
        raise HTTPException(400, f"envelope rejected: {exc}") from exc
    common_name = caller.cert_common_name
    if common_name is not None and envelope.gateway != common_name:
        await auditlog.record(conn, action="ingest.envelope", client_ip=ip, principal=caller,
                              target=f"gateway:{envelope.gateway}", outcome="denied",
                              detail={"reason": "not the certificate's gateway", "common_name": common_name})
        raise HTTPException(403, f"this token comes from the certificate with CN {common_name!r}: it posts envelopes "
                                 f"of gateway {common_name!r} only, not of {envelope.gateway!r}")
    status = await _gateway_status(conn, envelope.gateway)
    if status != "active":
        why = "is not registered" if status in (None, "unregistered") else f"is {status}"
        await auditlog.record(conn, action="ingest.envelope", client_ip=ip, principal=caller,
                              target=f"gateway:{envelope.gateway}", outcome="denied", detail={"reason": why})
        raise HTTPException(403, f"gateway {envelope.gateway!r} {why}; register it with "
                                 f"`carbonflow gateways add {envelope.gateway}`")
    records = split_by_device(envelope, received)
    verdicts = await _device_verdicts(conn, envelope.gateway, [r.device for r in records],
                                      auto_register=request.app.state.settings.auto_register_devices)
    admitted = [r for r in records if verdicts[r.device].admit]
    refused = [{"device": r.device, "readings": len(r.seq), "reason": verdicts[r.device].reason}
               for r in records if not verdicts[r.device].admit]
    if not admitted:
        await _dead_letter(conn, envelope.gateway, records, verdicts)
        await auditlog.record(conn, action="ingest.envelope", client_ip=ip, principal=caller,
                              target=f"gateway:{envelope.gateway}", outcome="denied", detail={"refused": refused})
        raise HTTPException(403, "no device of this envelope may be written by gateway "
                                 f"{envelope.gateway!r}: " + "; ".join(r["reason"] for r in refused))
    link: KafkaLink = request.app.state.kafka
    try:
        count = await link.deliver_records(admitted)
    except Unavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    await _dead_letter(conn, envelope.gateway, records, verdicts)  # after the 503: a retried envelope is refused once
    await auditlog.record(conn, action="ingest.envelope", client_ip=ip, principal=caller,
                          target=f"gateway:{envelope.gateway}",
                          detail={"seq_first": envelope.seq_first, "seq_last": envelope.seq_last, "readings": count,
                                  **({"refused": refused} if refused else {})})
    return {"gateway": envelope.gateway, "seq_first": envelope.seq_first, "seq_last": envelope.seq_last,
            "readings": count, "refused": refused}


async def _device_verdicts(conn: psycopg.AsyncConnection, gateway: str, devices: list[str], *,
                           auto_register: bool) -> dict[str, Verdict]:
    """Whether the gateway may write each device, read from the registry now (claiming what it may claim)."""
    found = await bindings_of_async(conn, devices)
    site = await gateway_site_async(conn, gateway)
    verdicts = {d: judge(gateway, d, found.get(d), gateway_site=site, auto_register=auto_register) for d in devices}
    claims = [d for d, v in verdicts.items() if v.claim]
    if claims:
        found = await claim_devices_async(conn, gateway, claims, actor="api")
        verdicts |= {d: after_claim(gateway, d, found.get(d), gateway_site=site) for d in claims}
    return verdicts


async def _dead_letter(conn: psycopg.AsyncConnection, gateway: str, records: list[DeviceColumns],
                       verdicts: dict[str, Verdict]) -> None:
    """Store each refused device's batch, as the Kafka record it would have been, with its reason."""
    rows = [("ingest", gateway, "http", verdicts[r.device].reason, encode_device_record(r))
            for r in records if not verdicts[r.device].admit]
    if rows:
        async with conn.cursor() as cur:
            await cur.executemany("INSERT INTO dead_letters (stage, gateway_id, topic, reason, payload)"
                                  " VALUES (%s, %s, %s, %s, %s)", rows)
