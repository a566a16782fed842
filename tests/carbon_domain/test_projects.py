"""Reduction projects (carbon_domain/projects.py): ER = BE - PE - LE per period, EF_CM from the library's margins,
the lifecycle per kind, and the worked PV example of docs/projects.md."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from carbon_domain.errors import ProjectError
from carbon_domain.factors import FactorLibrary
from carbon_domain.monitoring import FigureCalculator
from carbon_domain.projects import (
    Activity,
    MeteredUse,
    PeriodInputs,
    ProjectKind,
    Stage,
    combined_margin,
    next_stages,
    period_reduction,
    two_high_actual,
    two_high_warnings,
)

JAN = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))


def test_docs_pv_worked_example_is_reproduced() -> None:
    """docs/projects.md: 212.15 MWh net on the East grid, 0.12 t diesel -> ER 146.1870 tCO2."""
    period = PeriodInputs(*JAN, net_generation_mwh=215.40 - 3.25, generation_source="export - import",
                          project_activities=[Activity("diesel", 0.12, "t", "point diesel")])
    result = period_reduction(ProjectKind.GRID_PV, "east", period)
    assert (round(result.ef_cm or 0, 6), round(result.be_tco2, 4), round(result.pe_tco2, 4),
            round(result.er_tco2, 4)) == (0.690825, 146.5585, 0.3715, 146.1870)
    assert set(result.factor_ids) == {"grid.margin.om.east@2019", "grid.margin.bm.east@2019",
                                      "fuel.diesel.ncv@ndrc-steel-2013", "fuel.diesel.cc@ndrc-steel-2013",
                                      "fuel.diesel.of@ndrc-steel-2013"}
    assert result.formula_version == "gbt33760-2017/er-v1"
    assert any("net_generation=212.15" in i for i in result.inputs)


@pytest.mark.parametrize(("kind", "region", "expected"), [
    (ProjectKind.GRID_PV, "east", 0.75 * 0.7921 + 0.25 * 0.3870),
    (ProjectKind.WIND, "north", 0.75 * 0.9419 + 0.25 * 0.4819),
    (ProjectKind.ENERGY_EFFICIENCY, "south", 0.5 * 0.8042 + 0.5 * 0.2135),
    (ProjectKind.CCER, "northwest", 0.5 * 0.8922 + 0.5 * 0.4407),
])
def test_combined_margin_weights_the_regional_margins_by_kind(kind: ProjectKind, region: str,
                                                              expected: float) -> None:
    assert combined_margin(kind, region, JAN[0], _library()).value == pytest.approx(expected)


def test_a_region_without_margins_is_an_error_naming_the_region() -> None:
    with pytest.raises(ProjectError, match="grid region 'southwest'"):
        combined_margin(ProjectKind.GRID_PV, "southwest", JAN[0], _library())


def test_fuel_switch_baseline_is_the_displaced_fuel_and_leakage_is_subtracted() -> None:
    period = PeriodInputs(*JAN, baseline_activities=[Activity("bituminous_coal", 100, "t", "coal bills")],
                          project_activities=[Activity("natural_gas", 5, "1e4Nm3", "gas meter")],
                          leakage_tco2=2.0, leakage_justification="upstream gas venting, 1 % estimate")
    result = period_reduction(ProjectKind.FUEL_SWITCH, "east", period)
    assert result.er_tco2 == pytest.approx(result.be_tco2 - result.pe_tco2 - 2.0)
    assert result.be_tco2 > result.pe_tco2 > 0 and result.ef_cm is None
    assert any("upstream gas venting" in i for i in result.inputs)


@pytest.mark.parametrize(("kind", "changes", "message"), [
    (ProjectKind.GRID_PV, {}, "give net_generation_mwh"),
    (ProjectKind.GRID_PV, {"net_generation_mwh": -1.0}, "is negative"),
    (ProjectKind.WIND, {"net_generation_mwh": 10.0, "leakage_tco2": 1.0}, "needs a justification"),
    (ProjectKind.WIND, {"net_generation_mwh": 10.0, "leakage_tco2": -1.0}, "leakage adds emissions"),
    (ProjectKind.ENERGY_EFFICIENCY, {"net_generation_mwh": 10.0}, "give baseline_activities"),
])
def test_period_inputs_the_method_cannot_take_are_refused_with_the_reason(
        kind: ProjectKind, changes: dict[str, float], message: str) -> None:
    with pytest.raises(ProjectError, match=message):
        period_reduction(kind, "east", PeriodInputs(*JAN, **changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "current", "expected"), [
    (ProjectKind.GRID_PV, Stage.INITIATED, (Stage.IMPLEMENTING,)),
    (ProjectKind.GRID_PV, Stage.ACCEPTED, (Stage.FILED,)),
    (ProjectKind.ENERGY_EFFICIENCY, Stage.ACCEPTED, ()),
    (ProjectKind.CCER, Stage.FILED, ()),
])
def test_lifecycle_moves_one_stage_and_files_only_credited_kinds(kind: ProjectKind, current: Stage,
                                                                 expected: tuple[Stage, ...]) -> None:
    assert next_stages(kind, current) == expected


def test_filed_is_not_a_stage_of_an_efficiency_project() -> None:
    with pytest.raises(ProjectError, match="not in the lifecycle"):
        next_stages(ProjectKind.ENERGY_EFFICIENCY, Stage.FILED)


def _library():  # type: ignore[no-untyped-def]
    from carbon_domain.factors import FactorLibrary
    return FactorLibrary.default()


@pytest.mark.parametrize(("approved", "actual", "expected"), [
    ((1000, 2500), (900, 2400), ()),
    ((1000, 2500), (1100, 2400), ("actual energy 1100 tce exceeds the approved 1000 tce (10.0% over)",)),
    ((1000, 2500), (1000, 2600), ("actual CO2 2600 tCO2 exceeds the approved 2500 tCO2 (4.0% over)",)),
    ((1000, None), (1200, 9999), ("actual energy 1200 tce exceeds the approved 1000 tce (20.0% over)",)),
    ((None, None), (1, 1), ()),
])
def test_two_high_warns_when_actual_exceeds_approved(approved: tuple[float | None, float | None],
                                                     actual: tuple[float | None, float | None],
                                                     expected: tuple[str, ...]) -> None:
    assert two_high_warnings(approved_tce=approved[0], approved_tco2=approved[1], actual_tce=actual[0],
                             actual_tco2=actual[1]) == expected


FIRST_OF_JANUARY = date(2025, 1, 1)


@pytest.mark.parametrize(("uses", "tce", "left_out"), [
    # GB/T 2589: electricity 0.1229 tce/MWh (calorific equivalent), diesel 1.4571 tce/t, natural gas 12.143 tce/1e4Nm3
    ([MeteredUse(FIRST_OF_JANUARY, "import", 1000, "MWh", "a")], 122.9, []),
    ([MeteredUse(FIRST_OF_JANUARY, "electricity", 500_000, "kWh", "a"), MeteredUse(FIRST_OF_JANUARY, "diesel", 10, "t", "b")],
     61.45 + 14.571, []),
    ([MeteredUse(FIRST_OF_JANUARY, "natural_gas", 2, "1e4Nm3", "a"), MeteredUse(FIRST_OF_JANUARY, "export", 90, "MWh", "pv")], 24.286,
     ["export (pv): not an energy use"]),
])
def test_two_high_actual_energy_uses_the_gbt2589_coefficients_of_the_metered_activities(
        uses: list[MeteredUse], tce: float, left_out: list[str]) -> None:
    got = two_high_actual(uses, FactorLibrary.default())
    assert (got.tce, list(got.left_out)) == (pytest.approx(tce), left_out)


def test_two_high_actual_co2_is_what_monitoring_computes_for_the_same_energy() -> None:
    library = FactorLibrary.default()
    got = two_high_actual([MeteredUse(FIRST_OF_JANUARY, "import", 1000, "MWh", "a")], library)
    assert got.tco2 == pytest.approx(FigureCalculator(library).energy("electricity", 1000, FIRST_OF_JANUARY).tco2)
