"""GET /api/v1/emissions: tCO2 of a site by source and bucket, with factor versions; 404 outside the caller's scope."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from api.auth.deps import EmissionsReader, VisibleSites
from api.deps import Conn, TimeParam, parse_time
from api.emissions import scope_totals
from api.registry import queries as registry_queries
from api.telemetry import figures

router = APIRouter(tags=["emissions"])


@router.get("/emissions")
async def emissions(
    caller: EmissionsReader, conn: Conn, sites: VisibleSites, site: str, start: TimeParam, end: TimeParam,
    interval: Literal["1h", "1d"] = "1h",
    tz: Annotated[str, Query(max_length=64, description="IANA time zone of the local days of interval=1d, as in "
                                                        "/series (1h buckets are UTC hours)")] = figures.DEFAULT_TZ,
) -> dict[str, Any]:
    t0, t1 = parse_time("start", start), parse_time("end", end)
    if t1 <= t0:
        raise HTTPException(422, "end must be after start")
    try:
        zone = figures.zone(tz)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    # unknown, or outside the caller's scope: the same answer, so that hidden sites stay hidden
    if not (site in sites if sites is not None else await registry_queries.site_exists(conn, site=site)):
        raise HTTPException(404, f"no site {site!r}; see the site_id of /api/v1/devices")
    rows = await scope_totals.site_emissions(conn, site=site, start=t0, end=t1, interval=interval, tz=zone.key)
    return {"site": site, "interval": interval, "timezone": zone.key, "unit": "tCO2", "rows": rows,
            "total_tco2": sum(r["tco2"] for r in rows)}
