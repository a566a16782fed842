"""The inventory document without the database: which lines count, and inputs no plant can produce."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.reports.document import EnteredLine, Enterprise, MeteredAggregate, build_document
from carbon_domain.reports.errors import InventoryDataError

AT = datetime(2025, 2, 3, tzinfo=UTC)
WORKS = Enterprise("e-doc", "Doc works", "CN-ZJ")


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
