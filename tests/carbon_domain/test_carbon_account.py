"""carbon_domain.carbon_account: monthly monitoring figures into the code's inputs, drivers, the step to the next
grade, the watch list and grade distributions. Hand-computed cases, one assertion each."""

from __future__ import annotations

import pytest

from carbon_domain.carbon_account import (
    ElectricityFactor,
    MonthlyInputs,
    PeriodMark,
    drivers,
    grade_distribution,
    grade_summary,
    month_figures,
    next_grade,
    watch_list,
)
from carbon_domain.efficiency_code import (
    calendar_year,
    compute_codes,
    unit_input_for_period,
)
from carbon_domain.errors import EfficiencyCodeError

FACTORS = {"2025-01": ElectricityFactor(0.5703, ("grid.cn.2022",)), "2025-02": ElectricityFactor(0.5366, ("grid.cn.2023",))}


@pytest.mark.parametrize(("months", "expected"), [
    # one month, no generation: energy CO2 summed over the energy types, no factor row added
    ([MonthlyInputs("2025-01", {"coal": 80.0, "electricity": 20.0}, 0.0, 50.0, ("coal.f",))],
     [("2025-01", 100.0, 0.0, 0.5703, 50.0, ("coal.f",))]),
    # 100 MWh of PV valued at January's 0.5703 t/MWh, February at its own factor; the factor rows follow
    ([MonthlyInputs("2025-01", {"electricity": 10.0}, 100.0, 20.0, ("el.f",)),
      MonthlyInputs("2025-02", {"electricity": 12.0}, 50.0, 22.0, ("el.f",))],
     [("2025-01", 10.0, 100.0, 0.5703, 20.0, ("el.f", "grid.cn.2022")),
      ("2025-02", 12.0, 50.0, 0.5366, 22.0, ("el.f", "grid.cn.2023"))]),
])
def test_monthly_figures_become_the_codes_month_inputs(months: list[MonthlyInputs], expected: list[tuple]) -> None:
    got = month_figures(months, FACTORS)
    assert [(f.month, f.energy_co2_t, f.own_generation_mwh, f.electricity_factor_t_per_mwh,
             f.value_added_10k_yuan, f.factor_row_ids) for f in got] == expected


def test_pv_generation_is_deducted_at_the_inventorys_electricity_factor_in_the_code() -> None:
    # unit A: 1,000 t energy CO2, 500 MWh PV in January at 0.5703 -> avoided 285.15 t, net 714.85 t, VA 1,000
    months = [MonthlyInputs(f"2025-{m:02d}", {"electricity": 1000.0 / 12}, 500.0 if m == 1 else 0.0, 1000.0 / 12)
              for m in range(1, 13)]
    factors = {f"2025-{m:02d}": ElectricityFactor(0.5703, ("grid",)) for m in range(1, 13)}
    period = calendar_year(2025)
    unit = unit_input_for_period(unit_id="A", industry_code="3120", in_production=True,
                                 months=month_figures(months, factors), period=period)
    code = compute_codes([unit], period)[0]
    assert round(code.intensity or 0, 6) == round((1000.0 - 500 * 0.5703) / 1000.0, 6)


def test_generation_without_an_electricity_factor_is_refused_with_the_month() -> None:
    with pytest.raises(EfficiencyCodeError, match="2025-03: no electricity factor"):
        month_figures([MonthlyInputs("2025-03", {}, 10.0, 1.0)], FACTORS)


def test_drivers_rank_energy_types_and_flag_months_above_the_periods_intensity() -> None:
    # period: 300 t / 150 = 2.0; January 100/100 = 1.0 (below), February 200/50 = 4.0 (above)
    got = drivers([MonthlyInputs("2025-02", {"coal": 150.0, "electricity": 50.0}, 0.0, 50.0),
                   MonthlyInputs("2025-01", {"coal": 60.0, "electricity": 40.0}, 0.0, 100.0)])
    assert ([(e.energy_type, e.tco2, round(e.share, 4)) for e in got.energy],
            [(m.month, m.intensity, m.above_period) for m in got.months], got.period_intensity) == (
        [("coal", 210.0, 0.7), ("electricity", 90.0, 0.3)],
        [("2025-01", 1.0, False), ("2025-02", 4.0, True)], 2.0)


