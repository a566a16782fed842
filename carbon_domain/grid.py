"""Which electricity factor an inventory uses for a site: the chosen series and the location precedence.

An inventory chooses one grid-factor series (`GridSeries`); within it each site's factor follows a
fixed precedence, and the first step with a row valid at the line's period wins:

============== ========================================================================
series         steps tried, in order
============== ========================================================================
enterprise     enterprise-specific (`grid.enterprise`, scope enterprise) → the site's
(default)      province (`grid.province.<p>`) → its regional grid (`grid.region.<r>`)
               → national average of the data year (`grid.cn.national_average`)
province       the site's province → its regional grid → national average
national       national average of the data year
carbon-market  carbon-market reporting factor (`grid.cn.carbon_market`)
============== ========================================================================

A site's regional grid is its own `grid_region` when set, else the grid its province belongs to
(`PROVINCE_GRID_REGIONS`). `choose_grid_factor` returns the row with the step that gave it and a
reason naming every step skipped, so a report can say which row was used for each site and why.

>>> from datetime import datetime
>>> from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary
>>> site = GridLocation(enterprise_id="acme", province="zhejiang", site_id="acme-1")
>>> at = datetime(2024, 5, 1, tzinfo=FACTOR_TIMEZONE)
>>> choice = choose_grid_factor(FactorLibrary.default(), at, GridSeries.ENTERPRISE, site)
>>> choice.row.value, choice.step
(0.4974, 'province')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from carbon_domain.errors import FactorNotFound, FormulaInputError
from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary, FactorRow

__all__ = [
    "DEFAULT_GRID_SERIES",
    "ENTERPRISE_GRID_KEY",
    "PROVINCE_GRID_REGIONS",
    "GridChoice",
    "GridLocation",
    "GridSeries",
    "choose_grid_factor",
    "grid_series",
    "shared_location",
]


class GridSeries(StrEnum):
    ENTERPRISE = "enterprise"
    PROVINCE = "province"
    NATIONAL = "national"
    CARBON_MARKET = "carbon-market"


DEFAULT_GRID_SERIES = GridSeries.ENTERPRISE
"""Enterprise-specific where the library holds a row for the enterprise, else province, region, national."""

ENTERPRISE_GRID_KEY = "grid.enterprise"
_NATIONAL = ("grid.cn.national_average", "mee-national-average")
_CARBON_MARKET = ("grid.cn.carbon_market", "mee-carbon-market")

# The regional grids of the MEE/NBS factor announcements (华北, 东北, 华东, 华中, 西北, 南方, 西南).
# Inner Mongolia is split between the north (蒙西) and northeast (蒙东) grids, so it is left out: its
# sites name their grid_region.
PROVINCE_GRID_REGIONS: dict[str, str] = {
    **dict.fromkeys(("beijing", "tianjin", "hebei", "shanxi", "shandong"), "north"),
    **dict.fromkeys(("liaoning", "jilin", "heilongjiang"), "northeast"),
    **dict.fromkeys(("shanghai", "jiangsu", "zhejiang", "anhui", "fujian"), "east"),
    **dict.fromkeys(("henan", "hubei", "hunan", "jiangxi"), "central"),
    **dict.fromkeys(("shaanxi", "gansu", "qinghai", "ningxia", "xinjiang"), "northwest"),
    **dict.fromkeys(("guangdong", "guangxi", "yunnan", "guizhou", "hainan"), "south"),
    **dict.fromkeys(("sichuan", "chongqing", "tibet"), "southwest"),
}


@dataclass(frozen=True)
class GridLocation:
    """Where the electricity is used: the enterprise, and the site's province and regional grid (if known)."""

    enterprise_id: str | None = None
    province: str | None = None
    grid_region: str | None = None
    site_id: str | None = None

    @property
    def region(self) -> str | None:
        """The regional grid: the site's own, else its province's."""
        return self.grid_region or PROVINCE_GRID_REGIONS.get(self.province or "")


class GridChoice(NamedTuple):
    row: FactorRow
    step: str  # enterprise, province, region, national or carbon_market
    reason: str
    # the steps passed over before `step`, each with why: "none_valid" (no row valid at the period) or
    # "unknown" (no enterprise, single province or regional grid to look up), so a report can word the reason
    skipped: tuple[tuple[str, str], ...] = ()


def grid_series(value: str) -> GridSeries:
    """The series named `value`; a FormulaInputError listing the choices otherwise."""
    try:
        return GridSeries(value)
    except ValueError as exc:
        choices = ", ".join(s.value for s in GridSeries)
        raise FormulaInputError(f"unknown grid series {value!r}; choose one of {choices}") from exc


def shared_location(enterprise_id: str | None, sites: Iterable[GridLocation]) -> GridLocation:
    """The location of a line that names no site: the province and regional grid all the sites share."""
    found = list(sites)
    provinces = {s.province for s in found}
    regions = {s.region for s in found}
    return GridLocation(
        enterprise_id=enterprise_id,
        province=provinces.pop() if len(provinces) == 1 else None,
        grid_region=regions.pop() if len(regions) == 1 else None,
    )


def choose_grid_factor(library: FactorLibrary, at: datetime, series: GridSeries,
                       location: GridLocation) -> GridChoice:
    """The grid-factor row for `location` at `at` under `series`, with the step used and why."""
    skipped: list[str] = []
    passed: list[tuple[str, str]] = []
    day = at.astimezone(FACTOR_TIMEZONE).date()
    for step, key, table, chain, label in _steps(series, location, skipped, passed):
        try:
            row = library.resolve(key, at, series=table, scope_chain=chain)
        except FactorNotFound:
            if step in ("national", "carbon_market"):
                raise
            skipped.append(f"{label}: none valid on {day}")
            passed.append((step, "none_valid"))
            continue
        chosen = f"{label}: {row.factor_id} = {row.value:g} {row.unit}"
        reason = "; ".join([f"series {series.value}", *skipped, chosen])
        return GridChoice(row, step, reason, tuple(passed))
    raise AssertionError("the last step is always national or carbon_market")  # pragma: no cover


_Step = tuple[str, str, str | None, list[tuple[str, str]], str]


def _steps(series: GridSeries, location: GridLocation, skipped: list[str],
           passed: list[tuple[str, str]]) -> list[_Step]:
    if series is GridSeries.CARBON_MARKET:
        return [("carbon_market", *_CARBON_MARKET, [], "carbon-market reporting factor")]
    national: _Step = ("national", *_NATIONAL, [], "national average of the data year")
    if series is GridSeries.NATIONAL:
        return [national]
    steps: list[_Step] = []
    if series is GridSeries.ENTERPRISE:
        if location.enterprise_id:
            steps.append(("enterprise", ENTERPRISE_GRID_KEY, None, [("enterprise", location.enterprise_id)],
                          f"enterprise-specific factor of {location.enterprise_id}"))
        else:
            skipped.append("no enterprise named")
            passed.append(("enterprise", "unknown"))
    who = f"site {location.site_id}" if location.site_id else "the works"
    if location.province:
        steps.append(("province", f"grid.province.{location.province}", None, [("province", location.province)],
                      f"{who} in province {location.province}: provincial average"))
    else:
        skipped.append(f"{who}: no single province known")
        passed.append(("province", "unknown"))
    if location.region:
        steps.append(("region", f"grid.region.{location.region}", None, [("region", location.region)],
                      f"{who} on the {location.region} regional grid: regional average"))
    else:
        skipped.append(f"{who}: no single regional grid known")
        passed.append(("region", "unknown"))
    return [*steps, national]
