"""/api/v1/inventory/{enterprise}/activity-*: what the data-entry page needs around POST .../activity.

GET activity-options: per source type the items the factor library would account, their units and directions,
the enterprise's sites, processes and data qualities; GET activity-template.csv|.xlsx: the upload template;
GET activity/{version}: one stored version with its lines, to read back what was entered.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response

from api.accounting import listing_queries
from api.accounting import queries as inventory_queries
from api.accounting.activity_template import template_csv, template_xlsx
from api.accounting.deps import ScopedEnterprise, SeriesQuery
from api.auth.deps import EmissionsReader
from api.deps import Conn
from carbon_domain.reports.entry import activity_options, template_rows

router = APIRouter(prefix="/inventory", tags=["accounting"])

_MEDIA = {"csv": "text/csv; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
VersionParam = Annotated[int, Path(ge=1, le=2**31 - 1, description="version of entered activity data (from 1)")]
TemplateYear = Annotated[int, Query(ge=1990, le=2200, description="year of the example lines")]


async def _options(conn: Conn, enterprise: ScopedEnterprise, series: str) -> dict[str, Any]:
    library = await inventory_queries.load_library(conn)
    known = sorted({row.series for row in library.rows()})
    if series not in known:
        raise HTTPException(422, f"unknown factor series {series!r}; known: {', '.join(known)}")
    return activity_options(library, series=series)


@router.get("/{enterprise}/activity-options")
async def options(enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn,
                  series: SeriesQuery = "ndrc-steel-2013") -> dict[str, Any]:
    """What may be entered for the enterprise: its sites, and per source type the items of the factor library
    (`series` for fuels) with the unit their factor is per, the units that convert to it, and the directions."""
    found = await _options(conn, enterprise, series)
    return {"enterprise": enterprise.enterprise_id, "name": enterprise.name,
            "sites": [{"site_id": s.site_id, "name": s.name, "province": s.province} for s in enterprise.sites],
            **found}


@router.get("/{enterprise}/activity-template.{fmt}", response_class=Response)
async def template(enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn, fmt: Literal["csv", "xlsx"],
                   year: TemplateYear, series: SeriesQuery = "ndrc-steel-2013") -> Response:
    """The upload template: the activity-file header and one example line per source type for the enterprise's
    first site (XLSX: a second sheet lists every item allowed)."""
    found = await _options(conn, enterprise, series)
    rows = template_rows(found, year=year, site=enterprise.sites[0].site_id if enterprise.sites else None)
    data = template_csv(rows) if fmt == "csv" else template_xlsx(rows, found)
    name = f"{enterprise.enterprise_id}-activity-template-{year}.{fmt}"
    return Response(data, media_type=_MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/{enterprise}/activity/{version}")
async def activity_version(enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn,
                           version: VersionParam) -> dict[str, Any]:
    """One stored version of entered activity data with every line as stored (site, quality included)."""
    found = await listing_queries.activity_version(conn, enterprise=enterprise.enterprise_id, version=version)
    if found is None:
        raise HTTPException(404, f"{enterprise.enterprise_id} has no activity version {version}; "
                                 f"GET /api/v1/inventory/{enterprise.enterprise_id}/activity lists the versions")
    return {"enterprise": enterprise.enterprise_id, **found}
