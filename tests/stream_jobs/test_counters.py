"""Counter readings to interval deltas."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from stream_jobs.counters import CounterState, counter_delta

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T1 = T0 + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("previous", "ts", "value", "rollover", "expected"),
    [
        (None, T1, 10.0, None, None),
        (CounterState(T0, 10.0), T1, 12.5, None, (2.5, None)),
        (CounterState(T0, 10.0), T1, 10.0, None, (0.0, None)),
        (CounterState(T0, 65530.0), T1, 4.0, 65536.0, (10.0, "rollover")),
        (CounterState(T0, 5000.0), T1, 3.0, None, (3.0, "reset")),
        (CounterState(T1, 10.0), T0, 12.0, None, None),
        (CounterState(T1, 10.0), T1, 12.0, None, None),
    ],
    ids=["first-reading", "increase", "no-change", "rollover", "reset-counts-from-zero", "older-than-state",
         "same-time-as-state"],
)
def test_counter_delta(previous, ts, value, rollover, expected) -> None:  # type: ignore[no-untyped-def]
    delta = counter_delta(previous, ts, value, rollover)
    assert (None if delta is None else (delta.amount, delta.note)) == expected
