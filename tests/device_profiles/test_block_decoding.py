"""A register block decodes to exactly what the general codec gives point by point, in every type and word order,
also for the values the fast path hands back to the codec (NaN payloads, words out of range)."""

from __future__ import annotations

import math
import random
import struct

import pytest

from carbon_domain.registers import RegisterCodecError, WordByteOrder, decode, to_engineering
from device_profiles.blocks import decode_block, plan_blocks
from device_profiles.schema import ModbusPoint

TYPES = ["int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
ORDERS = [None, "ABCD", "BADC", "CDAB", "DCBA"]


def _point(i: int, address: int, data_type: str, order: str | None, **extra: float) -> ModbusPoint:
    fields = {"name": f"p{i}", "table": "holding_register", "address": address, "unit_id": 1,
              "data_type": data_type, "unit": "kW", **extra}
    if order:
        fields["order"] = order
    return ModbusPoint(**fields)


def _one_by_one(block, words):  # type: ignore[no-untyped-def]
    out = {}
    for p in block.points:
        at = block.offset(p)
        out[p.name] = to_engineering(decode(words[at : at + p.width], p.data_type, p.order or WordByteOrder.ABCD),
                                     p.scale, p.offset)
    return out


def _same(a: float, b: float) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and struct.pack(">d", a) == struct.pack(">d", b)
    return a == b and type(a) is type(b)


def test_a_block_decodes_as_its_points_one_by_one_in_every_type_and_order() -> None:
    rng = random.Random(22)
    for _ in range(200):
        points, address = [], 0
        for i in range(rng.randint(1, 30)):
            extra = {"scale": rng.choice([0.1, 2.0]), "offset": rng.choice([0.0, 5.0])} if rng.random() < 0.3 else {}
            point = _point(i, address, rng.choice(TYPES), rng.choice(ORDERS), **extra)
            points.append(point)
            address += point.width + rng.choice([0, 0, 1, 3])
        for block in plan_blocks(points, address_base=0, max_gap=5):
            words = [rng.randrange(65536) for _ in range(block.count)]
            fast, slow = decode_block(block, words), _one_by_one(block, words)
            assert all(_same(fast[name], slow[name]) for name in slow), (fast, slow)


def test_a_float32_nan_keeps_its_payload_bits() -> None:
    (block,) = plan_blocks([_point(0, 0, "float32", None), _point(1, 2, "float32", "CDAB")], address_base=0)
    words = [0x7F80, 0x0001, 0x3F80, 0x0000]  # a signalling NaN, then 1.0 stored CDAB (0x0000 0x3F80 swapped)
    words[2:] = [0x0000, 0x3F80]
    values = decode_block(block, words)
    assert _same(values["p0"], _one_by_one(block, words)["p0"]) and values["p1"] == 1.0


def test_a_word_out_of_range_is_refused_with_its_position() -> None:
    (block,) = plan_blocks([_point(0, 0, "uint32", None)], address_base=0)
    with pytest.raises(RegisterCodecError, match="register 1 value 70000"):
        decode_block(block, [1, 70000])
