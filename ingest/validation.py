"""Checks on an MQTT payload before it may enter the pipeline; each failure names its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from operator import attrgetter

from pydantic import ValidationError

from carbon_domain.schemas import ColumnEnvelope, DeviceColumns, Envelope, columns_of_device, device_columns, epoch_us
from carbon_domain.wire import decode_envelope, envelope_text
from ingest.peer_keys import PeerKeyring
from ingest.refusals import schema_refusal

__all__ = ["Rejected", "validate_payload", "split_by_device", "MAX_CLOCK_SKEW"]

MAX_CLOCK_SKEW = timedelta(minutes=5)
_SOURCE_TS = attrgetter("source_ts")
_GATEWAY_TS = attrgetter("gateway_ts")


class Rejected(ValueError):
    """A payload that goes to the dead-letter store; str() is the reason."""


def validate_payload(
    payload: bytes, topic_gateway: str | None, now: datetime | None = None, keyring: PeerKeyring | None = None
) -> Envelope | ColumnEnvelope:
    """Decode and check an envelope of either version against the topic it arrived on (unwrapping CFP1
    protection first)."""
    if topic_gateway is None:
        raise Rejected("topic is not <root>/<gateway>/data")
    if keyring is not None:
        try:
            payload = keyring.unwrap(topic_gateway, payload)
        except ValueError as exc:
            raise Rejected(str(exc)) from exc
    try:
        envelope = decode_envelope(payload)
    except ValidationError as exc:
        raise Rejected(schema_refusal(exc, envelope_text(payload))) from exc
    except ValueError as exc:
        raise Rejected(f"undecodable payload: {exc}") from exc
    if envelope.gateway != topic_gateway:
        raise Rejected(f"gateway {envelope.gateway!r} in envelope does not match topic gateway {topic_gateway!r}")
    limit = (now or datetime.now(UTC)) + MAX_CLOCK_SKEW
    if isinstance(envelope, ColumnEnvelope):
        _refuse_future_columns(envelope, epoch_us(limit))
    else:
        _refuse_future_readings(envelope, limit)
    return envelope


def _refuse_future_readings(envelope: Envelope, limit: datetime) -> None:
    # the newest timestamps first, iterated in C: the reading-by-reading search only runs for a rejection
    readings = envelope.readings
    if max(map(_SOURCE_TS, readings)) > limit or max(map(_GATEWAY_TS, readings)) > limit:
        future = [r.seq for r in readings if r.source_ts > limit or r.gateway_ts > limit]
        raise Rejected(f"{len(future)} readings dated more than {MAX_CLOCK_SKEW} in the future (first seq {future[0]})")


def _refuse_future_columns(envelope: ColumnEnvelope, limit_us: int) -> None:
    devices = envelope.devices
    if max(max(d.source_us) for d in devices) > limit_us or max(max(d.gateway_us) for d in devices) > limit_us:
        future = sorted(seq for d in devices for seq, src, gw in zip(d.seq, d.source_us, d.gateway_us)
                        if src > limit_us or gw > limit_us)
        raise Rejected(f"{len(future)} readings dated more than {MAX_CLOCK_SKEW} in the future (first seq {future[0]})")


def split_by_device(envelope: Envelope | ColumnEnvelope, received_at: datetime) -> list[DeviceColumns]:
    """One record per device, keeping each device's readings in the order the gateway sent them."""
    if isinstance(envelope, ColumnEnvelope):
        return [columns_of_device(envelope, device, received_at) for device in envelope.devices]
    by_device: dict[str, list] = {}
    for reading in envelope.readings:
        by_device.setdefault(reading.device, []).append(reading)
    return [device_columns(envelope.gateway, d, received_at, envelope.backlog, rs) for d, rs in by_device.items()]
