"""The Modbus register codec: every type, every word/byte order, edge values, errors."""

from __future__ import annotations

import math
import re
import struct

import pytest

from carbon_domain.registers import (
    REGISTER_WIDTH,
    DataType,
    RegisterCodecError,
    WordByteOrder,
    decode,
    encode,
    from_engineering,
    register_count,
    to_engineering,
)

ORDERS = list(WordByteOrder)
_STRUCT = {
    DataType.INT16: "h",
    DataType.UINT16: "H",
    DataType.INT32: "i",
    DataType.UINT32: "I",
    DataType.INT64: "q",
    DataType.UINT64: "Q",
    DataType.FLOAT32: "f",
    DataType.FLOAT64: "d",
}
F32_MAX = struct.unpack(">f", bytes.fromhex("7f7fffff"))[0]
F32_MIN_SUBNORMAL = struct.unpack(">f", bytes.fromhex("00000001"))[0]

EDGE_VALUES: dict[DataType, list[int | float]] = {
    DataType.INT16: [-(2**15), -1, 0, 1, 0x1234, 2**15 - 1],
    DataType.UINT16: [0, 1, 0x1234, 2**16 - 1],
    DataType.INT32: [-(2**31), -1, 0, 1, 0x01020304, 2**31 - 1],
    DataType.UINT32: [0, 1, 70000, 0x01020304, 2**32 - 1],
    DataType.INT64: [-(2**63), -1, 0, 1, 0x0102030405060708, 2**63 - 1],
    DataType.UINT64: [0, 1, 0x0102030405060708, 2**64 - 1],
    DataType.FLOAT32: [
        0.0,
        -0.0,
        1.0,
        -1.5,
        2400.0,
        F32_MAX,
        -F32_MAX,
        F32_MIN_SUBNORMAL,
        math.inf,
        -math.inf,
    ],
    DataType.FLOAT64: [
        0.0,
        -0.0,
        1.0,
        -1.5,
        98765432.5,
        1.7976931348623157e308,
        5e-324,
        math.inf,
        -math.inf,
    ],
}
NUMERIC_CASES = [
    pytest.param(dtype, order, value, id=f"{dtype}-{order}-{value!r}")
    for dtype, values in EDGE_VALUES.items()
    for order in ORDERS
    for value in values
]


def _expected_words(value: float, dtype: DataType, order: WordByteOrder) -> list[int]:
    """Independent reference: struct packs big- or little-endian, then words are cut."""
    little = order in (WordByteOrder.DCBA, WordByteOrder.BADC)
    raw = struct.pack(("<" if little else ">") + _STRUCT[dtype], value)
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    # DCBA is plain little-endian; BADC is little-endian with the words put back in order;
    # CDAB is big-endian with the words reversed.
    return words[::-1] if order in (WordByteOrder.BADC, WordByteOrder.CDAB) else words


@pytest.mark.parametrize(("dtype", "order", "value"), NUMERIC_CASES)
def test_numbers_encode_like_struct_and_decode_bit_exact(
    dtype: DataType, order: WordByteOrder, value: float
) -> None:
    words = encode(value, dtype, order)
    decoded = decode(words, dtype, order)
    assert (words, _bits(decoded, dtype)) == (
        _expected_words(value, dtype, order),
        _bits(value, dtype),
    )


@pytest.mark.parametrize(
    ("dtype", "order", "words"),
    [
        pytest.param(dtype, order, words, id=f"{dtype}-{order}-{words}")
        for dtype, nan_words in {
            DataType.FLOAT32: [
                [0x7FC0, 0x0000],  # quiet NaN
                [0xFFC0, 0x0000],  # negative quiet NaN
                [0x7F80, 0x0001],  # signalling NaN, smallest payload
                [0x7FBF, 0xFFFF],  # signalling NaN, largest payload
                [0x7FC1, 0x2345],  # quiet NaN with payload
            ],
            DataType.FLOAT64: [
                [0x7FF8, 0, 0, 0],
                [0xFFF8, 0, 0, 0],
                [0x7FF0, 0, 0, 1],
                [0x7FF8, 0x1234, 0x5678, 0x9ABC],
            ],
        }.items()
        for order in ORDERS
        for words in nan_words
    ],
)
def test_nan_registers_survive_decode_and_encode_unchanged(
    dtype: DataType, order: WordByteOrder, words: list[int]
) -> None:
    ordered = _reorder(words, order)
    value = decode(ordered, dtype, order)
    assert math.isnan(value) and encode(value, dtype, order) == ordered  # type: ignore[arg-type]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("dtype", [DataType.FLOAT32, DataType.FLOAT64])
