"""GET /api/v1/export/series.csv and series.parquet: one point's series in buckets, streamed, with the factor
versions of its emissions named in the CSV's header comments or the Parquet file's key-value metadata; 404
outside the caller's scope."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import pyarrow as pa
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from api.auth.deps import SeriesReader, VisibleSites
from api.deps import Conn, TimeParam, parse_time
from api.telemetry import figures, queries
from api.telemetry.parquet_stream import PARQUET_MEDIA_TYPE, parquet_chunks

router = APIRouter(tags=["telemetry"])

COLUMNS = ("bucket_start", "value", "min", "max", "last", "readings", "quality", "increase", "activity_amount",
           "activity_unit", "tco2")
_MAX_SPAN = {"1m": timedelta(days=31), "1h": timedelta(days=400), "1d": timedelta(days=3660)}
_ROW_GROUP = 10_000  # rows per Parquet row group: a week of minutes, more than a year of hours
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def csv_text(value: str | None) -> str:
    """A name as a CSV cell ("" for None). Names come from registries and profiles: keep spreadsheets from
    running them as formulas."""
    value = value or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_number(value: float | None) -> str:
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
        lines.append("increase: sum of the counter's steps ending in the bucket, by the stream job's counter rules"
                     " (rollover, reset, replaced meter counted 0)")
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
                                               end=end, interval=interval, tz=tz, rollover=info["rollover"]):
            out.seek(0)
            out.truncate()
            for bucket, avg, lo, hi, last, n, quality, increase, qty, qty_unit, tco2 in batch:
                writer.writerow([bucket.astimezone(zone).isoformat(), csv_number(avg), csv_number(lo),
                                 csv_number(hi), csv_number(last), n, quality or "", csv_number(increase),
                                 csv_number(qty), csv_text(qty_unit), csv_number(tco2)])
            yield out.getvalue()


_CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "CSV: '#' comment lines (point, range, factor versions), a header row, one row a bucket",
          "content": {"text/csv": {"schema": {"type": "string"}}}},
    404: {"description": "unknown point, or one outside the caller's scope"},
    422: {"description": "bad time, time zone, interval or a range too long for the interval"},
}
_PARQUET_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_CSV_RESPONSES,
    200: {"description": "Parquet: one row a bucket; key-value metadata `carbonflow.manifest` (JSON) names the "
                         "point, range, interval, time zone, factor rows and formulas",
          "content": {PARQUET_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
}


_Interval = Annotated[Literal["1m", "1h", "1d"], Query(description="bucket size")]
_Tz = Annotated[str, Query(max_length=64, description="IANA time zone for bucket alignment and times")]
_Device = Annotated[str, Query(max_length=128)]
_Point = Annotated[str, Query(max_length=128)]


def export_window(start: str, end: str, tz: str, *, max_span: timedelta,
                  too_long: str) -> tuple[datetime, datetime, ZoneInfo]:
    """An export's [start, end) and time zone; 422 for a bad time, an empty range, one longer than `max_span`
    (with the message `too_long`), a bad zone."""
    t0, t1 = parse_time("start", start), parse_time("end", end)
    if t1 <= t0:
        raise HTTPException(422, "end must be after start")
    if t1 - t0 > max_span:
        raise HTTPException(422, too_long)
    try:
        return t0, t1, figures.zone(tz)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


def _window(start: str, end: str, interval: str, tz: str) -> tuple[datetime, datetime, ZoneInfo]:
    return export_window(start, end, tz, max_span=_MAX_SPAN[interval],
                         too_long=f"interval {interval} exports at most {_MAX_SPAN[interval].days} days; "
                                  "use a coarser interval or a shorter range")


async def _point_info(conn: Any, device: str, point: str, t0: datetime, t1: datetime,
                      sites: list[str] | None) -> dict[str, Any]:
    info = await queries.export_point(conn, device=device, point=point, start=t0, end=t1, sites=sites)
    if info is None:  # unknown, or outside the caller's scope: the same answer
        raise HTTPException(404, f"no point {point!r} on device {device!r}; see /api/v1/devices")
    return info


def _file_name(device: str, point: str, interval: str, suffix: str) -> str:
    return _SAFE_NAME.sub("_", f"carbonflow-{device}-{point}-{interval}")[:150] + suffix


def download_headers(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@router.get("/export/series.csv", response_class=StreamingResponse, responses=_CSV_RESPONSES)
async def export_series(
    request: Request, caller: SeriesReader, conn: Conn, sites: VisibleSites, device: _Device, point: _Point,
    start: TimeParam, end: TimeParam, interval: _Interval = "1h", tz: _Tz = "UTC",
) -> StreamingResponse:
    """Buckets of one point over a range (hourly by default): value, min, max, last, readings and quality;
    for counters the increase, and for points feeding an activity the activity amount and tCO2."""
    t0, t1, zone = _window(start, end, interval, tz)
    info = await _point_info(conn, device, point, t0, t1, sites)
    return StreamingResponse(_csv(request, info, t0, t1, interval, tz, zone), media_type="text/csv; charset=utf-8",
                             headers=download_headers(_file_name(device, point, interval, ".csv")))


def series_manifest(info: dict[str, Any], start: datetime, end: datetime, interval: str, tz: str) -> dict[str, Any]:
    """What a series export was made from: the point, the range, and every factor row and formula behind its
    emissions (the Parquet file's `carbonflow.manifest`)."""
    return {
        "export": "series", "format_version": 1,
        "device": info["device"], "point": info["point"], "unit": info["unit"], "kind": info["kind"],
        "site": info["site"], "process": info["process"], "activity": info["activity"],
        "range": {"start": start.isoformat(), "end": end.isoformat(), "end_excluded": True},
        "interval": interval, "timezone": tz,
        "factor_versions": [{k: f[k] for k in ("factor_id", "key", "value", "unit", "series", "source")}
                            for f in info["factors"]],
        "formulas": info["formulas"],
        "columns": COLUMN_NOTES,
    }


COLUMN_NOTES = {
    "bucket_start": "start of the bucket, aligned to the time zone's minutes, hours or days",
    "value": "mean of the good and uncertain readings (bad ones left out)",
    "last": "newest good or uncertain reading", "quality": "worst quality in the bucket",
    "increase": "counters: sum of the steps ending in the bucket, by the stream job's counter rules",
    "activity_amount": "activity data of the emissions whose interval ends in the bucket",
    "tco2": "tCO2 of those emissions",
}


def _series_schema(tz: str) -> pa.Schema:
    return pa.schema([
        ("bucket_start", pa.timestamp("us", tz=tz)), ("value", pa.float64()), ("min", pa.float64()),
        ("max", pa.float64()), ("last", pa.float64()), ("readings", pa.int64()), ("quality", pa.string()),
        ("increase", pa.float64()), ("activity_amount", pa.float64()), ("activity_unit", pa.string()),
        ("tco2", pa.float64()),
    ])


def provenance_metadata(manifest: dict[str, Any]) -> dict[str, Any]:
    """Parquet key-value metadata: the whole manifest as JSON, and its most asked-for parts as flat keys."""
    return {
        "carbonflow.manifest": manifest,
        "carbonflow.factor_ids": ",".join(f["factor_id"] for f in manifest["factor_versions"]),
        "carbonflow.formulas": ",".join(manifest["formulas"]),
        "carbonflow.range": f"{manifest['range']['start']}/{manifest['range']['end']}",
        "carbonflow.interval": manifest["interval"], "carbonflow.timezone": manifest["timezone"],
    }


async def _series_groups(request: Request, info: dict[str, Any], start: datetime, end: datetime, interval: str,
                         tz: str) -> AsyncIterator[dict[str, list[Any]]]:
    names = _series_schema(tz).names
    async with request.app.state.pool.connection() as conn:
        async for batch in queries.export_rows(conn, point_key=info["point_key"], kind=info["kind"], start=start,
                                               end=end, interval=interval, tz=tz, batch=_ROW_GROUP,
                                               rollover=info["rollover"]):
            yield dict(zip(names, (list(column) for column in zip(*batch)), strict=True))



@router.get("/export/series.parquet", response_class=StreamingResponse, responses=_PARQUET_RESPONSES)
async def export_series_parquet(
    request: Request, caller: SeriesReader, conn: Conn, sites: VisibleSites, device: _Device, point: _Point,
    start: TimeParam, end: TimeParam, interval: _Interval = "1h", tz: _Tz = "UTC",
) -> StreamingResponse:
    """The buckets of /export/series.csv as Parquet, in row groups of up to 10,000 rows; the key-value
    metadata holds the manifest: point, range, interval, time zone, factor rows and formulas."""
    t0, t1, _ = _window(start, end, interval, tz)
    info = await _point_info(conn, device, point, t0, t1, sites)
    metadata = provenance_metadata(series_manifest(info, t0, t1, interval, tz))
    return StreamingResponse(parquet_chunks(_series_schema(tz), _series_groups(request, info, t0, t1, interval, tz),
                                            metadata),
                             media_type=PARQUET_MEDIA_TYPE,
                             headers=download_headers(_file_name(device, point, interval, ".parquet")))
