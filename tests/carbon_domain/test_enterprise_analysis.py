"""Enterprise analysis formulas (carbon_domain/enterprise_analysis.py): the by-process LMDI that sums exactly to ΔC,
the year-end run rate and the Kaya projection of a site with its peak. The "docs" cases are the worked examples
of docs/analysis.md ("Enterprise side"), computed by hand there."""

from __future__ import annotations

import math
import random

import pytest

from carbon_domain.enterprise_analysis import (
    ENTERPRISE_PRESETS,
    KWH_PER_TCE,
    EnterpriseScenario,
    ProcessFigures,
    enterprise_band,
    enterprise_factors,
    enterprise_preset,
    enterprise_suggestions,
    growth_spread,
    process_lmdi,
    process_sectors,
    project_enterprise,
    year_end,
)
from carbon_domain.errors import FormulaInputError

K = KWH_PER_TCE


def test_process_lmdi_worked_example_of_the_docs() -> None:
    base = [ProcessFigures("steelmaking", 10 * K, 20.0), ProcessFigures("sintering", 15 * K, 45.0, 150.0)]
    target = [ProcessFigures("steelmaking", 12 * K, 22.8), ProcessFigures("sintering", 15.12 * K, 45.36, 168.0)]
    d = process_lmdi(base, target, base_output=100, target_output=120)
    got = {k: round(v, 4) for k, v in d.effects().items()}
    assert got == {"activity": 12.1334, "structure": -3.1171, "intensity": -4.7602, "emission_factor": -1.0961}
    by = {s.key: s for s in d.sectors}
    assert round(by["steelmaking"].activity, 4) == 3.8961 and round(by["sintering"].structure, 4) == -3.1171
    assert d.change == pytest.approx(3.16)


@pytest.mark.parametrize(("seed", "processes"), [(1, 1), (2, 3), (3, 6), (4, 12)])
def test_process_effects_sum_exactly_to_the_change(seed: int, processes: int) -> None:
    rng = random.Random(seed)

    def period() -> list[ProcessFigures]:
        return [ProcessFigures(f"p{i}", rng.uniform(1e5, 1e8), rng.uniform(10, 1e5),
                               None if i % 2 else rng.uniform(1e3, 1e6)) for i in range(processes)]

    d = process_lmdi(period(), period(), base_output=rng.uniform(1e3, 1e6), target_output=rng.uniform(1e3, 1e6))
    assert math.fsum(d.effects().values()) == pytest.approx(d.change, rel=1e-9, abs=1e-6)


def test_process_entering_in_the_target_period_keeps_the_sum() -> None:
    base = [ProcessFigures("rolling", 5 * K, 9.0)]
    target = [ProcessFigures("rolling", 5 * K, 9.0), ProcessFigures("lime", 2 * K, 4.0, 30.0)]
    d = process_lmdi(base, target, base_output=100, target_output=100)
    assert math.fsum(d.effects().values()) == pytest.approx(4.0)


@pytest.mark.parametrize(("output", "expected_activity"), [(None, 120.0), (80.0, 80.0)])
def test_a_process_without_its_own_counter_takes_the_site_output(output: float | None,
                                                                 expected_activity: float) -> None:
    (sector,) = process_sectors([ProcessFigures("bof", K, 2.0, output)], 120.0)
    assert (sector.activity, sector.energy) == (expected_activity, pytest.approx(1.0))


@pytest.mark.parametrize("site_output", [0.0, -1.0, math.nan])
def test_a_period_without_production_is_refused(site_output: float) -> None:
    with pytest.raises(FormulaInputError, match="output must be positive"):
        process_sectors([ProcessFigures("bof", K, 2.0)], site_output)


def test_a_process_that_emitted_while_its_counters_counted_nothing_is_refused() -> None:
    with pytest.raises(FormulaInputError, match="'sinter' emitted 2.000 t CO2 but its production counters"):
        process_sectors([ProcessFigures("sinter", K, 2.0, 0.0)], 100.0)


def test_enterprise_forecast_worked_example_of_the_docs() -> None:
    years, peak = project_enterprise(year=2025, output=1e6, energy=550_000, co2=1.8e6,
                                     scenario=enterprise_preset("baseline"), end_year=2030)
    assert [round(y.co2) for y in years[1:5]] == [1_826_283, 1_843_954, 1_852_715, 1_852_392]
    assert (peak.year, round(peak.co2)) == (2028, 1_852_715)
    end = year_end(2026, dict(enumerate([100, 110, 90, 100, 100, 110, 90, 100, 100], 1)))
    assert (end.actual, end.projected, round(end.high - end.projected, 1)) == (900, 1200, 24.0)


