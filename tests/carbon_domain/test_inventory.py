"""Inventory: METHODS.md sections 1 and 2 (GB/T 32150-2015, GB/T 32151.5-2015) through compute_inventory."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from carbon_domain.factors import FactorLibrary, FactorRow, Scope
from carbon_domain.grid import GridLocation
from carbon_domain.inventory import (
    ActivityDataError,
    ActivityLine,
    Direction,
    FindingCode,
    Inventory,
    SourceType,
    compute_inventory,
)

STEEL = "ndrc-steel-2013"


def _line(**overrides: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "period": "2024-05",
        "process": "rolling",
        "source_type": "combustion",
        "item": "natural_gas",
        "quantity": 50,
        "unit": "1e4Nm3",
        "direction": "in",
    }
    return {**line, **overrides}


def _gas(quantity: float, unit: str = "1e4Nm3", **overrides: Any) -> dict[str, Any]:
    return _line(quantity=quantity, unit=unit, **overrides)


def _elec(quantity: float, direction: str = "in", unit: str = "MWh", **overrides: Any) -> dict[str, Any]:
    return _line(source_type="electricity", item="grid", quantity=quantity, unit=unit, direction=direction, **overrides)


def _heat(quantity: float, direction: str = "in", unit: str = "GJ", **overrides: Any) -> dict[str, Any]:
    return _line(source_type="heat", item="heat", quantity=quantity, unit=unit, direction=direction, **overrides)


def _material(source_type: str, item: str, tonnes: float, direction: str, **overrides: Any) -> dict[str, Any]:
    return _line(source_type=source_type, item=item, quantity=tonnes, unit="t", direction=direction, **overrides)


def _compute(lines: list[dict[str, Any]], **options: Any) -> Inventory:
    return compute_inventory(lines, FactorLibrary.default(), **{"series": STEEL, **options})


# --- METHODS section 1 worked example (one month, light-industry plant) ----------------------

WORKED_EXAMPLE = [_gas(500_000, "Nm3"), _elec(2_000), _heat(1_000)]

WORKED_EXAMPLE_FIGURES = [
    ("combustion", 1_081.1),
    ("process", 0.0),
    ("electricity", 1_061.2),
    ("heat", 110.0),
    ("fixed_carbon", 0.0),
]


@pytest.mark.parametrize(("source", "expected"), WORKED_EXAMPLE_FIGURES)
def test_worked_example_source_totals_match_methods_section_1(source: str, expected: float) -> None:
    assert round(_compute(WORKED_EXAMPLE).by_source[SourceType(source)], 1) == expected


def test_worked_example_total_is_2252_3_t() -> None:
    assert round(_compute(WORKED_EXAMPLE).total_tco2, 1) == 2_252.3


def test_worked_example_total_records_the_inventory_formula() -> None:
    assert _compute(WORKED_EXAMPLE).total.formula == "inventory/gbt32150-2015"


# --- one line, hand-computed from the formulas and METHODS section 2 tables ------------------

# coke: 1,000 t × 28.447 GJ/t × 29.50 tC/TJ × 0.93 × 44/12 = 2,861.6 t
# blast-furnace gas: 100 ×10^4 Nm3 × 33.00 × 70.80 × 0.99 × 44/12 = 848.1 t
# converter gas: 100 ×10^4 Nm3 × 84.00 × 49.60 × 0.99 × 44/12 = 1,512.4 t
# diesel: 300,000 kg = 300 t × 42.652 × 20.20 × 0.98 × 44/12 = 928.8 t
SINGLE_LINES = [
    (_gas(50), 1_081.1),
    (_gas(500_000, "Nm3"), 1_081.1),
    (_material("combustion", "coke", 1_000, "in"), 2_861.6),
    (_line(item="blast_furnace_gas", quantity=100), 848.1),
    (_line(item="converter_gas", quantity=1_000_000, unit="Nm3"), 1_512.4),
    (_line(item="diesel", quantity=300_000, unit="kg"), 928.8),
    (_material("process", "limestone", 1_000, "in"), 440.0),
    (_material("process", "dolomite", 2_000, "in"), 942.0),
    (_material("process", "electrode", 40, "in"), 146.5),
    (_line(source_type="process", item="limestone", quantity=1_000_000, unit="kg"), 440.0),
    (_material("fixed_carbon", "crude_steel", 10_000, "out"), -154.0),
    (_elec(2_000_000, unit="kWh"), 1_061.2),
    (_elec(500, "out"), -265.3),
    (_heat(1_000_000, unit="MJ"), 110.0),
    (_heat(5_000, "out"), -550.0),
]


@pytest.mark.parametrize(("line", "expected"), SINGLE_LINES)
def test_single_line_contributes_hand_computed_tco2(line: dict[str, Any], expected: float) -> None:
    assert round(_compute([line]).total_tco2, 1) == expected


# --- steel works: E = combustion + process + electricity + heat − fixed carbon ---------------

STEEL_WORKS = [
    _material("combustion", "coke", 1_000, "in", process="ironmaking"),
    _material("process", "limestone", 1_000, "in", process="sintering"),
    _elec(1_000, process="steelmaking_eaf"),
    _elec(200, "out", process="auxiliary"),
    _heat(100, process="auxiliary"),
    _material("fixed_carbon", "crude_steel", 10_000, "out", process="steelmaking_bof"),
]

# 2,861.6 + 440.0 + (1,000 − 200) × 0.5306 + 100 × 0.11 − 10,000 × 0.0154
STEEL_FIGURES = [
    ("combustion", 2_861.6),
    ("process", 440.0),
    ("electricity", 424.5),
    ("heat", 11.0),
    ("fixed_carbon", -154.0),
]


@pytest.mark.parametrize(("source", "expected"), STEEL_FIGURES)
def test_steel_works_source_totals_net_exports_and_report_fixed_carbon_as_negative(source: str, expected: float) -> None:
    assert round(_compute(STEEL_WORKS).by_source[SourceType(source)], 1) == expected


def test_steel_works_total_subtracts_fixed_carbon_and_exported_electricity() -> None:
    assert round(_compute(STEEL_WORKS).total_tco2, 1) == 3_583.1


STEEL_PROCESS_FIGURES = [
    ("sintering", 440.0),
    ("ironmaking", 2_861.6),
    ("steelmaking_bof", -154.0),
    ("steelmaking_eaf", 530.6),
    ("auxiliary", -95.1),
]


@pytest.mark.parametrize(("process", "expected"), STEEL_PROCESS_FIGURES)
def test_steel_works_by_process_sums_signed_contributions(process: str, expected: float) -> None:
    assert round(_compute(STEEL_WORKS).by_process[process], 1) == expected


def test_by_process_lists_steel_processes_in_production_order() -> None:
    assert list(_compute(STEEL_WORKS).by_process) == [
        "sintering",
        "ironmaking",
        "steelmaking_bof",
        "steelmaking_eaf",
        "auxiliary",
    ]


def test_by_period_sums_each_month() -> None:
    inventory = _compute([_gas(50, period="2024-05"), _gas(50, period="2024-06"), _heat(1_000, period="2024-06")])
    assert {period: round(value, 1) for period, value in inventory.by_period.items()} == {
        "2024-05": 1_081.1,
        "2024-06": 1_191.1,
    }


# --- traceability --------------------------------------------------------------------------------

TRACE = [
    (
        _gas(500_000, "Nm3"),
        {
            "quantity": 50.0,
            "unit": "1e4Nm3",
            "factor_ids": (
                "fuel.natural_gas.ncv@ndrc-steel-2013",
                "fuel.natural_gas.cc@ndrc-steel-2013",
                "fuel.natural_gas.of@ndrc-steel-2013",
            ),
            "formula": "combustion/gbt32150-2015@2025.1",
        },
    ),
    (
        _material("process", "limestone", 1_000, "in"),
        {"unit": "t", "factor_ids": ("process.limestone@ndrc-steel-2013",), "formula": "process/gbt32151.5-2015@2025.1"},
    ),
    (
        _material("fixed_carbon", "crude_steel", 10_000, "out"),
        {"factor_ids": ("fixed.crude_steel@ndrc-steel-2013",), "formula": "fixed-carbon/gbt32151.5-2015@2025.1"},
    ),
    (_elec(2_000_000, unit="kWh"), {"quantity": 2_000.0, "unit": "MWh", "factor_ids": ("grid.cn.national_average@2023",)}),
    (_heat(1_000_000, unit="MJ"), {"quantity": 1_000.0, "unit": "GJ", "factor_ids": ("heat.default@heat-default",)}),
    (_elec(100, period="2022-07"), {"factor_ids": ("grid.cn.national_average@2022",)}),
]


@pytest.mark.parametrize(("line", "expected"), TRACE)
def test_each_line_records_converted_quantity_factor_rows_and_formula(
    line: dict[str, Any], expected: dict[str, object]
) -> None:
    result = _compute([line]).lines[0]
    assert {field: getattr(result, field) for field in expected} == expected


def test_explicit_at_resolves_every_factor_at_that_time() -> None:
    inventory = _compute([_elec(100, period="2022-07")], at=datetime(2024, 1, 1, tzinfo=UTC))
    assert inventory.lines[0].factor_ids == ("grid.cn.national_average@2023",)


def test_line_numbers_default_to_positions_and_keep_given_numbers() -> None:
    inventory = _compute([_gas(1), {**_gas(2), "line": 40}, ActivityLine.model_validate(_gas(3))])
    assert [line.line for line in inventory.lines] == [1, 40, 3]


def _general_industry_with_coke_oven_gas_of() -> FactorLibrary:
    return FactorLibrary.default().with_row(
        FactorRow(
            factor_id="fuel.coke_oven_gas.of@general-industry.test",
            key="fuel.coke_oven_gas.of",
            value=0.99,
            unit="fraction",
            scope=Scope.NATIONAL,
            scope_id="cn",
            valid_from=date(2013, 1, 1),
            series="general-industry",
            source="test row",
        )
    )


def test_general_industry_series_uses_its_own_ncv_and_cc_once_complete() -> None:
    # 100 ×10^4 Nm3 × 173.854 GJ × 13.6 tC/TJ × 0.99 × 44/12 = 858.3 t (NDRC series would give 762.3 t)
    inventory = compute_inventory(
        [_line(item="coke_oven_gas", quantity=100)], _general_industry_with_coke_oven_gas_of(), series="general-industry"
    )
    assert round(inventory.total_tco2, 1) == 858.3


def test_series_is_never_mixed_when_a_fuel_parameter_is_missing() -> None:
    with pytest.raises(ActivityDataError, match="series 'general-industry' has no factor 'fuel.coke_oven_gas.of'"):
        _compute([_line(item="coke_oven_gas", quantity=100)], series="general-industry")


# --- errors name the line ------------------------------------------------------------------------

BAD_LINES = [
    (_line(item="cokes"), "unknown fuel 'cokes' in series 'ndrc-steel-2013'"),
    (_line(unit="m3"), "cannot convert m3 to 1e4Nm3"),
    (_line(unit="kWh"), "cannot convert kWh to 1e4Nm3"),
    (_line(unit="furlong"), "unknown unit 'furlong'"),
    (_line(direction="sideways"), "direction: Input should be 'in' or 'out'"),
    (_line(direction="out"), "combustion lines are fuel burned, direction 'in'"),
    (_material("fixed_carbon", "crude_steel", 1, "in"), "fixed_carbon lines are products output or sold"),
    (_material("process", "limestone", 1, "out"), "process lines are materials consumed"),
    (_material("process", "quartz", 1, "in"), "unknown process material 'quartz'"),
    (_material("fixed_carbon", "rebar", 1, "out"), "unknown fixed-carbon product 'rebar'"),
    (_line(source_type="electricity", item="power", unit="MWh"), "electricity lines must have item 'grid'"),
    (_line(source_type="steam"), "source_type: Input should be"),
    (_line(quantity=-5), "an export is a line with direction 'out'"),
    (_line(period="2024/05"), "period: must be YYYY-MM or YYYY"),
    (_line(period="2024-13"), "period: must be YYYY-MM or YYYY"),
    (_line(item="Natural Gas"), "lower-case snake_case"),
    (_elec(1, period="2019-06"), "no factor 'grid.cn.national_average' valid at 2019-06-01"),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_LINES)
def test_bad_line_raises_domain_error_naming_its_line_number(bad: dict[str, Any], reason: str) -> None:
    with pytest.raises(ActivityDataError) as caught:
        _compute([_gas(1), _gas(1), bad])
    assert [(problem.line, reason in problem.reason) for problem in caught.value.problems] == [(3, True)]


def test_every_bad_line_is_listed_in_one_error() -> None:
    with pytest.raises(ActivityDataError) as caught:
        _compute([_line(item="cokes"), _gas(1), _line(unit="m3"), _line(direction="up")])
    assert [problem.line for problem in caught.value.problems] == [1, 3, 4]


def test_error_message_starts_with_the_line_number() -> None:
    with pytest.raises(ActivityDataError, match=r"^line 7: "):
        _compute([{**_line(item="cokes"), "line": 7}])


def test_unconfigured_process_is_refused_when_processes_are_given() -> None:
    with pytest.raises(ActivityDataError, match="line 1: process 'rolling' is not configured"):
        _compute([_gas(1)], processes=["sintering", "ironmaking"])


def test_configured_custom_process_name_is_accepted() -> None:
    assert list(_compute([_gas(1, process="lime_kiln")], processes=["lime_kiln"]).by_process) == ["lime_kiln"]


# --- verifier findings ---------------------------------------------------------------------------


def _months(quantities: list[float], make: Any = _gas, start: int = 1) -> list[dict[str, Any]]:
    return [make(quantity, period=f"2025-{start + index:02d}") for index, quantity in enumerate(quantities)]


FINDINGS = [
    (_months([100, 140]), {FindingCode.MONTH_ON_MONTH_JUMP: ["2025-02"]}),
    (_months([100, 125]), {}),
    (_months([100, 65]), {FindingCode.MONTH_ON_MONTH_JUMP: ["2025-02"]}),
    (_months([100, 130]), {}),
    (_months([0, 10]), {FindingCode.MONTH_ON_MONTH_JUMP: ["2025-02"]}),
    (_months([100, 100, 100, 200]), {FindingCode.MONTH_ON_MONTH_JUMP: ["2025-04"]}),
    (
        [_gas(100, period="2025-01"), _gas(100, period="2025-04")],
        {FindingCode.MISSING_MONTH: ["2025-02", "2025-03"]},
    ),
    (
        [*_months([100, 100, 100]), _heat(10, period="2025-01"), _heat(10, period="2025-03")],
        {FindingCode.MISSING_MONTH: ["2025-02"]},
    ),
    ([_elec(100), _elec(150, "out")], {FindingCode.NEGATIVE_NET: ["2024-05"]}),
    ([_heat(10), _heat(10, "out")], {}),
    ([_heat(10_000, "out", unit="MJ")], {FindingCode.NEGATIVE_NET: ["2024-05"]}),
    ([_gas(100, period="2024"), _gas(400, period="2025")], {}),
]


@pytest.mark.parametrize(("lines", "expected"), FINDINGS)
def test_verifier_reports_jumps_missing_months_and_negative_nets(
    lines: list[dict[str, Any]], expected: dict[FindingCode, list[str]]
) -> None:
    found: dict[FindingCode, list[str]] = {}
    for finding in _compute(lines).findings:
        found.setdefault(finding.code, []).append(finding.period or "")
    assert found == expected


def test_jump_threshold_is_configurable() -> None:
    assert _compute(_months([100, 140]), jump_threshold=0.5).findings == ()


FINDING_MESSAGES = [
    (_months([100, 140]), "natural_gas (combustion, rolling, in): 2025-02 is +40.0% on 2025-01"),
    ([_gas(1, period="2025-01"), _gas(1, period="2025-03")], "no activity lines for 2025-02"),
    ([_elec(100), _elec(150, "out")], "electricity net for 2024-05 is -50.0 MWh (in 100.0, out 150.0)"),
]


@pytest.mark.parametrize(("lines", "message"), FINDING_MESSAGES)
def test_finding_messages_give_the_numbers(lines: list[dict[str, Any]], message: str) -> None:
    assert message in _compute(lines).findings[0].message


def test_negative_net_finding_names_the_lines() -> None:
    finding = _compute([_material("process", "limestone", 1, "in"), _elec(100), _elec(150, "out")]).findings[0]
    assert finding.lines == (2, 3)


def test_exporting_heat_made_from_fuel_burned_is_no_finding_and_subtracts() -> None:
    # METHODS section 1: E = ... + E_purchased_heat − E_exported_heat, whatever was purchased; the fuel that
    # made the heat is counted under combustion, so the export rightly subtracts and is not an error
    inventory = _compute([_gas(50), _heat(1_000, "out")])
    assert FindingCode.NEGATIVE_NET not in {f.code for f in inventory.findings}
    assert round(inventory.by_source[SourceType.HEAT], 1) == -110.0
    assert round(inventory.total_tco2, 1) == round(inventory.by_source[SourceType.COMBUSTION] - 110.0, 1)


def test_exporting_heat_with_nothing_bought_or_burned_is_a_negative_net_finding() -> None:
    [finding] = _compute([_material("process", "limestone", 1, "in"), _heat(1_000, "out")]).findings
    assert finding.code is FindingCode.NEGATIVE_NET and "no fuel burned in 2024" in finding.message


def test_findings_do_not_stop_the_computation() -> None:
    inventory = _compute([_elec(100), _elec(150, "out")])
    assert (round(inventory.total_tco2, 1), len(inventory.findings)) == (-26.5, 1)


def test_direction_and_source_enums_accept_their_csv_spellings() -> None:
    line = ActivityLine.model_validate(_material("fixed_carbon", "crude_steel", 1, "out"))
    assert (line.source_type, line.direction) == (SourceType.FIXED_CARBON, Direction.OUT)


def test_provincial_grid_factor_is_used_for_a_location_in_its_province() -> None:
    # 1,000 MWh × 0.4974 (Zhejiang 2023) = 497.4 t
    inventory = _compute([_elec(1_000, period="2025-01")], location=GridLocation(province="zhejiang"))
    assert (round(inventory.total_tco2, 1), inventory.lines[0].factor_ids) == (497.4, ("grid.province.zhejiang@2023",))
    assert inventory.lines[0].factor_step == "province" and inventory.grid_series == "enterprise"


def test_each_site_of_a_line_takes_its_own_electricity_factor() -> None:
    sites = {"hz": GridLocation("e1", "zhejiang", site_id="hz"), "cd": GridLocation("e1", "sichuan", site_id="cd")}
    inventory = _compute([_elec(1_000, period="2025-01", site="hz"), _elec(1_000, period="2025-01", site="cd")],
                         locations=sites)
    assert [(line.site, line.factor_ids[0]) for line in inventory.lines] == [
        ("hz", "grid.province.zhejiang@2023"), ("cd", "grid.province.sichuan@2023")]
    assert "site cd in province sichuan" in (inventory.lines[1].factor_reason or "")


def test_a_line_naming_a_site_the_enterprise_does_not_have_is_a_bad_line() -> None:
    with pytest.raises(ActivityDataError, match=r"line 1: site 'xx' is not a site of this enterprise \(its sites: hz\)"):
        _compute([_elec(1, site="xx")], locations={"hz": GridLocation("e1", "zhejiang", site_id="hz")})


def test_any_line_naming_a_site_the_enterprise_does_not_have_is_a_bad_line() -> None:
    with pytest.raises(ActivityDataError, match=r"line 1: site 'xx' is not a site of this enterprise"):
        _compute([_gas(1, site="xx")], locations={"hz": GridLocation("e1", "zhejiang", site_id="hz")})
