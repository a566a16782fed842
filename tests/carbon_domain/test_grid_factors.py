"""Electricity-carbon factors (METHODS.md section 8): flow tracing under both conventions, enterprise factor
fits, electricity-to-fuel models and the third-party check, each against hand-computed figures."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats

from carbon_domain.errors import GridFactorError
from carbon_domain.grid_factors import (
    CONSERVATION_TOLERANCE,
    EXPORTS_AT_CONSUMPTION,
    EXPORTS_AT_GENERATION,
    Estimate,
    FactorFit,
    Flow,
    Region,
    UnitPeriod,
    check_estimates,
    estimate_with_factors,
    fit_factors,
    fit_fuel_models,
    held_out_unit,
    holdout_estimates,
    simulate_region,
    trace_flows,
)

# METHODS.md section 8: A coal 600 MW at 0.85 exports 300 to B; B has 300 zero-carbon and sends 200 to C;
# C has 100 gas at 0.40. Hourly MW over one hour are MWh.
THREE = [Region("A", 600, 510), Region("B", 300, 0), Region("C", 100, 40)]
THREE_FLOWS = [Flow("A", "B", 300), Flow("B", "C", 200)]
# two regions trading both ways: the consumption convention couples them (a real linear system)
LOOP = [Region("A", 100, 100), Region("B", 100, 0)]
LOOP_FLOWS = [Flow("A", "B", 50), Flow("B", "A", 20)]


@pytest.mark.parametrize(("regions", "flows", "convention", "expected"), [
    # METHODS.md's example: B = 255/600 = 0.425, C = (40 + 0.425*200)/300 = 0.4167
    (THREE, THREE_FLOWS, EXPORTS_AT_CONSUMPTION, {"A": 0.85, "B": 0.425, "C": 125 / 300}),
    # exports at generation intensity: B passes on zero-carbon power and keeps A's coal: 255/400; C 40/300
    (THREE, THREE_FLOWS, EXPORTS_AT_GENERATION, {"A": 0.85, "B": 255 / 400, "C": 40 / 300}),
    # x_A*120 = 100 + 20 x_B, x_B*150 = 50 x_A  ->  x_A = 15/17, x_B = 5/17
    (LOOP, LOOP_FLOWS, EXPORTS_AT_CONSUMPTION, {"A": 15 / 17, "B": 5 / 17}),
    # A: (100 - 1.0*50)/70, B: (0 + 1.0*50)/130
    (LOOP, LOOP_FLOWS, EXPORTS_AT_GENERATION, {"A": 50 / 70, "B": 50 / 130}),
    # no flows: consumption factor = generation intensity
    ([Region("X", 200, 100)], [], EXPORTS_AT_CONSUMPTION, {"X": 0.5}),
])
def test_flow_tracing_reproduces_the_hand_computed_consumption_factors(
        regions: list[Region], flows: list[Flow], convention: str, expected: dict[str, float]) -> None:
    result = trace_flows(regions, flows, convention)  # type: ignore[arg-type]
    assert {f.region: f.intensity for f in result.factors} == pytest.approx(expected, rel=1e-12)


def test_the_three_region_example_conserves_emissions_under_both_conventions() -> None:
    for convention in (EXPORTS_AT_CONSUMPTION, EXPORTS_AT_GENERATION):
        result = trace_flows(THREE, THREE_FLOWS, convention)
        assert result.conserved and result.conservation_error <= CONSERVATION_TOLERANCE
        assert result.generation_emissions_t == 550
        assert sum(f.intensity * f.consumption_mwh for f in result.factors) == pytest.approx(550, rel=1e-9)
        assert result.factor("B").consumption_mwh == 400


@pytest.mark.parametrize("convention", [EXPORTS_AT_CONSUMPTION, EXPORTS_AT_GENERATION])
def test_consumption_weighted_intensities_reproduce_generation_emissions_on_a_random_grid(convention: str) -> None:
    rng = random.Random(19)
    regions = [Region(f"R{i}", rng.uniform(500, 5000), 0.0) for i in range(60)]
    regions = [Region(r.name, r.generation_mwh, r.generation_mwh * rng.uniform(0, 1.0)) for r in regions]
    flows = [Flow(f"R{a}", f"R{b}", rng.uniform(1, 40)) for a, b in
             {(rng.randrange(60), rng.randrange(60)) for _ in range(400)} if a != b]
    result = trace_flows(regions, flows, convention)  # type: ignore[arg-type]
    weighted = sum(f.intensity * f.consumption_mwh for f in result.factors)
    assert abs(weighted - result.generation_emissions_t) / result.generation_emissions_t <= 1e-9
    assert result.conserved


@pytest.mark.parametrize(("regions", "flows", "convention", "message"), [
    (THREE, [Flow("A", "Z", 10)], EXPORTS_AT_CONSUMPTION, "'Z' is not among the regions"),
    ([Region("A", 1, 1), Region("A", 2, 1)], [], EXPORTS_AT_CONSUMPTION, "given twice"),
    ([Region("A", -1, 0)], [], EXPORTS_AT_CONSUMPTION, "generation_mwh must be a finite number >= 0"),
    ([Region("A", 100, 50), Region("B", 0, 0)], [Flow("A", "B", 150)], EXPORTS_AT_CONSUMPTION,
     "exports 150 MWh but generates and imports only 100"),
    # B re-exports imported power: impossible when exports leave at generation intensity
    ([Region("A", 100, 50), Region("B", 10, 0), Region("C", 10, 0)], [Flow("A", "B", 50), Flow("B", "C", 40)],
     EXPORTS_AT_GENERATION, "passes on only what it generates"),
    ([Region("A", 100, 50), Region("B", 0, 0)], [], EXPORTS_AT_CONSUMPTION, "neither generates nor imports"),
    (THREE, THREE_FLOWS, "average", "convention must be one of"),
])
def test_flow_tracing_refuses_inputs_it_cannot_trace_saying_why(
        regions: list[Region], flows: list[Flow], convention: str, message: str) -> None:
    with pytest.raises(GridFactorError, match=message):
        trace_flows(regions, flows, convention)  # type: ignore[arg-type]


def _unit(unit: str, points: list[tuple[float, float]], industry: str = "steel", **mix: list[float]) -> list[UnitPeriod]:
    return [UnitPeriod(unit, industry, "CN-ZJ", f"2025-{m:02d}", q, verified_t=e,
                       mix={k: v[m - 1] for k, v in mix.items()}) for m, (q, e) in enumerate(points, start=1)]


# Q = 1..4, E = 3, 5, 8, 9: Sxx = 5, Sxy = 10.5 -> b = 2.1, a = 6.25 - 2.1*2.5 = 1.0; residuals -0.1, -0.2,
# 0.7, -0.4 -> SSE 0.70, SST 22.75, R^2 = 0.96923; sigma^2 = 0.35, se(b) = sqrt(0.35/5), se(a) = sqrt(0.35*1.5)
@pytest.mark.parametrize(("data", "mix", "coefficients", "std_errors", "r2"), [
    (_unit("u1", [(1, 3), (2, 5), (3, 8), (4, 9)]), (), (1.0, 2.1), (math.sqrt(0.525), math.sqrt(0.07)),
     1 - 0.70 / 22.75),
    (_unit("u2", [(10, 5), (20, 7), (30, 9)]), (), (3.0, 0.2), (0.0, 0.0), 1.0),  # an exact line
    # E = 2 + 0.5 Q + 10 s with the gas share s as a mix term
    (_unit("u3", [(10, 7), (20, 22), (30, 17), (40, 32)], gas_share=[0, 1, 0, 1]), ("gas_share",),
     (2.0, 0.5, 10.0), (0.0, 0.0, 0.0), 1.0),
])
def test_a_unit_factor_fit_gives_the_hand_computed_regression(
        data: list[UnitPeriod], mix: tuple[str, ...], coefficients: tuple[float, ...],
        std_errors: tuple[float, ...], r2: float) -> None:
    fits, skipped = fit_factors(data, mix_terms=mix)
    assert skipped == {} and len(fits) == 1
    fit = fits[0]
    assert fit.coefficients == pytest.approx(coefficients, rel=1e-9, abs=1e-9)
    assert fit.std_errors == pytest.approx(std_errors, rel=1e-9, abs=1e-6)
    assert fit.r2 == pytest.approx(r2, rel=1e-12)
    assert (fit.n, fit.period_from, fit.period_to) == (len(data), "2025-01", f"2025-{len(data):02d}")


def test_a_fit_reports_its_error_against_the_verified_reports() -> None:
    fit = fit_factors(_unit("u1", [(1, 3), (2, 5), (3, 8), (4, 9)]))[0][0]
    relative = [(3.1 - 3) / 3, (5.2 - 5) / 5, (7.3 - 8) / 8, (9.4 - 9) / 9]  # fitted 1 + 2.1 Q vs verified
    assert fit.mape == pytest.approx(sum(abs(r) for r in relative) / 4)
    assert fit.bias == pytest.approx(sum(relative) / 4)
    assert fit.estimate(10) == pytest.approx(22.0)


def test_an_industry_fit_pools_its_units_and_matches_numpy_lstsq() -> None:
    data = (_unit("a", [(1, 3), (2, 5), (3, 8)]) + _unit("b", [(5, 11), (6, 14)])
            + _unit("c", [(1, 1), (2, 2), (3, 4)], industry="cement"))
    fits, _ = fit_factors(data, by="industry")
    steel = next(f for f in fits if f.scope_id == "steel")
    q = np.array([1, 2, 3, 5, 6.0])
    expected, *_ = np.linalg.lstsq(np.c_[np.ones(5), q], np.array([3, 5, 8, 11, 14.0]), rcond=None)
    assert steel.coefficients == pytest.approx(tuple(expected), rel=1e-9)
    assert (steel.scope, steel.n) == ("industry", 5)
    assert [f.scope_id for f in fits] == ["cement", "steel"]


@pytest.mark.parametrize(("data", "reason"), [
    (_unit("few", [(1, 3), (2, 5)]), "2 periods with verified emissions; a fit of 2 terms needs 3"),
    (_unit("flat", [(5, 3), (5, 5), (5, 8)]), "does not vary over the periods"),
])
def test_a_unit_that_cannot_be_fitted_is_left_out_with_its_reason(data: list[UnitPeriod], reason: str) -> None:
    fits, skipped = fit_factors(data)
    assert fits == [] and reason in skipped[data[0].unit_id]


def test_periods_without_verified_emissions_are_not_fitted() -> None:
    data = _unit("u1", [(1, 3), (2, 5), (3, 8), (4, 9)]) + [UnitPeriod("u1", "steel", "CN-ZJ", "2025-05", 99.0)]
    assert fit_factors(data)[0][0].n == 4


def _full(unit: str, elec: float, coal: float, oil: float, gas: float, region: str = "CN-ZJ") -> UnitPeriod:
    return UnitPeriod(unit, "cement", region, "2025-01", elec, coal_t=coal, oil_t=oil, gas_t=gas)


# cement: electricity 100 and 200 MWh, fuel CO2 60 and 126 t -> total ratio 186/300 = 0.62; residuals -2 and +2
# -> dispersion (4/100 + 4/200)/1 = 0.06
FULL = [_full("f1", 100, 50, 5, 5), _full("f2", 200, 116, 10, 0)]


def test_fuel_ratios_are_fitted_per_industry_on_units_with_full_data() -> None:
    models, skipped = fit_fuel_models([*FULL, UnitPeriod("e1", "cement", "CN-ZJ", "2025-01", 50)])
    model = models["cement"]
    assert model.ratios == pytest.approx({"coal": 166 / 300, "oil": 15 / 300, "gas": 5 / 300})
    assert (model.total_ratio, model.dispersion, model.n) == (pytest.approx(0.62), pytest.approx(0.06), 2)
    assert skipped == {}


def test_simulating_a_region_adds_electricity_only_units_with_a_prediction_band() -> None:
    models, _ = fit_fuel_models(FULL)
    only_electricity = UnitPeriod("e1", "cement", "CN-ZJ", "2025-01", 50)
    elsewhere = UnitPeriod("e2", "cement", "CN-GD", "2025-01", 80)
    no_model = UnitPeriod("e3", "paper", "CN-ZJ", "2025-01", 10)
    result = simulate_region("CN-ZJ", [*FULL, only_electricity, elsewhere, no_model], models)
    half = stats.t.ppf(0.975, 1) * math.sqrt(0.06 * (50 + 50 ** 2 / 300))
    (unit,) = result.units
    assert (unit.total_t, unit.low_t, unit.high_t) == pytest.approx((31.0, 31.0 - half, 31.0 + half))
    assert unit.by_fuel_t == pytest.approx({"coal": 50 * 166 / 300, "oil": 2.5, "gas": 50 * 5 / 300})
    assert unit.quality == "estimated"
    assert (result.measured_t, result.simulated_t, result.total_t) == pytest.approx((186.0, 31.0, 217.0))
    assert result.simulated_share == pytest.approx(31 / 217)
    assert (result.low_t, result.high_t) == pytest.approx((186 + 31 - half, 217 + half))
    assert result.unmodelled == ("e3@2025-01",)


def _estimate(unit: str, industry: str, region: str, factor: str, estimated: float, verified: float) -> Estimate:
    return Estimate(unit, industry, region, "2025-01", factor, estimated, verified)


def test_the_third_party_check_gives_mape_bias_worst_cases_and_flags_factors_over_the_bound() -> None:
    estimates = [_estimate("s1", "steel", "CN-ZJ", "f-steel", 110, 100),  # +10 %
                 _estimate("s2", "steel", "CN-GD", "f-steel", 80, 100),  # -20 %
                 _estimate("c1", "cement", "CN-ZJ", "f-cement", 101, 100),  # +1 %
                 _estimate("z1", "cement", "CN-ZJ", "f-cement", 5, 0)]  # no relative error: left out
    report = check_estimates(estimates, bound=0.1, worst=1)
    steel = next(g for g in report.by_industry if g.key == "steel")
    assert (steel.n, steel.mape, steel.bias) == (2, pytest.approx(0.15), pytest.approx(-0.05))
    assert [w.unit_id for w in steel.worst] == ["s2"]
    zhejiang = next(g for g in report.by_region if g.key == "CN-ZJ")
    assert (zhejiang.n, zhejiang.mape) == (2, pytest.approx(0.055))
    assert report.flagged_factors == ("f-steel",)
    assert report.skipped == ("z1@2025-01",)


def test_the_check_refuses_a_bound_that_is_not_a_positive_fraction() -> None:
    with pytest.raises(GridFactorError, match="bound must be a positive fraction"):
        check_estimates([], bound=0)


def test_a_unit_is_estimated_by_its_pin_before_its_own_factor_before_its_industrys() -> None:
    def fit(scope: str, scope_id: str, b: float) -> FactorFit:
        return FactorFit(scope=scope, scope_id=scope_id, terms=("intercept", "electricity_mwh"),  # type: ignore[arg-type]
                         coefficients=(0.0, b), std_errors=(0.0, 0.0), period_from="2025-01", period_to="2025-12",
                         n=12, r2=1.0, mape=0.0, bias=0.0, factor_id=f"{scope}:{scope_id}@v1")
    data = [UnitPeriod(u, "steel", "CN-ZJ", "2025-01", 10.0, verified_t=5.0) for u in ("pinned", "own", "pooled")]
    data += [UnitPeriod("orphan", "paper", "CN-ZJ", "2025-01", 10.0, verified_t=5.0),
             UnitPeriod("own", "steel", "CN-ZJ", "2025-02", 10.0)]  # no verified figure: nothing to check
    estimates, uncovered = estimate_with_factors(
        data, pins={"pinned": fit("industry", "cement", 0.3)},
        unit_factors={"pinned": fit("unit", "pinned", 0.9), "own": fit("unit", "own", 0.4)},
        industry_factors={"steel": fit("industry", "steel", 0.6)})
    assert [(e.unit_id, e.factor_id, e.estimated_t) for e in estimates] == [
        ("pinned", "industry:cement@v1", pytest.approx(3.0)), ("own", "unit:own@v1", pytest.approx(4.0)),
        ("pooled", "industry:steel@v1", pytest.approx(6.0))]
    assert uncovered == ["orphan@2025-01"]


# E = 1 + 2.1 Q fits these four months in-sample (hand-computed); without April, E = 1/3 + 2.5 Q
FOUR_MONTHS = [UnitPeriod("u", "steel", "CN-ZJ", f"2025-{m:02d}", q, verified_t=e)
               for m, (q, e) in enumerate([(1, 3), (2, 5), (3, 8), (4, 9)], start=1)]
IN_SAMPLE = FactorFit(scope="unit", scope_id="u", terms=("intercept", "electricity_mwh"), coefficients=(1.0, 2.1),
                      std_errors=(0.0, 0.0), period_from="2025-01", period_to="2025-04", n=4, r2=0.97, mape=0.04,
                      bias=0.0, factor_id="unit:u@v1")


@pytest.mark.parametrize(("test_months", "estimated", "uncovered"), [
    (1, [("2025-04", 1 / 3 + 2.5 * 4)], []),  # refitted on January to March
    (2, [], ["u@2025-03", "u@2025-04"]),  # two months left: too few to refit two terms with an error
])
def test_the_months_hold_out_refits_the_factor_in_use_without_the_months_it_checks(
        test_months: int, estimated: list[tuple[str, float]], uncovered: list[str]) -> None:
    estimates, left, split = holdout_estimates(FOUR_MONTHS, pins={}, unit_factors={"u": IN_SAMPLE},
                                               industry_factors={}, holdout="months", test_months=test_months)
    assert [(e.period, e.estimated_t) for e in estimates] == [(p, pytest.approx(v)) for p, v in estimated]
    assert all(e.factor_id == "unit:u@v1" for e in estimates)  # flags point at the library version in use
    assert (left, split.kind, split.out_of_sample, split.fitted_on, split.checked) == (
        uncovered, "months", True, 4 - test_months, test_months)


def test_an_out_of_sample_check_shows_a_larger_error_than_the_in_sample_one() -> None:
    def april_error(holdout: str) -> float:
        estimates, _, _ = holdout_estimates(FOUR_MONTHS, pins={}, unit_factors={"u": IN_SAMPLE}, industry_factors={},
                                            holdout=holdout, test_months=1)  # type: ignore[arg-type]
        (april,) = [e for e in estimates if e.period == "2025-04"]
        return april.relative_error
    assert (april_error("none"), april_error("months")) == (pytest.approx(0.4 / 9), pytest.approx((31 / 3 - 9) / 9))


def test_the_units_hold_out_checks_industry_factors_on_units_they_were_not_fitted_on() -> None:
    names = [f"plant-{i}" for i in range(12)]
    held = [n for n in names if held_out_unit(n, 3)]
    assert held and len(held) < len(names)  # the hash picks some, not all
    # the other plants emit 2 t/MWh, the held-out ones 3 t/MWh: a refit without them says 2, so -1/3 on each
    data = [UnitPeriod(n, "steel", "CN-ZJ", f"2025-{m:02d}", 10.0 * m + i,
                       verified_t=(3.0 if n in held else 2.0) * (10.0 * m + i))
            for i, n in enumerate(names) for m in (1, 2, 3)]
    library = FactorFit(scope="industry", scope_id="steel", terms=("intercept", "electricity_mwh"),
                        coefficients=(0.0, 2.2), std_errors=(0.0, 0.0), period_from="2025-01", period_to="2025-03",
                        n=36, r2=0.9, mape=0.1, bias=0.0, factor_id="industry:steel@v4")
    estimates, left, split = holdout_estimates(data, pins={}, unit_factors={}, industry_factors={"steel": library},
                                               holdout="units", every=3)
    report = check_estimates(estimates)
    assert ({e.unit_id for e in estimates}, left, split.test_units, split.checked) == (
        set(held), [], tuple(sorted(held)), 3 * len(held))
    (steel,) = report.by_factor
    assert (steel.key, steel.mape, steel.bias) == ("industry:steel@v4", pytest.approx(1 / 3), pytest.approx(-1 / 3))


@pytest.mark.parametrize(("holdout", "options", "message"), [
    ("months", {"test_months": 4}, "leaves nothing to fit on"),
    ("months", {"test_months": 0}, "test_months must be at least 1"),
    ("units", {"every": 1}, "every must be at least 2"),
    ("sometimes", {}, "holdout must be one of"),
])
def test_a_hold_out_that_cannot_split_the_figures_is_refused_saying_what_to_do(
        holdout: str, options: dict[str, int], message: str) -> None:
    with pytest.raises(GridFactorError, match=message):
        holdout_estimates(FOUR_MONTHS, pins={}, unit_factors={"u": IN_SAMPLE}, industry_factors={},
                          holdout=holdout, **options)  # type: ignore[arg-type]
