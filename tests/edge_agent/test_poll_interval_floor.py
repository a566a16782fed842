"""A device endpoint may poll faster than a profile's 0.1 s floor (down to 10 ms), so the agent's own ceiling can be
measured; an interval below 10 ms is refused with the field named, and profiles keep their own floor."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic import ValidationError

from device_profiles.loader import load_profile
from edge_agent.config import ENDPOINT_POLL_FLOOR_S, DeviceEndpoint
from edge_agent.sources import ModbusPoller
from simulators import SimulatedDevice

PROFILE = "cf-demo/pm3-meter"


def _endpoint(port: int, **extra: Any) -> DeviceEndpoint:
    return DeviceEndpoint(id="meter-1", profile=PROFILE, protocol="modbus", port=port, unit_id=1, **extra)


def test_an_endpoint_interval_below_the_floor_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="poll_interval_s"):
        _endpoint(502, poll_interval_s=ENDPOINT_POLL_FLOOR_S / 2)


def test_an_endpoint_without_an_interval_polls_at_the_profiles_intervals() -> None:
    profile = load_profile(PROFILE)
    poller = ModbusPoller(_endpoint(502), profile)
    assert set(poller._groups) == {point.poll_interval_s for point in profile.points}
    assert min(poller._groups) >= 0.1


async def test_a_20_ms_endpoint_polls_several_times_faster_than_the_old_100_ms_floor(
    meter: tuple[SimulatedDevice, int],
) -> None:
    poller = ModbusPoller(_endpoint(meter[1], poll_interval_s=0.02), load_profile(PROFILE))
    polls: list[float] = []

    async def emit(drafts: list[dict[str, Any]]) -> None:
        assert drafts and all(d["quality"] == "good" for d in drafts)
        polls.append(time.monotonic())

    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(emit, stop))
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert len(polls) >= 20, f"{len(polls)} polls in 1 s at a 20 ms interval (at most 10 with the old 0.1 s floor)"
