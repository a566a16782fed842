"""/api/v1/analysis: decoupling, LMDI decomposition, the Kaya view, peak forecasts under saved scenarios, and
targets of regions and of enterprise groups set, issued and tracked (docs/analysis.md, docs/targets.md; formulas
in carbon_domain.analysis).

Figures come from the monitoring service. Reading needs 'monitoring'; a government user sees its region and
sub-regions, an enterprise user its own units (their decoupling and the unit targets issued to them).
Saving scenarios and setting or issuing targets is for government users in their region and administrators;
each of those writes is audited. A group target (of an enterprise group, api/groups/) is seen by whoever sees the
group: administrators, the government of the region holding all its members, and, once issued, each member
enterprise, which sees only its own allocation.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse

from api.analysis import queries
from api.analysis.schemas import ScenarioSpec, TargetCreate
from api.analysis.target_alarms import TZ, check_target_alarms
from api.analysis.tracking import holder_group, track
from api.audit import auditlog
from api.auth.access import Principal
from api.auth.deps import caller_with
from api.deps import ClientIP, Conn
from api.groups.scope import visible_groups
from api.monitoring import queries as monitoring
from carbon_domain.analysis import (
    COUPLING_HIGH,
    COUPLING_LOW,
    GrowthPath,
    Holder,
    Projection,
    Scenario,
    Sector,
    StirpatFit,
    StirpatPoint,
    allocate_intensity,
    allocate_total,
    decoupling_table,
    fit_stirpat,
    kaya,
    lmdi,
    preset,
    project,
    suggest,
)
from carbon_domain.errors import FormulaInputError
from carbon_domain.monitoring import region_prefix

__all__ = ["router"]

router = APIRouter(prefix="/analysis", tags=["analysis"])
METHOD = "METHODS.md section 7; docs/analysis.md"
HISTORY_YEARS = 10  # monitoring years read before a forecast's base year


Reader = Annotated[Principal, Depends(caller_with("monitoring"))]
Planner = Annotated[Principal, Depends(caller_with(
    "monitoring_data", roles=("admin", "government"),
    may_not="save scenarios or set targets; a government user of the region or an administrator may"))]
Year = Annotated[int, Query(ge=1990, le=2200)]
RegionCode = Annotated[str, Query(pattern=r"^[0-9]{6}$", description="GB/T 2260 code")]
Id = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


async def _region(conn: psycopg.AsyncConnection, caller: Principal, code: str) -> tuple[
        monitoring.UnitScope, dict[str, Any]]:
    """The caller's scope and the region `code` when the caller may see all of it; 404 otherwise."""
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    found = next((r for r in await monitoring.list_regions(conn) if r["code"] == code), None)
    if found is None:
        raise HTTPException(404, f"unknown region {code}; see GET /api/v1/monitoring/regions")
    if not scope.covers_region(code):
        raise HTTPException(404, f"region {code} is outside what you may see")
    return scope, found


def _sub_regions(region: dict[str, Any]) -> str:
    group = {1: "city", 2: "county"}.get(region["level"])
    if group is None:
        raise HTTPException(422, f"region {region['code']} is county-level and has no sub-regions; "
                                 "use holder_level industry or unit")
    return group


# --- decoupling, decomposition, Kaya -----------------------------------------------------------------------------


