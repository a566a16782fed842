"""Ingest refuses at the door every string the store cannot hold or that is no identifier, and every value that is
not a finite number: the envelope goes to the dead letters with a reason naming the field and the reading, and
the other envelopes of the same publish are forwarded as if nothing happened."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from aiokafka import AIOKafkaConsumer

from carbon_domain.schemas import Reading, clean_reason
from carbon_domain.wire import decode_device_record
from carbonflow.topics import MQTT_ROOT, kafka_dead_letters, kafka_readings
from ingest.bridge import Bridge, BridgeConfig, ensure_topics
from ingest.kafka_out import make_producer
from ingest.validation import Rejected, validate_payload
from tests.ingest.refused import CASES, NOW, Refused, good_envelope, reason_parts, spoiled_envelope

VERSIONS = [1, 2]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_a_bad_string_or_number_is_rejected_with_a_reason_naming_the_reading(case: Refused, version: int) -> None:
    with pytest.raises(Rejected) as refused:
        validate_payload(spoiled_envelope(case, "gw1", version), "gw1", NOW)
    reason = str(refused.value)
    assert [part for part in reason_parts(case, version) if part not in reason] == [], reason


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_a_refusal_reason_is_plain_ascii_the_dead_letter_store_can_hold(case: Refused, version: int) -> None:
    with pytest.raises(Rejected) as refused:
        validate_payload(spoiled_envelope(case, "gw1", version), "gw1", NOW)
    assert str(refused.value).isascii() and str(refused.value).isprintable()


@pytest.mark.parametrize("version", VERSIONS)
def test_the_spoiled_envelopes_are_good_apart_from_the_one_field(version: int) -> None:
    assert validate_payload(good_envelope("gw1", version), "gw1", NOW).reading_count == 6


@pytest.mark.parametrize(("gateway", "reason"), [
    ("gw\x00", '"gw\\u0000" is not an identifier'),
    ("gw 1", '"gw 1" is not an identifier'),
    ("g" * 129, "is not an identifier: use 1 to 128 letters"),
])
def test_a_gateway_id_that_is_no_identifier_is_rejected(gateway: str, reason: str) -> None:
    document = json.loads(good_envelope("gw1", 2))
    document["gateway"] = gateway
    with pytest.raises(Rejected, match="gateway: .*" + reason.replace("\\", "\\\\").replace("(", r"\(")):
        validate_payload(json.dumps(document).encode(), "gw1", NOW)


@pytest.mark.parametrize("value", [0, -3, 12, 10**30, 1e308, -0.0, 1e-320])
def test_finite_json_numbers_are_still_accepted(value: float) -> None:
    document = json.loads(good_envelope("gw1", 2))
    document["devices"][0]["value"][1] = value
    envelope = validate_payload(json.dumps(document).encode(), "gw1", NOW)
    assert envelope.devices[0].value[1] == float(value)  # type: ignore[union-attr]


def test_a_boolean_point_is_sent_as_a_number_and_passes() -> None:
    # the edge agent turns a coil, a discrete input or an OPC-UA boolean into 0.0 or 1.0 before the wire
    reading = Reading(seq=1, device="plc-1", point="running", value=float(True), unit="", source_ts=NOW,
                      gateway_ts=NOW)
    assert reading.value == 1.0


@pytest.mark.parametrize("raw", ["timeout\nafter 2 s\x00", "x" * 500, "half\ud800 pair", "bell\x07"])
def test_a_cleaned_reason_always_passes_the_door(raw: str) -> None:
    reading = Reading(seq=1, device="m1", point="kw", value=None, unit="kW", quality="bad", reason=clean_reason(raw),
                      source_ts=NOW, gateway_ts=NOW)
    assert reading.reason is not None and len(reading.reason) <= 200 and "\x00" not in reading.reason


def _message(gateway: str, payload: bytes) -> mqtt.MQTTMessage:
    message = mqtt.MQTTMessage(topic=f"{MQTT_ROOT}/{gateway}/data".encode())
    message.payload = payload
    return message


async def _through_the_bridge(bootstrap: str, prefix: str, messages: list[mqtt.MQTTMessage]) -> None:
    await ensure_topics(bootstrap, prefix)
    bridge = Bridge(BridgeConfig(mqtt_url="mqtt://127.0.0.1:1", kafka_bootstrap=bootstrap, kafka_prefix=prefix))
    bridge._producer = make_producer(bootstrap)  # what run() does before it connects to the broker
    await bridge._producer.start()
    try:
        futures = [future for message in messages for future in (await bridge.handle(message))[0]]
        await asyncio.gather(*futures)
    finally:
        await bridge._producer.stop()


async def _read(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        values: list[bytes] = []
        async with asyncio.timeout(30):
            while len(values) < expected:
                for batch in (await consumer.getmany(timeout_ms=300)).values():
                    values += [record.value for record in batch]
        await asyncio.sleep(0.5)  # anything beyond what was expected would show up now
        for batch in (await consumer.getmany(timeout_ms=300)).values():
            values += [record.value for record in batch]
        return values
    finally:
        await consumer.stop()


def test_every_refused_envelope_is_dead_lettered_at_ingest_with_its_reason(kafka_bootstrap: str) -> None:
    prefix = f"door-{datetime.now(UTC):%H%M%S%f}"
    now = datetime.now(UTC) - timedelta(seconds=5)
    table = [(case, version) for version in VERSIONS for case in CASES]
    messages = [_message("gw-a", spoiled_envelope(case, "gw-a", version, now)) for case, version in table]
    asyncio.run(_through_the_bridge(kafka_bootstrap, prefix, messages))
    letters = [json.loads(raw) for raw in asyncio.run(_read(kafka_bootstrap, kafka_dead_letters(prefix), len(table)))]
    assert len(letters) == len(table)
    wrong = [(case.case_id, version, letter["reason"]) for (case, version), letter in zip(table, letters)
             if letter["stage"] != "ingest" or any(part not in letter["reason"] for part in reason_parts(case, version))]
    assert wrong == []


def test_a_poison_envelope_costs_no_reading_of_the_envelopes_around_it(kafka_bootstrap: str) -> None:
    prefix = f"door-{datetime.now(UTC):%H%M%S%f}"
    now = datetime.now(UTC) - timedelta(seconds=5)
    nul_point, nan_value = CASES[0], next(c for c in CASES if c.says.startswith("NaN"))
    messages = [
        _message("gw-a", good_envelope("gw-a", 2, now)),
        _message("gw-a", spoiled_envelope(nul_point, "gw-a", 2, now)),
        _message("gw-b", good_envelope("gw-b", 2, now)),
        _message("gw-b", spoiled_envelope(nan_value, "gw-b", 1, now)),
        _message("gw-c", good_envelope("gw-c", 1, now)),
    ]
    asyncio.run(_through_the_bridge(kafka_bootstrap, prefix, messages))
    records = [decode_device_record(raw) for raw in asyncio.run(_read(kafka_bootstrap, kafka_readings(prefix), 6))]
    stored = sorted((r.gateway, seq) for r in records for seq in r.seq)
    assert stored == [(g, seq) for g in ("gw-a", "gw-b", "gw-c") for seq in range(10, 16)]
    letters = [json.loads(raw) for raw in asyncio.run(_read(kafka_bootstrap, kafka_dead_letters(prefix), 2))]
    assert [(letter["gateway"], "bad\\u0000point" in letter["reason"] or "NaN" in letter["reason"])
            for letter in letters] == [("gw-a", True), ("gw-b", True)]
