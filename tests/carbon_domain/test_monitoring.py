"""Government monitoring rules: regions, industries, credit codes, units, tCO2/tce, indicators and anomalies.

tce figures reproduce GB/T 2589-2020's reference coefficients (METHODS.md section 10); tCO2 figures reproduce
METHODS.md section 1's worked example, computed through the same accounting code as the enterprise inventory.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from carbon_domain.accounting import emission_for_activity
from carbon_domain.factors import FactorLibrary
from carbon_domain.monitoring import (
    HIGH_ENERGY_INDUSTRIES,
    FigureCalculator,
    IndustryTable,
    MonitoringError,
    RegionTree,
    change,
    check_figure_rows,
    credit_code_problem,
    intensity,
    intensity_outliers,
    jump_anomalies,
    metered_monthly_figures,
    missing_month_anomalies,
    normalise_quantity,
    region_prefix,
    shares,
)

MAY = date(2024, 5, 1)


@pytest.mark.parametrize(("code", "prefix"), [("330000", "33"), ("330500", "3305"), ("330502", "330502")])
def test_region_prefix_strips_the_levels_below(code: str, prefix: str) -> None:
    assert region_prefix(code) == prefix


@pytest.mark.parametrize("code", ["33050", "3305021", "33O500", ""])
def test_region_code_that_is_not_six_digits_is_refused(code: str) -> None:
    with pytest.raises(MonitoringError, match="six digits"):
        region_prefix(code)


def test_shipped_region_tree_has_the_demo_prefecture_and_its_counties() -> None:
    tree = RegionTree.default()
    assert ([r.code for r in tree.children("330500")], tree.get("330500").parent,  # type: ignore[union-attr]
            [r.code for r in tree.ancestors("330522")]) == (
        ["330502", "330503", "330521", "330522", "330523"], "330000", ["330500", "330000"])


def test_region_label_resolves_to_its_code() -> None:
    assert RegionTree.default().resolve("CN-ZJ-HU").code == "330500"  # type: ignore[union-attr]


def test_full_code_list_loads_with_levels_and_parents_from_the_codes() -> None:
    text = "330000\t浙江省\n330500\t湖州市\n330522\t长兴县\n429004\t仙桃市\n420000\t湖北省\n"
    tree = RegionTree.from_code_list(text)
    assert [(r.code, r.level, r.parent) for r in sorted(tree, key=lambda r: r.code)] == [
        ("330000", 1, None), ("330500", 2, "330000"), ("330522", 3, "330500"),
        ("420000", 1, None), ("429004", 3, "420000")]


def test_code_list_with_a_bad_code_names_the_record() -> None:
    with pytest.raises(MonitoringError, match="record 2: region code '3305' is not a GB/T 2260 code"):
        RegionTree.from_code_list("330000,浙江省\n3305,湖州市\n")


def test_shipped_industries_cover_twenty_classes_and_flag_all_eight_high_energy_industries() -> None:
    table = IndustryTable.default()
    groups = [c for c in table if c.level == "group"]
    assert (len(groups) >= 20, sorted({c.high_energy for c in table if c.high_energy})) == (
        True, sorted(HIGH_ENERGY_INDUSTRIES))


@pytest.mark.parametrize(("code", "flag"), [("313", "steel"), ("441", "power"), ("301", "building_materials"),
                                             ("222", "paper"), ("561", "aviation"), ("321", "non_ferrous"),
                                             ("251", "petrochemicals"), ("261", "chemicals"), ("171", None)])
def test_industry_class_carries_its_own_or_inherited_high_energy_flag(code: str, flag: str | None) -> None:
    assert IndustryTable.default().get(code).high_energy == flag  # type: ignore[union-attr]


def test_industry_with_an_unknown_high_energy_flag_is_refused() -> None:
    text = "code,level,parent,name,name_en,high_energy\nC,section,,制造业,Manufacturing,cement\n"
    with pytest.raises(MonitoringError, match="high_energy 'cement' is not one of"):
        IndustryTable.from_csv(text)


# Published codes of real organisations and GB 32100's own sample pass; one changed character fails.
@pytest.mark.parametrize(("code", "valid"), [
    ("91350100M000100Y43", True), ("914403001922038216", True), ("91330100716105852F", True),
    ("91330100716105852G", False), ("91330100716105852", False), ("91330100716105852I", False),
])
def test_credit_code_check_character(code: str, valid: bool) -> None:
    assert (credit_code_problem(code) is None) is valid


@pytest.mark.parametrize(("item", "quantity", "unit", "expected"), [
    ("electricity", 100, "1e4kWh", (1000.0, "MWh")),
    ("electricity", 2_000_000, "kWh", (2000.0, "MWh")),
    ("coal", 5, "kt", (5000.0, "t")),
    ("natural_gas", 50, "万立方米", (50.0, "1e4Nm3")),
    ("heat", 1000, "MJ", (1.0, "GJ")),
    ("other", 500, "kgce", (0.5, "tce")),
    ("value_added", 3, "亿元", (30000.0, "1e4CNY")),
    ("main_product", 1200, "t", (1200, "t")),
])
def test_quantity_is_converted_to_the_items_storage_unit(item: str, quantity: float, unit: str,
                                                         expected: tuple[float, str]) -> None:
    value, stored = normalise_quantity(item, quantity, unit)
    assert (pytest.approx(value), stored) == expected


@pytest.mark.parametrize(("item", "quantity", "unit", "message"), [
    ("coal", 10, "kWh", "unit 'kWh' does not fit coal: it is reported as mass"),
    ("electricity", -1, "MWh", "negative"),
    ("value_added", 1, "t", "does not fit value_added"),
    ("steam", 1, "t", "unknown item 'steam'"),
])
def test_bad_quantity_or_unit_is_refused_with_the_reason(item: str, quantity: float, unit: str, message: str) -> None:
    with pytest.raises(MonitoringError, match=message):
        normalise_quantity(item, quantity, unit)


@pytest.mark.parametrize(("energy", "quantity", "tce"), [
    ("coal", 1000.0, 714.3),  # raw coal 0.7143 kgce/kg
    ("oil", 100.0, 145.71),  # diesel 1.4571 kgce/kg
    ("natural_gas", 50.0, 607.15),  # 1.2143 kgce/m3 [check]
    ("heat", 1000.0, 34.12),  # 0.03412 kgce/MJ
    ("electricity", 2000.0, 245.8),  # calorific equivalent 0.1229 kgce/kWh
    ("other", 12.5, 12.5),
])
def test_tce_follows_gbt_2589_reference_coefficients(energy: str, quantity: float, tce: float) -> None:
    assert FigureCalculator(FactorLibrary.default()).energy(energy, quantity, MAY).tce == pytest.approx(tce)


@pytest.mark.parametrize(("energy", "activity", "quantity", "unit"), [
    ("natural_gas", "natural_gas", 50.0, "1e4Nm3"),
    ("electricity", "electricity", 2000.0, "MWh"),
    ("heat", "heat", 1000.0, "GJ"),
    ("coal", "bituminous_coal", 800.0, "t"),
    ("oil", "diesel", 30.0, "t"),
])
def test_co2_is_the_enterprise_inventorys_number(energy: str, activity: str, quantity: float, unit: str) -> None:
    library = FactorLibrary.default()
    expected = emission_for_activity(activity, quantity, unit, datetime(2024, 5, 1, 4, tzinfo=UTC), library)
    figure = FigureCalculator(library).energy(energy, quantity, MAY)
    assert (figure.tco2, figure.factor_ids[:-1]) == (pytest.approx(expected.tco2, rel=1e-12), expected.factor_ids)


def test_methods_worked_example_month_totals_2252_3_t() -> None:
    calc = FigureCalculator(FactorLibrary.default())
    total = sum(calc.energy(e, q, date(2026, 6, 1)).tco2
                for e, q in (("natural_gas", 50.0), ("electricity", 2000.0), ("heat", 1000.0)))
    assert round(total, 1) == 2252.3


def test_each_figure_names_its_co2_and_tce_factor_rows() -> None:
    figure = FigureCalculator(FactorLibrary.default()).energy("electricity", 1.0, date(2024, 1, 1))
    assert figure.factor_ids == ("grid.cn.national_average@2023", "tce.electricity_calorific@gbt2589-2020")


@pytest.mark.parametrize(("amount", "value_added", "expected"), [(120.0, 40.0, 3.0), (1.0, 0.0, None), (1.0, None, None)])
def test_intensity_per_ten_thousand_yuan(amount: float, value_added: float | None, expected: float | None) -> None:
    assert intensity(amount, value_added) == expected


@pytest.mark.parametrize(("now", "before", "expected"), [(110.0, 100.0, 0.1), (90.0, 100.0, -0.1), (5.0, 0.0, None),
                                                         (None, 1.0, None)])
def test_change_is_relative_to_the_earlier_period(now: float | None, before: float | None,
                                                  expected: float | None) -> None:
    assert change(now, before) == (pytest.approx(expected) if expected is not None else None)


def test_shares_add_up_to_one() -> None:
    assert shares({"coal": 3.0, "electricity": 1.0}) == {"coal": 0.75, "electricity": 0.25}


def _months(values: list[float], start: date = date(2024, 1, 1)) -> dict[date, float]:
    return {date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1): v
            for i, v in enumerate(values)}


def test_month_far_above_the_units_own_history_is_a_jump() -> None:
    found = jump_anomalies(_months([100, 104, 98, 101, 260, 99]))
    assert [(a.month, a.reference) for a in found] == [(date(2024, 5, 1), 100.5)]


def test_steady_months_raise_no_jump() -> None:
    assert jump_anomalies(_months([100, 110, 95, 105, 120, 90])) == []


def test_months_without_figures_up_to_the_expected_month_are_missing() -> None:
    found = missing_month_anomalies([date(2024, 1, 1), date(2024, 2, 1), date(2024, 4, 1)], through=date(2024, 6, 1))
    assert [a.month for a in found] == [date(2024, 3, 1), date(2024, 5, 1), date(2024, 6, 1)]


def test_unit_far_outside_its_industrys_intensities_is_an_outlier() -> None:
    peers = {"a": 1.0, "b": 1.1, "c": 0.9, "d": 1.05, "e": 0.95, "f": 6.0}
    assert [unit for unit, _ in intensity_outliers(peers, month=MAY)] == ["f"]


def test_near_identical_peers_do_not_make_a_rounding_difference_an_outlier() -> None:
    peers = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0, "e": 1.0, "f": 1.001}
    assert intensity_outliers(peers, month=MAY) == []


def test_too_few_peers_give_no_intensity_outlier() -> None:
    assert intensity_outliers({"a": 1.0, "b": 9.0, "c": 1.1}, month=MAY) == []


_HEADER = ["credit_code", "unit_name", "region_code", "industry_code", "month", "item", "quantity", "unit"]
_OK = "91350100M000100Y43"


def _check(*lines: list[object]) -> tuple[list[object], list[tuple[int, str]]]:
    rows = [(1, _HEADER), *((n, cells) for n, cells in enumerate(lines, start=2))]
    good, problems = check_figure_rows(rows, regions=RegionTree.default(), industries=IndustryTable.default())
    return good, [(p.line, p.field) for p in problems]


@pytest.mark.parametrize(("cells", "problem"), [
    ([_OK, "X", "999999", "313", "2025-01", "coal", "1", "t"], (2, "region_code")),
    ([_OK, "X", "330502", "9999", "2025-01", "coal", "1", "t"], (2, "industry_code")),
    ([_OK, "X", "330502", "313", "2025-01", "coal", "-5", "t"], (2, "quantity")),
    ([_OK, "X", "330502", "313", "2025-01", "coal", "5", "kWh"], (2, "unit")),
    ([_OK, "X", "330502", "313", "2025-13", "coal", "5", "t"], (2, "month")),
    (["91350100M000100Y44", "X", "330502", "313", "2025-01", "coal", "5", "t"], (2, "credit_code")),
])
def test_bad_line_is_refused_with_its_line_number_and_field(cells: list[object], problem: tuple[int, str]) -> None:
    assert _check(cells) == ([], [problem])


def test_duplicate_line_is_refused_naming_the_line_it_repeats() -> None:
    line = [_OK, "X", "330502", "313", "2025-01", "coal", "5", "t"]
    good, problems = _check(line, line)
    assert (len(good), problems) == (1, [(3, "item")])


def test_file_without_required_columns_names_them() -> None:
    _, problems = check_figure_rows([(1, ["credit_code", "month"])], regions=RegionTree.default(),
                                    industries=IndustryTable.default())
    assert "missing column(s) item, quantity, unit" in problems[0].reason


@pytest.mark.parametrize(("aggregates", "expected", "left_out"), [
    ([("2026-03", "electricity", 2500.0, "kWh")], [("2026-03", "electricity", 2.5)], []),
    ([("2026-03", "bituminous_coal", 10.0, "t"), ("2026-03", "coke", 4.0, "t")], [("2026-03", "coal", 14.0)], []),
    ([("2026-03", "blast_furnace_gas", 50.0, "1e4Nm3"), ("2026-04", "heat", 7.0, "GJ")],
     [("2026-04", "heat", 7.0)], ["blast_furnace_gas"]),
    ([("2026-03", "production:steel", 900.0, "t")], [], ["production:steel"]),
])
def test_metered_monthly_figures_map_activities_to_energy_types(
        aggregates: list[tuple[str, str, float, str]], expected: list[tuple[str, str, float]],
        left_out: list[str]) -> None:
    figures, skipped = metered_monthly_figures(aggregates)
    assert ([(f"{f.month:%Y-%m}", f.item, f.quantity) for f in figures], skipped) == (expected, left_out)
