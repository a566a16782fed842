"""GET /api/v1/emissions/breakdown: tCO2 of a site, an enterprise or a process over a period, in total, by scope,
by source and by process, and per local day or month, with the factor rows behind it; 404 outside the caller's
scope. The figures are the stream job's (`scope_totals` reads what it stored)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query

from api.accounting import queries as accounting_queries
from api.auth.deps import EmissionsReader
from api.deps import Conn, TimeParam, parse_time
from api.emissions import scope_totals
from api.registry.scope_deps import ScopeParam
from api.telemetry import figures
from carbon_domain.breakdown import activity_scope, calendar_buckets
from carbon_domain.errors import DomainError

router = APIRouter(tags=["emissions"])

MAX_BUCKETS = {"day": 92, "month": 36}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "unknown site or enterprise, one outside the caller's scope, or a process no visible "
                         "device has"},
    422: {"description": "no scope, a bad time or time zone, end not after start, or more buckets than allowed "
                         "(92 days, 36 months)"},
}


def _scope_of(source: str) -> str | None:
    try:
        return activity_scope(source)
    except DomainError:
        return None  # a source the accounting rules no longer name keeps its figure, without a scope


def _source_row(source: dict[str, Any]) -> dict[str, Any]:
    amounts = source["activity_amount"]
    # one activity is stored in one unit; should two ever meet they are not added, and the amount is left out
    amount, unit = (next(iter(amounts.values())), next(iter(amounts))) if len(amounts) == 1 else (None, None)
    return {"source": source["source"], "scope": _scope_of(source["source"]), "tco2": source["tco2"],
            "activity_amount": amount, "activity_unit": unit, "intervals": source["intervals"],
            "quality": source["quality"]}


@router.get("/emissions/breakdown", responses=_RESPONSES)
async def breakdown(
    caller: EmissionsReader, conn: Conn, scope: ScopeParam, start: TimeParam, end: TimeParam,
    interval: Annotated[Literal["day", "month"], Query(description="bucket: local days or months of `tz`")] = "day",
    tz: Annotated[str, Query(max_length=64, description="IANA time zone of the calendar")] = figures.DEFAULT_TZ,
) -> dict[str, Any]:
    """tCO2 over [start, end): totals by scope (scope1 direct, scope2 purchased energy), source and process, and
    per bucket by source and by process. An interval counts in the bucket its end time falls in; the first and
    last bucket are cut to the range. Every factor row used is listed in full (GET /emissions/provenance traces
    one figure to its rows, formula and readings)."""
    t0, t1 = parse_time("start", start), parse_time("end", end)
    if t1 <= t0:
        raise HTTPException(422, "end must be after start")
    try:
        zone = figures.zone(tz)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    buckets = calendar_buckets(t0, t1, zone, interval)
    if len(buckets) > MAX_BUCKETS[interval]:
        raise HTTPException(422, f"{len(buckets)} {interval}s asked for, at most {MAX_BUCKETS[interval]}: "
                                 f"shorten the range or use interval=month")
    whole = await scope_totals.scope_co2(conn, sites=scope.sites, start=t0, end=t1, process=scope.process)
    by_source = [_source_row(s) for s in whole["by_source"]]
    by_scope: dict[str, float] = {}
    for row in by_source:
        if row["scope"] is not None:
            by_scope[row["scope"]] = by_scope.get(row["scope"], 0.0) + row["tco2"]
    series = []
    for bucket in buckets:
        sources: dict[str, float] = {}
        processes: dict[str, float] = {}
        for activity, process, _unit, tco2, _amount, _quality, _n in await scope_totals.scope_co2_rows(
                conn, sites=scope.sites, start=bucket.start, end=bucket.end, process=scope.process):
            sources[activity] = sources.get(activity, 0.0) + tco2
            processes[process] = processes.get(process, 0.0) + tco2
        series.append({"period": bucket.label, "start": bucket.start, "end": bucket.end,
                       "tco2": sum(sources.values()), "by_source": sources, "by_process": processes})
    return {
        "scope": scope.asked(), "sites": list(scope.sites), "interval": interval, "timezone": zone.key,
        "start": t0, "end": t1, "unit": "tCO2", "total_tco2": whole["total_tco2"],
        "by_scope": [{"scope": name, "tco2": tco2} for name, tco2 in sorted(by_scope.items())],
        "by_source": by_source, "by_process": whole["by_process"], "buckets": series,
        "factors": await accounting_queries.factor_rows(conn, factor_ids=whole["factor_versions"]),
    }
