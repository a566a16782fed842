"""Modbus register codec: the one place values become 16-bit words and back.

A value of ``n`` registers is first packed big-endian into ``2n`` bytes
(``A`` is the most significant byte), then permuted by a `WordByteOrder`:

    >>> encode(1.0, DataType.FLOAT32, WordByteOrder.ABCD)
    [16256, 0]
    >>> encode(1.0, DataType.FLOAT32, WordByteOrder.CDAB)
    [0, 16256]
    >>> decode([0, 16256], DataType.FLOAT32, WordByteOrder.CDAB)
    1.0

The orders generalise to any width: ``CDAB`` reverses the word order,
``BADC`` swaps the two bytes inside each word, ``DCBA`` does both.  For a
single register only the byte swap matters.  Strings keep their word order
(characters run with the register addresses) and honour only the byte swap.

Pure (standard library and the domain error tree only), so every stage shares it.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from enum import StrEnum

from carbon_domain.errors import DomainError

__all__ = [
    "REGISTER_WIDTH",
    "DataType",
    "RegisterCodecError",
    "WordByteOrder",
    "decode",
    "encode",
    "from_engineering",
    "register_count",
    "to_engineering",
]


class RegisterCodecError(DomainError, ValueError):
    """A value or a register list that the codec cannot convert."""


class DataType(StrEnum):
    """Value types a Modbus point can hold."""

    BOOL = "bool"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    STRING = "string"

    @property
    def is_integer(self) -> bool:
        """True for the signed and unsigned integer types."""
        return self in _INT_RANGE

    @property
    def is_float(self) -> bool:
        """True for float32 and float64."""
        return self in (DataType.FLOAT32, DataType.FLOAT64)

    @property
    def is_numeric(self) -> bool:
        """True for types that carry a scaled engineering value."""
        return self.is_integer or self.is_float


class WordByteOrder(StrEnum):
    """How the big-endian bytes ABCD... of a value are laid out in registers."""

    ABCD = "ABCD"
    BADC = "BADC"
    CDAB = "CDAB"
    DCBA = "DCBA"

    @property
    def swaps_words(self) -> bool:
        """True if the register order is reversed."""
        return self in (WordByteOrder.CDAB, WordByteOrder.DCBA)

    @property
    def swaps_bytes(self) -> bool:
        """True if the two bytes inside each register are swapped."""
        return self in (WordByteOrder.BADC, WordByteOrder.DCBA)


REGISTER_WIDTH: dict[DataType, int] = {
    DataType.BOOL: 1,  # one coil or discrete input
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT32: 2,
    DataType.FLOAT64: 4,
}
"""Registers (or bits, for bool) per value; strings take a per-point ``count``."""

_INT_RANGE: dict[DataType, tuple[int, int]] = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
    DataType.UINT64: (0, 2**64 - 1),
}
_STRING_ENCODING = "utf-8"


def register_count(data_type: DataType, *, count: int | None = None) -> int:
    """Registers one value occupies: the table width, or ``count`` for strings."""
    if data_type is DataType.STRING:
        if count is None or count < 1:
            raise RegisterCodecError(f"string needs a register count >= 1, got {count}")
        return count
    return REGISTER_WIDTH[data_type]


def encode(
    value: float | bool | str,
    data_type: DataType,
    order: WordByteOrder = WordByteOrder.ABCD,
    *,
    count: int | None = None,
) -> list[int]:
    """Encode one raw value into registers (or ``[0|1]`` for bool).

    >>> encode(70000, DataType.UINT32, WordByteOrder.ABCD)
    [1, 4464]
    """
    data_type = DataType(data_type)
    order = WordByteOrder(order)
    if data_type is DataType.BOOL:
        return [int(_as_bool(value))]
    if data_type is DataType.STRING:
        return _encode_string(value, order, count)
    if count is not None and count != REGISTER_WIDTH[data_type]:
        raise RegisterCodecError(
            f"{data_type} needs {REGISTER_WIDTH[data_type]} registers, count is {count}"
        )
    if data_type.is_integer:
        number = _as_int(value, data_type)
        lo, hi = _INT_RANGE[data_type]
        if not lo <= number <= hi:
            raise RegisterCodecError(
                f"value {number} out of range for {data_type} ({lo}..{hi})"
            )
        raw = number.to_bytes(2 * REGISTER_WIDTH[data_type], "big", signed=lo < 0)
    else:
        raw = _pack_float(_as_float(value, data_type), data_type)
    return _to_words(raw, order)


def decode(
    registers: Sequence[int],
    data_type: DataType,
    order: WordByteOrder = WordByteOrder.ABCD,
) -> int | float | bool | str:
    """Decode registers (or one bit for bool) into one raw value.

    >>> decode([1, 4464], DataType.UINT32, WordByteOrder.ABCD)
    70000
    """
    data_type = DataType(data_type)
    order = WordByteOrder(order)
    if data_type is not DataType.STRING:
        need = REGISTER_WIDTH[data_type]
        if len(registers) != need:
            noun = "bit" if data_type is DataType.BOOL else "registers"
            raise RegisterCodecError(
                f"{data_type} needs {need} {noun}, got {len(registers)}"
            )
    if data_type is DataType.BOOL:
        bit = registers[0]
        if bit not in (0, 1):  # True/False compare equal to 1/0
            raise RegisterCodecError(f"bool needs 0 or 1, got {bit!r}")
        return bool(bit)
    if data_type is DataType.STRING:
        if not registers:
            raise RegisterCodecError("string needs at least 1 register, got 0")
        raw = _from_words(registers, _string_order(order))
        try:
            return raw.rstrip(b"\x00").decode(_STRING_ENCODING)
        except UnicodeDecodeError as exc:
            raise RegisterCodecError(
                f"string registers are not {_STRING_ENCODING}: {exc}"
            ) from exc
    raw = _from_words(registers, order)
    if data_type.is_integer:
        return int.from_bytes(raw, "big", signed=_INT_RANGE[data_type][0] < 0)
    return _unpack_float(raw, data_type)


def to_engineering(raw: float, scale: float = 1.0, offset: float = 0.0) -> float:
    """Engineering value of a raw number: ``raw * scale + offset``."""
    if scale == 1.0 and offset == 0.0:
        return float(raw)  # no arithmetic, so a NaN keeps its payload bits
    return raw * scale + offset


def from_engineering(
    value: float | bool | str, scale: float, offset: float, data_type: DataType
) -> int | float | bool | str:
    """Raw value for an engineering value; integer types round half to even."""
    data_type = DataType(data_type)
    if data_type is DataType.BOOL:
        return _as_bool(value)
    if data_type is DataType.STRING:
        if not isinstance(value, str):
            raise RegisterCodecError(f"string needs a str, got {value!r}")
        return value
    if isinstance(value, str):
        raise RegisterCodecError(f"{data_type} needs a number, got {value!r}")
    if scale == 0:
        raise RegisterCodecError("scale must not be 0")
    raw = float(value) if scale == 1.0 and offset == 0.0 else (value - offset) / scale
    if data_type.is_float:
        return raw
    if isinstance(value, int) and scale == 1.0 and offset == 0.0:
        return int(value)  # exact beyond 2**53
    if not math.isfinite(raw):
        raise RegisterCodecError(f"value {value} cannot be represented as {data_type}")
    return round(raw)


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise RegisterCodecError(f"bool needs True/False or 0/1, got {value!r}")


def _as_int(value: object, data_type: DataType) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RegisterCodecError(f"{data_type} needs an integer, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise RegisterCodecError(f"{data_type} needs an integer, got {value!r}")
        return int(value)
    return value


def _as_float(value: object, data_type: DataType) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RegisterCodecError(f"{data_type} needs a number, got {value!r}")
    return float(value)


def _pack_float(number: float, data_type: DataType) -> bytes:
    if data_type is DataType.FLOAT64:
        return struct.pack(">d", number)
    if math.isnan(number):
        return _nan_to_float32(number)
    try:
        return struct.pack(">f", number)
    except OverflowError as exc:
        raise RegisterCodecError(f"value {number} out of range for float32") from exc


def _unpack_float(raw: bytes, data_type: DataType) -> float:
    if data_type is DataType.FLOAT64:
        return float(struct.unpack(">d", raw)[0])
    bits = int.from_bytes(raw, "big")
    if bits & 0x7F800000 == 0x7F800000 and bits & 0x007FFFFF:
        return _float32_nan_to_float(bits)
    return float(struct.unpack(">f", raw)[0])


def _float32_nan_to_float(bits: int) -> float:
    # Widen by hand: a C float->double cast may quieten a signalling NaN.
    sign = bits >> 31
    mantissa = bits & 0x007FFFFF
    wide = (sign << 63) | (0x7FF << 52) | (mantissa << 29)
    return float(struct.unpack(">d", wide.to_bytes(8, "big"))[0])


def _nan_to_float32(number: float) -> bytes:
    wide = int.from_bytes(struct.pack(">d", number), "big")
    mantissa = (
        wide >> 29
    ) & 0x007FFFFF or 0x00400000  # payload only in low bits: keep it a NaN
    bits = ((wide >> 63) << 31) | 0x7F800000 | mantissa
    return bits.to_bytes(4, "big")


def _encode_string(value: object, order: WordByteOrder, count: int | None) -> list[int]:
    if not isinstance(value, str):
        raise RegisterCodecError(f"string needs a str, got {value!r}")
    raw = value.encode(_STRING_ENCODING)
    if b"\x00" in raw:
        raise RegisterCodecError("string must not contain NUL characters")
    need = (len(raw) + 1) // 2
    count = max(need, 1) if count is None else count
    if need > count:
        raise RegisterCodecError(
            f"string of {len(raw)} bytes needs {need} registers, count is {count}"
        )
    return _to_words(raw.ljust(2 * count, b"\x00"), _string_order(order))


def _string_order(order: WordByteOrder) -> WordByteOrder:
    # Characters follow register addresses; only the byte swap applies.
    return WordByteOrder.BADC if order.swaps_bytes else WordByteOrder.ABCD


def _to_words(raw: bytes, order: WordByteOrder) -> list[int]:
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    if order.swaps_bytes:
        words = _swap_bytes(words)
    return words[::-1] if order.swaps_words else words


def _from_words(registers: Sequence[int], order: WordByteOrder) -> bytes:
    for index, word in enumerate(registers):
        if (
            isinstance(word, bool)
            or not isinstance(word, int)
            or not 0 <= word <= 0xFFFF
        ):
            raise RegisterCodecError(
                f"register {index} value {word!r} out of range 0..65535"
            )
    words = list(registers)
    if order.swaps_words:
        words.reverse()
    if order.swaps_bytes:
        words = _swap_bytes(words)
    return b"".join(word.to_bytes(2, "big") for word in words)


def _swap_bytes(words: list[int]) -> list[int]:
    return [((word & 0xFF) << 8) | (word >> 8) for word in words]
