"""碳效码: hand-computed cases of L (with a PV deduction and sinks), the level, the industry average and its
fallback, K and its grade, the neutrality identifier, each exclusion, rolling 12 months, provenance, and
docs/efficiency_code.md's worked example."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from carbon_domain.efficiency_code import (
    DEFAULT_CONFIG,
    EfficiencyCode,
    EfficiencyCodeConfig,
    ExclusionReason,
    Level,
    MonthFigures,
    Neutrality,
    UnitInput,
    calendar_year,
    compute_codes,
    exclusion_of,
    grade_of,
    industry_averages,
    industry_digits,
    intensity_of,
    level_of,
    neutrality_of,
    rolling_12_months,
    unit_input_for_period,
)
from carbon_domain.errors import EfficiencyCodeError

FACTOR = 0.5306  # national electricity average 2023, tCO2/MWh (METHODS.md section 3)
YEAR = calendar_year(2025)
DOC = Path(__file__).resolve().parents[2] / "docs" / "efficiency_code.md"


def unit(unit_id: str, industry: str = "3130", *, energy: float = 1000.0, pv: float = 0.0, sinks: float = 0.0,
         va: float = 1000.0, in_production: bool = True, green: float = 0.0) -> UnitInput:
    return UnitInput(unit_id=unit_id, industry_code=industry, in_production=in_production, energy_co2_t=energy,
                     own_generation_mwh=pv, electricity_factor_t_per_mwh=FACTOR, sinks_t=sinks,
                     value_added_10k_yuan=va, factor_row_ids=("grid.cn.national_average@mee-national-average",),
                     green_power_mwh=green)


def by_id(results: list[EfficiencyCode]) -> dict[str, EfficiencyCode]:
    return {r.unit_id: r for r in results}


# --- L ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("case", "energy", "pv", "sinks", "va", "expected"), [
    ("no deduction", 8000, 0, 0, 10000, 0.8),
    ("PV deduction at the inventory's factor: 1,000 MWh x 0.5306 = 530.6 t", 12000, 1000, 0, 10000, 1.14694),
    ("sinks deducted", 1500, 0, 300, 3000, 0.4),
    ("PV and sinks", 600, 200, 100, 1500, (600 - 106.12 - 100) / 1500),
    ("more avoided than emitted: negative L", 100, 1000, 0, 100, (100 - 530.6) / 100),
])
def test_unit_value_added_emissions_deduct_own_generation_and_sinks(case: str, energy: float, pv: float,
                                                                     sinks: float, va: float, expected: float) -> None:
    assert intensity_of(unit("u", energy=energy, pv=pv, sinks=sinks, va=va)) == pytest.approx(expected, abs=1e-9), case


def test_intensity_without_positive_value_added_is_refused_with_the_figure() -> None:
    with pytest.raises(EfficiencyCodeError, match="value added -5"):
        intensity_of(unit("u", va=-5))


# --- level and grade at their boundaries -------------------------------------------------------------------

@pytest.mark.parametrize(("intensity", "level"), [
    (-0.1, Level.LOW), (0.6, Level.LOW), (0.6000001, Level.MEDIUM), (2.0, Level.MEDIUM), (2.0000001, Level.HIGH),
])
def test_level_against_all_industry_follows_the_configured_thresholds(intensity: float, level: Level) -> None:
    assert level_of(intensity, DEFAULT_CONFIG) is level


@pytest.mark.parametrize(("efficiency", "grade"), [
    (-1.0, 1), (0.6, 1), (0.61, 2), (0.8, 2), (0.81, 3), (1.2, 3), (1.21, 4), (2.0, 4), (2.01, 5), (50.0, 5),
])
def test_grade_of_k_includes_each_upper_boundary(efficiency: float, grade: int) -> None:
    assert grade_of(efficiency, DEFAULT_CONFIG) == grade


def test_changed_grade_boundaries_change_the_grade() -> None:
    strict = DEFAULT_CONFIG.model_copy(update={"version": "strict", "grade_boundaries": (0.5, 0.7, 0.9, 1.1)})
    assert (grade_of(0.75, DEFAULT_CONFIG), grade_of(0.75, strict)) == (2, 3)


# --- exclusions --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("industry", "in_production", "reason", "words"), [
    ("4411", True, ExclusionReason.EXCLUDED_INDUSTRY, "power and heat supply"),
    ("D4417", True, ExclusionReason.EXCLUDED_INDUSTRY, "waste incineration"),
    ("4500", True, ExclusionReason.EXCLUDED_INDUSTRY, "gas supply"),
    ("4610", True, ExclusionReason.EXCLUDED_INDUSTRY, "water supply"),
    ("4620", True, ExclusionReason.EXCLUDED_INDUSTRY, "sewage treatment"),
    ("7723", True, ExclusionReason.EXCLUDED_INDUSTRY, "solid waste treatment and incineration"),
    ("3130", False, ExclusionReason.NOT_IN_PRODUCTION, "not yet in production"),
])
def test_each_exclusion_gives_no_code_and_says_why(industry: str, in_production: bool, reason: ExclusionReason,
                                                   words: str) -> None:
    units = [unit(f"peer-{i}") for i in range(5)] + [unit("x", industry, in_production=in_production)]
    result = by_id(compute_codes(units, YEAR))["x"]
    assert (result.has_code, result.code, result.grade, result.exclusion and result.exclusion.reason) == (
        False, None, None, reason)
    assert result.exclusion is not None and words in result.exclusion.detail


def test_missing_months_and_no_value_added_are_exclusions_too() -> None:
    short = replace(unit("short"), missing_months=("2025-11", "2025-12"))
    results = by_id(compute_codes([unit("p1"), short, unit("loss", va=0)], YEAR))
    assert results["short"].exclusion is not None and results["loss"].exclusion is not None
    assert (results["short"].exclusion.reason, results["loss"].exclusion.reason) == (
        ExclusionReason.MISSING_MONTHS, ExclusionReason.NO_VALUE_ADDED)
    assert "2025-11, 2025-12" in results["short"].exclusion.detail


def test_excluded_units_do_not_count_in_the_industry_sample() -> None:
    with_idle = [unit("a", energy=1000, va=1000), unit("idle", energy=90000, va=1000, in_production=False)]
    averages = industry_averages(with_idle, DEFAULT_CONFIG)
    assert set(averages) == {"a"}
    assert averages["a"] is not None and averages["a"].sample_size == 1


def test_the_longest_exclusion_prefix_names_the_reason() -> None:
    assert "sewage" in (exclusion_of(unit("s", "4620"), DEFAULT_CONFIG) or pytest.fail()).detail


def test_an_industry_code_that_is_not_gbt4754_is_refused_with_an_example() -> None:
    with pytest.raises(EfficiencyCodeError, match="e.g. C3110"):
        industry_digits("steel")


# --- industry average and fallback --------------------------------------------------------------------------

def test_industry_average_is_value_added_weighted_over_the_class() -> None:
    units = [unit(f"r{i}", "3130", energy=e, va=v) for i, (e, v) in
             enumerate([(1000, 1000), (3000, 1000), (500, 2000), (800, 1000), (700, 5000)])]
    average = industry_averages(units, DEFAULT_CONFIG)["r0"]
    assert average is not None
    assert (average.level, average.code, average.sample_size, average.fallbacks) == ("class", "3130", 5, ())
    assert average.intensity == pytest.approx(6000 / 10000)


def test_a_class_below_the_minimum_sample_falls_back_to_its_parent_and_says_so() -> None:
    # class 2641 has 1 unit, 2642 has 4: both fall back to group 264 (5 units)
    units = [unit("paint", "2641", energy=1500, sinks=300, va=3000)] + [
        unit(f"ink{i}", "2642", energy=2400, va=2000) for i in range(4)]
    results = by_id(compute_codes(units, YEAR))
    industry = results["paint"].provenance.industry
    assert industry is not None
    assert (industry.level, industry.code, industry.sample_size) == ("group", "264", 5)
    assert industry.fallbacks == ("class 2641: 1 unit(s), fewer than the minimum sample of 5",)
    expected_k = 0.4 / ((1200 + 4 * 2400) / (3000 + 4 * 2000))
    assert results["paint"].efficiency == pytest.approx(expected_k)


def test_fallback_climbs_to_all_industry_when_no_class_is_large_enough() -> None:
    units = [unit("a", "3130"), unit("b", "2641"), unit("c", "1711")]
    industry = by_id(compute_codes(units, YEAR))["a"].provenance.industry
    assert industry is not None
    assert (industry.level, industry.code, industry.sample_size, len(industry.fallbacks)) == ("all", "all", 3, 3)


def test_a_code_too_short_for_the_configured_level_is_compared_at_its_own_level_and_says_so() -> None:
    units = [unit("coarse", "C31", energy=1000)] + [unit(f"r{i}", "3130", energy=3000) for i in range(4)]
    industry = by_id(compute_codes(units, YEAR))["coarse"].provenance.industry
    assert industry is not None
    assert (industry.level, industry.code, industry.sample_size, industry.fallbacks) == ("division", "31", 5, (
        "class: industry code 31 is too short to name one", "group: industry code 31 is too short to name one"))


def test_configured_division_level_compares_with_the_division() -> None:
    config = DEFAULT_CONFIG.model_copy(update={"version": "division", "industry_level": "division",
                                               "min_industry_sample": 2})
    units = [unit("a", "3110", energy=1000), unit("b", "3130", energy=3000)]
    industry = by_id(compute_codes(units, YEAR, config))["a"].provenance.industry
    assert industry is not None and (industry.level, industry.code, industry.sample_size) == ("division", "31", 2)


def test_sample_version_changes_when_a_figure_changes_or_a_unit_joins() -> None:
    units = [unit(f"r{i}") for i in range(5)]

    def version(population: list[UnitInput]) -> str:
        average = industry_averages(population, DEFAULT_CONFIG)["r0"]
        assert average is not None
        return average.version

    base = version(units)
    assert version(list(reversed(units))) == base  # order of the input does not matter
    assert version([*units[:4], replace(units[4], energy_co2_t=1001.0)]) != base
    assert version([*units, unit("r5")]) != base


# --- neutrality ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("energy", "pv", "green", "sinks", "share", "band"), [
    (1000, 0, 0, 0, 0.0, Neutrality.NONE),
    (1000, 1000, 0, 0, 0.5306, Neutrality.PARTIAL),
    (1000, 0, 1000, 100, 0.6306, Neutrality.PARTIAL),
    (500, 1000, 0, 0, 1.0612, Neutrality.NEUTRAL),
])
def test_neutrality_share_by_the_default_formula_and_its_band(energy: float, pv: float, green: float, sinks: float,
                                                              share: float, band: Neutrality) -> None:
    got_share, got_band = neutrality_of(unit("u", energy=energy, pv=pv, green=green, sinks=sinks), DEFAULT_CONFIG)
    assert (got_share, got_band) == (pytest.approx(share), band)


def test_a_neutrality_formula_that_divides_by_zero_leaves_the_identifier_open() -> None:
    result = by_id(compute_codes([unit("zero", energy=0, sinks=0, va=100), unit("b")], YEAR))["zero"]
    assert (result.neutrality, result.neutrality_share, result.code) == (None, None, "1-L--")


def test_a_configured_neutrality_formula_is_used() -> None:
    config = DEFAULT_CONFIG.model_copy(update={"version": "sinks-only", "neutrality_formula": "sinks_t / energy_co2_t"})
    assert neutrality_of(unit("u", energy=1000, pv=1000, sinks=250), config) == (0.25, Neutrality.PARTIAL)


# --- configuration ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "message"), [
    ({"grade_boundaries": (0.6, 0.8, 0.7, 2.0)}, "positive and increasing"),
    ({"level_thresholds": {"low_max": 2.0, "medium_max": 0.6}}, "low_max 2.0 must be below medium_max 0.6"),
    ({"neutrality_formula": "__import__('os').system('true')"}, "is not allowed"),
    ({"neutrality_formula": "energy_co2_t.real"}, "is not allowed"),
    ({"neutrality_formula": "carbon / energy_co2_t"}, "unknown variable 'carbon'"),
    ({"neutrality_bands": (1.0, 0.5)}, "none_max 1.0 must be below neutral_min 0.5"),
    ({"grade_colours": ("green", "#000000", "#000000", "#000000", "#000000")}, "grade 1 colour 'green'"),
    ({"unverified": ("thresholds",)}, "unknown settings: thresholds"),
    ({"exclusions": [{"industry_prefix": "46", "reason": "a"}, {"industry_prefix": "46", "reason": "b"}]}, "repeat"),
    ({"industry_level": "section"}, "industry_level"),
    ({"min_industry_sample": 0}, "min_industry_sample"),
    ({"colour": "#000000"}, "Extra inputs are not permitted"),
])
def test_a_bad_configuration_is_refused_naming_the_setting(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        EfficiencyCodeConfig.model_validate({**DEFAULT_CONFIG.model_dump(), **change})


def test_the_default_configuration_keeps_the_methods_check_marks_visible() -> None:
    assert {"level_thresholds", "grade_boundaries", "exclusions"} <= set(DEFAULT_CONFIG.unverified)
    assert "[check]" in DEFAULT_CONFIG.source
    assert (DEFAULT_CONFIG.level_thresholds.low_max, DEFAULT_CONFIG.level_thresholds.medium_max,
            DEFAULT_CONFIG.grade_boundaries) == (0.6, 2.0, (0.6, 0.8, 1.2, 2.0))


# --- periods ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("period", "label", "first", "last"), [
    (calendar_year(2025), "2025", "2025-01", "2025-12"),
    (rolling_12_months("2025-06"), "2024-07..2025-06", "2024-07", "2025-06"),
    (rolling_12_months("2025-12"), "2025-01..2025-12", "2025-01", "2025-12"),
])
def test_periods_are_twelve_months(period: object, label: str, first: str, last: str) -> None:
    assert hasattr(period, "months")
    months = period.months()  # type: ignore[attr-defined]
    assert (period.label, months[0], months[-1], len(months)) == (label, first, last, 12)  # type: ignore[attr-defined]


def test_rolling_months_sum_with_each_months_factor() -> None:
    period = rolling_12_months("2025-06")
    months = [MonthFigures(month=m, energy_co2_t=100.0, own_generation_mwh=10.0,
                           electricity_factor_t_per_mwh=0.5366 if m < "2025-01" else 0.5306, sinks_t=1.0,
                           value_added_10k_yuan=50.0, factor_row_ids=(f"grid@{m[:4]}",))
              for m in [*period.months(), "2024-06", "2025-07"]]  # the two outside the period are left out
    summed = unit_input_for_period(unit_id="u", industry_code="3130", in_production=True, months=months,
                                   period=period)
    assert (summed.energy_co2_t, summed.value_added_10k_yuan, summed.missing_months) == (1200.0, 600.0, ())
    assert summed.own_generation_mwh * summed.electricity_factor_t_per_mwh == pytest.approx(
        6 * 10 * 0.5366 + 6 * 10 * 0.5306)
    assert summed.factor_row_ids == ("grid@2024", "grid@2025")


def test_a_period_with_missing_months_lists_them() -> None:
    months = [MonthFigures(month=f"2025-{m:02d}", energy_co2_t=1.0, own_generation_mwh=0.0,
                           electricity_factor_t_per_mwh=FACTOR, sinks_t=0.0, value_added_10k_yuan=1.0)
              for m in range(1, 11)]
    summed = unit_input_for_period(unit_id="u", industry_code="3130", in_production=True, months=months, period=YEAR)
    assert summed.missing_months == ("2025-11", "2025-12")


def test_a_month_given_twice_is_refused() -> None:
    month = MonthFigures(month="2025-01", energy_co2_t=1.0, own_generation_mwh=0.0,
                         electricity_factor_t_per_mwh=FACTOR, sinks_t=0.0, value_added_10k_yuan=1.0)
    with pytest.raises(EfficiencyCodeError, match="month 2025-01 is given twice"):
        unit_input_for_period(unit_id="u", industry_code="3130", in_production=True, months=[month, month],
                              period=YEAR)


def test_a_unit_given_twice_in_a_period_is_refused() -> None:
    with pytest.raises(EfficiencyCodeError, match="'a' is given twice"):
        compute_codes([unit("a"), unit("a")], YEAR)


# --- provenance ---------------------------------------------------------------------------------------------

def test_every_result_carries_inputs_factor_rows_industry_sample_and_versions() -> None:
    config = DEFAULT_CONFIG.model_copy(update={"version": "v-test", "min_industry_sample": 1})
    result = compute_codes([unit("a", energy=12000, pv=1000, va=10000)], YEAR, config)[0]
    provenance = result.provenance
    assert provenance.config_version == "v-test"
    assert provenance.factor_row_ids == ("grid.cn.national_average@mee-national-average",)
    assert provenance.inputs["avoided_co2_t"] == pytest.approx(530.6)
    assert provenance.inputs["net_co2_t"] == pytest.approx(11469.4)
    assert provenance.industry is not None and provenance.industry.sample_size == 1
    assert len(provenance.industry.version) == 16


# --- the worked example -------------------------------------------------------------------------------------

def _table(header: str) -> list[list[str]]:
    """The rows of the docs' markdown table whose header starts with `header`."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_worked_example_in_the_docs_is_reproduced() -> None:
    inputs = _table("| unit | GB/T 4754 |")
    units = [UnitInput(unit_id=name, industry_code=code, in_production=producing == "yes",
                       energy_co2_t=_number(energy), own_generation_mwh=_number(pv),
                       electricity_factor_t_per_mwh=FACTOR, sinks_t=_number(sinks), value_added_10k_yuan=_number(va))
             for name, code, producing, energy, pv, sinks, va in inputs]
    config = DEFAULT_CONFIG.model_copy(update={"version": "worked-example", "min_industry_sample": 3})
    results = by_id(compute_codes(units, YEAR, config))
    expected = _table("| unit | L |")
    assert len(inputs) == 9 and len(expected) == 6
    for name, intensity, industry, l_ind, k, grade, level, share, code in expected:
        got = results[name]
        assert got.provenance.industry is not None
        assert (got.intensity, f"{got.provenance.industry.level} {got.provenance.industry.code}",
                got.provenance.industry.intensity, got.efficiency, got.grade, got.level, got.neutrality_share,
                got.code) == (pytest.approx(float(intensity), abs=1e-6), industry,
                              pytest.approx(float(l_ind), abs=1e-6), pytest.approx(float(k), abs=1e-6), int(grade),
                              Level(level), pytest.approx(float(share), abs=1e-6), code), name
    assert {name: r.exclusion.reason for name, r in results.items() if r.exclusion is not None} == {
        "new-plant-p": ExclusionReason.NOT_IN_PRODUCTION, "waterworks-w": ExclusionReason.EXCLUDED_INDUSTRY,
        "sewage-s": ExclusionReason.EXCLUDED_INDUSTRY}
