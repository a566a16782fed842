"""Byte encodings: envelopes on the MQTT link (JSON, zlib-compressed when it pays) and reading records on Kafka.

An envelope is an `Envelope` (version 1, an object per reading) or a `ColumnEnvelope` (version 2, a list per field
per device, what edge agents send); `decode_envelope` accepts both.
"""

from __future__ import annotations

import zlib

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from carbon_domain.schemas import ColumnEnvelope, DeviceBatch, DeviceColumns, Envelope, device_columns

__all__ = ["encode_envelope", "decode_envelope", "envelope_text", "MAX_ENVELOPE_BYTES", "encode_device_record",
           "decode_device_record"]

MAX_ENVELOPE_BYTES = 4 * 1024 * 1024
_COMPRESSED = b"Z"
_MIN_COMPRESS = 512
_COLUMNS_START = '{"v":2,'


def encode_envelope(envelope: Envelope | ColumnEnvelope) -> bytes:
    """Serialise an envelope: plain JSON, or b'Z' + zlib(JSON) when larger than 512 bytes."""
    raw = envelope.model_dump_json(exclude_defaults=False).encode()
    if len(raw) < _MIN_COMPRESS:
        return raw
    return _COMPRESSED + zlib.compress(raw, 6)


def envelope_text(payload: bytes) -> str:
    """The JSON text of an envelope's bytes (decompressed when they start with b'Z'); raises ValueError with the
    reason when they are too large, not zlib or not UTF-8."""
    if len(payload) > MAX_ENVELOPE_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes exceeds the {MAX_ENVELOPE_BYTES}-byte limit")
    if payload[:1] == _COMPRESSED:
        try:
            d = zlib.decompressobj()
            payload = d.decompress(payload[1:], MAX_ENVELOPE_BYTES * 8)
            if d.unconsumed_tail:
                raise ValueError("decompressed payload exceeds the size limit")
        except zlib.error as exc:
            raise ValueError(f"payload is not valid zlib data: {exc}") from exc
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"payload is not UTF-8 at byte {exc.start}") from exc


def decode_envelope(payload: bytes) -> Envelope | ColumnEnvelope:
    """Parse and validate an envelope of either version; raises ValueError (a pydantic ValidationError for a
    malformed one) with the reason on bad input."""
    text = envelope_text(payload)
    if text.startswith(_COLUMNS_START):  # how encode_envelope writes a column envelope
        return ColumnEnvelope.model_validate_json(text)
    try:
        return Envelope.model_validate_json(text)
    except ValidationError as exc:
        # written another way ({ "v": 2, ...} or "v" not first): version 2 after all when "v" is 2
        if any(e["loc"] == ("v",) and e["input"] == 2 for e in exc.errors()):
            return ColumnEnvelope.model_validate_json(text)
        raise


def encode_device_record(columns: DeviceColumns) -> bytes:
    """The Kafka record of one device's readings (version 2: one list per field)."""
    return columns.model_dump_json(exclude_defaults=True).encode()


def _shown_input(error: ErrorDetails) -> str:
    """`, got '...'` with a scalar input escaped to ASCII and cut short, so that a reason names the bad value
    (a NUL or a lone surrogate included) and can itself be stored; empty for lists and objects."""
    value = error.get("input")
    if not isinstance(value, str | int | float | bool):
        return ""
    shown = ascii(value)
    return f", got {shown if len(shown) <= 80 else shown[:77] + '...'}"


def decode_device_record(raw: bytes) -> DeviceColumns:
    """Parse a Kafka reading record, of version 2 or the version-1 `DeviceBatch` that ingest wrote before (still
    in a topic after an upgrade); raises ValueError with the reason on a bad record."""
    try:
        return DeviceColumns.model_validate_json(raw)
    except ValidationError as exc:
        columns_error = exc
    try:
        batch = DeviceBatch.model_validate_json(raw)
    except ValidationError:
        first = columns_error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"invalid Kafka record: {where + ': ' if where else ''}{first['msg']}"
                         f"{_shown_input(first)}") from columns_error
    if not batch.readings:
        raise ValueError("invalid Kafka record: no readings")
    return device_columns(batch.gateway, batch.device, batch.received_at, batch.backlog, batch.readings)
