"""GET /api/v1/emissions/compare: a month's or a year's tCO2 and energy (activity amounts) of a site, an
enterprise or a process against the same period a year before (同比, yoy) or the month before (环比, mom), in
total, by source and by process, with the factor versions behind both; 404 outside the caller's scope."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from api.accounting import queries as accounting_queries
from api.auth.deps import EmissionsReader
from api.deps import Conn, parse_time
from api.emissions import scope_totals
from api.registry.scope_deps import ScopeParam
from api.telemetry import figures
from carbon_domain import periods

router = APIRouter(tags=["emissions"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "unknown site or enterprise, one outside the caller's scope, or a process no visible "
                         "device has"},
    422: {"description": "no scope, a bad period or basis (mom of a whole year), a period not begun, a bad time zone, "
                         "a cut (`to`) outside the period"},
}


def _by_source(current: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    cur = {s["source"]: s for s in current["by_source"]}
    prev = {s["source"]: s for s in previous["by_source"]}
    out = []
    for source in sorted(cur.keys() | prev.keys(), key=lambda s: -(cur.get(s) or prev[s])["tco2"]):
        c, p = cur.get(source), prev.get(source)
        amounts_c = c["activity_amount"] if c else {}
        amounts_p = p["activity_amount"] if p else {}
        units = sorted(amounts_c.keys() | amounts_p.keys())
        if len(units) == 1:
            amount = periods.change(amounts_c.get(units[0], 0.0), amounts_p.get(units[0], 0.0))
        else:
            amount = {**periods.change(None, None), "note": f"activity stored in different units ({', '.join(units)})"}
        out.append({"source": source, "tco2": periods.change(c["tco2"] if c else 0.0, p["tco2"] if p else 0.0),
                    "activity_amount": amount, "activity_unit": units[0] if len(units) == 1 else None})
    return out


def _by_process(current: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    cur = {r["process"]: r["tco2"] for r in current["by_process"]}
    prev = {r["process"]: r["tco2"] for r in previous["by_process"]}
    names = sorted(cur.keys() | prev.keys(), key=lambda k: (-cur.get(k, prev.get(k, 0.0)), k or ""))
    return [{"process": name, "tco2": periods.change(cur.get(name, 0.0), prev.get(name, 0.0))} for name in names]


def _window(period: periods.Period, zone: Any, now: datetime) -> dict[str, Any]:
    start, end = period.window(zone)
    return {"period": period.label, "start": start, "end": end, "complete": end <= now}


def _cut(window: dict[str, Any], end: datetime) -> None:
    """Cut a period's window short at `end`, keeping its whole end as `period_end`."""
    window["period_end"], window["end"], window["cut"] = window["end"], end, end < window["end"]


@router.get("/emissions/compare", responses=_RESPONSES)
async def compare(
    caller: EmissionsReader, conn: Conn, scope: ScopeParam,
    period: Annotated[str, Query(max_length=16, description="a month YYYY-MM or a year YYYY, in `tz`")],
    basis: Annotated[periods.Basis, Query(description="yoy: the same period a year before (同比); "
                                                      "mom: the month before (环比)")] = "mom",
    tz: Annotated[str, Query(max_length=64, description="IANA time zone of the calendar")] = figures.DEFAULT_TZ,
    to: Annotated[str | None, Query(max_length=40, description=(
        "to date: `now` or an ISO-8601 time within the period; the period runs to it and the base period to the "
        "same local date and time (the 10th at 14:00 of the month before), instead of both whole"))] = None,
) -> dict[str, Any]:
    """A period against its base. Relative changes are fractions (0.2 = +20 %) and null, with a note, when the
    base is 0; a source or process missing in one period counts 0 tCO2 there. With `to`, both are cut short at
    the same point of their calendar (month to date against the same span of the month before)."""
    try:
        zone = figures.zone(tz)
        current = periods.parse_period(period)
        previous = periods.previous_period(current, basis)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    now = datetime.now(zone)
    windows = {"current": _window(current, zone, now), "previous": _window(previous, zone, now)}
    if windows["current"]["start"] > now:
        raise HTTPException(422, f"period {current.label} has not begun in {tz}")
    if to is not None:
        cut = min(now, windows["current"]["end"]) if to == "now" else parse_time("to", to)
        try:
            base_end = periods.same_span_end(current, previous, cut, zone)
        except ValueError as exc:
            raise HTTPException(422, f"to: {exc}") from exc
        _cut(windows["current"], cut.astimezone(zone))
        _cut(windows["previous"], base_end)
    figures_of = {
        name: await scope_totals.scope_co2(conn, sites=scope.sites, start=w["start"], end=w["end"],
                                           process=scope.process)
        for name, w in windows.items()
    }
    used = sorted(set(figures_of["current"]["factor_versions"]) | set(figures_of["previous"]["factor_versions"]))
    rows = {f["factor_id"]: f for f in await accounting_queries.factor_rows(conn, factor_ids=used)}
    notes = []
    if to is not None:
        notes.append(f"to date: {current.label} up to {windows['current']['end'].isoformat()} against "
                     f"{previous.label} up to {windows['previous']['end'].isoformat()}")
    elif not windows["current"]["complete"]:
        notes.append(f"{current.label} is not over: its figures are to date, the base period's are whole")
    return {
        "scope": scope.asked(), "sites": list(scope.sites), "basis": basis, "timezone": tz, "unit": "tCO2",
        **windows,
        "total_tco2": periods.change(figures_of["current"]["total_tco2"], figures_of["previous"]["total_tco2"]),
        "by_source": _by_source(figures_of["current"], figures_of["previous"]),
        "by_process": _by_process(figures_of["current"], figures_of["previous"]),
        "factor_versions": {
            name: [{k: rows[f][k] for k in ("factor_id", "value", "unit", "series", "source")} if f in rows
                   else {"factor_id": f, "note": "not in the factor library"} for f in got["factor_versions"]]
            for name, got in figures_of.items()
        },
        "notes": notes,
    }
