"""Dependencies of the GHG-accounting endpoints (factors, inventory, reports, process benchmarks).

Who may do what:

=================== ======================================================================
inventory, reports  read by callers with the 'emissions' permission, for the enterprises in
                    their scope (enterprise: its own; government: its region; auditor: the
                    assigned ones; admin: all); 404 outside it
entered activity    written by callers with 'activity_data' (the enterprise itself or an administrator)
report workflow     the roles of carbon_domain.reports.workflow, inside the caller's scope, and its
                    four-eyes rules by person (two reviewers; preparers and verifier excluded)
factors, benchmarks read by any signed-in caller; written by administrators ('benchmarks')
=================== ======================================================================
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Path, Query

from api.accounting import queries as inventory_queries
from api.auth.access import ROLE_PERMISSIONS, Principal
from api.auth.deps import EmissionsReader
from api.deps import Conn
from carbon_domain.grid import DEFAULT_GRID_SERIES, GridSeries
from carbon_domain.reports.document import DEFAULT_TOLERANCE, Basis, Enterprise
from carbon_domain.reports.errors import InventoryDataError

__all__ = [
    "ActivityWriter",
    "BasisQuery",
    "EnterpriseParam",
    "GridSeriesQuery",
    "ScopedEnterprise",
    "SeriesQuery",
    "YearParam",
    "document_or_422",
    "require_enterprise_writer",
]

EnterpriseParam = Annotated[str, Path(min_length=1, max_length=128, description="enterprise_id")]


async def _scoped_enterprise(enterprise: EnterpriseParam, conn: Conn, caller: EmissionsReader) -> Enterprise:
    # unknown, or outside the caller's scope: the same answer, so that hidden enterprises stay hidden
    if not await inventory_queries.enterprise_visible(conn, scope=caller.scope, enterprise=enterprise):
        raise HTTPException(404, f"no enterprise {enterprise!r} in your scope")
    found = await inventory_queries.get_enterprise(conn, enterprise=enterprise)
    if found is None:  # deleted between the two reads
        raise HTTPException(404, f"no enterprise {enterprise!r} in your scope")
    return found


ScopedEnterprise = Annotated[Enterprise, Depends(_scoped_enterprise)]


def require_enterprise_writer(principal: Principal) -> Principal:
    """The caller when it may enter data for an enterprise in its scope ('activity_data': the enterprise itself
    or an administrator, and a machine token only with that scope); 403 otherwise."""
    if "activity_data" not in principal.permissions:
        if principal.via == "token" and "activity_data" in ROLE_PERMISSIONS.get(principal.role, frozenset()):
            raise HTTPException(403, "this machine token lacks the 'activity_data' scope")
        raise HTTPException(403, f"role {principal.role!r} may not enter activity data; the enterprise enters its "
                                 "own data (or an administrator)")
    return principal


async def _activity_writer(caller: EmissionsReader) -> Principal:
    return require_enterprise_writer(caller)


ActivityWriter = Annotated[Principal, Depends(_activity_writer)]


async def document_or_422(conn: Conn, *, enterprise: Enterprise, year: int, month: int | None, series: str,
                          basis: Basis, tolerance: float = DEFAULT_TOLERANCE,
                          grid_series: GridSeries = DEFAULT_GRID_SERIES) -> dict[str, Any]:
    """The inventory document; 422 listing every line that cannot be accounted, with its origin."""
    try:
        return await inventory_queries.inventory_document(conn, enterprise=enterprise, year=year, month=month,
                                                          series=series, basis=basis, tolerance=tolerance,
                                                          grid_series=grid_series)
    except InventoryDataError as exc:
        raise HTTPException(422, {"message": f"the inventory cannot be computed: {len(exc.problems)} problem(s)",
                                  "problems": exc.problems}) from exc


YearParam = Annotated[int, Path(ge=1990, le=2200, description="calendar year of the report")]
SeriesQuery = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9.-]*$",
                                   description="fuel factor table (NCV, CC, OF), e.g. ndrc-steel-2013")]
GridSeriesQuery = Annotated[GridSeries, Query(description=(
    "electricity factor series: enterprise (default: the enterprise's own factor, else each site's province, "
    "else its regional grid, else the national average), province, national (average of the data year) or "
    "carbon-market (the carbon-market reporting factor)"))]
BasisQuery = Annotated[Literal["entered", "metered"], Query(
    description="which figure counts when a month has both metered and entered data for the same line")]