def test_python_nan_round_trips_as_nan(dtype: DataType, order: WordByteOrder) -> None:
    words = encode(math.nan, dtype, order)
    assert (
        math.isnan(decode(words, dtype, order))
        and encode(decode(words, dtype, order), dtype, order) == words
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "dtype", "order", "words"),
    [
        (1.0, DataType.FLOAT32, WordByteOrder.ABCD, [0x3F80, 0x0000]),
        (1.0, DataType.FLOAT32, WordByteOrder.CDAB, [0x0000, 0x3F80]),
        (1.0, DataType.FLOAT32, WordByteOrder.BADC, [0x803F, 0x0000]),
        (1.0, DataType.FLOAT32, WordByteOrder.DCBA, [0x0000, 0x803F]),
        (
            0x0102030405060708,
            DataType.INT64,
            WordByteOrder.ABCD,
            [0x0102, 0x0304, 0x0506, 0x0708],
        ),
        (
            0x0102030405060708,
            DataType.INT64,
            WordByteOrder.CDAB,
            [0x0708, 0x0506, 0x0304, 0x0102],
        ),
        (
            0x0102030405060708,
            DataType.INT64,
            WordByteOrder.BADC,
            [0x0201, 0x0403, 0x0605, 0x0807],
        ),
        (
            0x0102030405060708,
            DataType.INT64,
            WordByteOrder.DCBA,
            [0x0807, 0x0605, 0x0403, 0x0201],
        ),
        (0x1234, DataType.UINT16, WordByteOrder.CDAB, [0x1234]),
        (0x1234, DataType.UINT16, WordByteOrder.DCBA, [0x3412]),
        (-2, DataType.INT16, WordByteOrder.ABCD, [0xFFFE]),
        (70000, DataType.UINT32, WordByteOrder.ABCD, [0x0001, 0x1170]),
        (True, DataType.BOOL, WordByteOrder.ABCD, [1]),
        (False, DataType.BOOL, WordByteOrder.DCBA, [0]),
    ],
)
def test_documented_layouts(
    value: float, dtype: DataType, order: WordByteOrder, words: list[int]
) -> None:
    assert (encode(value, dtype, order), decode(words, dtype, order)) == (words, value)


@pytest.mark.parametrize(
    ("text", "count", "order", "words"),
    [
        ("", 1, WordByteOrder.ABCD, [0x0000]),
        ("A", 1, WordByteOrder.ABCD, [0x4100]),
        ("ABC", 2, WordByteOrder.ABCD, [0x4142, 0x4300]),
        (
            "ABC",
            3,
            WordByteOrder.CDAB,
            [0x4142, 0x4300, 0x0000],
        ),  # characters keep register order
        ("ABC", 2, WordByteOrder.BADC, [0x4241, 0x0043]),
        ("ABC", 2, WordByteOrder.DCBA, [0x4241, 0x0043]),
        (
            "PM3-DEMO",
            8,
            WordByteOrder.ABCD,
            [0x504D, 0x332D, 0x4445, 0x4D4F, 0, 0, 0, 0],
        ),
        ("Ä°C", 3, WordByteOrder.ABCD, [0xC384, 0xC2B0, 0x4300]),
    ],
)
def test_strings_pad_with_nul_and_round_trip(
    text: str, count: int, order: WordByteOrder, words: list[int]
) -> None:
    assert (
        encode(text, DataType.STRING, order, count=count),
        decode(words, DataType.STRING, order),
    ) == (words, text)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: decode([1], DataType.FLOAT32), "float32 needs 2 registers, got 1"),
        (lambda: decode([1, 2, 3], DataType.INT64), "int64 needs 4 registers, got 3"),
        (lambda: decode([1, 0], DataType.BOOL), "bool needs 1 bit, got 2"),
        (lambda: decode([2], DataType.BOOL), "bool needs 0 or 1, got 2"),
        (
            lambda: decode([70000, 0], DataType.UINT32),
            "register 0 value 70000 out of range 0..65535",
        ),
        (
            lambda: decode([], DataType.STRING),
            "string needs at least 1 register, got 0",
        ),
        (lambda: decode([0xFFFE], DataType.STRING), "string registers are not utf-8"),
        (
            lambda: encode(70000, DataType.UINT16),
            "value 70000 out of range for uint16 (0..65535)",
        ),
        (
            lambda: encode(-1, DataType.UINT32),
            "value -1 out of range for uint32 (0..4294967295)",
        ),
        (
            lambda: encode(2**15, DataType.INT16),
            "value 32768 out of range for int16 (-32768..32767)",
        ),
        (lambda: encode(1.5, DataType.INT16), "int16 needs an integer, got 1.5"),
        (lambda: encode(True, DataType.INT32), "int32 needs an integer, got True"),
        (lambda: encode("1", DataType.FLOAT32), "float32 needs a number, got '1'"),
        (
            lambda: encode(1e39, DataType.FLOAT32),
            "value 1e+39 out of range for float32",
        ),
        (lambda: encode(2, DataType.BOOL), "bool needs True/False or 0/1, got 2"),
        (
            lambda: encode(1, DataType.UINT32, count=4),
            "uint32 needs 2 registers, count is 4",
        ),
        (
            lambda: encode("ABCDE", DataType.STRING, count=2),
            "string of 5 bytes needs 3 registers, count is 2",
        ),
        (
            lambda: encode("A\x00B", DataType.STRING),
            "string must not contain NUL characters",
        ),
        (
            lambda: register_count(DataType.STRING),
            "string needs a register count >= 1, got None",
        ),
        (
            lambda: from_engineering(math.nan, 1.0, 0.0, DataType.INT32),
            "value nan cannot be represented as int32",
        ),
        (
            lambda: from_engineering(1.0, 0.0, 0.0, DataType.INT32),
            "scale must not be 0",
        ),
    ],
)
def test_codec_errors_name_the_numbers(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RegisterCodecError, match=re.escape(message)):
        call()