@router.get("/decoupling")
async def decoupling(
    caller: Reader, conn: Conn, start: Year, end: Year,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="a region (GB/T 2260)")] = None,
    industry: Annotated[str | None, Query(pattern=r"^[0-9]{2,4}$", description="only this class")] = None,
    unit_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="one emission unit instead")] = None,
) -> dict[str, Any]:
    """Tapio decoupling of CO2 from value added, year by year from `start` to `end`, for a region (optionally one
    industry class) or a unit."""
    if not start < end <= start + 50:
        raise HTTPException(422, f"end ({end}) must be after start ({start}) and at most 50 years later")
    if unit_id is not None:
        scope = await monitoring.unit_scope(conn, scope=caller.scope)
        unit = await monitoring.get_unit(conn, unit_id=unit_id, scope=scope)
        if unit is None:
            raise HTTPException(404, f"no unit {unit_id} that you may see")
        prefix, industry, group, key = unit["region_code"], unit["industry_code"], "unit", str(unit_id)
        subject: dict[str, Any] = {"unit_id": unit_id, "name": unit["name"]}
    elif region is not None:
        scope, found = await _region(conn, caller, region)
        prefix, group, key = region_prefix(region), "total", "total"
        subject = {"region": region, "name": found["name"], "industry": industry}
    else:
        raise HTTPException(422, "give region (with an optional industry) or unit_id")
    years, missing = [], []
    for year in range(start, end + 1):
        found_sector = next((s for s in await queries.yearly_sectors(conn, scope=scope, prefix=prefix,
                                                                      industry=industry, year=year, group=group)
                             if s.key == key), None)
        if found_sector and found_sector.co2 > 0 and found_sector.activity > 0:
            years.append((year, found_sector.co2, found_sector.activity))
        else:
            missing.append(year)
    if len(years) < 2:
        raise HTTPException(422, f"decoupling needs two years with CO2 and value added; years without them: "
                                 f"{missing}")
    steps, overall = decoupling_table(years)
    return {"subject": subject, "years": [{"year": y, "co2": c, "gdp": g} for y, c, g in years],
            "missing_years": missing, "steps": [asdict(s) for s in steps], "overall": asdict(overall),
            "cut_offs": [COUPLING_LOW, COUPLING_HIGH], "gdp": "value added, 10^4 yuan at current prices",
            "method": f"Tapio (2005) elasticity; {METHOD}"}


@router.get("/lmdi")
async def decomposition(caller: Reader, conn: Conn, region: RegionCode, base: Year, target: Year) -> dict[str, Any]:
    """Additive LMDI of the region's CO2 change from year `base` to `target` into activity (value added),
    structure (industry shares), intensity (tce per value added) and emission-factor (CO2 per tce) effects.
    Divisions without value added in either year are left out and listed in `excluded` with their CO2."""
    if base == target:
        raise HTTPException(422, "base and target must be different years")
    scope, found = await _region(conn, caller, region)
    periods = [await queries.yearly_sectors(conn, scope=scope, prefix=region_prefix(region), industry=None,
                                            year=year, group="industry") for year in (base, target)]
    empty = [year for year, sectors in zip((base, target), periods, strict=True) if not sectors]
    if empty:
        raise HTTPException(422, f"region {region} has no monitoring figures in {empty}")
    industries = await monitoring.list_industries(conn)
    names = {row["code"]: row["name"] for row in industries}
    names_en = {row["code"]: row["name_en"] or row["name"] for row in industries}
    # a division without value added in either year (public institutions report none) has no intensity: it is
    # left out of the decomposition and listed, with its CO2, so that nothing is hidden
    without = sorted({s.key for sectors in periods for s in sectors if s.activity <= 0})
    co2 = [{s.key: s.co2 for s in sectors} for sectors in periods]
    excluded = [{"key": key, "name": names.get(key, key), "name_en": names_en.get(key, key), "base_co2": co2[0].get(key, 0.0),
                 "target_co2": co2[1].get(key, 0.0)} for key in without]
    periods = [[s for s in sectors if s.key not in without] for sectors in periods]
    try:
        result = lmdi(*periods)
    except FormulaInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"region": {"code": region, "name": found["name"]}, "base": base, "target": target,
            "excluded": excluded,
            "base_co2": result.base_co2, "target_co2": result.target_co2, "change": result.change,
            "effects": result.effects(), "residual": result.change - math.fsum(result.effects().values()),
            "sectors": [{**asdict(s), "name": names.get(s.key, s.key), "name_en": names_en.get(s.key, s.key)}
                        for s in result.sectors],
            "factors": {"activity": "value added (10^4 yuan)", "structure": "industry division share of value added",
                        "intensity": "tce per 10^4 yuan", "emission_factor": "t CO2 per tce"},
            "method": f"additive LMDI-I (Ang 2004); {METHOD}"}


