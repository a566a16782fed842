"""Analysis formulas (carbon_domain/analysis.py): Tapio states, LMDI that sums exactly to ΔC, Kaya, STIRPAT fit,
projections with their peak, suggestions, target allocation and tracking. The cases marked "docs" are the worked
examples of docs/analysis.md, computed by hand there."""

from __future__ import annotations

import math
import random

import pytest

from carbon_domain.analysis import (
    Decomposition,
    GrowthPath,
    Holder,
    Scenario,
    Sector,
    StirpatPoint,
    TapioState,
    allocate_intensity,
    allocate_total,
    decoupling_table,
    fit_stirpat,
    kaya,
    lmdi,
    log_mean,
    preset,
    project,
    suggest,
    tapio,
    track_intensity,
    track_total,
)
from carbon_domain.errors import FormulaInputError

S = TapioState


@pytest.mark.parametrize(("c0", "c1", "g0", "g1", "elasticity", "state"), [
    (100, 110, 200, 220, 1.0, S.EXPANSIVE_COUPLING),  # docs
    (100, 130, 100, 110, 3.0, S.EXPANSIVE_NEGATIVE_DECOUPLING),
    (100, 104, 100, 110, 0.4, S.WEAK_DECOUPLING),
    (100, 100, 100, 110, 0.0, S.WEAK_DECOUPLING),  # flat CO2 with growth: e = 0
    (100, 108, 100, 110, 0.8, S.EXPANSIVE_COUPLING),  # 0.8 belongs to coupling
    (100, 112, 100, 110, 1.2, S.EXPANSIVE_COUPLING),  # and so does 1.2
    (100, 95, 100, 110, -0.5, S.STRONG_DECOUPLING),
    (100, 105, 100, 90, -0.5, S.STRONG_NEGATIVE_DECOUPLING),
    (100, 96, 100, 90, 0.4, S.WEAK_NEGATIVE_DECOUPLING),
    (100, 100, 100, 90, 0.0, S.WEAK_NEGATIVE_DECOUPLING),
    (100, 90, 100, 90, 1.0, S.RECESSIVE_COUPLING),
    (100, 70, 100, 90, 3.0, S.RECESSIVE_DECOUPLING),
    (100, 110, 100, 100, None, None),  # flat GDP: undefined
])
def test_tapio_state_follows_the_signs_and_cut_offs(c0: float, c1: float, g0: float, g1: float,
                                                   elasticity: float | None, state: TapioState | None) -> None:
    result = tapio(c0, c1, g0, g1)
    got = None if result.elasticity is None else round(result.elasticity, 9)
    assert (got, result.state) == (elasticity, state)


def test_decoupling_table_compares_each_year_with_the_previous_and_the_first_with_the_last() -> None:
    steps, overall = decoupling_table([(2025, 121, 121), (2023, 100, 100), (2024, 110, 110)])
    assert ([(s.start, s.end, round(s.elasticity or 0, 9)) for s in steps],
            (overall.start, overall.end, round(overall.carbon_growth, 9))) == ([(2023, 2024, 1.0), (2024, 2025, 1.0)],
                                                                               (2023, 2025, 0.21))


def test_tapio_refuses_a_zero_base() -> None:
    with pytest.raises(FormulaInputError, match="base CO2 must be positive"):
        tapio(0, 10, 100, 110)


def test_log_mean_limits() -> None:
    assert (log_mean(5, 5), log_mean(5, 0), round(log_mean(120, 100), 3)) == (5, 0.0, 109.696)


DOCS_BASE = [Sector("A", 100, 50, 100), Sector("B", 100, 100, 250)]
DOCS_TARGET = [Sector("A", 150, 60, 120), Sector("B", 110, 100, 240), Sector("C", 20, 10, 30)]


def test_lmdi_worked_example_of_the_docs() -> None:
    d = lmdi(DOCS_BASE, DOCS_TARGET)
    assert {k: round(v, 2) for k, v in d.effects().items()} == {
        "activity": 119.33, "structure": -21.51, "intensity": -47.83, "emission_factor": -10.0}


