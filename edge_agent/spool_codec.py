"""Compact column-wise encoding of a block of readings for the spool (about 10 bytes a reading).

Layout before zlib: a header (count, base time, reasons length), the reasons
(JSON list of [index, text]), then columns: point ids (uint32, resolved by the
caller), source and gateway time offsets (int64 microseconds from the block's
base), values (float64, NaN = none) and quality codes (uint8).

The spool works on columns, not on one object per reading: a block holds
thousands of readings and is encoded on every flush and decoded on every
publish, so per-reading Python objects would be most of the agent's CPU.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["QUALITY", "QUALITY_CODE", "BlockColumns", "decode_block", "encode_block", "micros"]

QUALITY = ("good", "uncertain", "bad")
QUALITY_CODE = {q: i for i, q in enumerate(QUALITY)}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_HEADER = struct.Struct("<IqI")  # count, base time (µs since epoch), reasons length
_COLUMN_CODES = ("I", "q", "q", "d", "B")
_SWAP = sys.byteorder != "little"  # columns are stored little-endian everywhere


def micros(ts: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact, unlike timestamp())."""
    return (ts - EPOCH) // _ONE_US


@dataclass
class BlockColumns:
    """The readings of one block, column by column; times in µs since the epoch."""

    point_ids: array[int] = field(default_factory=lambda: array("I"))
    source_us: array[int] = field(default_factory=lambda: array("q"))
    gateway_us: array[int] = field(default_factory=lambda: array("q"))
    values: array[float] = field(default_factory=lambda: array("d"))  # NaN where there is no value
    quality: array[int] = field(default_factory=lambda: array("B"))  # index into QUALITY
    reasons: dict[int, str] = field(default_factory=dict)  # row index -> reason

    def __len__(self) -> int:
        return len(self.point_ids)


def encode_block(block: BlockColumns) -> bytes:
    """Serialise a block column by column and compress."""
    base = min(block.source_us)
    shift = (-base).__add__  # one C call per column instead of a Python expression per reading
    src = array("q", map(shift, block.source_us))
    gw = array("q", map(shift, block.gateway_us))
    reasons = json.dumps([[i, text] for i, text in sorted(block.reasons.items())]).encode()
    columns: list[array[Any]] = [
        array("I", block.point_ids), src, gw, array("d", block.values), array("B", block.quality)]
    if _SWAP:
        for col in columns:
            col.byteswap()
    body = b"".join((_HEADER.pack(len(block), base, len(reasons)), reasons, *(c.tobytes() for c in columns)))
    return zlib.compress(body, 6)


def decode_block(data: bytes) -> BlockColumns:
    """Inverse of encode_block."""
    body = zlib.decompress(data)
    count, base, reasons_len = _HEADER.unpack_from(body)
    offset = _HEADER.size
    reasons = {i: text for i, text in json.loads(body[offset : offset + reasons_len])}
    offset += reasons_len
    columns: list[array[Any]] = []
    for code in _COLUMN_CODES:
        col: array[Any] = array(code)
        size = col.itemsize * count
        col.frombytes(body[offset : offset + size])
        if _SWAP:
            col.byteswap()
        columns.append(col)
        offset += size
    pids, src, gw, values, quality = columns
    shift = base.__add__
    return BlockColumns(pids, array("q", map(shift, src)), array("q", map(shift, gw)), values, quality, reasons)
