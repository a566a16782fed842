"""End-of-period target assessment (carbon_domain.target_assessment): worked cases computed by hand."""

from __future__ import annotations

import pytest

from carbon_domain.errors import FormulaInputError
from carbon_domain.target_assessment import Actual, Result, assess, compare_periods


@pytest.mark.parametrize(("kind", "allocation", "actual", "tolerance", "expected"), [
    # 81 t against 90 t over the whole year: 9 t under, 10 % below, met, final; base 100 -> down 19 %
    ("total", ("a", 100.0, 90.0), Actual(81.0, 0.0, 12), 0.0, (81.0, -9.0, -0.1, -0.19, True, True)),
    # 99 t against 90 t: 10 % over; a 10 % tolerance still counts it as met
    ("total", ("a", 100.0, 90.0), Actual(99.0, 0.0, 12), 0.1, (99.0, 9.0, 0.1, -0.01, True, True)),
    ("total", ("a", 100.0, 90.0), Actual(99.0, 0.0, 12), 0.0, (99.0, 9.0, 0.1, -0.01, False, True)),
    # six months only: provisional
    ("total", ("a", 100.0, 90.0), Actual(45.0, 0.0, 6), 0.0, (45.0, -45.0, -0.5, -0.55, True, False)),
    # intensity: 48 t / 100 (10^4 yuan) = 0.48 against 0.5 (base 0.52)
    ("intensity", ("a", 0.52, 0.5), Actual(48.0, 100.0, 12), 0.0, (0.48, -0.02, -0.04, 0.48 / 0.52 - 1, True, True)),
])
def test_a_holder_is_assessed_against_its_target(kind: str, allocation: tuple[str, float, float], actual: Actual,
                                                 tolerance: float, expected: tuple[object, ...]) -> None:
    r = assess(kind, [allocation], {"a": actual}, tolerance=tolerance)[0]
    assert (round(r.actual or 0, 9), round(r.gap or 0, 9), round(r.gap_rate or 0, 9), round(r.change or 0, 9),
            r.met, r.final) == tuple(round(v, 9) if isinstance(v, float) else v for v in expected)


@pytest.mark.parametrize(("kind", "actual"), [
    ("total", None),  # no figures at all
    ("total", Actual(0.0, 0.0, 0)),  # no month with figures
    ("intensity", Actual(10.0, 0.0, 12)),  # no value added: no intensity
])
def test_a_holder_without_figures_is_not_assessed(kind: str, actual: Actual | None) -> None:
    r = assess(kind, [("a", 1.0, 1.0)], {} if actual is None else {"a": actual})[0]
    assert (r.actual, r.met, r.rank) == (None, None, None)


def test_holders_are_ranked_from_furthest_below_their_target() -> None:
    results = assess("total", [("a", 10, 10), ("b", 10, 10), ("c", 10, 10), ("d", 10, 10)],
                     {"a": Actual(11, 0, 12), "b": Actual(8, 0, 12), "c": Actual(9, 0, 12)})
    assert [(r.holder, r.rank) for r in results] == [("a", 3), ("b", 1), ("c", 2), ("d", None)]


def test_periods_compare_each_holders_gap_rate_with_its_earlier_one() -> None:
    current = assess("total", [("a", 10, 10), ("b", 10, 10)], {"a": Actual(9, 0, 12), "b": Actual(12, 0, 12)})
    earlier = [Result("a", 10, 10, 11, 1, 0.1, 0.1, False, True, 1)]
    changes = compare_periods(current, earlier)
    assert (round(changes["a"] or 0, 9), changes["b"]) == (-0.2, None)


@pytest.mark.parametrize(("kind", "months", "tolerance", "message"), [
    ("yearly", 12, 0.0, "unknown target kind"),
    ("total", 0, 0.0, "at least one month"),
    ("total", 12, 2.0, "tolerance"),
])
def test_bad_assessment_inputs_are_refused(kind: str, months: int, tolerance: float, message: str) -> None:
    with pytest.raises(FormulaInputError, match=message):
        assess(kind, [], {}, months_in_period=months, tolerance=tolerance)
