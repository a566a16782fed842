"""Plan block reads over Modbus points and decode the words they return.

>>> profile = load_profile("cf-demo/pm3-meter")                # doctest: +SKIP
>>> for block in plan_blocks(profile.modbus_points, address_base=profile.address_base):
...     values = decode_block(block, read(block))              # doctest: +SKIP
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
    """Engineering values (scale and offset applied) of every point in ``block``.

    Bit reads may carry padding up to a whole byte; extra values are ignored.
    """
    if len(words_or_bits) < block.count:
        noun = "bits" if block.table.is_bit else "registers"
        raise RegisterCodecError(
            f"block {block.table} {block.start}+{block.count} on unit {block.unit_id} "
            f"needs {block.count} {noun}, got {len(words_or_bits)}"
        )
    values: dict[str, float | bool | str] = {}
    for point in block.points:
        offset = block.offset(point)
        chunk = [int(value) for value in words_or_bits[offset : offset + point.width]]
        raw = decode(chunk, point.data_type, point.order or WordByteOrder.ABCD)
        if point.data_type in (DataType.BOOL, DataType.STRING):
            values[point.name] = raw
        else:
            values[point.name] = to_engineering(raw, point.scale, point.offset)  # type: ignore[arg-type]
    return values
