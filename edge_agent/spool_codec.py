"""Compact column-wise encoding of a block of readings for the spool (about 10 bytes a reading).

Layout before zlib: a JSON header (point dictionary ids are resolved by the
caller), then columns: point ids (uint32), source and gateway time offsets
(int64 microseconds from the block's base), values (float64, NaN = none),
quality codes (uint8) and reasons (JSON list of [index, text]).
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["BlockRow", "encode_block", "decode_block"]

_QUALITY = ("good", "uncertain", "bad")
_QUALITY_CODE = {q: i for i, q in enumerate(_QUALITY)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEADER = struct.Struct("<IqI")  # count, base time (µs since epoch), reasons length


@dataclass(frozen=True)
class BlockRow:
    point_id: int
    value: float | None
    quality: str
    reason: str | None
    source_ts: datetime
    gateway_ts: datetime


def _micros(ts: datetime) -> int:
    return (ts - _EPOCH) // timedelta(microseconds=1)


def encode_block(rows: list[BlockRow]) -> bytes:
    """Serialise rows column by column and compress."""
    base = min(_micros(r.source_ts) for r in rows)
    pids = array("I", (r.point_id for r in rows))
    src = array("q", (_micros(r.source_ts) - base for r in rows))
    gw = array("q", (_micros(r.gateway_ts) - base for r in rows))
    values = array("d", (math.nan if r.value is None else r.value for r in rows))
    quality = array("B", (_QUALITY_CODE[r.quality] for r in rows))
    reasons = json.dumps([[i, r.reason] for i, r in enumerate(rows) if r.reason]).encode()
    for col in (pids, src, gw, values):
        if col.itemsize > 1 and struct.pack("=H", 1) != struct.pack("<H", 1):
            col.byteswap()  # store little-endian everywhere
    body = b"".join((_HEADER.pack(len(rows), base, len(reasons)), reasons, pids.tobytes(), src.tobytes(),
                     gw.tobytes(), values.tobytes(), quality.tobytes()))
    return zlib.compress(body, 6)


def decode_block(data: bytes) -> list[BlockRow]:
    """Inverse of encode_block."""
    body = zlib.decompress(data)
    count, base, reasons_len = _HEADER.unpack_from(body)
    offset = _HEADER.size
    reasons = {i: text for i, text in json.loads(body[offset : offset + reasons_len])}
    offset += reasons_len
    columns = []
    for code in ("I", "q", "q", "d", "B"):
        col = array(code)
        size = col.itemsize * count
        col.frombytes(body[offset : offset + size])
        if col.itemsize > 1 and struct.pack("=H", 1) != struct.pack("<H", 1):
            col.byteswap()
        columns.append(col)
        offset += size
    pids, src, gw, values, quality = columns
    base_ts = _EPOCH + timedelta(microseconds=base)
    return [
        BlockRow(
            point_id=pids[i],
            value=None if math.isnan(values[i]) else values[i],
            quality=_QUALITY[quality[i]],
            reason=reasons.get(i),
            source_ts=base_ts + timedelta(microseconds=src[i]),
            gateway_ts=base_ts + timedelta(microseconds=gw[i]),
        )
        for i in range(count)
    ]
