"""SIGHUP reload: a valid configuration is applied at once, an invalid one leaves the running agent as it was."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge_agent.agent import EdgeAgent
from edge_agent.config import load_agent_config


def _devices_in_spool(agent: EdgeAgent) -> set[str]:
    return {r.device for r in agent.spool.peek(after_seq=-1, limit=100_000)}


async def test_sighup_adds_a_device_and_changes_an_interval_without_touching_the_spool(
    meter: tuple[Any, int], write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]],
    running: Any, eventually: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    port = meter[1]
    path = write_config(devices=[modbus_endpoint("meter-1", port, poll_interval_s=1.0)])
    agent = EdgeAgent(load_agent_config(path), config_path=path)
    original_meter = None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, agent.request_reload)
    try:
        async with running(agent):
            await eventually(lambda: agent.spool.stats().next_seq > 0, 5, "first readings")
            original_meter = agent.pollers["meter-1"]
            seq_before = agent.spool.stats().next_seq
            write_config(devices=[modbus_endpoint("meter-1", port, poll_interval_s=0.2),
                                  modbus_endpoint("meter-2", port)])
            with caplog.at_level(logging.INFO, logger="edge_agent"):
                os.kill(os.getpid(), signal.SIGHUP)
                await eventually(lambda: agent.reloads["applied"] == 1, 5, "the reload")
            await eventually(lambda: "meter-2" in _devices_in_spool(agent), 5, "readings of the added device")
            assert agent.spool.stats().next_seq >= seq_before  # same spool, sequence carries on
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
    assert agent.config.devices[0].poll_interval_s == 0.2
    assert sorted(agent.pollers) == ["meter-1", "meter-2"] and agent.pollers["meter-1"] is not original_meter
    applied = [r.getMessage() for r in caplog.records if r.getMessage().startswith("reload applied")]
    assert len(applied) == 1
    assert "devices added: meter-2" in applied[0] and "poll_interval_s 1.0 -> 0.2" in applied[0]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("syntax", "cannot read agent config"),
        ("schema", "poll_interval_s"),
        ("profile", "device meter-9: cannot build its poller"),
        ("spool", "spool_path cannot change while the agent runs"),
        ("certificate", "mqtt: cannot set up the link"),
    ],
)
async def test_an_invalid_reload_keeps_the_running_configuration_and_pollers(
    change: str, reason: str, meter: tuple[Any, int], write_config: Callable[..., Path],
    modbus_endpoint: Callable[..., dict[str, Any]], tmp_path: Path, running: Any, eventually: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = meter[1]
    path = write_config(devices=[modbus_endpoint("meter-1", port)])
    agent = EdgeAgent(load_agent_config(path), config_path=path)
    async with running(agent):
        await eventually(lambda: agent.poll_stats["meter-1"].latency.count > 0, 5, "a first poll")
        before_config, before_poller, before_publisher = agent.config, agent.pollers["meter-1"], agent.publisher
        good = modbus_endpoint("meter-1", port, poll_interval_s=0.5)
        if change == "syntax":
            path.write_text("gateway_id: [unclosed\n")
        elif change == "schema":
            write_config(devices=[modbus_endpoint("meter-1", port, poll_interval_s=0.001)])
        elif change == "profile":
            write_config(devices=[good, {**modbus_endpoint("meter-9", port), "profile": "cf-demo/no-such-meter"}])
        elif change == "spool":
            write_config(devices=[good], spool_path=str(tmp_path / "other.sqlite"))
        else:
            missing = tmp_path / "missing.pem"
            write_config(devices=[good], mqtt={"url": "mqtts://127.0.0.1:1", "ca": str(missing)})
        with caplog.at_level(logging.ERROR, logger="edge_agent"):
            assert await agent.reload() is False
        polls = agent.poll_stats["meter-1"].latency.count
        await eventually(lambda: agent.poll_stats["meter-1"].latency.count > polls, 5, "polling to go on")
    assert (agent.config, agent.pollers["meter-1"], agent.publisher) == (before_config, before_poller, before_publisher)
    assert agent.reloads == {"applied": 0, "rejected": 1}
    assert any(reason in r.getMessage() and "keeping the running configuration" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]


async def test_a_changed_mqtt_link_reconnects_the_publisher(
    meter: tuple[Any, int], write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]],
    tls_link: dict[str, Any], running: Any, eventually: Any,
) -> None:
    path = write_config(devices=[modbus_endpoint("meter-1", meter[1])], mqtt=tls_link)
    agent = EdgeAgent(load_agent_config(path), config_path=path)
    async with running(agent):
        await eventually(lambda: agent.publisher.connected, 10, "the first connection")
        first = agent.publisher
        write_config(devices=[modbus_endpoint("meter-1", meter[1])], mqtt={**tls_link, "reconnect_max_s": 5.0})
        assert await agent.reload() is True
        await eventually(lambda: agent.publisher is not first and agent.publisher.connected, 10, "the new link")
        acked = agent.link_totals()["acknowledged"]
        await eventually(lambda: agent.link_totals()["acknowledged"] > acked, 10, "data over the new link")
    assert agent.link_totals()["connections"] == 2 and not first.connected
