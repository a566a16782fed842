"""Each site's electricity factor row for the stream job, chosen as the enterprise inventory chooses it.

The inventory's default series picks a site's grid factor by its location (carbon_domain/grid.py:
enterprise-specific, the site's province, its regional grid, the national average); the live emissions use
the same choice, so that a site's dashboards and its inventory agree. The choice depends only on the site and
the calendar day (factor rows are valid on days), so it is made once per site and day and then looked up; the
sink reads the sites and the factor library again every few seconds (stream_jobs/sink.py), which is when a
changed province or a new factor row takes effect.
"""

from __future__ import annotations

from datetime import date, datetime

import psycopg

from carbon_domain.accounting import site_grid_factor
from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary, FactorRow
from carbon_domain.grid import GridLocation

__all__ = ["SiteGridFactors", "load_site_locations"]

_NOWHERE = GridLocation()  # a point on no site (or a site not registered): the national average


async def load_site_locations(conn: psycopg.AsyncConnection) -> dict[str, GridLocation]:
    """Every registered site's location: its enterprise, province and regional grid."""
    cur = await conn.execute("SELECT site_id, enterprise_id, province, grid_region FROM sites")
    return {site: GridLocation(enterprise, province, region, site)
            for site, enterprise, province, region in await cur.fetchall()}


class SiteGridFactors:
    """The grid factor row of a site on a day, from one factor library and one read of the sites."""

    def __init__(self, library: FactorLibrary, locations: dict[str, GridLocation]) -> None:
        self.library = library
        self._locations = locations
        self._chosen: dict[tuple[str | None, date], FactorRow] = {}

    def row(self, site: str | None, at: datetime) -> FactorRow:
        """The row the inventory's default series uses for `site` at `at` (raises FactorNotFound when not even
        a national average is valid then)."""
        key = (site, at.astimezone(FACTOR_TIMEZONE).date())
        found = self._chosen.get(key)
        if found is None:
            location = self._locations.get(site, _NOWHERE) if site is not None else _NOWHERE
            found = self._chosen[key] = site_grid_factor(self.library, at, location)
        return found
