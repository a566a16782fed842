"""Kafka reading records: one list per field (version 2), read back as the same readings; the version-1 records
ingest wrote before (one object per reading) still read; a malformed record is refused with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from carbon_domain.schemas import DeviceBatch, Reading, device_columns, epoch_us
from carbon_domain.wire import decode_device_record, encode_device_record

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _reading(seq: int, **fields: object) -> Reading:
    return Reading(seq=seq, device="m1", point=f"p{seq}", source_ts=T0 + timedelta(seconds=seq),
                   gateway_ts=T0 + timedelta(seconds=seq, milliseconds=5), **fields)  # type: ignore[arg-type]


READINGS = [
    _reading(7, value=12.5, unit="kW"),
    _reading(8, value=0.0, unit="kWh", kind="counter"),
    _reading(9, value=None, unit="kW", quality="bad", reason="modbus timeout"),
    _reading(10, value=-3.0, unit="Nm3", quality="uncertain", reason=""),
]


def test_record_reads_back_as_the_same_readings_column_by_column() -> None:
    received = T0.astimezone(timezone(timedelta(hours=8)))
    record = decode_device_record(encode_device_record(device_columns("gw", "m1", received, True, READINGS)))
    assert (record.gateway, record.device, record.received_at, record.backlog) == ("gw", "m1", received, True)
    assert list(zip(record.seq, record.point, record.value, record.unit, record.kind, record.quality,
                    record.source_us)) == [
        (7, "p7", 12.5, "kW", "gauge", 0, epoch_us(T0 + timedelta(seconds=7))),
        (8, "p8", 0.0, "kWh", "counter", 0, epoch_us(T0 + timedelta(seconds=8))),
        (9, "p9", None, "kW", "gauge", 2, epoch_us(T0 + timedelta(seconds=9))),
        (10, "p10", -3.0, "Nm3", "gauge", 1, epoch_us(T0 + timedelta(seconds=10))),
    ]
    assert record.reasons == {2: "modbus timeout", 3: ""}
    assert record.last_gateway_us == epoch_us(T0 + timedelta(seconds=10, milliseconds=5))


def test_microsecond_timestamps_are_exact_far_from_the_epoch() -> None:
    ts = datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=epoch_us(ts)) == ts


def test_record_is_a_fraction_of_one_object_per_reading() -> None:
    many = [_reading(i, value=100.0 + i, unit="kW") for i in range(50)]
    columns = encode_device_record(device_columns("gw", "m1", T0, False, many))
    objects = DeviceBatch(gateway="gw", device="m1", received_at=T0, readings=many).model_dump_json().encode()
    assert len(columns) < 0.5 * len(objects)


def test_record_leaves_out_fields_at_their_defaults() -> None:
    record = orjson.loads(encode_device_record(device_columns("gw", "m1", T0, False, READINGS[:1])))
    assert sorted(record) == ["device", "gateway", "kind", "last_gateway_us", "point", "quality", "received_at",
                              "seq", "source_us", "unit", "v", "value"]


def test_a_version_1_record_still_reads_as_columns() -> None:
    legacy = DeviceBatch(gateway="gw", device="m1", received_at=T0, readings=READINGS).model_dump_json().encode()
    assert decode_device_record(legacy) == device_columns("gw", "m1", T0, False, READINGS)


@pytest.mark.parametrize(("change", "reason"), [
    ({"value": [1.0]}, "every column needs 4 values"),
    ({"quality": [0, 0, 7, 0]}, "quality"),
    ({"seq": []}, "seq"),
    ({"source_us": ["soon", 1, 2, 3]}, "source_us"),
    # numbers the sink stores as bigint and timestamptz: out of range they would fail every retry of the batch
    ({"seq": [-1, 8, 9, 10]}, "seq.0: Input should be greater than or equal to 0"),
    ({"seq": [7, 8, 9, 2**63]}, "seq.3: Input should be less than or equal to 9223372036854775807"),
    ({"source_us": [0, 0, 2**62, 0]}, "source_us.2: Input should be less than or equal to"),
    ({"last_gateway_us": -2**62}, "last_gateway_us: Input should be greater than or equal to"),
    # what a Reading refuses, a column refuses too
    ({"point": ["p7", "", "p9", "p10"]}, "point.1: String should match pattern"),
    ({"unit": ["kW", "k" * 33, "kW", "kW"]}, "unit.1: String should have at most 32 characters"),
    ({"value": [None, 0.0, None, -3.0]}, "point p7: a good reading needs a value"),
    ({"kind": ["gauge", "meter", "gauge", "gauge"]}, "kind.1: Input should be 'gauge' or 'counter'"),
    ({"reasons": {"4": "late"}}, "reasons are by position 0 to 3, got position 4"),
    ({"reasons": {"2": "x" * 201}}, "reasons.2: String should have at most 200 characters"),
    ({"v": 3}, "v: Input should be 2"),
    ({"checksum": "abc"}, "checksum: Extra inputs are not permitted"),
])
def test_a_malformed_record_is_refused_with_its_reason(change: dict[str, object], reason: str) -> None:
    good = orjson.loads(encode_device_record(device_columns("gw", "m1", T0, False, READINGS)))
    with pytest.raises(ValueError, match=reason):
        decode_device_record(orjson.dumps({**good, **change}))


def test_a_version_1_record_without_readings_is_refused() -> None:
    empty = DeviceBatch(gateway="gw", device="m1", received_at=T0, readings=[]).model_dump_json().encode()
    with pytest.raises(ValueError, match="invalid Kafka record: no readings"):
        decode_device_record(empty)


def test_bytes_that_are_no_record_at_all_are_refused() -> None:
    with pytest.raises(ValueError, match="invalid Kafka record"):
        decode_device_record(b"\xff not json")


@pytest.mark.parametrize("text", ["2026-12-01T10:00:00.123456Z", "2026-12-01T10:00:00.000001+08:00",
                                  "1999-12-31T23:59:59.999999-05:30", "2099-12-31T23:59:59.999999+14:00"])
def test_epoch_microseconds_of_parsed_timestamps_match_datetime_arithmetic(text: str) -> None:
    parsed = Reading.model_validate_json(
        f'{{"seq":1,"device":"d","point":"p","value":1,"unit":"kW","source_ts":"{text}","gateway_ts":"{text}"}}')
    expected = (parsed.source_ts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert epoch_us(parsed.source_ts) == epoch_us(parsed.source_ts.astimezone(UTC)) == expected


def test_epoch_microseconds_follow_a_zone_with_daylight_saving_time() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    winter, summer = datetime(2026, 1, 15, 12, tzinfo=berlin), datetime(2026, 7, 15, 12, tzinfo=berlin)
    assert epoch_us(winter) == epoch_us(datetime(2026, 1, 15, 11, tzinfo=UTC))
    assert epoch_us(summer) == epoch_us(datetime(2026, 7, 15, 10, tzinfo=UTC))
