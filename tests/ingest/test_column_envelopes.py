"""Envelope version 2 (a list per field per device): the same readings and the same checks as version 1."""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from carbon_domain.schemas import ColumnEnvelope, Envelope, Reading, column_envelope, epoch_us
from carbon_domain.wire import decode_envelope, encode_envelope
from ingest.validation import Rejected, split_by_device, validate_payload

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _readings(ts: datetime = NOW, n: int = 6) -> list[Reading]:
    out = []
    for i in range(n):
        bad = i == 3
        out.append(Reading(
            seq=10 + i, device=f"d{i % 2}", point=f"p{i}", value=None if bad else 1.5 * i, unit="kWh" if i % 3 else "kW",
            kind="counter" if i % 3 else "gauge", quality="bad" if bad else ("uncertain" if i == 4 else "good"),
            reason="meter did not answer" if bad else None,
            source_ts=ts - timedelta(seconds=i), gateway_ts=ts + timedelta(microseconds=i)))
    return out


def _v1(ts: datetime = NOW, n: int = 6, gateway: str = "gw1") -> Envelope:
    return Envelope(gateway=gateway, seq_first=10, seq_last=10 + n - 1, sent_at=ts, readings=_readings(ts, n))


def _v2_document(**changes: object) -> dict:
    """The JSON document of a good column envelope, with top-level or first-device fields replaced."""
    document = json.loads(column_envelope(_v1()).model_dump_json())
    first = document["devices"][0]
    for key, value in changes.items():
        if key in first:
            first[key] = value
        else:
            document[key] = value
    return document


def _payload(document: dict) -> bytes:
    return json.dumps(document).encode()


def test_column_envelope_makes_the_same_kafka_records_as_version_one() -> None:
    v1 = validate_payload(encode_envelope(_v1()), "gw1", NOW)
    v2 = validate_payload(encode_envelope(column_envelope(_v1())), "gw1", NOW)
    assert isinstance(v2, ColumnEnvelope)
    records_v1, records_v2 = split_by_device(v1, NOW), split_by_device(v2, NOW)
    assert [r.model_dump() for r in records_v2] == [r.model_dump() for r in records_v1]
    d1 = next(r for r in records_v2 if r.device == "d1")
    assert d1.seq == [11, 13, 15]
    assert d1.value == [1.5, None, 7.5]
    assert d1.quality == [0, 2, 0]
    assert d1.reasons == {1: "meter did not answer"}
    assert d1.last_gateway_us == epoch_us(NOW + timedelta(microseconds=5))


def test_column_envelope_counts_its_readings() -> None:
    envelope = decode_envelope(encode_envelope(column_envelope(_v1(n=7))))
    assert envelope.reading_count == 7 == _v1(n=7).reading_count


def test_column_envelope_is_recognised_however_its_json_is_written() -> None:
    document = _v2_document()
    reordered = {key: document[key] for key in reversed(list(document))}
    for text in (json.dumps(document, indent=2), json.dumps(reordered)):
        envelope = decode_envelope(text.encode())
        assert isinstance(envelope, ColumnEnvelope)
        assert envelope.reading_count == 6


def test_compressed_column_envelope_is_a_fraction_of_version_one() -> None:
    readings = [Reading(seq=i, device=f"d{i // 50}", point=f"p{i % 50}", value=100.0 + i * 0.37, unit="kW",
                        source_ts=NOW + timedelta(milliseconds=i), gateway_ts=NOW + timedelta(milliseconds=i))
                for i in range(1000)]
    v1 = Envelope(gateway="gw1", seq_first=0, seq_last=999, sent_at=NOW, readings=readings)
    assert len(encode_envelope(column_envelope(v1))) < 0.6 * len(encode_envelope(v1))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"value": [0.0, 1.0]}, "every column needs 3 values"),
        ({"gateway_us": [1]}, "every column needs 3 values"),
        ({"value": [None, 4.5, 10.5], "quality": [0, 0, 0]}, "a good reading needs a value"),
        ({"reasons": {"7": "x"}}, "reasons are by position 0 to 2"),
        ({"seq_last": 99}, "envelope says seq 10..99, readings carry 10..15"),
        ({"seq": [10, -1, 14]}, "devices.0.seq.1"),
        ({"quality": [0, 5, 0]}, "devices.0.quality.1"),
        ({"kind": ["gauge", "rate", "gauge"]}, "devices.0.kind.1"),
        ({"source_us": [0, 10**20, 0]}, "devices.0.source_us.1"),
        ({"point": ["p0", "", "p4"]}, "devices.0.point.1"),
        ({"devices": []}, "devices: List should have at least 1 item"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"v": 3}, "invalid envelope: v"),
    ],
    ids=["short-value-column", "short-gateway-column", "good-without-value", "reason-outside", "seq-range",
         "negative-seq", "unknown-quality", "unknown-kind", "time-out-of-range", "empty-point", "no-devices",
         "unknown-field", "unknown-version"],
)
def test_bad_column_envelope_is_rejected_with_reason(changes: dict, reason: str) -> None:
    with pytest.raises(Rejected, match=reason.replace(".", r"\.")):
        validate_payload(_payload(_v2_document(**changes)), "gw1", NOW)


def test_column_envelope_dated_in_the_future_is_rejected_with_its_first_sequence() -> None:
    future = epoch_us(NOW + timedelta(hours=1))
    document = _v2_document()
    document["devices"][1]["gateway_us"][2] = future  # d1's third reading: seq 15
    with pytest.raises(Rejected, match=r"1 readings dated more than 0:05:00 in the future \(first seq 15\)"):
        validate_payload(_payload(document), "gw1", NOW)


def test_column_envelope_of_another_gateway_than_its_topic_is_rejected() -> None:
    with pytest.raises(Rejected, match="does not match topic gateway"):
        validate_payload(encode_envelope(column_envelope(_v1(gateway="gw2"))), "gw1", NOW)


def test_compressed_column_envelope_decodes() -> None:
    raw = _payload(_v2_document())
    envelope = validate_payload(b"Z" + zlib.compress(raw), "gw1", NOW)
    assert isinstance(envelope, ColumnEnvelope)


def test_the_envelope_example_in_the_ingest_docs_is_a_valid_column_envelope() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "ingest.md").read_text()
    example = next(block for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL) if '"seq_first"' in block)
    envelope = validate_payload(example.encode(), "gw-01", datetime(2026, 12, 1, 8, tzinfo=UTC))
    assert isinstance(envelope, ColumnEnvelope)
    assert [d.device for d in envelope.devices] == ["meter-3", "cems-1"]
    assert envelope.devices[1].reasons == {0: "analyser in calibration"}