def test_lmdi_entering_sector_puts_its_whole_change_into_structure() -> None:
    c = next(s for s in lmdi(DOCS_BASE, DOCS_TARGET).sectors if s.key == "C")
    assert (c.activity, c.structure, c.intensity, c.emission_factor) == (0.0, 30.0, 0.0, 0.0)


@pytest.mark.parametrize(("empty", "effect"), [
    (Sector("X", 0, 0, 0), "structure"),  # the sector did not exist
    (Sector("X", 10, 0, 0), "intensity"),  # it produced without energy
    (Sector("X", 10, 5, 0), "emission_factor"),  # its energy carried no CO2
])
def test_lmdi_leaving_sector_goes_to_the_first_factor_that_is_zero(empty: Sector, effect: str) -> None:
    d = lmdi([Sector("A", 10, 5, 10), Sector("X", 10, 5, 8)], [Sector("A", 10, 5, 10), empty])
    x = next(s for s in d.sectors if s.key == "X")
    assert {k: getattr(x, k) for k in ("structure", "intensity", "emission_factor")} == {
        k: (-8.0 if k == effect else 0.0) for k in ("structure", "intensity", "emission_factor")}


def _random_sectors(rng: random.Random, n: int, zeros: bool) -> list[Sector]:
    out = []
    for i in range(n):
        if zeros and rng.random() < 0.1:
            continue
        activity, energy = rng.uniform(1, 1e4), rng.uniform(1, 1e4)
        out.append(Sector(f"s{i}", activity, energy, energy * rng.uniform(0.5, 3)))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_lmdi_effects_sum_exactly_to_the_change(seed: int) -> None:
    rng = random.Random(seed)
    d = lmdi(_random_sectors(rng, 500, zeros=True), _random_sectors(rng, 500, zeros=True))
    assert math.isclose(math.fsum(d.effects().values()), d.change, rel_tol=1e-12, abs_tol=1e-6)


def test_lmdi_each_sector_sums_to_its_own_change() -> None:
    rng = random.Random(7)
    d = lmdi(_random_sectors(rng, 50, zeros=True), _random_sectors(rng, 50, zeros=True))
    worst = max(abs(s.activity + s.structure + s.intensity + s.emission_factor - (s.target_co2 - s.base_co2))
                for s in d.sectors)
    assert worst < 1e-9


def test_lmdi_by_process_uses_the_product_output_as_activity() -> None:
    # a steel works: crude steel 1.0 -> 1.1 Mt; processes' outputs per t steel are the structure (docs)
    base = [Sector("ironmaking", 0.9, 0.36, 0.99), Sector("bof", 1.0, 0.01, 0.02)]
    target = [Sector("ironmaking", 0.88 * 1.1, 0.35 * 0.88 * 1.1, 0.9 * 0.88 * 1.1), Sector("bof", 1.1, 0.011, 0.022)]
    d = lmdi(base, target, total_activity=(1.0, 1.1))
    iron = next(s for s in d.sectors if s.key == "ironmaking")
    assert (round(d.change, 6) == round(math.fsum(d.effects().values()), 6),
            round(iron.structure / log_mean(iron.target_co2, iron.base_co2), 9),
            round(iron.activity / log_mean(iron.target_co2, iron.base_co2), 9)) == (
        True, round(math.log(0.88 / 0.9), 9), round(math.log(1.1), 9))


@pytest.mark.parametrize(("sector", "message"), [
    (Sector("A", 0, 5, 10), "no activity"),
    (Sector("A", 5, 0, 10), "no energy"),
    (Sector("A", 5, -1, 10), "negative"),
])
def test_lmdi_refuses_sectors_it_cannot_decompose(sector: Sector, message: str) -> None:
    with pytest.raises(FormulaInputError, match=message):
        lmdi([sector], [Sector("A", 1, 1, 1)])


def test_kaya_factors_multiply_back_to_the_emissions() -> None:
    k = kaya(population=100, gdp=1_000_000, energy=500_000, co2=1_200_000)
    assert ((k.gdp_per_capita, k.energy_per_gdp, k.co2_per_energy), round(k.co2, 6)) == ((10_000, 0.5, 2.4),
                                                                                          1_200_000)


