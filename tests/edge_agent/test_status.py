"""`carbonflow edge status`: spool and live numbers as a table; exit 1 when no agent runs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from carbonflow.cli import main
from edge_agent.agent import EdgeAgent
from edge_agent.config import load_agent_config
from edge_agent.errors import AgentRunningError
from edge_agent.spool import Spool
from edge_agent.status import histogram_quantile


def _drafts(n: int) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    return [{"device": "m", "point": f"p{i}", "value": float(i), "unit": "kW", "source_ts": now, "gateway_ts": now}
            for i in range(n)]


def _row(out: str, label: str) -> str:
    match = re.search(rf"^  {re.escape(label)}\s{{2,}}(.+)$", out, re.MULTILINE)
    assert match, f"no row {label!r} in:\n{out}"
    return match.group(1).strip()


async def test_status_of_a_running_agent_shows_spool_link_and_devices_and_exits_0(
    meter: tuple[Any, int], write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]],
    tls_link: dict[str, Any], free_port: Callable[[], int], running: Any, eventually: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_config(devices=[modbus_endpoint("meter-1", meter[1])], mqtt=tls_link, metrics_port=free_port())
    agent = EdgeAgent(load_agent_config(path))
    async with running(agent):
        await eventually(lambda: agent.link_totals()["acknowledged"] > 0, 10, "acknowledged readings")
        code = await asyncio.to_thread(main, ["edge", "status", "--config", str(path)])
        out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"^edge agent gw-test: running \(pid \d+", out, re.MULTILINE)
    assert _row(out, "connected") == "yes"
    assert _row(out, "dropped (total)") == "0"
    assert re.fullmatch(r"[\d.]+ readings/s", _row(out, "publish rate"))
    assert re.search(r"^  meter-1\s+[1-9][\d,]*\s+0\s+0\s+[\d.]+\s+[\d.]+\s+no$", out, re.MULTILINE), out


async def test_status_without_a_running_agent_still_reads_the_spool_and_exits_1(
    write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]], tmp_path: Path,
    free_port: Callable[[], int], capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_config(devices=[modbus_endpoint("meter-1", free_port())], metrics_port=free_port())
    spool = Spool(tmp_path / "spool.sqlite", max_bytes=10_000_000)
    spool.append(_drafts(7))
    spool.close()
    code = main(["edge", "status", "--config", str(path)])
    out = capsys.readouterr().out
    assert (code, out.splitlines()[0]) == (1, "edge agent gw-test: NOT RUNNING")
    assert (_row(out, "unsent readings"), _row(out, "next sequence")) == ("7", "7")
    assert "unreachable" in out


async def test_a_second_agent_on_the_same_spool_is_refused(
    write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]], free_port: Callable[[], int],
) -> None:
    config = load_agent_config(write_config(devices=[modbus_endpoint("meter-1", free_port())]))
    first = EdgeAgent(config)
    try:
        with pytest.raises(AgentRunningError, match="another edge agent"):
            EdgeAgent(config)
    finally:
        first.stop.set()
        await first.run()


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        (0.5, [(0.1, 0), (1.0, 10), (float("inf"), 10)], 0.55),
        (0.95, [(0.01, 95), (0.1, 100), (float("inf"), 100)], 0.01),
        (0.99, [(0.01, 0), (float("inf"), 4)], 0.01),
        (0.5, [(0.01, 0), (float("inf"), 0)], None),
    ],
)
def test_histogram_quantile_interpolates_within_the_bucket(
    q: float, buckets: list[tuple[float, float]], expected: float | None
) -> None:
    assert histogram_quantile(q, buckets) == (pytest.approx(expected) if expected is not None else None)