@router.get("/kaya")
async def kaya_view(
    caller: Reader, conn: Conn, region: RegionCode, start: Year, end: Year,
    population: Annotated[list[str] | None, Query(description="YEAR:10^4 persons, repeated")] = None,
) -> dict[str, Any]:
    """The Kaya factors of a region year by year; per-capita figures only for years given a population."""
    if not start <= end <= start + 50:
        raise HTTPException(422, f"end ({end}) must not be before start ({start}) and at most 50 years later")
    scope, found = await _region(conn, caller, region)
    bad = [p for p in population or [] if not re.fullmatch(r"[0-9]{4}:[0-9]+(\.[0-9]+)?", p)]
    persons = {int(y): float(v) for y, v in (p.split(":") for p in population or [] if p not in bad)}
    if bad or any(not 0 < v < math.inf for v in persons.values()):
        raise HTTPException(422, f"population is given as YEAR:10^4 persons, positive, e.g. 2025:520.3; got {bad}")
    rows = []
    for year in range(start, end + 1):
        total = await queries.yearly_sectors(conn, scope=scope, prefix=region_prefix(region), industry=None,
                                             year=year, group="total")
        if not total or not (total[0].activity > 0 and total[0].energy > 0):
            continue
        s = total[0]
        k = kaya(population=persons.get(year, 1.0), gdp=s.activity, energy=s.energy, co2=s.co2)
        given = year in persons
        rows.append({"year": year, "co2": s.co2, "population": persons.get(year),
                     "gdp_per_capita": k.gdp_per_capita if given else None, "gdp": s.activity,
                     "energy_per_gdp": k.energy_per_gdp, "co2_per_energy": k.co2_per_energy})
    return {"region": {"code": region, "name": found["name"]}, "years": rows,
            "identity": "CO2 = population × GDP per capita × energy per GDP × CO2 per energy", "method": METHOD}


# --- forecast and scenarios --------------------------------------------------------------------------------------


def _scenario(spec: ScenarioSpec, base_year: int) -> Scenario:
    defaults = preset(spec.kind, start_year=base_year + 1).paths
    paths = {d: GrowthPath(tuple(spec.paths[d])) if d in spec.paths else p for d, p in defaults.items()}
    return Scenario(spec.name, paths)


def _nearest(values: dict[int, float], year: int) -> float | None:
    return values[min(values, key=lambda y: (abs(y - year), y))] if values else None


async def _forecast(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope, region: str,
                    spec: ScenarioSpec, base_year: int) -> dict[str, Any]:
    if spec.end_year <= base_year:
        raise HTTPException(422, f"end_year {spec.end_year} must be after the base year {base_year}")
    prefix = region_prefix(region)
    by_year: dict[int, list[Sector]] = {}
    for year in range(base_year - HISTORY_YEARS + 1, base_year + 1):
        sectors = await queries.yearly_sectors(conn, scope=scope, prefix=prefix, industry=None, year=year,
                                               group="industry")
        if sectors:
            by_year[year] = sectors
    totals = {y: Sector("total", sum(s.activity for s in ss), sum(s.energy for s in ss), sum(s.co2 for s in ss))
              for y, ss in by_year.items()}
    usable = {y: t for y, t in totals.items() if min(t.activity, t.energy, t.co2) > 0}
    if base_year not in usable:
        raise HTTPException(422, f"region {region} has no CO2, energy and value added for base year {base_year};"
                                 f" years with them: {sorted(usable)}")
    persons = {int(y): v for y, v in spec.population.items()}
    for h in spec.history:
        if h.population is not None:
            persons.setdefault(h.year, h.population)

    def person(year: int) -> float:
        return _nearest(persons, year) or 1.0

    points = {h.year: StirpatPoint(h.year, h.co2, person(h.year), h.gdp, h.energy) for h in spec.history}
    points |= {y: StirpatPoint(y, t.co2, person(y), t.activity, t.energy) for y, t in usable.items()}
    history = [points[y] for y in sorted(points)]
    fit: StirpatFit | None = None
    fit_info: dict[str, Any]
    try:
        fit = fit_stirpat(history)
        fit_info = {"available": True, "drivers": fit.drivers, "coefficients": fit.coefficients,
                    "standard_errors": fit.standard_errors, "r2": fit.r2, "n": fit.n, "sigma": fit.sigma,
                    "confidence": fit.confidence, "years": fit.years}
    except FormulaInputError as exc:
        if spec.model == "stirpat":
            raise HTTPException(422, f"the STIRPAT model cannot be fitted: {exc}") from exc
        fit_info = {"available": False, "reason": str(exc)}
    scenario = _scenario(spec, base_year)
    try:
        projection = project(points[base_year], scenario, end_year=spec.end_year,
                             fit=fit if spec.model == "stirpat" else None)
    except FormulaInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    change = None
    if base_year - 1 in by_year:
        try:
            change = lmdi(by_year[base_year - 1], by_year[base_year])
        except FormulaInputError:
            change = None  # an undecomposable year only drops the decomposition-based suggestions
    base = points[base_year]
    k = kaya(population=base.population, gdp=base.gdp, energy=base.energy, co2=base.co2)
    return {
        "region": region, "base_year": base_year, "model": spec.model,
        "scenario": {"name": spec.name, "kind": spec.kind, "end_year": spec.end_year,
                     "paths": {d: list(p.steps) for d, p in scenario.paths.items()}},
        "population_given": bool(persons),
        "kaya": {"co2": base.co2, "population": base.population if persons else None,
                 "gdp_per_capita": k.gdp_per_capita if persons else None, "energy_per_gdp": k.energy_per_gdp,
                 "co2_per_energy": k.co2_per_energy},
        "history": [{**asdict(p), "source": "monitoring" if p.year in usable else "given"} for p in history],
        "fit": fit_info, **_projection(projection),
        "decomposition": None if change is None else {"base": base_year - 1, "target": base_year,
                                                      "effects": change.effects(), "change": change.change},
        "suggestions": [{"rule": s.rule, "text": s.text, "params": s.params} for s in suggest(projection, change)],
        "method": f"Kaya drivers / STIRPAT; {METHOD}",
    }


