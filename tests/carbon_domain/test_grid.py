"""The electricity factor of a site: each series, and each step of the location precedence (METHODS section 3)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from carbon_domain.errors import FormulaInputError
from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary, FactorRow, Scope
from carbon_domain.grid import (
    DEFAULT_GRID_SERIES,
    GridLocation,
    GridSeries,
    choose_grid_factor,
    grid_series,
    shared_location,
)

JAN_2025 = datetime(2025, 1, 1, tzinfo=FACTOR_TIMEZONE)
JUN_2022 = datetime(2022, 6, 1, tzinfo=FACTOR_TIMEZONE)
ACME_OWN = FactorRow(factor_id="grid.enterprise@acme-2024", key="grid.enterprise", value=0.4123, unit="tCO2/MWh",
                     scope=Scope.ENTERPRISE, scope_id="acme", valid_from=date(2024, 1, 1), series="acme-contract",
                     source="green-power contract, test value")
LIBRARY = FactorLibrary.default().with_row(ACME_OWN)
ZHEJIANG = GridLocation("acme", "zhejiang", site_id="acme-hz")
INNER_MONGOLIA = GridLocation("acme", "inner_mongolia", site_id="acme-bt")  # two grids: no regional default
NOWHERE = GridLocation("acme", None, site_id="acme-x")

# (series, location, at) -> (factor_id, value, step): each precedence step and each series
CASES = [
    (GridSeries.ENTERPRISE, ZHEJIANG, JAN_2025, "grid.enterprise@acme-2024", 0.4123, "enterprise"),
    (GridSeries.ENTERPRISE, GridLocation("other", "zhejiang"), JAN_2025, "grid.province.zhejiang@2023", 0.4974,
     "province"),
    (GridSeries.ENTERPRISE, GridLocation("other", "zhejiang"), JUN_2022, "grid.region.east@2022", 0.5617, "region"),
    (GridSeries.ENTERPRISE, GridLocation("other", "hebei"), JAN_2025, "grid.region.north@2023", 0.6361, "region"),
    (GridSeries.ENTERPRISE, GridLocation("other", "inner_mongolia"), JAN_2025, "grid.cn.national_average@2023",
     0.5306, "national"),
    (GridSeries.ENTERPRISE, GridLocation("other", "inner_mongolia", "northeast"), JAN_2025,
     "grid.region.northeast@2023", 0.5122, "region"),
    (GridSeries.PROVINCE, ZHEJIANG, JAN_2025, "grid.province.zhejiang@2023", 0.4974, "province"),
    (GridSeries.PROVINCE, INNER_MONGOLIA, JAN_2025, "grid.cn.national_average@2023", 0.5306, "national"),
    (GridSeries.NATIONAL, ZHEJIANG, JAN_2025, "grid.cn.national_average@2023", 0.5306, "national"),
    (GridSeries.NATIONAL, ZHEJIANG, JUN_2022, "grid.cn.national_average@2022", 0.5366, "national"),
    (GridSeries.CARBON_MARKET, ZHEJIANG, JUN_2022, "grid.cn.carbon_market@2022", 0.5703, "carbon_market"),
]


@pytest.mark.parametrize(("series", "location", "at", "factor_id", "value", "step"), CASES)
def test_the_grid_factor_follows_the_series_and_the_location_precedence(
        series: GridSeries, location: GridLocation, at: datetime, factor_id: str, value: float, step: str) -> None:
    choice = choose_grid_factor(LIBRARY, at, series, location)
    assert (choice.row.factor_id, choice.row.value, choice.step) == (factor_id, value, step)


def test_the_reason_names_every_step_skipped_and_the_row_used() -> None:
    choice = choose_grid_factor(LIBRARY, JUN_2022, GridSeries.ENTERPRISE, GridLocation("other", "zhejiang",
                                                                                       site_id="s1"))
    assert choice.reason == (
        "series enterprise; enterprise-specific factor of other: none valid on 2022-06-01; "
        "site s1 in province zhejiang: provincial average: none valid on 2022-06-01; "
        "site s1 on the east regional grid: regional average: grid.region.east@2022 = 0.5617 tCO2/MWh")


def test_a_site_without_province_or_grid_falls_to_the_national_average_and_says_so() -> None:
    choice = choose_grid_factor(LIBRARY, JAN_2025, GridSeries.PROVINCE, NOWHERE)
    assert choice.step == "national"
    assert "site acme-x: no single province known; site acme-x: no single regional grid known" in choice.reason


def test_the_default_series_starts_at_the_enterprise_specific_factor() -> None:
    assert DEFAULT_GRID_SERIES is GridSeries.ENTERPRISE


def test_an_unknown_series_lists_the_choices() -> None:
    with pytest.raises(FormulaInputError, match="choose one of enterprise, province, national, carbon-market"):
        grid_series("market")


def test_a_line_without_site_uses_what_all_sites_share() -> None:
    both_east = shared_location("acme", [ZHEJIANG, GridLocation("acme", "jiangsu", site_id="acme-nj")])
    assert (both_east.province, both_east.region) == (None, "east")
    one = shared_location("acme", [ZHEJIANG])
    assert (one.province, one.region, one.enterprise_id) == ("zhejiang", "east", "acme")
