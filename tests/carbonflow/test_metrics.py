"""What ingest and the stream worker share for /metrics: reason classes of real dead letters, the listener's settings."""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carbon_domain.wire import decode_device_record, encode_envelope
from carbonflow.metrics import REASON_CLASSES, MetricsListen, metrics_listen_from_env, reason_class, serve_metrics
from ingest.binding import judge
from ingest.health import validate_health_payload
from ingest.validation import Rejected, validate_payload
from tests.e2e.test_dead_letters import _envelope
from tests.ingest.refused import CASES, spoiled_envelope

NOW = datetime.now(UTC)


def _refusal(payload: bytes, topic_gateway: str | None = "gw") -> str:
    with pytest.raises(Rejected) as refused:
        validate_payload(payload, topic_gateway, NOW)
    return str(refused.value)


def _health_refusal(payload: bytes, kind: str) -> str:
    with pytest.raises(Rejected) as refused:
        validate_health_payload(payload, "gw", kind, NOW, None)
    return str(refused.value)


def _undecodable_record(raw: bytes) -> str:
    with pytest.raises(ValueError) as refused:
        decode_device_record(raw)
    return str(refused.value)


@pytest.mark.parametrize(("reason", "expected"), [
    pytest.param(lambda: _refusal(encode_envelope(_envelope("gw", 1, NOW))[:25]), "malformed", id="truncated"),
    pytest.param(lambda: _refusal(b"\xff\xfe" + b"x" * 40), "malformed", id="non-utf8"),
    pytest.param(lambda: _refusal(b"{" + b" " * (5 * 1024 * 1024) + b"}"), "malformed", id="huge"),
    pytest.param(lambda: _refusal(b"{}", None), "malformed", id="bad-topic"),
    pytest.param(lambda: _refusal(spoiled_envelope(CASES[0], "gw", 1)), "schema", id="bad-point"),
    pytest.param(lambda: _refusal(spoiled_envelope(CASES[-1], "gw", 2)), "schema", id="bad-number-v2"),
    pytest.param(lambda: _refusal(encode_envelope(_envelope("gw-other", 1, NOW))), "gateway", id="wrong-gateway"),
    pytest.param(lambda: _refusal(encode_envelope(_envelope("gw", 1, datetime(2099, 1, 1, tzinfo=UTC)))), "clock",
                 id="future"),
    pytest.param(lambda: _health_refusal(b'{"event": "nope"}', "events"), "health", id="unknown-event"),
    pytest.param(lambda: _health_refusal(b"\xff", "status"), "health", id="health-not-utf8"),
    pytest.param(lambda: _health_refusal(b'{"spool": "lots"}', "status"), "health", id="health-bad-field"),
    pytest.param(lambda: _undecodable_record(b'{"v": 2}'), "record", id="stream-undecodable-record"),
    pytest.param(lambda: judge("gw", "dev", None, gateway_site=None, auto_register=False).reason, "device",
                 id="unregistered-device"),
    pytest.param(lambda: "gateway 'rogue' is not registered or is revoked; register it", "gateway",
                 id="unregistered-gateway"),  # worded in ingest/bridge.py _admit_gateway
    pytest.param(lambda: "replayed sequence range 1..3: already accepted", "replay", id="replay"),
    pytest.param(lambda: "record could not be stored: point 'p' (value out of range)", "store", id="stream-store"),
    pytest.param(lambda: "something nobody words yet", "other", id="unknown"),
])
def test_dead_letter_reasons_fall_into_a_fixed_class(reason: object, expected: str) -> None:
    assert reason_class(reason()) == expected  # type: ignore[operator]
    assert expected in REASON_CLASSES


def test_metrics_port_is_off_unless_set_and_binds_loopback_by_default() -> None:
    assert metrics_listen_from_env({}, "ingest") is None
    assert metrics_listen_from_env({"CARBONFLOW_INGEST_METRICS_PORT": "9310"}, "ingest") == MetricsListen(
        "127.0.0.1", 9310)
    assert metrics_listen_from_env({"CARBONFLOW_STREAM_METRICS_PORT": "9311", "CARBONFLOW_STREAM_METRICS_HOST":
                                    "0.0.0.0"}, "stream") == MetricsListen("0.0.0.0", 9311)


@pytest.mark.parametrize("port", ["0", "65536", "90a", "-1"])
def test_a_metrics_port_that_is_no_port_stops_the_service_with_the_variable_named(port: str) -> None:
    with pytest.raises(SystemExit, match="CARBONFLOW_STREAM_METRICS_PORT must be a port number from 1 to 65535"):
        metrics_listen_from_env({"CARBONFLOW_STREAM_METRICS_PORT": port}, "stream")


def test_a_taken_metrics_port_stops_the_service_naming_the_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=f"ingest: cannot serve metrics on 127.0.0.1:{port}"):
            serve_metrics(MetricsListen("127.0.0.1", port), "ingest")


def test_the_grafana_dashboard_queries_only_metrics_the_services_export() -> None:
    root = Path(__file__).resolve().parents[2]
    dashboard = json.loads((root / "docs/grafana/pipeline.json").read_text())
    queried = {re.sub(r"_(bucket|count|sum)$", "", name)
               for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"\b(?:edge|carbonflow)_[a-z_]+", target["expr"])}
    sources = "".join((root / path).read_text() for path in (
        "edge_agent/agent.py", "carbonflow/metrics.py", "ingest/bridge.py", "stream_jobs/metrics.py", "api/metrics.py"))
    assert len(queried) >= 14
    assert sorted(name for name in queried if f'"{name}"' not in sources) == []