@pytest.mark.parametrize(("grade", "net", "va", "industry", "expected"), [
    # grade 3 -> 2 needs K <= 0.8: L <= 0.8 x 1.0; 120 t on 100: 40 t less or 50 more value added
    (3, 120.0, 100.0, 1.0, (2, 0.8, 40.0, 50.0)),
    # grade 5 -> 4 needs K <= 2.0 with L_ind 0.5: L <= 1.0; 300 t on 100: 200 t less or 200 more
    (5, 300.0, 100.0, 0.5, (4, 1.0, 200.0, 200.0)),
    # grade 2 -> 1 needs K <= 0.6 with L_ind 2: L <= 1.2; 150 t on 100: 30 t less or 25 more
    (2, 150.0, 100.0, 2.0, (1, 1.2, 30.0, 25.0)),
])
def test_distance_to_the_next_grade_in_tco2_or_value_added(grade: int, net: float, va: float, industry: float,
                                                           expected: tuple[int, float, float, float]) -> None:
    step = next_grade(grade=grade, net_co2_t=net, value_added_10k_yuan=va, industry_intensity=industry)
    assert step is not None
    assert (step.target_grade, round(step.target_intensity, 9), round(step.reduce_tco2, 9),
            round(step.add_value_added_10k_yuan, 9)) == expected


def test_grade_one_has_no_next_grade() -> None:
    assert next_grade(grade=1, net_co2_t=1.0, value_added_10k_yuan=10.0, industry_intensity=1.0) is None


@pytest.mark.parametrize(("marks", "rising", "expected"), [
    # grade 2 -> 3 year on year
    ([PeriodMark("2024", 2, 0.9), PeriodMark("2025", 3, 0.8)], 2, [("U", (2, 3), 0)]),
    # better grade, intensity rose twice: 0.5 < 0.6 < 0.7
    ([PeriodMark("2023", 3, 0.5), PeriodMark("2024", 3, 0.6), PeriodMark("2025", 2, 0.7)], 2, [("U", None, 2)]),
    # rose once only: not on the list for N = 2
    ([PeriodMark("2023", 3, 0.7), PeriodMark("2024", 3, 0.6), PeriodMark("2025", 3, 0.65)], 2, []),
    # ... but on it for N = 1
    ([PeriodMark("2023", 3, 0.7), PeriodMark("2024", 3, 0.6), PeriodMark("2025", 3, 0.65)], 1, [("U", None, 1)]),
    # no code last year: no grade comparison, no rise
    ([PeriodMark("2024", None, None), PeriodMark("2025", 4, 2.0)], 1, []),
    # periods given out of order are sorted first
    ([PeriodMark("2025", 4, 1.0), PeriodMark("2024", 2, 0.5)], 1, [("U", (2, 4), 1)]),
])
def test_watch_list(marks: list[PeriodMark], rising: int, expected: list[tuple]) -> None:
    assert [(w.unit_id, w.grade_worsened, w.rising_periods) for w in watch_list({"U": marks}, rising=rising)] \
        == expected


def test_grade_distribution_counts_grades_and_units_without_a_code_per_group() -> None:
    got = grade_distribution([("330502", 1), ("330502", 1), ("330502", None), ("330521", 5)])
    assert got == {"330502": {"1": 2, "2": 0, "3": 0, "4": 0, "5": 0, "none": 1, "total": 3},
                   "330521": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1, "none": 0, "total": 1}}


def _counts(*grades: int | None) -> dict[str, int]:
    return grade_distribution(("g", g) for g in grades)["g"]


@pytest.mark.parametrize(("counts", "expected"), [
    # (1 + 1 + 3 + 5) / 4 = 2.5; one of four coded units in grades 4-5; the unit without a code counts in neither
    (_counts(1, 1, 3, 5, None), (4, 2.5, 0.25)),
    # all worst: (4 + 5 + 5) / 3 = 4.666..., share 3/3
    (_counts(4, 5, 5), (3, 14 / 3, 1.0)),
    # only units without a code: nothing to average
    (_counts(None, None), (0, None, None)),
    # all grade 2: mean 2, no worst
    (_counts(2, 2, 2, 2), (4, 2.0, 0.0)),
])
def test_grade_summary_gives_mean_grade_and_worst_share_of_coded_units(
        counts: dict[str, int], expected: tuple) -> None:
    got = grade_summary(counts)
    assert (got.coded, got.mean_grade, got.worst_share) == expected


def test_grade_summary_refuses_negative_counts() -> None:
    with pytest.raises(EfficiencyCodeError, match="negative"):
        grade_summary({"1": -1})