def _docs_history() -> list[StirpatPoint]:
    # population and GDP constant, so only T varies: ln T = 0, 1, 2 and ln I = 1, 2, 4
    return [StirpatPoint(2020 + i, math.exp(li), 1.0, 1.0, math.exp(lt)) for i, (lt, li) in
            enumerate([(0, 1), (1, 2), (2, 4)])]


def test_stirpat_fit_reproduces_the_hand_computed_example() -> None:
    fit = fit_stirpat(_docs_history())
    assert (fit.drivers, [round(v, 4) for v in fit.coefficients], [round(v, 4) for v in fit.standard_errors],
            round(fit.sigma ** 2, 4), round(fit.t_critical, 3)) == (
        ("technology",), [0.8333, 1.5], [0.3727, 0.2887], 0.1667, 12.706)


def test_stirpat_prediction_error_adds_parameter_and_residual_variance() -> None:
    mean, se = fit_stirpat(_docs_history()).predict(StirpatPoint(2030, 1.0, 1.0, 1.0, math.e))
    assert (round(mean, 4), round(se, 4)) == (2.3333, 0.4714)


def test_stirpat_recovers_known_elasticities() -> None:
    rng = random.Random(3)
    points = []
    for year in range(2000, 2020):
        p, a, t = rng.uniform(100, 200), rng.uniform(1, 5), rng.uniform(0.3, 1.0)
        co2 = math.exp(0.5) * p ** 0.9 * a ** 0.7 * t ** 1.1
        points.append(StirpatPoint(year, co2, p, a * p, t * a * p))
    fit = fit_stirpat(points)
    assert [round(v, 6) for v in fit.coefficients] == [0.5, 0.9, 0.7, 1.1]


def test_stirpat_refuses_too_short_a_history() -> None:
    with pytest.raises(FormulaInputError, match="needs at least 3 years"):
        fit_stirpat(_docs_history()[:2])


def _docs_scenario() -> Scenario:
    return Scenario("docs", {"population": GrowthPath(((2026, 0.0),)), "gdp": GrowthPath(((2026, 0.10),)),
                             "energy_intensity": GrowthPath(((2026, -0.05), (2028, -0.20))),
                             "carbon_per_energy": GrowthPath(((2026, 0.0),))})


def test_kaya_projection_peaks_where_the_docs_say() -> None:
    base = StirpatPoint(2025, 1_200_000, 100, 1_000_000, 500_000)
    p = project(base, _docs_scenario(), end_year=2029)
    assert ([round(y.co2, 2) for y in p.years], p.peak_year, round(p.peak_co2, 2), p.peaked, p.peak_low) == (
        [1_200_000, 1_254_000, 1_310_430, 1_153_178.4, 1_014_796.99], 2027, 1_310_430, True, None)


def test_projection_without_a_peak_says_so_and_suggests_the_needed_cut() -> None:
    base = StirpatPoint(2025, 1_000, 100, 1_000, 500)
    p = project(base, preset("baseline", start_year=2026), end_year=2030)
    rules = [s.rule for s in suggest(p)]
    assert (p.peaked, p.peak_year, rules[:1], "growth_driven" in rules) == (False, 2030, ["no_peak"], True)


def test_factors_are_ranked_by_size_of_contribution_and_sum_to_the_change() -> None:
    base = StirpatPoint(2025, 1_200_000, 100, 1_000_000, 500_000)
    p = project(base, _docs_scenario(), end_year=2029)
    assert ([(f.name, round(f.contribution)) for f in p.factors[:2]],  # docs
            round(sum(f.contribution for f in p.factors), 6)) == (
        [("gdp_per_capita", 239_115), ("energy_intensity", -128_685)], 110_430)


