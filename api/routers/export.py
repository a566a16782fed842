"""GET /api/v1/export/series.csv: one point's series in buckets as streamed CSV, with the factor versions of
its emissions named in the header comments; 404 outside the caller's scope."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from api import figures, queries
from api.deps import Conn, SeriesReader, TimeParam, VisibleSites, parse_time

router = APIRouter(tags=["export"])

COLUMNS = ("bucket_start", "value", "min", "max", "last", "readings", "quality", "increase", "activity_amount",
           "activity_unit", "tco2")
_MAX_SPAN = {"1m": timedelta(days=31), "1h": timedelta(days=400), "1d": timedelta(days=3660)}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _text(value: str) -> str:
    # device and unit names come from registries and profiles: keep spreadsheets from running them as formulas
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _header(info: dict[str, Any], start: datetime, end: datetime, interval: str, tz: str) -> str:
    lines = [
        "carbonflow series export",
        (f"device: {info['device']}; point: {info['point']}; unit: {info['unit'] or '-'}; kind: {info['kind']};"
         f" site: {info['site'] or '-'}; process: {info['process'] or '-'}; activity: {info['activity'] or '-'}"),
        (f"range: {start.isoformat()} to {end.isoformat()} (end excluded); interval: {interval};"
         f" buckets aligned to and shown in {tz}"),
        ("value: mean of the good and uncertain readings (bad ones left out); last: newest such reading;"
         " quality: worst in the bucket"),
    ]
    if info["kind"] == "counter":
        lines.append("increase: sum of the counter's steps ending in the bucket (a reset counts from zero)")
    if info["factors"]:
        lines.append("factor versions: " + "; ".join(
            f"{f['factor_id']} = {f['value']:g} {f['unit']} (series {f['series']}; source {f['source']})"
            for f in info["factors"]))
        lines.append("formulas: " + "; ".join(info["formulas"]))
    elif info["activity"]:
        lines.append(f"factor versions: none used in this range (activity {info['activity']})")
    else:
        lines.append("factor versions: none (the point feeds no accounting activity)")
    return "".join(f"# {line.replace(chr(10), ' ')}\n" for line in lines)


async def _csv(request: Request, info: dict[str, Any], start: datetime, end: datetime, interval: str,
               tz: str, zone: ZoneInfo) -> AsyncIterator[str]:
    yield _header(info, start, end, interval, tz)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield out.getvalue()
    # a connection of its own for the life of the response: the request's may be handed back before the body
    async with request.app.state.pool.connection() as conn:
        async for batch in queries.export_rows(conn, point_key=info["point_key"], kind=info["kind"], start=start,
                                               end=end, interval=interval, tz=tz):
            out.seek(0)
            out.truncate()
            for bucket, avg, lo, hi, last, n, quality, increase, qty, qty_unit, tco2 in batch:
                writer.writerow([bucket.astimezone(zone).isoformat(), _number(avg), _number(lo), _number(hi),
                                 _number(last), n, quality or "", _number(increase), _number(qty),
                                 _text(qty_unit or ""), _number(tco2)])
            yield out.getvalue()


_CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "CSV: '#' comment lines (point, range, factor versions), a header row, one row a bucket",
          "content": {"text/csv": {"schema": {"type": "string"}}}},
    404: {"description": "unknown point, or one outside the caller's scope"},
    422: {"description": "bad time, time zone, interval or a range too long for the interval"},
}


@router.get("/export/series.csv", response_class=StreamingResponse, responses=_CSV_RESPONSES)
async def export_series(
    request: Request, caller: SeriesReader, conn: Conn, sites: VisibleSites,
    device: Annotated[str, Query(max_length=128)], point: Annotated[str, Query(max_length=128)],
    start: TimeParam, end: TimeParam,
    interval: Annotated[Literal["1m", "1h", "1d"], Query(description="bucket size")] = "1h",
    tz: Annotated[str, Query(max_length=64, description="IANA time zone for bucket alignment and times")] = "UTC",
) -> StreamingResponse:
    """Buckets of one point over a range (hourly by default): value, min, max, last, readings and quality;
    for counters the increase, and for points feeding an activity the activity amount and tCO2."""
    t0, t1 = parse_time("start", start), parse_time("end", end)
    if t1 <= t0:
        raise HTTPException(422, "end must be after start")
    if t1 - t0 > _MAX_SPAN[interval]:
        raise HTTPException(422, f"interval {interval} exports at most {_MAX_SPAN[interval].days} days; "
                                 "use a coarser interval or a shorter range")
    try:
        zone = figures.zone(tz)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    info = await queries.export_point(conn, device=device, point=point, start=t0, end=t1, sites=sites)
    if info is None:  # unknown, or outside the caller's scope: the same answer
        raise HTTPException(404, f"no point {point!r} on device {device!r}; see /api/v1/devices")
    name = _SAFE_NAME.sub("_", f"carbonflow-{device}-{point}-{interval}")[:150] + ".csv"
    return StreamingResponse(_csv(request, info, t0, t1, interval, tz, zone), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "Cache-Control": "no-store"})