def _projection(p: Projection) -> dict[str, Any]:
    return {"years": [asdict(y) for y in p.years],
            "peak": {"year": p.peak_year, "co2": p.peak_co2, "reached": p.peaked, "low": p.peak_low,
                     "high": p.peak_high, "years": p.peak_years},
            "factors": [asdict(f) for f in p.factors]}


def _default_base_year() -> int:
    return date.today().year - 1


BaseYear = Annotated[int | None, Query(ge=1990, le=2200, description="default: last year")]


@router.post("/forecast")
async def forecast(caller: Reader, conn: Conn, region: RegionCode, spec: ScenarioSpec,
                   base_year: BaseYear = None) -> dict[str, Any]:
    """Projects the region's emissions under a scenario without saving it (for editing growth paths)."""
    scope, _ = await _region(conn, caller, region)
    return await _forecast(conn, scope=scope, region=region, spec=spec, base_year=base_year or _default_base_year())


def _spec(row: dict[str, Any]) -> ScenarioSpec:
    return ScenarioSpec.model_validate({"name": row["name"], "kind": row["kind"], "model": row["model"],
                                        "end_year": row["end_year"], "paths": row["paths"],
                                        "population": row["population"], "history": row["history"]})


async def _saved(conn: psycopg.AsyncConnection, caller: Principal, scenario_id: int) -> tuple[
        monitoring.UnitScope, dict[str, Any]]:
    row = await queries.get_scenario(conn, scenario_id=scenario_id)
    if row is None:
        raise HTTPException(404, f"no scenario {scenario_id}")
    scope, _ = await _region(conn, caller, row["region_code"])
    return scope, row


@router.get("/scenarios")
async def list_scenarios(caller: Reader, conn: Conn, region: RegionCode) -> dict[str, Any]:
    await _region(conn, caller, region)
    return {"scenarios": await queries.list_scenarios(conn, region=region)}


@router.post("/scenarios", status_code=201)
async def create_scenario(caller: Planner, conn: Conn, ip: ClientIP, region: RegionCode,
                          spec: ScenarioSpec) -> dict[str, Any]:
    """Saves a scenario of the region (its name unique in the region); audited."""
    await _region(conn, caller, region)
    async with conn.transaction():
        try:
            row = await queries.create_scenario(conn, region=region, spec=spec.model_dump(), by=caller.username)
        except psycopg.errors.UniqueViolation as exc:
            raise HTTPException(409, f"region {region} already has a scenario named {spec.name!r}; "
                                     "change that one (PUT) or pick another name") from exc
        await auditlog.record(conn, action="analysis.scenario.create", client_ip=ip, principal=caller,
                              target=f"analysis_scenario:{row['scenario_id']}", after=spec.model_dump())
    return row


@router.put("/scenarios/{scenario_id}")
async def change_scenario(caller: Planner, conn: Conn, ip: ClientIP, scenario_id: Id,
                          spec: ScenarioSpec) -> dict[str, Any]:
    _, before = await _saved(conn, caller, scenario_id)
    async with conn.transaction():
        try:
            row = await queries.update_scenario(conn, scenario_id=scenario_id, spec=spec.model_dump(),
                                                by=caller.username)
        except psycopg.errors.UniqueViolation as exc:
            raise HTTPException(409, f"the region already has a scenario named {spec.name!r}") from exc
        await auditlog.record(conn, action="analysis.scenario.change", client_ip=ip, principal=caller,
                              target=f"analysis_scenario:{scenario_id}", before=_spec(before).model_dump(),
                              after=spec.model_dump())
    assert row is not None
    return row


