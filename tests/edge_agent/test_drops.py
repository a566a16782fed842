"""Spool overflow: readings dropped while offline are reported on the events topic and in the retained status."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from edge_agent.agent import EdgeAgent
from edge_agent.config import load_agent_config
from edge_agent.spool import Spool

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _fill_until_drops(path: Path) -> int:
    """Overflow a tiny spool, as a long outage would; returns how many readings it dropped."""
    spool = Spool(path, max_bytes=20_000)
    n = 0
    while spool.stats().dropped < 1000:
        spool.append([{"device": "old", "point": f"p{i % 7}", "value": float(n + i), "unit": "kW",
                       "source_ts": T0 + timedelta(seconds=n + i), "gateway_ts": T0 + timedelta(seconds=n + i)}
                      for i in range(200)])
        n += 200
    dropped = spool.stats().dropped
    spool.close()
    return dropped


async def test_readings_dropped_while_offline_are_reported_once_the_link_is_up(
    meter: tuple[Any, int], write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]],
    tls_link: dict[str, Any], tmp_path: Path, running: Any, eventually: Any, listen: Callable[[str], Any],
) -> None:
    dropped = _fill_until_drops(tmp_path / "spool.sqlite")
    path = write_config(devices=[modbus_endpoint("meter-1", meter[1])], mqtt=tls_link)
    listener = listen("carbonflow/v1/gw-test/+")
    agent = EdgeAgent(load_agent_config(path))
    async with running(agent):
        events = await eventually(lambda: listener.on("/events"), 10, "an overflow event")
        await eventually(lambda: agent.spool.unreported_drops() == (dropped, 0), 5, "the report to be acknowledged")
        statuses = await eventually(
            lambda: [s for s in map(json.loads, listener.on("/status")) if s.get("last_drop_report")], 5,
            "a status with the drop report")
    event = json.loads(events[0])
    assert (event["event"], event["gateway"], event["dropped"], event["dropped_total"]) == (
        "spool_overflow", "gw-test", dropped, dropped)
    assert len(events) == 1  # reported once, not every second
    assert statuses[-1]["state"] == "online" and statuses[-1]["dropped_total"] == dropped
    assert statuses[-1]["last_drop_report"]["dropped"] == dropped
