"""The inventory document without the database: which lines count, and inputs no plant can produce."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.reports.document import (
    EnteredLine,
    Enterprise,
    MeteredAggregate,
    Site,
    build_document,
)
from carbon_domain.reports.errors import InventoryDataError

AT = datetime(2025, 2, 3, tzinfo=UTC)
WORKS = Enterprise("e-doc", "Doc works", "CN-ZJ", sites=(Site("s1", "S1", "zhejiang"), Site("s2", "S2", "zhejiang")))


def _build(entered: list[EnteredLine], metered: list[MeteredAggregate], **options: object) -> dict[str, object]:
    return build_document(enterprise=WORKS, year=2025, month=None, entered=entered, metered=metered,
                          library=FactorLibrary.default(), series="ndrc-steel-2013", **options)  # type: ignore[arg-type]


def _grid(version: int, line: int, mwh: float, period: str = "2025-01") -> EnteredLine:
    return EnteredLine(version, AT, line, period, "rolling", "electricity", "grid", mwh, "MWh", "in", "measured")


def test_the_newest_version_of_a_key_counts_and_the_rest_is_listed() -> None:
    document = _build([_grid(1, 1, 100), _grid(1, 2, 50), _grid(2, 1, 120), _grid(1, 3, 10, "2025-02")], [])
    assert [(line["period"], line["quantity"], line["version"]) for line in document["lines"]] == [
        ("2025-01", 120.0, 2), ("2025-02", 10.0, 1)]
    assert [(s["version"], s["line"], s["replaced_by_version"]) for s in document["superseded"]] == [(1, 1, 2),
                                                                                                     (1, 2, 2)]


def test_metered_data_fill_keys_without_entered_lines_and_are_compared_where_both_exist() -> None:
    metered = [MeteredAggregate("2025-01", "rolling", "electricity", 130.0, "MWh", 744, 0, AT),
               MeteredAggregate("2025-01", "rolling", "natural_gas", 10.0, "1e4Nm3", 744, 3, AT)]
    document = _build([_grid(1, 1, 100)], metered)
    assert [(line["item"], line["data_source"]) for line in document["lines"]] == [("natural_gas", "metered"),
                                                                                   ("grid", "entered")]
    assert [(r["metered"], r["entered"], r["relative"]) for r in document["reconciliation"]] == [(130.0, 100.0, 0.3)]
    assert {f["code"] for f in document["findings"]} == {"metered_vs_entered", "metered_quality"}
    metered_basis = _build([_grid(1, 1, 100)], metered, basis="metered")
    assert [line["quantity"] for line in metered_basis["lines"] if line["item"] == "grid"] == [130.0]


def test_figures_that_overflow_are_refused() -> None:
    huge = [MeteredAggregate("2025-01", process, "electricity", 1e308, "MWh", 1) for process in ("a", "b", "c", "d")]
    with pytest.raises(InventoryDataError, match="cannot be totalled|overflows|beyond any real plant"):
        _build([], huge)
    with pytest.raises(InventoryDataError, match="too large to convert"):
        _build([EnteredLine(1, AT, 1, "2025-01", "rolling", "electricity", "grid", 1e308, "GWh", "in",
                            "measured")], [])


def test_a_bad_tolerance_is_refused() -> None:
    with pytest.raises(InventoryDataError, match="tolerance"):
        _build([], [], tolerance=0.0)


# --- 数据交叉核对: entered energy against metered totals of the same period, over processes and sites ------

def _meter(period: str, mwh: float, process: str = "steelmaking_eaf", site: str | None = None) -> MeteredAggregate:
    return MeteredAggregate(period, process, "electricity", mwh, "MWh", 720, 0, AT, site)


def test_an_entered_month_is_cross_checked_with_the_metered_month_over_all_processes() -> None:
    # entered under auxiliary, metered under steelmaking_eaf at two sites: no per-process comparison, the
    # enterprise totals still meet
    metered = [_meter("2025-01", 2_000, site="s1"), _meter("2025-01", 1_720, site="s2")]
    document = _build([_grid(1, 1, 3_000, "2025-01")], metered)
    [entry] = document["cross_check"]
    assert (entry["period"], entry["entered"], entry["metered"], entry["difference"], entry["relative"]) == (
        "2025-01", 3_000.0, 3_720.0, 720.0, 0.24)
    [finding] = [f for f in document["findings"] if f["code"] == "cross_check"]
    assert finding["message"] == ("grid (electricity, in) in 2025-01: entered 3,000.000 MWh, metered 3,720.000 MWh, "
                                  "difference +720.000 (+24.0%), beyond the 5% tolerance")
    assert (finding["lines"], finding["sources"]) == ([1], ["entered version 1 line 1"])


def test_an_entered_year_is_cross_checked_only_when_meters_cover_its_twelve_months() -> None:
    year = [_meter(f"2025-{m:02d}", 100) for m in range(1, 13)]
    checked = _build([_grid(1, 4, 1_000, "2025")], year)["cross_check"]
    assert [(e["period"], e["entered"], e["metered"], e["exceeds_tolerance"]) for e in checked] == [
        ("2025", 1_000.0, 1_200.0, True)]
    partial = _build([_grid(1, 4, 1_000, "2025")], year[:2])["cross_check"]
    assert [(e["metered"], e["note"]) for e in partial] == [(None, "meters cover 2 of 12 months of 2025: not compared")]


def test_a_difference_within_tolerance_or_already_compared_by_process_is_no_cross_check_finding() -> None:
    within = _build([_grid(1, 1, 3_600, "2025-01")], [_meter("2025-01", 3_700, process="rolling")])
    assert "cross_check" not in {f["code"] for f in within["findings"]}
    same_process = _build([_grid(1, 1, 3_000, "2025-01")], [_meter("2025-01", 3_720, process="rolling")])
    assert same_process["cross_check"][0]["compared_by_process"]
    assert [f["code"] for f in same_process["findings"]] == ["metered_vs_entered"]


def test_finding_lines_are_the_uploaded_files_own_line_numbers() -> None:
    # lines 7 and 9 of version 2 (an uploaded file, header = line 1) export more than was bought; the
    # document numbers them 1 and 2, the finding names the file's 7 and 9
    entered = [EnteredLine(2, AT, 7, "2025-01", "auxiliary", "electricity", "grid", 100, "MWh", "in", "measured"),
               EnteredLine(2, AT, 9, "2025-01", "auxiliary", "electricity", "grid", 150, "MWh", "out", "estimated")]
    document = _build(entered, [])
    [net] = [f for f in document["findings"] if f["code"] == "negative_net"]
    assert (net["lines"], net["sources"]) == ([7, 9], ["entered version 2 line 7", "entered version 2 line 9"])
    [estimated] = [f for f in document["findings"] if f["code"] == "estimated_data"]
    assert estimated["lines"] == [9]


def test_each_site_is_named_with_the_electricity_factor_used_for_it() -> None:
    works = Enterprise("e-two", "Two sites", "CN", sites=(Site("hz", "Hangzhou", "zhejiang"),
                                                          Site("cd", "Chengdu", "sichuan")))
    entered = [EnteredLine(1, AT, n, "2025-01", "rolling", "electricity", "grid", 1_000, "MWh", "in", "measured",
                           site) for n, site in ((1, "hz"), (2, "cd"), (3, None))]
    document = build_document(enterprise=works, year=2025, month=None, entered=entered, metered=[],
                              library=FactorLibrary.default(), series="ndrc-steel-2013")
    assert [(g["site_id"], g["factor_id"], g["step"]) for g in document["grid_factors"]] == [
        (None, "grid.cn.national_average@2023", "national"),  # no site named; the two sites share no grid
        ("cd", "grid.province.sichuan@2023", "province"), ("hz", "grid.province.zhejiang@2023", "province")]
    assert round(document["total_tco2"], 1) == round(1_000 * (0.5306 + 0.1564 + 0.4974), 1)
