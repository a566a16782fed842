"""The retained status topic: a heartbeat with the spool's numbers while online, `offline` after a clean stop."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from carbon_domain.schemas import GatewayStatus
from edge_agent.agent import EdgeAgent
from edge_agent.config import load_agent_config


async def test_status_is_republished_with_spool_numbers_and_turns_offline_on_a_clean_stop(
    meter: tuple[Any, int], write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]],
    tls_link: dict[str, Any], running: Any, eventually: Any, listen: Callable[[str], Any],
) -> None:
    path = write_config(devices=[modbus_endpoint("meter-1", meter[1])], mqtt=tls_link, status_interval_s=1)
    listener = listen("carbonflow/v1/gw-test/status")
    agent = EdgeAgent(load_agent_config(path))
    async with running(agent):
        online = await eventually(
            lambda: [s for s in map(GatewayStatus.model_validate_json, listener.on("/status")) if s.state == "online"],
            10, "an online status")
        heartbeats = await eventually(
            lambda: len([s for s in map(json.loads, listener.on("/status")) if s["state"] == "online"]) >= 3
            and listener.on("/status"), 5, "two more heartbeats")
    final = GatewayStatus.model_validate_json(listener.on("/status")[-1])
    first = online[0]
    assert first.gateway == "gw-test" and first.interval_s == 1.0 and first.agent_version
    assert first.spool is not None and first.spool.depth >= 0 and first.spool.bytes >= 0
    assert (first.dropped_total, first.dropped_unreported) == (0, 0)
    assert len({json.loads(s)["at"] for s in heartbeats}) == len(heartbeats)  # each heartbeat is a fresh report
    assert (final.state, final.gateway) == ("offline", "gw-test") and final.at is not None
