"""Payload checks at the MQTT edge of the cloud: each bad payload is rejected with its reason."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from carbon_domain.schemas import Envelope, Reading
from carbon_domain.wire import encode_envelope
from ingest.validation import Rejected, split_by_device, validate_payload

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _envelope(gateway: str = "gw1", ts: datetime = NOW, n: int = 3) -> Envelope:
    readings = [
        Reading(seq=10 + i, device=f"d{i % 2}", point="p", value=float(i), unit="kW", source_ts=ts, gateway_ts=ts)
        for i in range(n)
    ]
    return Envelope(gateway=gateway, seq_first=10, seq_last=10 + n - 1, sent_at=ts, readings=readings)


def _good() -> bytes:
    return encode_envelope(_envelope())


@pytest.mark.parametrize(
    ("payload", "topic_gateway", "reason"),
    [
        (_good()[:20], "gw1", "malformed JSON"),
        (b"\xff\xfe\x00garbage", "gw1", "not UTF-8"),
        (b"Z" + b"not zlib", "gw1", "not valid zlib"),
        (json.dumps({"v": 1, "gateway": "gw1"}).encode(), "gw1", "invalid envelope"),
        (_envelope().model_dump_json().replace('"value":0.0', '"value":"high"').encode(), "gw1", "invalid envelope"),
        (_envelope().model_dump_json().replace('"seq":10,', f'"seq":{2**63},').encode(), "gw1", "invalid envelope"),
        (_good(), "gw2", "does not match topic gateway"),
        (_good(), None, "topic is not"),
        (encode_envelope(_envelope(ts=datetime(2099, 1, 1, tzinfo=UTC))), "gw1", "in the future"),
        (b"{" + b" " * (5 * 1024 * 1024) + b"}", "gw1", "exceeds"),
        (b"Z" + zlib.compress(b" " * (40 * 1024 * 1024)), "gw1", "exceeds the size limit"),
    ],
    ids=["truncated", "non-utf8", "bad-zlib", "missing-fields", "wrong-type", "seq-beyond-bigint", "wrong-gateway", "bad-topic",
         "future-2099", "huge", "zip-bomb"],
)
def test_bad_payload_is_rejected_with_reason(payload: bytes, topic_gateway: str | None, reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        validate_payload(payload, topic_gateway, NOW)


def test_valid_payload_splits_per_device_in_sequence_order() -> None:
    envelope = validate_payload(encode_envelope(_envelope(n=5)), "gw1", NOW + timedelta(seconds=1))
    batches = split_by_device(envelope, NOW)
    assert {b.device: b.seq for b in batches} == {"d0": [10, 12, 14], "d1": [11, 13]}
