"""POST /api/v1/ingest: an edge gateway's envelope over HTTP, for sites where MQTT cannot get out.

The body is the same bytes a gateway publishes on MQTT (JSON, or zlib after a leading 'Z'). The caller is a
machine token with the 'ingest' scope; a token from a certificate login posts only envelopes of the gateway
its certificate's CN names (as the MQTT broker lets a client certificate publish only under its own gateway);
the envelope's gateway must be registered and active; the envelope is checked as the MQTT bridge checks it and
forwarded to Kafka. 202 only once Kafka acknowledged it. Refusals are audited, not dead-lettered.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from api import auditlog
from api.deps import ClientIP, Conn, IngestToken
from api.errors import Unavailable
from api.kafka_link import KafkaLink
from carbon_domain.wire import decode_envelope
from ingest.validation import Rejected, validate_payload

router = APIRouter(tags=["ingest"])

_TYPES = ("application/json", "application/octet-stream")
_MAX_BODY = 16 * 1024 * 1024


class Accepted(BaseModel):
    gateway: str
    seq_first: int
    seq_last: int
    readings: int


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
                          "gateway's envelope, or the gateway is not registered and active"},
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
    link: KafkaLink = request.app.state.kafka
    try:
        count = await link.deliver(envelope, received)
    except Unavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    await auditlog.record(conn, action="ingest.envelope", client_ip=ip, principal=caller,
                          target=f"gateway:{envelope.gateway}",
                          detail={"seq_first": envelope.seq_first, "seq_last": envelope.seq_last, "readings": count})
    return {"gateway": envelope.gateway, "seq_first": envelope.seq_first, "seq_last": envelope.seq_last,
            "readings": count}
