"""Checks on a gateway's status and events payloads before they enter the pipeline; each failure names its reason.

The retained status (and the broker's last will) is always plain JSON; events
are CFP1-wrapped when the gateway protects its payloads, like data.
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import ValidationError

from carbon_domain.schemas import GatewayHealthRecord, GatewayStatus, SpoolOverflowEvent
from ingest.peer_keys import PeerKeyring
from ingest.refusals import location
from ingest.validation import Rejected

__all__ = ["MAX_HEALTH_BYTES", "validate_health_payload"]

MAX_HEALTH_BYTES = 64 * 1024
# topic kind -> (GatewayHealthRecord field, its schema)
_BODIES: dict[str, tuple[str, type[GatewayStatus | SpoolOverflowEvent]]] = {
    "status": ("status", GatewayStatus), "events": ("event", SpoolOverflowEvent)}


def _reason(exc: ValidationError, what: str) -> str:
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return f"malformed JSON: {first['msg']}"
    where = location(tuple(first["loc"])) or "payload"
    return f"invalid {what}: {where}: {first['msg']} ({exc.error_count()} errors)"


def validate_health_payload(payload: bytes, topic_gateway: str, kind: str, received_at: datetime,
                            keyring: PeerKeyring | None = None) -> GatewayHealthRecord:
    """Decode a `status` or `events` payload of `topic_gateway` into the Kafka record; Rejected with the reason."""
    if len(payload) > MAX_HEALTH_BYTES:
        raise Rejected(f"{kind} payload of {len(payload)} bytes exceeds the {MAX_HEALTH_BYTES}-byte limit")
    if kind == "events" and keyring is not None:
        try:
            payload = keyring.unwrap(topic_gateway, payload)
        except ValueError as exc:
            raise Rejected(str(exc)) from exc
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"{kind} payload is not UTF-8 at byte {exc.start}") from exc
    if kind == "events":
        try:
            name = json.loads(text).get("event") if text.lstrip().startswith("{") else None
        except ValueError:
            name = None  # reported below as malformed JSON by the schema
        if name is not None and name != "spool_overflow":
            raise Rejected(f"unknown event {str(name)[:64]!r}; known: spool_overflow")
    elif kind != "status":
        raise Rejected(f"topic kind {kind!r} is not status or events")
    field, model = _BODIES[kind]
    try:
        body = model.model_validate_json(text)
    except ValidationError as exc:
        raise Rejected(_reason(exc, field)) from exc
    if body.gateway is not None and body.gateway != topic_gateway:
        raise Rejected(f"gateway {body.gateway!r} in {kind} payload does not match topic gateway {topic_gateway!r}")
    return GatewayHealthRecord(gateway=topic_gateway, received_at=received_at, **{field: body})
