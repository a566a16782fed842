"""GET /api/v1/export/hourly.csv, hourly.parquet and hourly/manifest: every point's hourly rows in a site, an
enterprise or a process (工序) the caller may see, streamed, with a manifest of every factor row and formula
behind the emissions in them; 404 outside the caller's scope."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.accounting import queries as accounting_queries
from api.auth.deps import EmissionsReader
from api.deps import Conn, TimeParam
from api.registry.scope_deps import ReportScope, ScopeParam
from api.telemetry import export_queries, figures, queries
from api.telemetry.parquet_stream import PARQUET_MEDIA_TYPE, parquet_chunks
from api.telemetry.routers.export import csv_number, csv_text, download_headers, export_window, provenance_metadata

router = APIRouter(tags=["telemetry"])

MAX_SPAN = timedelta(days=400)
COLUMNS = ("bucket_start", "site", "process", "device", "point", "unit", "kind", "value", "min", "max", "readings",
           "quality", "activity", "activity_amount", "activity_unit", "tco2", "emission_intervals", "factor_ids")
COLUMN_NOTES = {
    "bucket_start": "start of a whole UTC hour (the rollup tables' buckets), shown in the export's time zone",
    "value": "gauges: mean of the good and uncertain readings; counters: the newest such reading",
    "min": "smallest good or uncertain reading", "max": "largest good or uncertain reading",
    "readings": "readings in the hour, bad ones included", "quality": "worst quality in the hour",
    "activity_amount": "activity data of the point's emissions whose interval ends in the hour",
    "tco2": "tCO2 of those emissions", "emission_intervals": "how many emission intervals ended in the hour",
    "factor_ids": "factor rows (factor_id) of those emissions, comma-separated; see the manifest for values",
}
_ROW_GROUP = 10_000


def _schema(tz: str) -> pa.Schema:
    text, number = pa.string(), pa.float64()
    return pa.schema([
        ("bucket_start", pa.timestamp("us", tz=tz)), ("site", text), ("process", text), ("device", text),
        ("point", text), ("unit", text), ("kind", text), ("value", number), ("min", number), ("max", number),
        ("readings", pa.int64()), ("quality", text), ("activity", text), ("activity_amount", number),
        ("activity_unit", text), ("tco2", number), ("emission_intervals", pa.int64()), ("factor_ids", text),
    ])


async def _prepare(conn: Any, *, scope: ReportScope, start: str, end: str,
                   tz: str) -> tuple[datetime, datetime, ZoneInfo, list[dict[str, Any]], dict[str, Any]]:
    """What every hourly export starts from: its [start, end) and zone (422 when bad), the scope's points and
    the manifest."""
    t0, t1, zone = export_window(start, end, tz, max_span=MAX_SPAN,
                                 too_long=f"hourly exports cover at most {MAX_SPAN.days} days; split the range "
                                          "into several exports")
    points = await export_queries.scope_points(conn, sites=scope.sites, process=scope.process)
    return t0, t1, zone, points, await _manifest(conn, scope=scope, points=points, start=t0, end=t1, tz=tz)


async def _manifest(conn: Any, *, scope: ReportScope, points: list[dict[str, Any]], start: datetime, end: datetime,
                    tz: str) -> dict[str, Any]:
    used = await export_queries.emission_provenance(conn, point_keys=[p["point_key"] for p in points], start=start,
                                                    end=end)
    factors = await accounting_queries.factor_rows(conn, factor_ids=used["factor_ids"])
    known = {f["factor_id"] for f in factors}
    return {
        "export": "hourly", "format_version": 1, "scope": scope.asked(), "sites": list(scope.sites),
        "range": {"start": start.isoformat(), "end": end.isoformat(), "end_excluded": True},
        "interval": "1h", "timezone": tz,
        "points": [{k: p[k] for k in ("site", "process", "device", "point", "unit", "kind", "activity")}
                   for p in points],
        "factor_versions": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in f.items()}
                            for f in factors],
        # an emission row naming a factor that is no longer in the library: said, not hidden
        "factor_ids_not_in_library": [f for f in used["factor_ids"] if f not in known],
        "formulas": used["formulas"], "emission_intervals": used["intervals"], "columns": COLUMN_NOTES,
    }


async def _rows(request: Request, points: list[dict[str, Any]], start: datetime,
                end: datetime) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Per point, its hourly buckets (the /series figures) joined with its emissions of the hour."""
    # a connection of its own for the life of the response: the request's may be handed back before the body
    async with request.app.state.pool.connection() as conn:
        for p in points:
            series = await queries.point_series(conn, device=p["device"], point=p["point"], start=start, end=end,
                                                interval="1h", sites=[p["site"]])
            buckets = {b["ts"]: b for b in (series or {"points": []})["points"]}
            emitted = await export_queries.point_hourly_emissions(conn, point_key=p["point_key"], start=start,
                                                                  end=end)
            rows = []
            for ts in sorted(buckets.keys() | emitted.keys()):
                b, e = buckets.get(ts), emitted.get(ts)
                rows.append((
                    ts, p["site"], p["process"], p["device"], p["point"], p["unit"], p["kind"],
                    b and b["value"], b and b["min"], b and b["max"], b["count"] if b else 0,
                    b["quality"] if b else None, p["activity"], e and e["activity_amount"], e and e["activity_unit"],
                    e and e["tco2"], e["intervals"] if e else 0, ",".join(e["factor_ids"]) if e else None,
                ))
            if rows:
                yield rows


