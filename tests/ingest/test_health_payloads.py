"""Gateway status and events payloads: what the agents send is accepted, anything else is refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from carbonflow.topics import mqtt_health_filters, split_gateway_topic
from ingest.health import validate_health_payload
from ingest.validation import Rejected

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
AT = "2026-11-24T07:59:58.5+00:00"
ONLINE = {"state": "online", "gateway": "gw-1", "at": AT, "agent_version": "0.1.0", "interval_s": 30.0,
          "spool": {"depth": 1204, "bytes": 14200, "oldest_unsent_age_s": 1.8},
          "dropped_total": 5000, "dropped_unreported": 0,
          "last_drop_report": {"dropped": 5000, "dropped_total": 5000, "at": AT}}
EVENT = {"event": "spool_overflow", "gateway": "gw-1", "dropped": 300, "dropped_total": 5300, "at": AT}


def _bytes(doc: Any) -> bytes:
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("kind", "payload", "check"),
    [
        ("status", _bytes(ONLINE), lambda r: (r.status.spool.depth, r.status.agent_version) == (1204, "0.1.0")),
        ("status", _bytes({k: ONLINE[k] for k in ("state", "at", "dropped_total", "dropped_unreported",
                                                  "last_drop_report")}),
         lambda r: r.status.spool is None and r.status.dropped_total == 5000),
        ("status", _bytes({"state": "offline"}), lambda r: r.status.state == "offline" and r.status.at is None),
        ("events", _bytes(EVENT), lambda r: (r.event.dropped, r.event.dropped_total) == (300, 5300)),
    ],
    ids=["heartbeat", "older-agent-without-spool-numbers", "last-will", "spool-overflow"],
)
def test_agent_payloads_become_health_records(kind: str, payload: bytes, check: Any) -> None:
    record = validate_health_payload(payload, "gw-1", kind, NOW)
    assert record.gateway == "gw-1" and record.received_at == NOW and check(record)


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        ("status", b'{"state": "onl', "malformed JSON"),
        ("status", _bytes({**ONLINE, "gateway": "gw-2"}), "does not match topic gateway 'gw-1'"),
        ("events", _bytes({**EVENT, "gateway": "gw-2"}), "does not match topic gateway 'gw-1'"),
        ("status", _bytes({**ONLINE, "cpu": 0.5}), "invalid status: cpu: Extra inputs are not permitted"),
        ("status", _bytes({"state": "online"}), "needs its time `at`"),
        ("status", _bytes({**ONLINE, "spool": {"depth": -1, "bytes": 0, "oldest_unsent_age_s": None}}),
         "invalid status: spool.depth"),
        ("status", _bytes({**ONLINE, "state": "sleeping"}), "invalid status: state"),
        ("events", _bytes({**EVENT, "event": "reboot"}), "unknown event 'reboot'"),
        ("events", _bytes({**EVENT, "dropped": 6000}), "dropped 6000 exceeds dropped_total 5300"),
        ("events", b"\xff\xfe{}", "not UTF-8"),
        ("status", b"{" + b" " * 70000 + b"}", "exceeds the 65536-byte limit"),
    ],
    ids=["truncated", "status-other-gateway", "event-other-gateway", "unknown-key", "online-without-time",
         "negative-depth", "unknown-state", "unknown-event", "dropped-above-total", "non-utf8", "huge"],
)
def test_bad_health_payloads_are_rejected_with_their_reason(kind: str, payload: bytes, reason: str) -> None:
    with pytest.raises(Rejected) as caught:
        validate_health_payload(payload, "gw-1", kind, NOW)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("topic", "parts"),
    [
        ("carbonflow/v1/gw-1/status", ("gw-1", "status")),
        ("carbonflow/v1/gw-1/events", ("gw-1", "events")),
        ("carbonflow/v1/gw-1/data", ("gw-1", "data")),
        ("carbonflow/v1/a/b/status", None),
        ("carbonflow/v1/gw-1/cmd", None),
        ("other/v1/gw-1/status", None),
        ("carbonflow/v1//status", None),
    ],
)
def test_topics_name_their_gateway_and_kind(topic: str, parts: tuple[str, str] | None) -> None:
    assert split_gateway_topic(topic) == parts


def test_health_subscriptions_share_the_group_like_data() -> None:
    assert mqtt_health_filters("r", "g") == ["$share/g/r/+/status", "$share/g/r/+/events"]


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        ("status", _bytes({**ONLINE, "bad\x00key": 1}), "invalid status: bad\\u0000key: Extra inputs"),
        ("status", _bytes({**ONLINE, "agent_version": "0.1\x00"}), "invalid status: agent_version"),
        ("status", _bytes({**ONLINE, "gateway": "gw\x00"}), "invalid status: gateway"),
        ("events", _bytes({**EVENT, "gateway": "g" * 129}), "invalid event: gateway"),
    ],
    ids=["nul-in-key", "nul-in-version", "nul-in-gateway", "long-gateway"],
)
def test_a_bad_string_in_a_health_payload_is_refused_with_a_reason_the_store_can_hold(kind: str, payload: bytes,
                                                                                    reason: str) -> None:
    with pytest.raises(Rejected) as caught:
        validate_health_payload(payload, "gw-1", kind, NOW)
    assert reason in str(caught.value) and str(caught.value).isascii() and "\x00" not in str(caught.value)
