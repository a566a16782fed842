"""docs/accounting.md's worked inventory with a provincial and the carbon-market factor: every figure in its
table is what `compute_inventory` gives for the CSV shown above the table."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.grid import GridLocation
from carbon_domain.inventory import SourceType, compute_inventory

DOC = Path(__file__).resolve().parents[2] / "docs" / "accounting.md"
SECTION = DOC.read_text(encoding="utf-8").split("### Worked example: one inventory, two electricity factors")[1]
LINES = list(csv.DictReader(io.StringIO(SECTION.split("```csv\n")[1].split("```")[0])))
ROWS = re.findall(r"^\| `([a-z-]+)`[^|]*\| `([^`]+)` \| ([\d.]+) \| ([\d,.]+) \| ([\d,.]+) \|$", SECTION, re.MULTILINE)


def test_the_worked_example_shows_a_provincial_and_the_carbon_market_factor() -> None:
    assert {(series, factor_id) for series, factor_id, *_ in ROWS} >= {
        ("enterprise", "grid.province.zhejiang@2023"), ("carbon-market", "grid.cn.carbon_market@2022")}


@pytest.mark.parametrize(("series", "factor_id", "value", "electricity", "total"), ROWS)
def test_each_row_of_the_worked_example_is_what_the_code_computes(
        series: str, factor_id: str, value: str, electricity: str, total: str) -> None:
    inventory = compute_inventory(LINES, FactorLibrary.default(), series="ndrc-steel-2013", grid_series=series,
                                  location=GridLocation(province="zhejiang"))
    [grid] = [line for line in inventory.lines if line.source_type is SourceType.ELECTRICITY]
    assert grid.factor_ids == (factor_id,)
    values = {row.factor_id: row.value for row in FactorLibrary.default().rows()}
    shown = (values[factor_id], f"{inventory.by_source[SourceType.ELECTRICITY]:,.1f}", f"{inventory.total_tco2:,.1f}")
    assert shown == (float(value), electricity, total)