@pytest.mark.parametrize(
    ("raw", "scale", "offset", "engineering"),
    [
        (123456789, 0.01, 0.0, 1234567.89),
        (-200, 0.1, 0.0, -20.0),
        (0, 1.0, -40.0, -40.0),
        (2**53 + 1, 1.0, 0.0, float(2**53 + 1)),
        (16355, 0.1, 0.0, 1635.5),
    ],
)
def test_to_engineering_applies_scale_then_offset(
    raw: int, scale: float, offset: float, engineering: float
) -> None:
    assert to_engineering(raw, scale, offset) == pytest.approx(engineering, rel=1e-15)


@pytest.mark.parametrize(
    ("engineering", "scale", "offset", "dtype", "raw"),
    [
        (1234567.89, 0.01, 0.0, DataType.UINT32, 123456789),
        (1635.5, 0.1, 0.0, DataType.INT16, 16355),
        (-40.0, 1.0, -40.0, DataType.INT16, 0),
        (2.5, 1.0, 0.0, DataType.INT16, 2),  # half to even
        (3.5, 1.0, 0.0, DataType.INT16, 4),
        (2**63 - 1, 1.0, 0.0, DataType.INT64, 2**63 - 1),  # ints stay exact past 2**53
        (1.25, 2.0, 0.0, DataType.FLOAT32, 0.625),
        (True, 1.0, 0.0, DataType.BOOL, True),
        ("PM3", 1.0, 0.0, DataType.STRING, "PM3"),
    ],
)
def test_from_engineering_inverts_scale_and_rounds_integers(
    engineering: float, scale: float, offset: float, dtype: DataType, raw: float
) -> None:
    assert from_engineering(engineering, scale, offset, dtype) == raw


@pytest.mark.parametrize("raw", [0, 1, 99, 12345, 123456789, 4294967295])
@pytest.mark.parametrize("scale", [0.1, 0.01, 0.001, 2.5])
def test_scaled_integers_survive_engineering_round_trip(raw: int, scale: float) -> None:
    assert (
        from_engineering(to_engineering(raw, scale, 0.0), scale, 0.0, DataType.UINT32)
        == raw
    )


def test_register_widths_cover_every_fixed_type() -> None:
    assert {dtype: register_count(dtype, count=5) for dtype in DataType} == {
        **REGISTER_WIDTH,
        DataType.STRING: 5,
    }


def _bits(value: object, dtype: DataType) -> object:
    if dtype in (DataType.FLOAT32, DataType.FLOAT64):
        return struct.pack(">d", value)  # distinguishes -0.0 and NaN payloads
    return value


def _reorder(abcd_words: list[int], order: WordByteOrder) -> list[int]:
    words = list(abcd_words)
    if order.swaps_bytes:
        words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
    return words[::-1] if order.swaps_words else words