def _header(manifest: dict[str, Any]) -> str:
    scope = ", ".join(f"{k} {v}" for k, v in manifest["scope"].items() if v)
    lines = [
        "carbonflow hourly export",
        f"scope: {scope}; sites: {', '.join(manifest['sites'])}; points: {len(manifest['points'])}",
        (f"range: {manifest['range']['start']} to {manifest['range']['end']} (end excluded); interval: 1h;"
         f" whole UTC hours shown in {manifest['timezone']}"),
        "factor versions: " + ("; ".join(
            f"{f['factor_id']} = {f['value']:g} {f['unit']} (series {f['series']}; source {f['source']})"
            for f in manifest["factor_versions"]) or "none used in this range"),
        "formulas: " + ("; ".join(manifest["formulas"]) or "none"),
        "the same manifest as JSON: /api/v1/export/hourly/manifest with this export's query",
    ]
    return "".join(f"# {line.replace(chr(10), ' ')}\n" for line in lines)


async def _csv(request: Request, manifest: dict[str, Any], points: list[dict[str, Any]], start: datetime,
               end: datetime, zone: ZoneInfo) -> AsyncIterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield _header(manifest) + out.getvalue()
    async for batch in _rows(request, points, start, end):
        out.seek(0)
        out.truncate()
        for (ts, site, process, device, point, unit, kind, value, lo, hi, n, quality, activity, qty, qty_unit,
             tco2, intervals, factor_ids) in batch:
            writer.writerow([ts.astimezone(zone).isoformat(), csv_text(site), csv_text(process), csv_text(device),
                             csv_text(point), csv_text(unit), kind, csv_number(value), csv_number(lo),
                             csv_number(hi), n, quality or "", csv_text(activity), csv_number(qty),
                             csv_text(qty_unit), csv_number(tco2), intervals, factor_ids or ""])
        yield out.getvalue()


async def _groups(request: Request, points: list[dict[str, Any]], start: datetime,
                  end: datetime) -> AsyncIterator[dict[str, list[Any]]]:
    """Row groups of about _ROW_GROUP rows, filled across points."""
    pending: list[tuple[Any, ...]] = []
    async for batch in _rows(request, points, start, end):
        pending.extend(batch)
        if len(pending) >= _ROW_GROUP:
            yield dict(zip(COLUMNS, (list(c) for c in zip(*pending)), strict=True))
            pending = []
    if pending:
        yield dict(zip(COLUMNS, (list(c) for c in zip(*pending)), strict=True))


_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "unknown site or enterprise, one outside the caller's scope, or a process no visible "
                         "device has"},
    422: {"description": "no scope given, a bad time or time zone, or a range longer than 400 days"},
}
_Tz = Annotated[str, Query(max_length=64, description="IANA time zone in which times are shown")]


@router.get("/export/hourly/manifest", responses=_RESPONSES)
async def hourly_manifest(
    caller: EmissionsReader, conn: Conn, scope: ScopeParam, start: TimeParam, end: TimeParam,
    tz: _Tz = figures.DEFAULT_TZ,
) -> dict[str, Any]:
    """What /export/hourly.csv or .parquet with the same query holds: scope, sites, points, range, and every
    factor row (value, unit, series, source, validity) and formula behind its emissions."""
    return (await _prepare(conn, scope=scope, start=start, end=end, tz=tz))[4]


@router.get("/export/hourly.csv", response_class=StreamingResponse, responses={
    **_RESPONSES, 200: {"description": "CSV: '#' comment lines (scope, range, factor versions, formulas), a "
                                       "header row, one row a point and hour",
                        "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def hourly_csv(
    request: Request, caller: EmissionsReader, conn: Conn, scope: ScopeParam, start: TimeParam, end: TimeParam,
    tz: _Tz = figures.DEFAULT_TZ,
) -> StreamingResponse:
    """Every point's hourly rows in the scope, ordered by site, device, point and hour."""
    t0, t1, zone, points, manifest = await _prepare(conn, scope=scope, start=start, end=end, tz=tz)
    return StreamingResponse(_csv(request, manifest, points, t0, t1, zone), media_type="text/csv; charset=utf-8",
                             headers=download_headers("carbonflow-hourly.csv"))


@router.get("/export/hourly.parquet", response_class=StreamingResponse, responses={
    **_RESPONSES, 200: {"description": "Parquet: one row a point and hour; key-value metadata "
                                       "`carbonflow.manifest` is the manifest as JSON",
                        "content": {PARQUET_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}})
async def hourly_parquet(
    request: Request, caller: EmissionsReader, conn: Conn, scope: ScopeParam, start: TimeParam, end: TimeParam,
    tz: _Tz = figures.DEFAULT_TZ,
) -> StreamingResponse:
    """The rows of /export/hourly.csv as Parquet, in row groups of about 10,000 rows."""
    t0, t1, _, points, manifest = await _prepare(conn, scope=scope, start=start, end=end, tz=tz)
    return StreamingResponse(parquet_chunks(_schema(tz), _groups(request, points, t0, t1), provenance_metadata(manifest)),
                             media_type=PARQUET_MEDIA_TYPE, headers=download_headers("carbonflow-hourly.parquet"))
