"""A register block the meter refuses (a Modbus exception) costs only its own points, and is retried on its own backoff;
a device that cannot be reached still costs every point."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from device_profiles.loader import load_profile
from edge_agent.config import DeviceEndpoint
from edge_agent.modbus_links import ModbusLink
from edge_agent.sources import ModbusPoller, _PollFailed
from simulators import FaultBoard, SimulatedDevice, parse_fault

PROFILE = "cf-demo/pm3-meter"
ENERGY = {"energy_import_kwh", "energy_export_kwh"}  # one holding-register block, as an SDM630-style map has
REFUSED = "modbus exception 2 (illegal data address)"


def _poller(port: int, **endpoint: Any) -> ModbusPoller:
    return ModbusPoller(DeviceEndpoint(id="meter-1", profile=PROFILE, protocol="modbus", port=port, **endpoint),
                        load_profile(PROFILE))


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, str]]:
    """(monotonic time, table) of every block request the pollers send to the meter."""
    sent: list[tuple[float, str]] = []
    read = ModbusLink.read

    async def recorded(link: ModbusLink, table: str, start: int, count: int, unit: int) -> list[Any]:
        sent.append((time.monotonic(), table))
        return await read(link, table, start, count, unit)

    monkeypatch.setattr(ModbusLink, "read", recorded)
    return sent


@pytest.fixture
async def polling(meter: tuple[SimulatedDevice, int]) -> AsyncIterator[tuple[ModbusPoller, list[list[dict[str, Any]]]]]:
    """The meter polled every 0.1 s by a running poller: (poller, the drafts of each poll)."""
    poller = _poller(meter[1], poll_interval_s=0.1)
    polls: list[list[dict[str, Any]]] = []

    async def emit(drafts: list[dict[str, Any]]) -> None:
        polls.append(drafts)

    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(emit, stop))
    try:
        yield poller, polls
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def _until(check: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := check():
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _by_point(drafts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["point"]: d for d in drafts}


async def test_a_refused_block_costs_only_its_points_and_is_retried_on_its_own_backoff_until_it_recovers(
    meter: tuple[SimulatedDevice, int], requests: list[tuple[float, str]],
    polling: tuple[ModbusPoller, list[list[dict[str, Any]]]],
) -> None:
    device, _ = meter
    board = FaultBoard({"meter-1": device})
    fault = board.add(parse_fault({"device": "meter-1", "kind": "exception", "code": 2, "point": "energy_import_kwh"}),
                      now_s=0)
    poller, polls = polling

    def energy_requests() -> list[float]:
        return [at for at, table in requests if table == "holding_register"]

    await _until(lambda: len(energy_requests()) >= 3, 15, "two retries of the refused block")
    refused_polls, asked = list(polls), energy_requests()
    degraded_while_refused = poller.degraded
    board.remove(fault.id)
    recovered = await _until(
        lambda: next((d for drafts in polls for d in drafts if d["point"] in ENERGY and d["quality"] == "good"), None),
        15, "the energy readings back")

    for drafts in refused_polls:  # every poll: voltage, current, power, ... read; the energy points bad, with why
        points = _by_point(drafts)
        assert {(points[p]["quality"], points[p]["reason"], points[p]["value"]) for p in ENERGY} == {
            ("bad", REFUSED, None)}
        assert (points["voltage_l1_v"]["quality"], points["voltage_l1_v"]["value"]) == (
            "good", pytest.approx(device.get("voltage_l1_v"), rel=1e-6))
        assert {d["quality"] for p, d in points.items() if p not in ENERGY} == {"good"}
    assert len(refused_polls) >= 2 * len(asked)  # not asked every poll
    assert asked[1] - asked[0] >= 0.45 and asked[2] - asked[1] >= 0.95  # backoff of 1 s, then 2 s (jitter halves)
    assert recovered["value"] == pytest.approx(device.get(recovered["point"]), abs=0.01)
    assert degraded_while_refused and not poller.degraded


async def test_a_gateway_saying_the_meter_did_not_answer_makes_every_point_unavailable(
    meter: tuple[SimulatedDevice, int],
) -> None:
    device, port = meter
    FaultBoard({"meter-1": device}).add(parse_fault({"device": "meter-1", "kind": "exception", "code": 11}), now_s=0)
    poller = _poller(port)
    try:
        with pytest.raises(_PollFailed) as failed:
            await poller.poll(poller._groups[1.0])
    finally:
        poller.close()
    points = _by_point(failed.value.drafts)
    numeric = {p.name for p in load_profile(PROFILE).points if p.poll_interval_s == 1.0}
    assert set(points) == numeric
    assert {(d["quality"], d["reason"]) for d in points.values()} == {
        ("bad", "modbus exception 11 (gateway target device failed to respond)")}
