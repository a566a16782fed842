"""OPC-UA by subscription: changes arrive with the server's source time stamps; polled points are still read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from device_profiles.loader import load_profile
from edge_agent.config import DeviceEndpoint
from edge_agent.sources import OpcUaPoller, make_poller
from simulators import Link, OpcUaDeviceServer, SimulatedDevice

PROFILE = "cf-demo/boiler-opcua"
SOURCE_CLOCK_OFFSET_S = -3600.0  # the device's clock runs an hour late: its time stamps must survive


@contextlib.asynccontextmanager
async def _polling(poller: Any) -> AsyncIterator[list[dict[str, Any]]]:
    drafts: list[dict[str, Any]] = []

    async def emit(batch: list[dict[str, Any]]) -> None:
        drafts.extend(batch)

    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(emit, stop))
    try:
        yield drafts
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def _until(check: Any, timeout_s: float, what: str) -> Any:
    for _ in range(int(timeout_s / 0.05)):
        if result := check():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def boiler() -> AsyncIterator[tuple[SimulatedDevice, OpcUaDeviceServer]]:
    device = SimulatedDevice(load_profile(PROFILE), device_id="boiler-1")
    device.set_faults(Link(clock_offset_s=SOURCE_CLOCK_OFFSET_S), {})
    async with OpcUaDeviceServer(device, port=0) as server:
        yield device, server


async def test_subscribed_points_deliver_changes_with_source_timestamps_and_polled_points_are_read(
    boiler: tuple[SimulatedDevice, OpcUaDeviceServer],
) -> None:
    device, server = boiler
    endpoint = DeviceEndpoint(id="boiler-1", profile=PROFILE, protocol="opcua", port=server.port)
    poller = make_poller(endpoint)
    assert isinstance(poller, OpcUaPoller)
    async with _polling(poller) as drafts:
        await _until(lambda: any(d["point"] == "steam_flow_tph" for d in drafts), 10, "the initial value")
        device.set("steam_flow_tph", 77.25)
        change = await _until(
            lambda: [d for d in drafts if d["point"] == "steam_flow_tph" and d["value"] == 77.25], 10, "the change")
        polled = [d for d in drafts if d["point"] == "heat_total_gj"]
    skew = change[0]["gateway_ts"] - change[0]["source_ts"]
    assert abs(skew - timedelta(seconds=-SOURCE_CLOCK_OFFSET_S)) < timedelta(seconds=5)
    assert change[0]["quality"] == "good"
    assert polled and poller.stats.latency.count >= 1  # heat_total_gj is `mode: poll` in the profile
    assert poller.stats.notifications >= len(load_profile(PROFILE).points) - 1


async def test_a_lost_server_gives_bad_readings_and_the_subscription_comes_back(
    boiler: tuple[SimulatedDevice, OpcUaDeviceServer],
) -> None:
    device, server = boiler
    endpoint = DeviceEndpoint(id="boiler-1", profile=PROFILE, protocol="opcua", port=server.port, timeout_s=1.0,
                              opcua_mode="subscribe")
    poller = make_poller(endpoint)
    async with _polling(poller) as drafts:
        await _until(lambda: any(d["point"] == "firing" for d in drafts), 10, "the initial values")
        await server.stop()
        await _until(lambda: poller.degraded and any(d["quality"] == "bad" for d in drafts), 15, "bad readings")
        await server.start()
        device.set("steam_flow_tph", 12.5)
        await _until(lambda: any(d["value"] == 12.5 for d in drafts), 20, "values after the restart")
    assert not poller.degraded and poller.errors >= 1


@pytest.mark.parametrize("mode", ["poll", "subscribe"])
async def test_a_node_the_server_lacks_costs_only_its_own_point(
    boiler: tuple[SimulatedDevice, OpcUaDeviceServer], mode: str,
) -> None:
    _, server = boiler
    profile = load_profile(PROFILE)
    lacking = profile.points[0].model_copy(update={"node_id": "ns=2;s=Boiler1.NoSuchNode"})
    endpoint = DeviceEndpoint(id="boiler-1", profile=PROFILE, protocol="opcua", port=server.port, opcua_mode=mode,
                              poll_interval_s=0.2)
    poller = OpcUaPoller(endpoint, profile.model_copy(update={"points": [lacking, *profile.points[1:]]}))
    others = {p.name for p in profile.points[1:]}
    async with _polling(poller) as drafts:
        await _until(lambda: others <= {d["point"] for d in drafts if d["quality"] == "good"}, 10, "the other nodes")
        await _until(lambda: any(d["point"] == lacking.name for d in drafts), 10, "the lacking node's reading")
    assert {(d["quality"], d["value"]) for d in drafts if d["point"] == lacking.name} == {("bad", None)}
    assert all("BadNodeIdUnknown" in d["reason"] for d in drafts if d["point"] == lacking.name)
    assert not poller.degraded and poller.errors == 0