@router.get("/scenarios/compare")
async def compare_scenarios(caller: Reader, conn: Conn, ids: Annotated[list[int], Query(min_length=2, max_length=6)],
                            base_year: BaseYear = None) -> dict[str, Any]:
    """Saved scenarios of one region side by side: emissions per year and each one's peak."""
    rows = [await _saved(conn, caller, i) for i in ids]
    regions = {row["region_code"] for _, row in rows}
    if len(regions) > 1:
        raise HTTPException(422, f"compare scenarios of one region; these are of {sorted(regions)}")
    year = base_year or _default_base_year()
    results = [(row, await _forecast(conn, scope=scope, region=row["region_code"], spec=_spec(row), base_year=year))
               for scope, row in rows]
    years = sorted({y["year"] for _, r in results for y in r["years"]})
    table = [{"year": y, **{str(row["scenario_id"]): next((p["co2"] for p in r["years"] if p["year"] == y), None)
                            for row, r in results}} for y in years]
    return {"region": regions.pop(), "base_year": year,
            "scenarios": [{"scenario_id": row["scenario_id"], "name": row["name"], "kind": row["kind"],
                           "model": row["model"], "peak": r["peak"], "suggestions": r["suggestions"]}
                          for row, r in results],
            "years": table}


@router.get("/scenarios/{scenario_id}")
async def open_scenario(caller: Reader, conn: Conn, scenario_id: Id, base_year: BaseYear = None) -> dict[str, Any]:
    """A saved scenario and its forecast from the current monitoring figures."""
    scope, row = await _saved(conn, caller, scenario_id)
    return {"scenario": row, "forecast": await _forecast(conn, scope=scope, region=row["region_code"],
                                                         spec=_spec(row), base_year=base_year or _default_base_year())}