@pytest.mark.parametrize(("months", "projected", "low", "high"), [
    ({1: 50.0}, 600.0, 600.0, 600.0),  # one month: rate only, no spread, so no band
    ({m: 10.0 for m in range(1, 13)}, 120.0, 120.0, 120.0),  # a whole year: nothing left to project
    ({1: 0.0, 2: 0.0}, 0.0, 0.0, 0.0),
])
def test_year_end_run_rate(months: dict[int, float], projected: float, low: float, high: float) -> None:
    end = year_end(2026, months)
    assert (end.projected, end.low, end.high) == pytest.approx((projected, low, high))


@pytest.mark.parametrize(("months", "message"), [({}, "no month"), ({13: 1.0}, "months are 1 to 12"),
                                                 ({1: -1.0}, "non-negative")])
def test_year_end_refuses_bad_months(months: dict[int, float], message: str) -> None:
    with pytest.raises(FormulaInputError, match=message):
        year_end(2026, months)


def test_stronger_preset_scenarios_peak_no_later_and_lower() -> None:
    peaks = [project_enterprise(year=2025, output=1e6, energy=5e5, co2=1.6e6, scenario=ENTERPRISE_PRESETS[name],
                                end_year=2060)[1] for name in ("baseline", "policy", "enhanced")]
    assert peaks[0].year > 2025 and peaks[0].year >= peaks[1].year >= peaks[2].year
    assert peaks[0].co2 >= peaks[1].co2 >= peaks[2].co2


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"output_growth": 0.9}, "output_growth"), ({"output_step": 0.5}, "output_step"),
    ({"factor_change": -0.7}, "factor_change"),
])
def test_scenario_rates_out_of_range_are_refused(kwargs: dict[str, float], message: str) -> None:
    rates = {"output_growth": 0.0, "output_step": 0.0, "intensity_change": 0.0, "factor_change": 0.0, **kwargs}
    with pytest.raises(FormulaInputError, match=message):
        EnterpriseScenario("x", **rates)


def test_projection_needs_a_metered_base_year() -> None:
    with pytest.raises(FormulaInputError, match="positive output"):
        project_enterprise(year=2025, output=0, energy=1, co2=1, scenario=enterprise_preset("policy"),
                           end_year=2030)
    with pytest.raises(FormulaInputError, match="unknown scenario"):
        enterprise_preset("radical")


def test_enterprise_ranking_and_suggestions_worked_example_of_the_docs() -> None:
    years, peak = project_enterprise(year=2025, output=1e6, energy=550_000, co2=1.8e6,
                                     scenario=enterprise_preset("baseline"), end_year=2030)
    factors = enterprise_factors(years, peak)
    assert [(f.name, round(f.contribution)) for f in factors] == [
        ("output", 135_240), ("energy_intensity", -55_063), ("emission_factor", -27_462)]
    assert math.fsum(f.contribution for f in factors) == pytest.approx(peak.co2 - years[0].co2)
    # the docs' by-process example read backwards: sintering's energy per tonne and steelmaking's factor rose
    later = [ProcessFigures("steelmaking", 10 * K, 20.0), ProcessFigures("sintering", 15 * K, 45.0, 150.0)]
    earlier = [ProcessFigures("steelmaking", 12 * K, 22.8), ProcessFigures("sintering", 15.12 * K, 45.36, 168.0)]
    d = process_lmdi(earlier, later, base_output=120, target_output=100)
    got = {s.rule: s.params for s in enterprise_suggestions(years, peak, factors, d)}
    assert list(got) == ["peak", "growth_driven", "structure", "intensity", "emission_factor"]
    assert got["growth_driven"]["factor"] == "output" and round(got["growth_driven"]["offset"], 4) == 0.6102
    assert got["intensity"]["top"] == "sintering" and round(got["intensity"]["effect"], 4) == 4.7602
    assert got["emission_factor"]["top"] == "steelmaking"


def test_enterprise_band_worked_example_of_the_docs() -> None:
    s = growth_spread([1000, 1100, 1045, 1150])
    assert s == pytest.approx(0.084767, abs=1e-6)
    years, _ = project_enterprise(year=2025, output=1e6, energy=550_000, co2=1.8e6,
                                  scenario=enterprise_preset("baseline"), end_year=2027)
    band = enterprise_band(years, s)
    assert band[0] == (1.8e6, 1.8e6)
    assert [round(v, -2) for v in band[1]] == [1_546_700, 2_156_400]


def test_band_needs_four_whole_years_of_history() -> None:
    assert growth_spread([1000, 1100, 1045]) is None
    assert growth_spread([1000, 0, 1045, 1150]) is None
    assert growth_spread([1000, 1000, 1000, 1000]) == 0.0
