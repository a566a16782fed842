"""Where one emission figure comes from, one step at a time:

- GET /api/v1/emissions/provenance: a site's figure for one source over a range (a day or month of the
  breakdown) -> the factor rows and formula versions its intervals used, and its hours;
- GET /api/v1/emissions/provenance/hour: one hour of it -> every stored interval with its meter's counter
  readings, each interval recomputed with the same rows by the function the stream job uses.

404 for a site outside the caller's scope, as elsewhere."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from api.accounting import queries as accounting_queries
from api.auth.deps import EmissionsReader
from api.deps import Conn, TimeParam, parse_time
from api.emissions import provenance_queries
from api.registry.scope_deps import ReportScope, ScopeParam
from carbon_domain.accounting import EMITTING_ACTIVITIES
from carbon_domain.breakdown import activity_scope
from carbon_domain.errors import DomainError
from carbon_domain.factors import FactorRow, current_versions
from carbon_domain.formulas import FORMULA_VERSION
from carbon_domain.provenance import formula_parts, recompute_interval

router = APIRouter(tags=["emissions"])

MAX_RANGE = timedelta(days=93)
_Source = Annotated[str, Query(max_length=64, description="the emitting activity, e.g. electricity, natural_gas")]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "unknown site, one outside the caller's scope, or a process no visible device has"},
    422: {"description": "no site, an unknown source, a bad time, a range longer than 93 days, an hour that is "
                         "not whole"},
}


def _checked(scope: ReportScope, source: str) -> str:
    """The one site of the scope; 422 without a site or with an unknown source."""
    if scope.site is None:
        raise HTTPException(422, "give site=: a provenance is traced for one site")
    if source not in EMITTING_ACTIVITIES:
        raise HTTPException(422, f"source {source!r} is not an emitting activity; one of "
                                 f"{', '.join(sorted(EMITTING_ACTIVITIES))}")
    return scope.site


async def _factors(conn: Conn, factor_ids: list[str]) -> list[dict[str, Any]]:
    """The rows named, each marked current or with the newer version that replaced it."""
    rows = await accounting_queries.factor_rows(conn, factor_ids=factor_ids)
    library = await accounting_queries.load_library(conn)
    replaced = current_versions(library.rows())
    for row in rows:
        row["superseded_by"] = replaced.get(row["factor_id"])
    return rows


def _formulas(names: set[str]) -> list[dict[str, Any]]:
    out = []
    for formula in sorted(names):
        name, version = formula_parts(formula)
        out.append({"formula": formula, "name": name, "version": version,
                    "current": version == FORMULA_VERSION if version is not None else None})
    return out


@router.get("/emissions/provenance", responses=_RESPONSES)
async def provenance(caller: EmissionsReader, conn: Conn, scope: ScopeParam, source: _Source, start: TimeParam,
                     end: TimeParam) -> dict[str, Any]:
    """The figure of one source at a site over [start, end) (optionally one process's devices): its total, the
    factor rows (in full, marked current or superseded) and formula versions its intervals used, and per UTC
    hour the same, to open with /emissions/provenance/hour."""
    site = _checked(scope, source)
    t0, t1 = parse_time("start", start), parse_time("end", end)
    if t1 <= t0:
        raise HTTPException(422, "end must be after start")
    if t1 - t0 > MAX_RANGE:
        raise HTTPException(422, f"a provenance covers at most {MAX_RANGE.days} days; pick one day or month")
    hours = await provenance_queries.hourly_figures(conn, site=site, activity=source, start=t0, end=t1,
                                                    process=scope.process)
    used = sorted({f for h in hours for f in h["factor_ids"]})
    return {
        "site": site, "process": scope.process, "source": source, "scope": activity_scope(source),
        "start": t0, "end": t1, "unit": "tCO2", "tco2": sum(h["tco2"] for h in hours),
        "activity_amount": sum(h["activity_amount"] for h in hours) if hours else 0.0,
        "activity_unit": hours[0]["activity_unit"] if hours else None,
        "intervals": sum(h["intervals"] for h in hours),
        "factors": await _factors(conn, used),
        "formulas": _formulas({f for h in hours for f in h["formulas"]}),
        "formula_version": FORMULA_VERSION,
        "hours": hours,
    }


def _recomputed(interval: dict[str, Any], rows: dict[str, FactorRow]) -> dict[str, Any]:
    missing = [f for f in interval["factor_ids"] if f not in rows]
    if missing:
        return {"recomputed_tco2": None, "recompute_error": f"factor row {missing[0]} is not in the library"}
    try:
        again = recompute_interval(interval["activity"], interval["quantity"], interval["quantity_unit"],
                                   interval["ts"], [rows[f] for f in interval["factor_ids"]])
    except DomainError as exc:
        return {"recomputed_tco2": None, "recompute_error": str(exc)}
    return {"recomputed_tco2": again.tco2, "recompute_formula": again.formula, "recompute_error": None,
            "matches": abs(again.tco2 - interval["tco2"]) <= 1e-9 * max(1.0, abs(interval["tco2"]))}


def _counter_value(readings: list[dict[str, Any]], at: datetime) -> float | None:
    return next((r["value"] for r in readings if r["ts"] == at), None)


@router.get("/emissions/provenance/hour", responses=_RESPONSES)
async def provenance_hour(
    caller: EmissionsReader, conn: Conn, scope: ScopeParam, source: _Source,
    hour: Annotated[str, Query(max_length=40, description="the whole hour, ISO-8601 with offset "
                                                          "(2026-05-10T14:00:00+08:00)")],
) -> dict[str, Any]:
    """The intervals of one source at a site that end in one hour: meter, counter readings at both ends,
    activity amount, tCO2, factor rows and formula, and the tCO2 recomputed from them with the stream job's
    function (`matches` false means the stored figure was computed otherwise). `meters` holds every stored
    reading of the meters from the first interval's start to the hour's last interval end."""
    site = _checked(scope, source)
    t0 = parse_time("hour", hour)
    if (t0.minute, t0.second, t0.microsecond) != (0, 0, 0):
        raise HTTPException(422, f"hour: {hour!r} is not a whole hour (e.g. 2026-05-10T14:00:00+08:00)")
    intervals = await provenance_queries.hour_intervals(conn, site=site, activity=source, start=t0,
                                                        end=t0 + timedelta(hours=1), process=scope.process)
    used = sorted({f for i in intervals for f in i["factor_ids"]})
    factors = await _factors(conn, used)
    rows = {f["factor_id"]: FactorRow.model_validate({k: f[k] for k in accounting_queries.FACTOR_COLUMNS})
            for f in factors}
    keys = sorted({i["point_key"] for i in intervals})
    readings = await provenance_queries.point_readings(
        conn, point_keys=keys, start=min((i["start_ts"] for i in intervals), default=t0),
        end=max((i["ts"] for i in intervals), default=t0))
    meters = {}
    for interval in intervals:
        key = interval.pop("point_key")
        interval["activity"] = source
        interval["start_value"] = _counter_value(readings[key], interval["start_ts"])
        interval["end_value"] = _counter_value(readings[key], interval["ts"])
        interval.update(_recomputed(interval, rows))
        meters.setdefault(key, {"device": interval["device"], "point": interval["point"],
                                "unit": interval["reading_unit"], "readings": readings[key]})
    return {
        "site": site, "process": scope.process, "source": source, "hour": t0, "end": t0 + timedelta(hours=1),
        "unit": "tCO2", "tco2": sum(i["tco2"] for i in intervals), "intervals": intervals,
        "meters": list(meters.values()), "factors": factors,
        "formulas": _formulas({i["formula"] for i in intervals}), "formula_version": FORMULA_VERSION,
    }
