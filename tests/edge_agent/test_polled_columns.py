"""A Modbus poll reaches the spool as columns (`PolledReadings`): stored exactly as the same readings as drafts,
with good, bad and judged readings in poll order, and marked uncertain while the clock is unsynchronised."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

from edge_agent.agent import CLOCK_REASON, _mark_unsynchronised
from edge_agent.polled import PointKeys, PolledReadings
from edge_agent.spool import Spool

T0 = 1_700_000_000_000_000  # µs since the epoch


def _points(*names: str) -> PointKeys:
    return PointKeys("meter", [SimpleNamespace(name=n, unit="kW", kind="gauge") for n in names])


def _poll() -> PolledReadings:
    polled = PolledReadings("meter")
    polled.add_good(_points("p0", "p1"), [1.5, 2.5], T0, T0 + 300)
    polled.add_bad(_points("p2", "p3"), "modbus exception 2 (illegal data address)", T0 + 400, T0 + 400)
    polled.add(_points("p4", "p5"), [None, 9.0], ["bad", "good"], ["not a finite number", None], T0 + 500, T0 + 800)
    return polled


def _stored(spool: Spool) -> list[tuple[object, ...]]:
    return [(r.device, r.point, r.value, r.unit, r.quality, r.reason, r.source_ts, r.gateway_ts)
            for r in spool.peek(after_seq=-1, limit=100)]


def test_polled_columns_are_stored_exactly_as_the_same_readings_as_drafts(tmp_path: Path) -> None:
    columns, drafts = Spool(tmp_path / "a.sqlite", max_bytes=10**7), Spool(tmp_path / "b.sqlite", max_bytes=10**7)
    columns.stage(_poll())
    drafts.stage(list(_poll()))
    assert columns.staged == 6 and columns.flush() == 6 and drafts.flush() == 6
    stored = _stored(columns)
    assert stored == _stored(drafts)
    assert [(point, value, quality) for _, point, value, _, quality, *_ in stored] == [
        ("p0", 1.5, "good"), ("p1", 2.5, "good"), ("p2", None, "bad"), ("p3", None, "bad"), ("p4", None, "bad"),
        ("p5", 9.0, "good")]
    assert stored[2][5] == "modbus exception 2 (illegal data address)" and stored[4][5] == "not a finite number"
    columns.close()
    drafts.close()


def test_an_unsynchronised_clock_marks_columns_as_it_marks_drafts() -> None:
    polled = _poll()
    expected = [_mark_unsynchronised(d) for d in polled]
    polled.mark_uncertain(CLOCK_REASON)
    assert [(d["quality"], d["reason"]) for d in polled] == [(d["quality"], d["reason"]) for d in expected]
    assert [d["quality"] for d in polled] == ["uncertain", "uncertain", "bad", "bad", "bad", "uncertain"]


def test_iterating_a_poll_gives_drafts_with_aware_time_stamps() -> None:
    draft = next(iter(_poll()))
    assert draft["source_ts"].tzinfo is not None and draft["gateway_ts"].timestamp() * 1e6 == T0 + 300
    assert not math.isnan(draft["value"]) and draft["reason"] is None
