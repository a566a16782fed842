"""Plan block reads over Modbus points and decode the words they return.

>>> profile = load_profile("cf-demo/pm3-meter")                # doctest: +SKIP
>>> for block in plan_blocks(profile.modbus_points, address_base=profile.address_base):
...     values = decode_block(block, read(block))              # doctest: +SKIP
"""

from __future__ import annotations

import math
import struct
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from carbon_domain.registers import (
    DataType,
    RegisterCodecError,
    WordByteOrder,
    decode,
    to_engineering,
)

from .schema import ModbusPoint, ModbusTable

__all__ = [
    "MAX_READ_BITS",
    "MAX_READ_REGISTERS",
    "ReadBlock",
    "decode_block",
    "decode_values",
    "plan_blocks",
]

MAX_READ_REGISTERS = 125
"""Protocol limit for one read of holding or input registers."""
MAX_READ_BITS = 2000
"""Protocol limit for one read of coils or discrete inputs."""

_FUNCTION_CODE = {
    ModbusTable.COIL: 1,
    ModbusTable.DISCRETE_INPUT: 2,
    ModbusTable.HOLDING_REGISTER: 3,
    ModbusTable.INPUT_REGISTER: 4,
}
_TABLE_ORDER = list(_FUNCTION_CODE)


@dataclass(frozen=True)
class ReadBlock:
    """One read request: ``count`` registers or bits of a table from ``start`` (0-based)."""

    unit_id: int
    table: ModbusTable
    start: int
    count: int
    points: tuple[ModbusPoint, ...]
    address_base: int = 0

    @property
    def function_code(self) -> int:
        """Modbus read function code for the table (1, 2, 3 or 4)."""
        return _FUNCTION_CODE[self.table]

    @property
    def poll_interval_s(self) -> float:
        """Shortest poll interval among the block's points."""
        return min(point.poll_interval_s for point in self.points)

    def offset(self, point: ModbusPoint) -> int:
        """Index of ``point``'s first register (or bit) within the block."""
        return point.zero_based_address(self.address_base) - self.start

    @cached_property
    def _unpacker(self) -> _BlockUnpacker | None:
        return _BlockUnpacker.plan(self)


# struct codes of the fixed-width numeric types; strings and bools go through `decode`
_STRUCT_CODE = {
    DataType.INT16: "h", DataType.UINT16: "H", DataType.INT32: "i", DataType.UINT32: "I",
    DataType.INT64: "q", DataType.UINT64: "Q", DataType.FLOAT32: "f", DataType.FLOAT64: "d",
}


class _BlockUnpacker:
    """Decodes every point of a register block with at most four `struct` calls instead of one codec call each.

    The block's words are packed once big-endian, and once with the two bytes of each word swapped; a value in
    any of the four word/byte orders is then a plain big- or little-endian number in one of the two buffers
    (ABCD: big-endian in the first; DCBA: little-endian in the first; BADC: big-endian in the second; CDAB:
    little-endian in the second). Points of the same buffer and endianness are read by one `Struct` that pads
    over the addresses between them.
    """

    def __init__(self, count: int, groups: list[tuple[bool, struct.Struct, list[int]]],
                 scales: list[tuple[int, float, float]], floats: list[int]) -> None:
        self.count = count
        self.groups = groups  # (read the byte-swapped buffer, struct, the block positions its fields go to)
        self.scales = scales  # (position, scale, offset) of the points with a scale or an offset
        self.floats = floats  # positions of float32 points, whose NaNs `decode` widens bit by bit

    @classmethod
    def plan(cls, block: ReadBlock) -> _BlockUnpacker | None:
        """None when some point needs the general codec (bools, strings, overlapping points)."""
        if block.table.is_bit:
            return None
        lanes: dict[tuple[bool, str], list[tuple[int, int, str, int]]] = defaultdict(list)
        scales, floats = [], []
        for position, point in enumerate(block.points):
            code = _STRUCT_CODE.get(point.data_type)
            if code is None:
                return None
            order = point.order or WordByteOrder.ABCD
            swapped = order in (WordByteOrder.BADC, WordByteOrder.CDAB)
            endian = "<" if order in (WordByteOrder.DCBA, WordByteOrder.CDAB) else ">"
            lanes[(swapped, endian)].append((2 * block.offset(point), 2 * point.width, code, position))
            if point.scale != 1.0 or point.offset != 0.0:
                scales.append((position, point.scale, point.offset))
            if point.data_type is DataType.FLOAT32:
                floats.append(position)
        groups = []
        for (swapped, endian), fields in lanes.items():
            fields.sort()
            layout, at, positions = [endian], 0, []
            for start, size, code, position in fields:
                if start < at:
                    return None  # points sharing registers: the general codec reads each on its own
                if start > at:
                    layout.append(f"{start - at}x")
                layout.append(code)
                positions.append(position)
                at = start + size
            groups.append((swapped, struct.Struct("".join(layout)), positions))
        return cls(block.count, groups, scales, floats)

    def values(self, words: Sequence[int]) -> list[float] | None:
        """The engineering values in point order, or None when the general codec must decide (bad words, NaN)."""
        try:
            big = struct.pack(f">{self.count}H", *words[: self.count])
        except struct.error:
            return None  # a word out of 0..65535: `decode` says which
        swapped = None
        out: list[float] = [0.0] * sum(len(p) for _, _, p in self.groups)
        for use_swapped, unpacker, positions in self.groups:
            if use_swapped:
                if swapped is None:
                    swapped = struct.pack(f"<{self.count}H", *words[: self.count])
                raw = unpacker.unpack_from(swapped)
            else:
                raw = unpacker.unpack_from(big)
            for position, value in zip(positions, raw):
                out[position] = value
        if self.floats and not math.isfinite(sum([out[i] for i in self.floats])):
            return None  # a NaN or infinity: `decode` keeps a float32 NaN's payload exactly
        for position, scale, offset in self.scales:
            out[position] = out[position] * scale + offset
        return list(map(float, out))