@router.get("/scenarios/{scenario_id}/export.csv", response_class=PlainTextResponse)
async def export_scenario(caller: Reader, conn: Conn, scenario_id: Id,
                          base_year: BaseYear = None) -> PlainTextResponse:
    """The scenario's path year by year as CSV (population, GDP, energy, CO2 and its interval)."""
    scope, row = await _saved(conn, caller, scenario_id)
    result = await _forecast(conn, scope=scope, region=row["region_code"], spec=_spec(row),
                             base_year=base_year or _default_base_year())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["scenario", "model", "year", "population", "gdp", "energy_tce", "co2_t", "co2_low_t",
                     "co2_high_t", "peak"])
    for y in result["years"]:
        writer.writerow([row["name"], row["model"], y["year"], y["population"] if result["population_given"] else "",
                         round(y["gdp"], 3), round(y["energy"], 3), round(y["co2"], 3),
                         "" if y["low"] is None else round(y["low"], 3),
                         "" if y["high"] is None else round(y["high"], 3),
                         "peak" if y["year"] == result["peak"]["year"] else ""])
    return PlainTextResponse(out.getvalue(), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="scenario-{scenario_id}.csv"'})


# --- targets -----------------------------------------------------------------------------------------------------


def _holder_group(level: str, region: dict[str, Any]) -> str:
    return holder_group(level, region) or _sub_regions(region)


@router.post("/targets", status_code=201)
async def create_target(caller: Planner, conn: Conn, ip: ClientIP, body: TargetCreate) -> dict[str, Any]:
    """Sets a region's or an enterprise group's target and allocates it to its holders from the base year's
    figures by the rule; the target is a draft until issued. Audited."""
    if body.group_id is not None:
        members = (await _group(conn, caller, body.group_id))["members"]
        yearly = await queries.group_yearly_sectors(conn, members=members, level=body.holder_level,
                                                    year=body.base_year)
        holder = f"enterprise group {body.group_id}"
    else:
        assert body.region is not None
        scope, found = await _region(conn, caller, body.region)
        yearly = await queries.yearly_sectors(conn, scope=scope, prefix=region_prefix(body.region), industry=None,
                                              year=body.base_year, group=_holder_group(body.holder_level, found))
        holder = f"region {body.region}"
    sectors = [s for s in yearly if s.co2 > 0 or s.activity > 0]
    if not sectors:
        raise HTTPException(422, f"{holder} has no monitoring figures in base year {body.base_year}; "
                                 "choose a base year with figures")
    keys = {s.key for s in sectors}
    for field, given in (("shares", body.shares), ("benchmarks", body.benchmarks)):
        unknown = sorted(set(given) - keys)
        if unknown:
            raise HTTPException(422, f"{field} names holders without base-year figures: {unknown}; "
                                     f"holders are {sorted(keys)}")
    holders = [Holder(s.key, s.co2, s.activity, body.shares.get(s.key), body.benchmarks.get(s.key))
                for s in sectors]
    try:
        if body.kind == "total":
            allocations = allocate_total(body.value, holders, body.rule)
        elif body.rule != "equal_rate":
            raise HTTPException(422, "an intensity target is passed on by equal_rate only")
        else:
            allocations = allocate_intensity(body.value, holders)
    except FormulaInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    weights = body.shares if body.rule == "by_share" else body.benchmarks if body.rule == "by_benchmark" else {}
    fields = body.model_dump(exclude={"shares", "benchmarks"})
    async with conn.transaction():
        target = await queries.create_target(conn, fields=fields, allocations=allocations, weights=weights,
                                             by=caller.username)
        await auditlog.record(conn, action="analysis.target.create", client_ip=ip, principal=caller,
                              target=f"analysis_target:{target['target_id']}", after=body.model_dump())
    return {**target, "allocations": [{"holder": a.key, "base": a.base, "target": a.target,
                                       "reduction_rate": a.reduction_rate} for a in allocations]}


@router.post("/targets/{target_id}/issue")
async def issue_target(caller: Planner, conn: Conn, ip: ClientIP, target_id: Id) -> dict[str, Any]:
    """Issues a draft target to its holders; an issued target no longer changes. Audited."""
    found = await queries.get_target(conn, target_id=target_id)
    if found is None:
        raise HTTPException(404, f"no target {target_id}")
    if found["group_id"] is not None:
        await _group(conn, caller, found["group_id"])
    else:
        await _region(conn, caller, found["region_code"])
    async with conn.transaction():
        issued = await queries.issue_target(conn, target_id=target_id, by=caller.username)
        if issued is None:
            raise HTTPException(409, f"target {target_id} is already issued; set a new target to change it")
        await auditlog.record(conn, action="analysis.target.issue", client_ip=ip, principal=caller,
                              target=f"analysis_target:{target_id}", before={"state": "draft"},
                              after={"state": "issued"})
    return issued


async def _visible_target(conn: psycopg.AsyncConnection, caller: Principal, target_id: int) -> tuple[
        monitoring.UnitScope, dict[str, Any]]:
    """The target with the allocations the caller may see: all for its region's government, an enterprise's
    own units for an issued unit-level target."""
    target = await queries.get_target(conn, target_id=target_id)
    if target is None:
        raise HTTPException(404, f"no target {target_id}")
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    if target["group_id"] is not None:
        return scope, await _visible_group_target(conn, scope, target)
    if scope.covers_region(target["region_code"]):
        return scope, target
    mine = await _own_units(conn, scope)
    own = [a for a in target["allocations"] if a["holder"] in mine]
    if target["state"] != "issued" or target["holder_level"] != "unit" or not own:
        raise HTTPException(404, f"no target {target_id} that you may see")
    return scope, {**target, "allocations": own}


async def _visible_group_target(conn: psycopg.AsyncConnection, scope: monitoring.UnitScope,
                                 target: dict[str, Any]) -> dict[str, Any]:
    """A group target whole for those who see the group as a whole; for a member enterprise, once issued, its own
    allocation (its enterprise, or its units)."""
    group = next((g for g in await visible_groups(conn, scope=scope) if g["group_id"] == target["group_id"]), None)
    if group is not None and not group["mine"]:
        return target
    if group is None or target["state"] != "issued":
        raise HTTPException(404, f"no target {target['target_id']} that you may see")
    mine = set(group["mine"]) if target["holder_level"] == "enterprise" else await _own_units(conn, scope)
    return {**target, "allocations": [a for a in target["allocations"] if a["holder"] in mine]}


async def _group(conn: psycopg.AsyncConnection, caller: Principal, group_id: int) -> dict[str, Any]:
    """The enterprise group when the caller may set its targets (sees it whole); 404 otherwise."""
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    found = next((g for g in await visible_groups(conn, scope=scope) if g["group_id"] == group_id), None)
    if found is None or found["mine"]:
        raise HTTPException(404, f"no enterprise group {group_id} whose targets you may set; see GET /api/v1/groups")
    return found


async def _own_units(conn: psycopg.AsyncConnection, scope: monitoring.UnitScope) -> set[str]:
    if not scope.enterprises:
        return set()
    units = await monitoring.list_units(conn, scope=scope, prefix=None, industry=None, kind=None, limit=10_000)
    return {str(u["unit_id"]) for u in units}


@router.get("/targets")
async def list_targets(caller: Reader, conn: Conn,
                       region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
                       group_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None) -> dict[str, Any]:
    """Targets of a region or of an enterprise group; without either, those of the regions and groups in the
    caller's scope (an enterprise: the issued targets allocated to its units or to its groups)."""
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    groups_seen = await visible_groups(conn, scope=scope)
    if group_id is not None:
        found = next((g for g in groups_seen if g["group_id"] == group_id), None)
        if found is None:
            raise HTTPException(404, f"no enterprise group {group_id} that you may see; see GET /api/v1/groups")
        return {"targets": await queries.list_group_targets(conn, group_ids=[group_id],
                                                            issued_only=bool(found["mine"]))}
    if region is not None:
        await _region(conn, caller, region)
        return {"targets": await queries.list_targets(conn, prefixes=(region_prefix(region),), holders=None)}
    if scope.all or scope.prefixes:
        targets = await queries.list_targets(conn, prefixes=None if scope.all else scope.prefixes, holders=None)
    else:
        targets = await queries.list_targets(conn, prefixes=None, holders=sorted(await _own_units(conn, scope)))
    whole = [g["group_id"] for g in groups_seen if not g["mine"]]
    member = [g["group_id"] for g in groups_seen if g["mine"]]
    targets += await queries.list_group_targets(conn, group_ids=whole, issued_only=False)
    targets += await queries.list_group_targets(conn, group_ids=member, issued_only=True)
    return {"targets": sorted(targets, key=lambda t: (-t["year"], t["target_id"]))}


@router.post("/targets/alarms/check")
async def check_target_alarms_now(caller: Annotated[Principal, Depends(caller_with("target_alarms"))], conn: Conn,
                                  ip: ClientIP) -> dict[str, Any]:
    """Run the target off-track alarm check now (it also runs periodically: `carbonflow alarms check`): raise an
    alarm per holder of an issued target of this year that is off track and clear those back on track; answers
    the subjects left active and cleared."""
    async with conn.transaction():
        check = await check_target_alarms(conn, datetime.now(TZ).date())
        await auditlog.record(conn, action="analysis.targets.alarms.check", client_ip=ip, principal=caller,
                              target="analysis:target_alarms", detail=check.as_dict())
    return check.as_dict()


@router.get("/targets/{target_id}")
async def open_target(caller: Reader, conn: Conn, target_id: Id) -> dict[str, Any]:
    _, target = await _visible_target(conn, caller, target_id)
    return target


@router.get("/targets/{target_id}/tracking")
async def track_target(
    caller: Reader, conn: Conn, target_id: Id,
    through: Annotated[str | None, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
                                         description="last month to track, YYYY-MM in the target year")] = None,
) -> dict[str, Any]:
    """Monthly tracking of each holder (and, as `region`, the region or group as a whole for a total target) against the pro-rated path:
    cumulative CO2 against target × months elapsed / 12, or cumulative intensity against a straight path from
    the base intensity to the target; `off_track` when above it by more than the target's tolerance."""
    scope, target = await _visible_target(conn, caller, target_id)
    year = target["year"]
    last = 12
    if through is not None:
        if int(through[:4]) != year:
            raise HTTPException(422, f"through {through} is not in the target year {year}")
        last = int(through[5:])
    whole = None
    if target["group_id"] is not None:  # the group as a whole, for those who see all its allocations
        full = await queries.get_target(conn, target_id=target_id)
        whole = full is not None and len(full["allocations"]) == len(target["allocations"])
    try:
        tracked = await track(conn, scope=scope, target=target, last=last, whole=whole)
    except ValueError as exc:
        raise HTTPException(422, f"{exc}; set a new target") from exc
    return {"target": {k: v for k, v in target.items() if k != "allocations"}, **tracked,
            "path": "pro-rated evenly over the 12 months", "method": METHOD}
