"""GET /api/v1/series: raw or bucketed values of one point, with quality; 404 outside the caller's scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Response

from api import queries
from api.deps import Conn, SeriesReader, TimeParam, VisibleSites, parse_time

router = APIRouter(tags=["series"])
_MAX_RAW_SPAN = timedelta(days=7)


@router.get("/series")
async def series(
    caller: SeriesReader, conn: Conn, sites: VisibleSites, device: str, point: str, start: TimeParam, end: TimeParam,
    interval: Literal["raw", "1m", "1h", "1d"] = "raw",
) -> dict[str, Any]:
    t0, t1 = parse_time("start", start), parse_time("end", end)
    if t1 <= t0:
        raise HTTPException(422, "end must be after start")
    if interval == "raw" and t1 - t0 > _MAX_RAW_SPAN:
        raise HTTPException(422, f"raw series are limited to {_MAX_RAW_SPAN.days} days; use interval=1m or 1h")
    # the JSON comes from PostgreSQL: a year by hour is 8,760 objects (queries.point_series_json)
    result = await queries.point_series_json(conn, device=device, point=point, start=t0, end=t1, interval=interval,
                                             sites=sites)
    if result is None:  # unknown, or outside the caller's scope: the same answer
        raise HTTPException(404, f"no point {point!r} on device {device!r}; see /api/v1/devices")
    return Response(result, media_type="application/json")  # type: ignore[return-value]
