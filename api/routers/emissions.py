"""GET /api/v1/emissions: tCO2 of a site by source and bucket, with factor versions."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException

from api import queries
from api.deps import Conn, TimeParam, parse_time

router = APIRouter(tags=["emissions"])


@router.get("/emissions")
async def emissions(
    conn: Conn, site: str, start: TimeParam, end: TimeParam, interval: Literal["1h", "1d"] = "1h"
) -> dict[str, Any]:
    t0, t1 = parse_time("start", start), parse_time("end", end)
    if t1 <= t0:
        raise HTTPException(422, "end must be after start")
    rows = await queries.site_emissions(conn, site=site, start=t0, end=t1, interval=interval)
    return {"site": site, "interval": interval, "unit": "tCO2", "rows": rows,
            "total_tco2": sum(r["tco2"] for r in rows)}
