"""GET /api/v1/series: raw or bucketed values of one point, with quality; 404 outside the caller's scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, HTTPException

from api import queries
from api.deps import Conn, SeriesReader, TimeParam, VisibleSites, parse_time
from api.fastjson import json_response

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
    result = await queries.point_series(conn, device=device, point=point, start=t0, end=t1, interval=interval,
                                        sites=sites)
    if result is None:  # unknown, or outside the caller's scope: the same answer
        raise HTTPException(404, f"no point {point!r} on device {device!r}; see /api/v1/devices")
    # orjson: a year by hour is 8,760 objects, which FastAPI's own encoder takes longer to write than to query
    return json_response(result)  # type: ignore[return-value]
