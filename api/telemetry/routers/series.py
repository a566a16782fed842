"""GET /api/v1/series: raw or bucketed values of one point, with quality; 404 outside the caller's scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response

from api.auth.deps import SeriesReader, VisibleSites
from api.deps import Conn, TimeParam, parse_time
from api.fastjson import json_response
from api.telemetry import figures, monthly_queries, queries

router = APIRouter(tags=["telemetry"])
_MAX_RAW_SPAN = timedelta(days=7)


@router.get("/series")
async def series(
    caller: SeriesReader, conn: Conn, sites: VisibleSites, device: str, point: str, start: TimeParam, end: TimeParam,
    interval: Literal["raw", "1m", "1h", "1d", "1mo"] = "raw",
    tz: Annotated[str, Query(max_length=64, description="IANA time zone of the local days of interval=1d and the "
                                                        "calendar months of interval=1mo (1m and 1h are UTC minutes "
                                                        "and hours)")] = figures.DEFAULT_TZ,
    format: Annotated[Literal["rows", "columns"], Query(
        description="rows: `points`, one object per value; columns: `columns`, one array per field (ts, value, "
                    "min, max, count, quality, quality_counts.{good,uncertain,bad}; raw: ts, value, quality)")] = "rows",
) -> dict[str, Any]:
    t0, t1 = parse_time("start", start), parse_time("end", end)
    if t1 <= t0:
        raise HTTPException(422, "end must be after start")
    if interval == "raw" and t1 - t0 > _MAX_RAW_SPAN:
        raise HTTPException(422, f"raw series are limited to {_MAX_RAW_SPAN.days} days; use interval=1m or 1h")
    if interval == "1mo":
        return await _monthly(conn, sites, device, point, t0, t1, tz, format)  # type: ignore[return-value]
    try:
        zone = figures.zone(tz)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    # columns: one array per field, which the dashboards read; a year by hour is then not 8,760 objects
    read = queries.point_series_columns if format == "columns" else queries.point_series
    result = await read(conn, device=device, point=point, start=t0, end=t1, interval=interval, sites=sites,
                        tz=zone.key)
    if result is None:  # unknown, or outside the caller's scope: the same answer
        raise HTTPException(404, f"no point {point!r} on device {device!r}; see /api/v1/devices")
    return json_response(result)  # type: ignore[return-value]


async def _monthly(conn: Conn, sites: VisibleSites, device: str, point: str, t0: datetime, t1: datetime,
                   tz: str, format: str) -> Response:
    """interval=1mo: calendar months in `tz` from the hourly rollups (api/telemetry/monthly_queries.py)."""
    try:
        months = monthly_queries.month_windows(t0, t1, figures.zone(tz))
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    result = await monthly_queries.point_series_monthly(conn, device=device, point=point, months=months, sites=sites)
    if result is None:
        raise HTTPException(404, f"no point {point!r} on device {device!r}; see /api/v1/devices")
    return json_response(monthly_queries.as_columns(result) if format == "columns" else result)