def plan_blocks(
    points: Iterable[ModbusPoint],
    *,
    address_base: int,
    max_registers: int = MAX_READ_REGISTERS,
    max_bits: int = MAX_READ_BITS,
    max_gap: int = 0,
) -> list[ReadBlock]:
    """Coalesce points of one unit and table into as few reads as the limits allow.

    ``max_gap`` unmapped addresses may be read between two points to join
    them; the default 0 never reads an address the profile does not map,
    which many devices answer with an exception.
    """
    if not 1 <= max_registers <= MAX_READ_REGISTERS:
        raise ValueError(
            f"max_registers must be 1..{MAX_READ_REGISTERS}, got {max_registers}"
        )
    if not 1 <= max_bits <= MAX_READ_BITS:
        raise ValueError(f"max_bits must be 1..{MAX_READ_BITS}, got {max_bits}")
    if max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, got {max_gap}")
    groups: dict[tuple[int, ModbusTable], list[ModbusPoint]] = defaultdict(list)
    for point in points:
        if point.unit_id is None:
            raise ValueError(
                f"point {point.name} has no unit_id; pass a validated profile's points"
            )
        groups[(point.unit_id, point.table)].append(point)
    blocks: list[ReadBlock] = []
    for unit_id, table in sorted(
        groups, key=lambda key: (key[0], _TABLE_ORDER.index(key[1]))
    ):
        limit = max_bits if table.is_bit else max_registers
        blocks += _coalesce(
            unit_id, table, groups[(unit_id, table)], address_base, limit, max_gap
        )
    return blocks


def _coalesce(
    unit_id: int,
    table: ModbusTable,
    points: list[ModbusPoint],
    address_base: int,
    limit: int,
    max_gap: int,
) -> list[ReadBlock]:
    blocks: list[ReadBlock] = []
    current: list[ModbusPoint] = []
    start = end = 0  # end is exclusive
    for point in sorted(points, key=lambda p: p.zero_based_address(address_base)):
        first = point.zero_based_address(address_base)
        last = first + point.width
        if point.width > limit:
            raise ValueError(
                f"point {point.name} spans {point.width} addresses, more than one read of {limit}"
            )
        if current and first <= end + max_gap and max(end, last) - start <= limit:
            current.append(point)
            end = max(end, last)
            continue
        if current:
            blocks.append(
                ReadBlock(
                    unit_id, table, start, end - start, tuple(current), address_base
                )
            )
        current, start, end = [point], first, last
    if current:
        blocks.append(
            ReadBlock(unit_id, table, start, end - start, tuple(current), address_base)
        )
    return blocks


def decode_block(
    block: ReadBlock, words_or_bits: Sequence[int] | Sequence[bool]
) -> dict[str, float | bool | str]:
    """Engineering values (scale and offset applied) of every point in ``block``, by point name.

    Bit reads may carry padding up to a whole byte; extra values are ignored.
    """
    values = decode_values(block, words_or_bits)
    return {point.name: value for point, value in zip(block.points, values)}


def decode_values(
    block: ReadBlock, words_or_bits: Sequence[int] | Sequence[bool]
) -> list[float | bool | str]:
    """Engineering values of the points of ``block``, in the order of ``block.points``."""
    if len(words_or_bits) < block.count:
        noun = "bits" if block.table.is_bit else "registers"
        raise RegisterCodecError(
            f"block {block.table} {block.start}+{block.count} on unit {block.unit_id} "
            f"needs {block.count} {noun}, got {len(words_or_bits)}"
        )
    unpacker = block._unpacker
    if unpacker is not None:
        fast = unpacker.values(words_or_bits)  # type: ignore[arg-type]
        if fast is not None:
            return fast  # type: ignore[return-value]
    values: list[float | bool | str] = []
    for point in block.points:
        offset = block.offset(point)
        chunk = [int(value) for value in words_or_bits[offset : offset + point.width]]
        raw = decode(chunk, point.data_type, point.order or WordByteOrder.ABCD)
        if point.data_type in (DataType.BOOL, DataType.STRING):
            values.append(raw)
        else:
            values.append(to_engineering(raw, point.scale, point.offset))  # type: ignore[arg-type]
    return values
