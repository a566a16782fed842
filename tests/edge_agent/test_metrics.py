"""Prometheus metrics: the exposition format, and what a running agent serves on its metrics port."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from edge_agent.agent import EdgeAgent
from edge_agent.config import load_agent_config
from edge_agent.metrics import Histogram, RateMeter, histogram_family, parse, render


def test_render_and_parse_round_trip_names_labels_and_special_values() -> None:
    counter = CounterMetricFamily("edge_x_total", "X.", labels=["device"])
    counter.add_metric(['we"ird\\dev'], 3)
    gauge = GaugeMetricFamily("edge_y", "Y.", labels=["result"])
    gauge.add_metric([""], math.inf)
    gauge.add_metric(["ok"], 0.25)
    samples = parse(render([counter, gauge]).decode())
    assert [(s.name, s.labels, s.value) for s in samples] == [
        ("edge_x_total", {"device": 'we"ird\\dev'}, 3.0),
        ("edge_y", {"result": ""}, math.inf),
        ("edge_y", {"result": "ok"}, 0.25),
    ]


def test_parse_refuses_text_that_is_not_an_exposition() -> None:
    with pytest.raises(ValueError, match="not a Prometheus text exposition"):
        parse("edge_x_total{device=\"a\" 3\n")


def test_histogram_exposes_cumulative_buckets_sum_and_count() -> None:
    histogram = Histogram((0.1, 1.0))
    for value in (0.05, 0.5, 0.7, 3.0):
        histogram.observe(value)
    samples = parse(render([histogram_family("h", "H.", "device", [("d", histogram)])]).decode())
    assert [(s.name, s.labels.get("le"), s.value) for s in samples] == [
        ("h_bucket", "0.1", 1), ("h_bucket", "1.0", 3), ("h_bucket", "+Inf", 4), ("h_count", None, 4),
        ("h_sum", None, 4.25),
    ]


def test_rate_meter_reports_growth_per_second_over_its_window() -> None:
    now = [0.0]
    meter = RateMeter(window_s=10, clock=lambda: now[0])
    for second in range(30):
        now[0] = float(second)
        meter.update(100.0 * second)
    assert meter.rate == pytest.approx(100.0)


async def _get(port: int, path: str) -> tuple[str, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = raw.decode().partition("\r\n\r\n")
    return head.split("\r\n", 1)[0], body


def _value(samples: list[Any], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert found, f"no sample {name} {labels}"
    return float(found[0])


async def test_metrics_endpoint_serves_poll_spool_and_link_numbers_of_a_running_agent(
    meter: tuple[Any, int], write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]],
    tls_link: dict[str, Any], free_port: Callable[[], int], running: Any, eventually: Any,
) -> None:
    _, port = meter
    metrics_port = free_port()
    path = write_config(
        devices=[modbus_endpoint("meter-1", port), modbus_endpoint("dead-1", free_port())],
        mqtt=tls_link, metrics_port=metrics_port,
    )
    agent = EdgeAgent(load_agent_config(path))
    async with running(agent):
        await eventually(lambda: agent.link_totals()["acknowledged"] > 0 and agent.poll_stats["dead-1"].errors > 0,
                         10, "acknowledged readings and a failed poll")
        status, body = await _get(metrics_port, "/metrics")
        missing, _ = await _get(metrics_port, "/nope")
    samples = parse(body)
    assert status == "HTTP/1.1 200 OK" and missing.startswith("HTTP/1.1 404")
    assert _value(samples, "edge_poll_duration_seconds_count", device="meter-1") > 0
    assert _value(samples, "edge_poll_errors_total", device="meter-1") == 0
    assert _value(samples, "edge_poll_errors_total", device="dead-1") > 0
    assert _value(samples, "edge_device_degraded", device="dead-1") == 1
    assert _value(samples, "edge_poll_duration_seconds_bucket", device="meter-1", le="+Inf") == _value(
        samples, "edge_poll_duration_seconds_count", device="meter-1")
    assert _value(samples, "edge_mqtt_connected") == 1
    assert _value(samples, "edge_acknowledged_readings_total") > 0
    assert _value(samples, "edge_dropped_readings_total") == 0
    names = {s.name for s in samples}
    assert {
        "edge_spool_depth_readings", "edge_spool_bytes", "edge_spool_oldest_unsent_age_seconds",
        "edge_staged_readings", "edge_publish_rate_readings_per_second", "edge_mqtt_reconnects_total",
        "edge_published_readings_total",
    } <= names
