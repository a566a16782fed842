"""Counter readings to interval deltas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carbon_domain.counters import CounterState, counter_delta

T0 = datetime(2026, 1, 1, tzinfo=UTC)
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
        # a 32-bit register x 0.01 kWh wraps at 42,949,672.96
        (CounterState(T0, 42_949_600.0), T1, 27.04, 42_949_672.96, (pytest.approx(100.0), "rollover")),
        # far from the top: not a rollover (it would invent 42.9 GWh), a jump to an unrelated value
        (CounterState(T0, 1_000_000.0), T1, 900_000.0, 42_949_672.96, (0.0, "replacement")),
        # far from the top and new value near zero: a reset even when the register can roll over
        (CounterState(T0, 1_000_000.0), T1, 40.0, 42_949_672.96, (40.0, "reset")),
        (CounterState(T0, 5000.0), T1, 251.0, None, (0.0, "replacement")),
        (CounterState(T0, 5000.0), T1, 250.0, None, (250.0, "reset")),
    ],
    ids=["first-reading", "increase", "no-change", "rollover", "reset-counts-from-zero", "older-than-state",
         "same-time-as-state", "rollover-near-register-max", "backwards-far-from-max-is-replacement",
         "reset-to-near-zero-with-rollover-known", "backwards-to-unrelated-value-is-replacement",
         "reset-at-the-5-percent-bound"],
)
def test_counter_delta(previous, ts, value, rollover, expected) -> None:  # type: ignore[no-untyped-def]
    delta = counter_delta(previous, ts, value, rollover)
    assert (None if delta is None else (delta.amount, delta.note)) == expected


@pytest.mark.parametrize(
    ("previous", "value", "kwargs", "expected"),
    [
        (CounterState(T0, 100.0, "SN-1"), 101.0, {"serial": "SN-1"}, (1.0, None)),
        (CounterState(T0, 100.0, "SN-1"), 101.0, {"serial": "SN-2"}, (0.0, "replacement")),
        (CounterState(T0, 100.0, None), 101.0, {"serial": "SN-2"}, (1.0, None)),
        (CounterState(T0, 100.0), 150.0, {"max_rate": 10.0}, (0.0, "replacement")),
        (CounterState(T0, 100.0), 110.0, {"max_rate": 10.0}, (10.0, None)),
        (CounterState(T0, 100.0), 20.0, {"reset_fraction": 0.5}, (20.0, "reset")),
    ],
    ids=["same-serial", "new-serial-is-replacement", "first-serial-seen", "jump-up-beyond-max-rate",
         "within-max-rate", "configured-reset-fraction"],
)
def test_counter_delta_with_meter_identity_and_rates(previous, value, kwargs, expected) -> None:  # type: ignore[no-untyped-def]
    delta = counter_delta(previous, T1, value, **kwargs)
    assert (None if delta is None else (delta.amount, delta.note)) == expected
