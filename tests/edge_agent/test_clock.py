"""Clock check: readings taken while the gateway clock is unsynchronised are `uncertain`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge_agent.agent import CLOCK_REASON, EdgeAgent
from edge_agent.clock import FakeClock, SystemClock, interpret_timex
from edge_agent.config import load_agent_config


@pytest.mark.parametrize(
    ("rc", "status", "maxerror_us", "expected"),
    [
        (0, 0x0001, 200_000, True),  # TIME_OK, STA_PLL, offset bound 0.2 s
        (5, 0x0040, 16_000_000, False),  # TIME_ERROR with STA_UNSYNC: no NTP daemon
        (0, 0x0040, 100, False),  # STA_UNSYNC alone
        (0, 0x0001, 1_500_000, False),  # synchronised once, but the bound drifted past max_offset_s
    ],
)
def test_adjtimex_results_map_to_a_synchronisation_state(rc: int, status: int, maxerror_us: int, expected: bool) -> None:
    assert interpret_timex(rc, status, maxerror_us, max_offset_s=1.0).synchronised is expected


def test_system_clock_answers_without_privileges() -> None:
    assert SystemClock(max_offset_s=1.0).check().synchronised in (True, False, None)


async def test_readings_taken_while_the_clock_is_unsynchronised_are_uncertain_until_it_syncs(
    meter: tuple[Any, int], write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]],
    free_port: Callable[[], int], running: Any, eventually: Any,
) -> None:
    path = write_config(
        devices=[modbus_endpoint("meter-1", meter[1]), modbus_endpoint("dead-1", free_port())],
        clock_check={"max_offset_s": 0.5, "interval_s": 0.1},
    )
    clock = FakeClock(synchronised=False)
    agent = EdgeAgent(load_agent_config(path), clock=clock)
    async with running(agent):
        await eventually(lambda: agent.spool.stats().next_seq > 20, 5, "readings while unsynchronised")
        unsynced_until = agent.spool.stats().next_seq  # flushed before the clock synchronised
        clock.set(True)
        await eventually(lambda: agent.clock_state is not None and agent.clock_state.synchronised, 5, "the check")
        staged = agent.spool.staged  # staged first: a flush in between can only push the bound later
        synced_from = agent.spool.stats().next_seq + staged
        await eventually(lambda: agent.spool.stats().next_seq > synced_from + 10, 5, "readings after the sync")
        readings = agent.spool.peek(after_seq=-1, limit=1_000_000)
    before = {(r.quality.value, r.reason) for r in readings if r.device == "meter-1" and r.seq < unsynced_until}
    after = {(r.quality.value, r.reason) for r in readings if r.device == "meter-1" and r.seq >= synced_from}
    dead = {(r.quality.value, r.reason) for r in readings if r.device == "dead-1"}
    assert before == {("uncertain", CLOCK_REASON)}
    assert after == {("good", None)}
    assert {q for q, _ in dead} == {"bad"} and all(CLOCK_REASON not in (reason or "") for _, reason in dead)
