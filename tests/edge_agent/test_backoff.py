"""Reconnect backoff (capped exponential with jitter) and repeated errors logged once per interval."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge_agent.backoff import Backoff, ThrottledLog
from edge_agent.config import load_agent_config
from edge_agent.publisher import Publisher
from edge_agent.spool import Spool


@pytest.mark.parametrize(
    ("failures", "base"),
    [(0, 0.0), (1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, 30.0), (10_000, 30.0)],
)
def test_base_delay_doubles_up_to_the_cap(failures: int, base: float) -> None:
    assert Backoff(0.5, 30.0).base_delay(failures) == base


@pytest.mark.parametrize(("draw", "delay"), [(0.0, 4.0), (0.5, 3.0), (0.999999, 2.000002)])
def test_jitter_draws_between_half_and_all_of_the_base_delay(draw: float, delay: float) -> None:
    backoff = Backoff(1.0, 30.0, jitter=0.5, rng=lambda: draw)
    delays = [backoff.next_delay() for _ in range(3)]
    assert delays[-1] == pytest.approx(delay)


def test_reset_after_success_starts_again_from_the_first_delay() -> None:
    backoff = Backoff(1.0, 30.0, jitter=0.0)
    for _ in range(5):
        backoff.next_delay()
    assert (backoff.reset(), backoff.next_delay()) == (5, 1.0)


def test_a_repeated_problem_is_logged_once_per_interval_with_the_count_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    throttled = ThrottledLog(logging.getLogger("test.throttle"), interval_s=60, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="test.throttle"):
        for second in range(0, 130, 5):
            now[0] = float(second)
            throttled.problem("link", "broker down")
        throttled.resolved("link", "broker back")
        throttled.resolved("link", "broker back")
    assert [r.getMessage() for r in caplog.records] == [
        "broker down",
        "broker down (repeated 11 times since last logged)",
        "broker down (repeated 11 times since last logged)",
        "broker back",
    ]


async def test_an_unreachable_broker_is_retried_with_growing_delays_and_logged_once(
    write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]], free_port: Callable[[], int],
    tmp_path: Path, eventually: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    path = write_config(devices=[modbus_endpoint("meter-1", free_port())],
                        mqtt={"url": f"mqtt://127.0.0.1:{free_port()}", "reconnect_min_s": 0.05,
                              "reconnect_max_s": 0.4})
    config = load_agent_config(path)
    spool = Spool(config.spool_path, max_bytes=config.spool_max_bytes)
    publisher = Publisher(config, spool)
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="edge_agent.publisher"):
        task = asyncio.create_task(publisher.run(stop))
        try:
            await eventually(lambda: publisher._backoff.failures >= 5, 10, "five failed attempts")
        finally:
            stop.set()
            await task
            spool.close()
    warnings = [r.getMessage() for r in caplog.records if "MQTT broker" in r.getMessage()]
    assert len(warnings) == 1 and "cannot connect (attempt 1" in warnings[0]
    assert publisher._backoff.base_delay(publisher._backoff.failures) == 0.4
