"""Plausibility formulas: a counter's rate-of-rise check, a gauge's range, a limit from a meter's rated power."""

from __future__ import annotations

import pytest

from carbon_domain.errors import UnitError
from carbon_domain.plausibility import (
    MIN_WINDOW_S,
    allowed_rise,
    out_of_range,
    rise_limit_from_rated_power,
    screen_counter,
    screen_counter_from,
)

H = 3_600_000_000  # one hour in microseconds

# (previous, times, values, limit per hour, trusted) -> the reason of each reading's finding (None: plausible)
SCREEN = [
    ("plausible rise is kept", (0, 100.0), [H], [150.0], 100.0, (), [None]),
    ("a rise just at the limit is kept", (0, 100.0), [H], [200.0], 100.0, (), [None]),
    ("1e15 jump is a rise finding", (0, 100.0), [H], [1e15], 100.0, (), ["rise"]),
    ("negative reading", (0, 100.0), [H], [-5.0], 100.0, (), ["negative"]),
    ("negative first reading without a base", None, [0], [-1.0], 100.0, (), ["negative"]),
    ("first reading without a base is kept", None, [0], [1e15], 100.0, (), [None]),
    ("a spike is one finding; the next counts from before it", (0, 100.0), [H, 2 * H], [1e15, 250.0], 100.0, (),
     ["rise", None]),
    ("a step that persists: every reading after it is judged against the old base", (0, 100.0),
     [H, 2 * H, 3 * H], [1e6, 1e6 + 1, 1e6 + 2], 100.0, (), ["rise", "rise", "rise"]),
    ("an accepted step becomes the base", (0, 100.0), [H, 2 * H], [1e6, 1e6 + 50], 100.0, (0,), [None, None]),
    ("a fall is left to the counter rules", (0, 100.0), [H], [3.0], 100.0, (), [None]),
    ("a late reading is only checked for its sign", (2 * H, 100.0), [H, H], [1e15, -1.0], 100.0, (),
     [None, "negative"]),
    ("a short interval is judged over the minimum window", (0, 100.0), [1_000_000], [100.0 + 100.0 * 300 / 3600],
     100.0, (), [None]),
    ("a negative reading is not accepted as a base", (0, 100.0), [H, 2 * H], [-1.0, 180.0], 100.0, (),
     ["negative", None]),
]


@pytest.mark.parametrize(("previous", "times", "values", "limit", "trusted", "reasons"),
                         [case[1:] for case in SCREEN], ids=[case[0] for case in SCREEN])
def test_screen_counter_flags_negative_and_too_fast_rises(previous, times, values, limit, trusted, reasons) -> None:
    found = screen_counter(previous, times, values, max_rise_per_h=limit, trusted=trusted)
    assert [f and f.reason for f in found] == reasons


def test_the_next_base_is_the_last_plausible_newer_reading() -> None:
    _, base = screen_counter_from((0, 100.0), [H, 2 * H, 3 * H], [150.0, 1e15, -1.0], max_rise_per_h=100.0)
    assert base == (H, 150.0)


def test_a_rise_finding_names_the_numbers_and_the_base_it_was_judged_against() -> None:
    [finding] = screen_counter((0, 100.0), [H], [1e15], max_rise_per_h=100.0)
    assert finding is not None
    assert (finding.previous_us, finding.previous_value) == (0, 100.0)
    assert finding.detail == "counter rose 1e+15 in 3600 s (from 100), more than the 100 its limit of 100 per hour allows"


ALLOWED = [
    (100.0, 3600.0, 100.0),
    (100.0, 7200.0, 200.0),
    (100.0, 1.0, 100.0 * MIN_WINDOW_S / 3600),  # never judged over less than the minimum window
]


@pytest.mark.parametrize(("limit", "elapsed", "expected"), ALLOWED)
def test_allowed_rise_is_the_limit_times_the_hours(limit: float, elapsed: float, expected: float) -> None:
    assert allowed_rise(limit, elapsed) == pytest.approx(expected)


RATED = [
    (100.0, "kWh", 120.0),  # a 100 kW meter: at most 120 kWh an hour
    (100.0, "Wh", 120_000.0),
    (2500.0, "MWh", 3.0),
]


@pytest.mark.parametrize(("rated_kw", "unit", "expected"), RATED)
def test_rated_power_gives_the_hourly_rise_limit_with_headroom(rated_kw: float, unit: str, expected: float) -> None:
    assert rise_limit_from_rated_power(rated_kw, unit) == pytest.approx(expected)


def test_rated_power_of_a_non_energy_counter_is_a_unit_error() -> None:
    with pytest.raises(UnitError):
        rise_limit_from_rated_power(100.0, "m3")


RANGES = [
    (5.0, 0.0, 10.0, False),
    (-0.1, 0.0, 10.0, True),
    (10.5, 0.0, 10.0, True),
    (10.0, 0.0, 10.0, False),
    (1e9, None, 10.0, True),
    (-1e9, None, 10.0, False),
    (-1.0, 0.0, None, True),
]


@pytest.mark.parametrize(("value", "low", "high", "outside"), RANGES)
def test_out_of_range_checks_each_given_side(value: float, low: float | None, high: float | None,
                                             outside: bool) -> None:
    assert out_of_range(value, low, high) is outside
