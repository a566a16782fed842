"""Carbon assets (carbon_domain/assets.py), table-driven: allowances, ledger balances that cannot go negative,
the compliance position with its offset cap, the year-end projection, trading costs and the strategy rule."""

from __future__ import annotations

import pytest

from carbon_domain.assets import (
    Entry,
    EntryKind,
    Instrument,
    allowance_by_benchmark,
    apply_entries,
    compliance_position,
    project_year_end,
    strategy,
    trading_costs,
)
from carbon_domain.errors import AssetError

A, C, R = Instrument.ALLOWANCE, Instrument.CCER, Instrument.CERTIFIED_REDUCTION


@pytest.mark.parametrize(("benchmark", "output", "adjustment", "expected"), [
    (0.8, 1000, 1.0, 800.0),   # 0.8 tCO2/t x 1000 t
    (1.2, 500, 0.98, 588.0),   # with an annual adjustment factor
    (0.0, 1000, 1.0, 0.0),
])
def test_allowance_is_benchmark_times_output_times_adjustment(benchmark: float, output: float, adjustment: float,
                                                              expected: float) -> None:
    assert allowance_by_benchmark(benchmark, output, adjustment) == pytest.approx(expected)


@pytest.mark.parametrize(("verified", "allowances", "offsets", "cap", "usable", "position", "status"), [
    (1000, 950, 80, 0.05, 50, 0, "balanced"),      # offsets capped at 5 % of 1000
    (1000, 900, 30, 0.05, 30, -70, "deficit"),     # fewer offsets than the cap
    (1000, 1100, 0, 0.05, 0, 100, "surplus"),
    (1000, 900, 200, 0.10, 100, 0, "balanced"),    # a 10 % cap
    (1000, 900, 200, 0.0, 0, -100, "deficit"),     # offsets not allowed
])
def test_compliance_position_caps_usable_offsets(verified: float, allowances: float, offsets: float, cap: float,
                                                 usable: float, position: float, status: str) -> None:
    got = compliance_position(verified_tco2=verified, allowances=allowances, offsets_held=offsets, offset_cap=cap)
    assert (got.usable_offsets, got.position, got.status) == pytest.approx((usable, position, status))  # type: ignore[arg-type]


@pytest.mark.parametrize(("entries", "expected"), [
    ([Entry(EntryKind.ALLOCATE, A, 2025, 100), Entry(EntryKind.SURRENDER, A, 2025, 60)], {(A, 2025): 40}),
    ([Entry(EntryKind.ISSUE, R, 2025, 10), Entry(EntryKind.TRANSFER_OUT, R, 2025, 10)], {(R, 2025): 0}),
    ([Entry(EntryKind.BUY, C, 2024, 5), Entry(EntryKind.SELL, C, 2024, 2)], {(C, 2024): 3}),
])
def test_ledger_entries_give_the_balances(entries: list[Entry], expected: dict[tuple[Instrument, int], float]) -> None:
    assert apply_entries(entries) == expected


@pytest.mark.parametrize(("entries", "message"), [
    ([Entry(EntryKind.ALLOCATE, A, 2025, 10), Entry(EntryKind.SURRENDER, A, 2025, 11, "e-2")], "e-2.*exceeds"),
    ([Entry(EntryKind.SELL, C, 2025, 1)], "exceeds the balance 0"),
    ([Entry(EntryKind.BUY, C, 2025, 0)], "must be > 0"),
    ([Entry(EntryKind.ISSUE, A, 2025, 1)], "allocated"),
])
def test_an_entry_that_would_make_a_balance_negative_or_is_malformed_is_refused(entries: list[Entry],
                                                                               message: str) -> None:
    with pytest.raises(AssetError, match=message):
        apply_entries(entries)


@pytest.mark.parametrize(("monthly", "allowances", "projected", "gap", "deficit"), [
    ({1: 100, 2: 100, 3: 100}, 1300, 1200, 100, False),
    ({1: 90, 2: 110}, 1000, 1200, -200, True),
    ({m: 50 for m in range(1, 13)}, 600, 600, 0, False),
])
def test_year_end_projection_runs_the_recorded_months_forward(monthly: dict[int, float], allowances: float,
                                                              projected: float, gap: float, deficit: bool) -> None:
    got = project_year_end(monthly, allowances=allowances, offsets_held=0)
    assert (got.projected_tco2, got.gap, got.deficit_projected) == pytest.approx((projected, gap, deficit))  # type: ignore[arg-type]


@pytest.mark.parametrize(("monthly", "covered", "projected"), [
    ({1: 100, 2: 100, 3: 50}, {3: 0.5}, 1200),         # March half over: 250 over 2.5 months, x 12
    ({1: 100, 2: 100, 3: 50}, None, 1000),             # the same figures taken as whole months
    ({12: 310}, {12: 31 / 31}, 3720),
])
def test_a_month_to_date_figure_counts_for_the_share_of_the_month_it_covers(
        monthly: dict[int, float], covered: dict[int, float] | None, projected: float) -> None:
    got = project_year_end(monthly, allowances=0, offsets_held=0, covered=covered)
    assert got.projected_tco2 == pytest.approx(projected)


def test_a_covered_share_outside_the_month_is_refused() -> None:
    with pytest.raises(AssetError, match="outside"):
        project_year_end({1: 10}, allowances=0, offsets_held=0, covered={1: 0})


def test_trading_cost_is_the_gap_times_each_scenario_price() -> None:
    costs = trading_costs(-200, {"low": 60, "high": 100})
    assert [(c.scenario, c.cost) for c in costs] == [("low", 12000), ("high", 20000)]


@pytest.mark.parametrize(("gap", "price", "months", "action", "quantity", "timing"), [
    (-200, 70, 6, "buy", 200, "now"),                       # at or below the scenario mean 80
    (-300, 90, 3, "buy", 300, "3 monthly lots of 100"),     # above the mean: spread
    (500, 90, 6, "sell", 400, "now"),                       # keep a 10 % buffer of 1000
    (500, 70, 6, "hold", 0, "review monthly"),              # surplus, price below the mean
    (50, 90, 6, "hold", 0, "review monthly"),               # within the buffer
])
def test_strategy_suggestion_follows_the_documented_rule(gap: float, price: float, months: int, action: str,
                                                         quantity: float, timing: str) -> None:
    got = strategy(gap, projected_tco2=1000, current_price=price, scenarios={"low": 60, "high": 100},
                   months_to_deadline=months)
    assert (got.action, got.quantity, got.timing) == pytest.approx((action, quantity, timing))  # type: ignore[arg-type]
