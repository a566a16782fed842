"""Kafka reading records: written without default fields, read back as the same device batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from carbon_domain.schemas import DeviceBatch, Reading
from ingest.kafka_out import device_batch_record

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("fields", [
    {"value": 12.5, "unit": "kW"},
    {"value": 0.0, "unit": "kWh", "kind": "counter"},
    {"value": None, "unit": "kW", "quality": "bad", "reason": "modbus timeout"},
    {"value": -3.0, "unit": "Nm3", "quality": "uncertain", "reason": ""},
])
def test_record_reads_back_as_the_same_batch(fields: dict[str, object]) -> None:
    reading = Reading(seq=7, device="m1", point="p", source_ts=T0, gateway_ts=T0 + timedelta(seconds=1),
                      **fields)  # type: ignore[arg-type]
    batch = DeviceBatch(gateway="gw", device="m1", received_at=T0.astimezone(timezone(timedelta(hours=8))),
                        backlog=True, readings=[reading])
    assert DeviceBatch.model_validate_json(device_batch_record(batch)) == batch


def test_record_leaves_out_fields_at_their_defaults() -> None:
    reading = Reading(seq=1, device="m1", point="p", value=1.0, unit="kW", source_ts=T0, gateway_ts=T0)
    record = orjson.loads(device_batch_record(DeviceBatch(gateway="gw", device="m1", received_at=T0,
                                                          readings=[reading])))
    assert (sorted(record), sorted(record["readings"][0])) == (
        ["device", "gateway", "readings", "received_at"],
        ["device", "gateway_ts", "point", "seq", "source_ts", "unit", "value"])