def test_stirpat_projection_has_intervals_around_the_path() -> None:
    fit = fit_stirpat(_docs_history())
    base = StirpatPoint(2022, math.exp(4), 1.0, 1.0, math.exp(2))
    p = project(base, _docs_scenario(), end_year=2024, fit=fit)
    assert all(y.low is not None and y.high is not None and y.low < y.co2 < y.high for y in p.years)
    assert p.peak_years is not None and p.peak_years[0] <= p.peak_year <= p.peak_years[1]


def test_suggestions_name_the_industries_behind_a_positive_effect() -> None:
    base = StirpatPoint(2025, 1_200_000, 100, 1_000_000, 500_000)
    d = lmdi([Sector("A", 100, 50, 100), Sector("B", 100, 50, 100)],
             [Sector("A", 100, 60, 150), Sector("B", 100, 50, 100)])
    texts = {s.rule: s.text for s in suggest(project(base, _docs_scenario(), end_year=2029), d)}
    assert (sorted(texts), "A" in texts["intensity"], "A" in texts["emission_factor"]) == (
        ["emission_factor", "growth_driven", "intensity", "peak"], True, True)


@pytest.mark.parametrize(("rule", "expected"), [
    ("equal_rate", [540.0, 360.0]),  # docs
    ("by_share", [450.0, 450.0]),
    ("by_benchmark", [562.5, 337.5]),
])
def test_allocation_rules_split_the_total(rule: str, expected: list[float]) -> None:
    holders = [Holder("A", 600, activity=100, share=1, benchmark=5), Holder("B", 400, activity=100, share=1,
                                                                          benchmark=3)]
    assert [round(a.target, 9) for a in allocate_total(900, holders, rule)] == expected


def test_allocation_by_benchmark_needs_a_benchmark_for_every_holder() -> None:
    with pytest.raises(FormulaInputError, match="holder 'B' has no benchmark"):
        allocate_total(900, [Holder("A", 600, 100, benchmark=5), Holder("B", 400, 100)], "by_benchmark")


def test_intensity_target_falls_at_the_same_rate_for_every_holder() -> None:
    got = allocate_intensity(0.1, [Holder("A", 600, 300), Holder("B", 400, 100)])
    assert [(a.base, round(a.target, 9)) for a in got] == [(2.0, 1.8), (4.0, 3.6)]


def test_tracking_flags_the_month_the_cumulative_goes_over_the_pro_rated_path() -> None:
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    points = track_total(1200, months, {"2026-01": 90, "2026-02": 120})
    assert [(p.month, p.actual, p.allowed, p.off_track) for p in points] == [
        ("2026-01", 90, 100, False), ("2026-02", 210, 200, True)]


def test_tracking_tolerance_allows_a_margin() -> None:
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    assert [p.off_track for p in track_total(1200, months, {"2026-01": 104}, tolerance=0.05)] == [False]


def test_intensity_tracking_follows_a_linear_path_to_the_target() -> None:
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    points = track_intensity(2.0, 1.8, months, {"2026-01": 100, "2026-02": 90}, {"2026-01": 50, "2026-02": 50})
    assert [(round(p.actual, 4), round(p.allowed, 4), p.off_track) for p in points] == [
        (2.0, 1.9833, True), (1.9, 1.9667, False)]


def test_decomposition_exposes_its_effects_by_name() -> None:
    d = Decomposition(1, 2, 1, 1, 0.5, 0.25, 0.25, 0.0, ())
    assert (d.change, d.effects()) == (1, {"activity": 0.5, "structure": 0.25, "intensity": 0.25,
                                          "emission_factor": 0.0})


def test_projection_that_overflows_is_refused_instead_of_returning_infinity() -> None:
    wild = Scenario("wild", {d: GrowthPath(((2026, 9.9),)) for d in ("population", "gdp", "energy_intensity",
                                                                        "carbon_per_energy")})
    with pytest.raises(FormulaInputError, match="overflows"):
        project(StirpatPoint(2025, 1e300, 1e300, 1e300, 1e300), wild, end_year=2125)


def test_allocation_refuses_an_infinite_share() -> None:
    with pytest.raises(FormulaInputError, match="non-negative"):
        allocate_total(900, [Holder("A", 600, share=math.inf), Holder("B", 400, share=1)], "by_share")
