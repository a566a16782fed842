"""/api/v1/monitoring: government monitoring of regions, industries and emission units (docs/monitoring.md).

Reading needs 'monitoring', maintaining units and reporting figures 'monitoring_data', deciding anomaly
reminders 'monitoring_review', the intermediate-database sync sources 'monitoring_sync' (administrators;
api/auth/access.py). What a caller sees is cut to its scope: a government user's region and sub-regions, an
enterprise user's own units. /monitoring/public/... needs no login and shows only public institutions marked public.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, PlainTextResponse

from api.accounting.queries import load_library, metered_aggregates, month_range
from api.audit import auditlog
from api.auth.access import Principal
from api.auth.deps import AnonymousRateLimit, VisibleSites, caller_with
from api.deps import ClientIP, Conn
from api.monitoring import boundaries, estimates, intake, queries, recompute, sync, world
from api.monitoring.labels import LangQuery, industry_name, name_rows, region_name
from api.monitoring.schemas import (
    AnomalyDecision,
    FigureCorrection,
    FigurePush,
    Recompute,
    SyncSourceChange,
    SyncSourceCreate,
    SyncWatermark,
    UnitChange,
    UnitCreate,
)
from api.registry.queries import list_devices, list_sites
from api.uploads import media_type, read_one_file
from carbon_domain.errors import DomainError
from carbon_domain.monitoring import (
    ECONOMIC_ITEMS,
    ENERGY_TYPES,
    ITEMS,
    EnergyType,
    FigureCalculator,
    LineProblem,
    change,
    check_figure_record,
    check_figure_rows,
    intensity,
    intensity_outliers,
    jump_anomalies,
    missing_month_anomalies,
    normalise_quantity,
    region_prefix,
    shares,
)

__all__ = ["router"]

router = APIRouter(prefix="/monitoring", tags=["monitoring"])


MonitoringReader = Annotated[Principal, Depends(caller_with("monitoring"))]
MonitoringWriter = Annotated[Principal, Depends(caller_with("monitoring_data"))]
MonitoringReviewer = Annotated[Principal, Depends(caller_with("monitoring_review"))]
MonitoringSync = Annotated[Principal, Depends(caller_with("monitoring_sync"))]
UnitId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
Year = Annotated[int, Query(ge=1990, le=2200)]
MonthOfYear = Annotated[int | None, Query(ge=1, le=12, description="one month; omit for the whole year")]
RegionCode = Annotated[str, Query(pattern=r"^[0-9]{6}$", description="GB/T 2260 code")]
_ENERGY = [kind.value for kind in EnergyType]


async def _scope(conn: Conn, principal: Principal) -> queries.UnitScope:
    return await queries.unit_scope(conn, scope=principal.scope)


# --- registry ----------------------------------------------------------------------------------------------------


@router.get("/regions")
async def list_regions(caller: MonitoringReader, conn: Conn, lang: LangQuery = "zh-CN") -> dict[str, Any]:
    """The administrative region tree (GB/T 2260), each with its parent, platform label, its name in `lang`
    (display_name) and whether the whole region is inside what the caller may see (in_scope)."""
    scope = await _scope(conn, caller)
    rows = await queries.list_regions(conn)
    return {"regions": [{**r, "display_name": (r["name_en"] or r["name"]) if lang == "en" else r["name"],
                         "in_scope": scope.covers_region(r["code"])} for r in rows]}


@router.get("/industries")
async def list_industries(caller: MonitoringReader, conn: Conn, lang: LangQuery = "zh-CN") -> dict[str, Any]:
    """GB/T 4754-2017 classes; high_energy names the national carbon market's high-energy industry."""
    rows = await queries.list_industries(conn)
    return {"industries": [{**r, "display_name": (r["name_en"] or r["name"]) if lang == "en" else r["name"]}
                           for r in rows]}


@router.get("/units")
async def list_units(
    caller: MonitoringReader, conn: Conn,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    industry: Annotated[str | None, Query(pattern=r"^[0-9]{2,4}$", description="class code or its prefix")] = None,
    kind: Annotated[Literal["enterprise", "public_institution"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    lang: LangQuery = "zh-CN",
) -> dict[str, Any]:
    """Emission units the caller may see (名单), with their region's and industry's names in `lang`."""
    scope = await _scope(conn, caller)
    prefix = region_prefix(region) if region else None
    units = await queries.list_units(conn, scope=scope, prefix=prefix, industry=industry, kind=kind, limit=limit)
    regions, industries = await intake.registries(conn)
    return {"units": name_rows(units, lang, regions=regions, industries=industries),
            "synthetic": any(u["synthetic"] for u in units)}


@router.post("/units", status_code=201)
async def create_unit(body: UnitCreate, caller: MonitoringWriter, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Register an emission unit in a region of the caller's scope (governments and administrators)."""
    scope = await _scope(conn, caller)
    if caller.role not in ("admin", "government") or not scope.covers_region(body.region_code):
        raise HTTPException(403, f"you may not register units in region {body.region_code}")
    await _check_classes(conn, region=body.region_code, industry=body.industry_code)
    async with conn.transaction():
        if await queries.units_by_credit_code(conn, codes=[body.credit_code]):
            raise HTTPException(409, f"a unit with credit code {body.credit_code} is already registered")
        try:
            unit = await queries.create_unit(conn, fields=body.model_dump())
        except psycopg.errors.ForeignKeyViolation as exc:
            raise HTTPException(422, f"unknown enterprise_id or site_id: {exc.diag.message_detail}") from exc
        await auditlog.record(conn, action="monitoring.unit.create", client_ip=ip, principal=caller,
                              target=f"monitoring_unit:{unit['unit_id']}", after=unit)
    return unit


@router.patch("/units/{unit_id}")
async def change_unit(unit_id: UnitId, body: UnitChange, caller: MonitoringWriter, conn: Conn,
                      ip: ClientIP) -> dict[str, Any]:
    """Change a unit's registration (status, region, industry, flags, links); audited with before and after."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(422, "nothing to change; send at least one field")
    scope = await _scope(conn, caller)
    if caller.role not in ("admin", "government"):
        raise HTTPException(403, "only governments and administrators maintain the unit list")
    await _check_classes(conn, region=changes.get("region_code"), industry=changes.get("industry_code"))
    if changes.get("region_code") and not scope.covers_region(changes["region_code"]):
        raise HTTPException(403, f"you may not move a unit to region {changes['region_code']}")
    async with conn.transaction():
        before = await queries.get_unit(conn, unit_id=unit_id, scope=scope, lock=True)
        if before is None:
            raise HTTPException(404, f"no unit {unit_id} among the units you may see")
        try:
            after = await queries.update_unit(conn, unit_id=unit_id, changes=changes)
        except psycopg.errors.ForeignKeyViolation as exc:
            raise HTTPException(422, f"unknown enterprise_id or site_id: {exc.diag.message_detail}") from exc
        await auditlog.record(conn, action="monitoring.unit.change", client_ip=ip, principal=caller,
                              target=f"monitoring_unit:{unit_id}", before=before, after=after)
    return after


async def _check_classes(conn: Conn, *, region: str | None, industry: str | None) -> None:
    regions, industries = await intake.registries(conn)
    if region is not None and region not in regions:
        raise HTTPException(422, f"unknown region code {region}; see GET /api/v1/monitoring/regions")
    if industry is not None and industry not in industries:
        raise HTTPException(422, f"unknown industry code {industry}; see GET /api/v1/monitoring/industries")


# --- intake ------------------------------------------------------------------------------------------------------


@router.get("/template.csv", response_class=PlainTextResponse)
async def template(caller: MonitoringReader) -> PlainTextResponse:
    """The import template (CSV; save as XLSX in a spreadsheet if preferred): header and example lines."""
    return PlainTextResponse(intake.template_csv(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="monitoring-template.csv"'})


@router.post("/imports", openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": ".csv or .xlsx in the template's columns"},
        "take_valid": {"type": "boolean", "default": False,
                       "description": "store the valid lines even when other lines are refused"}}}}}}})
async def import_file(request: Request, caller: MonitoringWriter, conn: Conn, ip: ClientIP,
                      background: BackgroundTasks) -> Any:
    """Import monthly figures from a CSV/XLSX file. Every refused line comes back with its line number; with
    refused lines nothing is stored (422) unless take_valid is set. Importing the same file again stores no new
    revision."""
    if media_type(request) != "multipart/form-data":
        raise HTTPException(415, "send multipart/form-data with a 'file' field (.csv or .xlsx)")
    sent = await read_one_file(request, max_bytes=intake.MAX_UPLOAD_BYTES, holding="the .csv or .xlsx figure file",
                               plural="figure files")
    take_valid = str(sent.form.get("take_valid") or "false").lower() in ("true", "1", "yes", "on")
    name, data = sent.name, sent.data
    try:
        rows = intake.read_upload(name, data)
    except intake.UploadError as exc:
        raise HTTPException(415 if "is .csv or .xlsx" in str(exc) else 422, str(exc)) from exc
    regions, industries = await intake.registries(conn)
    lines, problems = check_figure_rows(rows, regions=regions, industries=industries)
    answer = await _take(conn, caller, ip, lines=lines, problems=problems, read=max(len(rows) - 1, 0),
                         take_valid=take_valid, source="file", origin=name, digest=intake.digest_of(data))
    await _recompute_codes(conn, request, background, answer, lines, by=caller.username)
    return answer


@router.post("/figures")
async def push_figures(body: FigurePush, caller: MonitoringWriter, conn: Conn, ip: ClientIP, request: Request,
                       background: BackgroundTasks) -> Any:
    """REST push (数据实时接入) of monthly figures, e.g. with a machine token scoped 'monitoring_data'. The same
    checks as a file import; each figure's position (1-based) stands for its line."""
    regions, industries = await intake.registries(conn)
    lines, problems = [], []
    seen: dict[tuple[str, str, str], int] = {}
    for number, figure in enumerate(body.figures, start=1):
        record = {**figure.model_dump(exclude={"quantity"}), "quantity": repr(figure.quantity)}
        line, line_problems = check_figure_record(number, record, regions=regions, industries=industries)
        key = (figure.credit_code, figure.month, figure.item)
        if key in seen:
            line_problems.append(LineProblem(number, "item", f"duplicate of figure {seen[key]}"))
        seen.setdefault(key, number)
        problems.extend(line_problems)
        if line is not None and not line_problems:
            lines.append(line)
    origin = caller.token_name or caller.username
    answer = await _take(conn, caller, ip, lines=lines, problems=problems, read=len(body.figures),
                         take_valid=body.take_valid, source="rest", origin=origin, digest=None)
    await _recompute_codes(conn, request, background, answer, lines, by=caller.username)
    return answer


async def _recompute_codes(conn: Conn, request: Request, background: BackgroundTasks, answer: Any, lines: Any, *,
                           by: str) -> None:
    """Stored figures change the 碳效码 of the stored periods holding their months: queue their recomputation (a
    recorded job, after the answer)."""
    if isinstance(answer, dict) and answer.get("stored"):
        await _queue_codes(conn, request, background, months=[line.month for line in lines], by=by)


async def _queue_codes(conn: Conn, request: Request, background: BackgroundTasks, *, months: list[date],
                       by: str) -> None:
    # imported here: the 碳效码 service reads the monitoring service's figures, so it imports this package
    from api.efficiency_code.compute import queue_after_change, run_job

    job = await queue_after_change(conn, months=months, by=by)
    if job is not None:
        background.add_task(run_job, request.app.state.pool, job)


async def _take(conn: Conn, caller: Principal, ip: str | None, *, lines: Any, problems: Any, read: int,
                take_valid: bool, source: str, origin: str, digest: str | None) -> Any:
    scope = await _scope(conn, caller)
    try:
        result = await intake.take_in(conn, lines=lines, problems=problems, read=read, scope=scope,
                                      may_register=caller.role in ("admin", "government"), take_valid=take_valid,
                                      source=source, origin=origin, digest=digest, by=caller.username)
    except DomainError as exc:
        raise HTTPException(422, f"cannot compute the figures: {exc}") from exc
    answer = result.as_dict()
    if result.problems and not take_valid:
        return JSONResponse(status_code=422, content={
            "detail": f"{result.refused} line(s) refused, nothing stored; correct them or send take_valid=true to "
                      "store the valid lines", **answer})
    if result.batch_id is None:  # nothing to store (no line, or none valid): no batch, nothing changed
        return answer
    await auditlog.record(conn, action=f"monitoring.figures.{source}", client_ip=ip, principal=caller,
                          target=f"monitoring_batch:{result.batch_id}",
                          detail={k: v for k, v in answer.items() if k != "errors"} | {"origin": origin,
                                                                                        "sha256": digest})
    return answer


def _month(text: str, name: str = "month") -> date:
    """The first day of a YYYY-MM month; 422 naming the parameter when it is no month."""
    year, month = int(text[:4]), int(text[5:])
    if year < 1990 or not 1 <= month <= 12:
        raise HTTPException(422, f"{name} {text!r} is not a month from 1990-01 on (YYYY-MM)")
    return date(year, month, 1)


SourceName = Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]


def _check_query(query: str) -> None:
    if "%(watermark)s" not in query:
        raise HTTPException(422, "the query must take the last watermark as %(watermark)s (None on the first run)")


async def _locked_source(conn: Conn, name: str) -> dict[str, Any]:
    source = await queries.get_sync_source(conn, name=name, lock=True)
    if source is None:
        raise HTTPException(404, f"no sync source {name!r}; GET /monitoring/sync-sources lists them")
    return source


@router.get("/sync-sources")
async def list_sync_sources(caller: MonitoringSync, conn: Conn) -> dict[str, Any]:
    """Intermediate-database sources with their watermark, last run, last error and alarm (administrators)."""
    return {"sources": await queries.list_sync_sources(conn)}


@router.post("/sync-sources", status_code=201)
async def create_sync_source(body: SyncSourceCreate, caller: MonitoringSync, conn: Conn,
                             ip: ClientIP) -> dict[str, Any]:
    """Configure a scheduled sync from an intermediate database (中间库); audited."""
    _check_query(body.query)
    async with conn.transaction():
        try:
            created = await queries.create_sync_source(conn, fields=body.model_dump())
        except psycopg.errors.UniqueViolation as exc:
            raise HTTPException(409, f"a sync source named {body.name!r} exists") from exc
        await auditlog.record(conn, action="monitoring.sync_source.create", client_ip=ip, principal=caller,
                              target=f"monitoring_sync_source:{body.name}", after=created)
    return created


@router.patch("/sync-sources/{name}")
async def change_sync_source(name: SourceName, body: SyncSourceChange, caller: MonitoringSync, conn: Conn,
                             ip: ClientIP) -> dict[str, Any]:
    """Change a source's query, URL variable, interval, enabled or take_valid; audited with before and after.
    Its watermark and last run stay (POST .../watermark moves the watermark)."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(422, f"nothing to change; send at least one of {', '.join(SyncSourceChange.model_fields)}")
    if cleared := [field for field, value in changes.items() if value is None]:
        raise HTTPException(422, f"{', '.join(cleared)} cannot be null; leave a field out to keep it")
    if "query" in changes:
        _check_query(changes["query"])
    async with conn.transaction():
        before = await _locked_source(conn, name)
        after = await queries.update_sync_source(conn, name=name, changes=changes)
        await auditlog.record(conn, action="monitoring.sync_source.change", client_ip=ip, principal=caller,
                              target=f"monitoring_sync_source:{name}", before=before, after=after)
    return after


@router.post("/sync-sources/{name}/watermark")
async def reset_sync_watermark(name: SourceName, body: SyncWatermark, caller: MonitoringSync, conn: Conn,
                               ip: ClientIP) -> dict[str, Any]:
    """Set where the next run reads from (null: from the start), e.g. to pull again after the source was corrected;
    audited with the reason. Rows read again are stored like any pull: an unchanged figure changes nothing."""
    async with conn.transaction():
        before = await _locked_source(conn, name)
        after = await queries.set_sync_watermark(conn, name=name, watermark=body.watermark)
        await auditlog.record(conn, action="monitoring.sync_source.watermark", client_ip=ip, principal=caller,
                              target=f"monitoring_sync_source:{name}", before={"watermark": before["watermark"]},
                              after={"watermark": after["watermark"]}, detail={"reason": body.reason})
    return after


@router.post("/sync-sources/{name}/run")
async def run_sync_source(name: SourceName, caller: MonitoringSync, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Run a sync source now (as the scheduler does); a failure keeps the watermark and raises its alarm."""
    try:
        run = await sync.run_source(conn, name=name, by=caller.username)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    answer = {"source": run.source, "rows": run.rows, "stored": run.stored, "unchanged": run.unchanged,
              "refused": run.refused, "watermark": run.watermark, "error": run.error,
              "errors": [{"line": p.line, "field": p.field, "reason": p.reason} for p in run.problems]}
    await auditlog.record(conn, action="monitoring.sync.run", client_ip=ip, principal=caller,
                          target=f"monitoring_sync_source:{name}", outcome="ok" if run.error is None else "failed",
                          detail={k: v for k, v in answer.items() if k != "errors"})
    return answer


@router.put("/units/{unit_id}/figures/{month}/{item}")
async def correct_figure(unit_id: UnitId, month: Annotated[str, PathParam(pattern=r"^\d{4}-\d{2}$")],
                         item: Annotated[str, PathParam(max_length=32)], body: FigureCorrection,
                         caller: MonitoringWriter, conn: Conn, ip: ClientIP, request: Request,
                         background: BackgroundTasks) -> dict[str, Any]:
    """Correct one figure: the new value supersedes the current one, which stays in the revision history."""
    if item not in ITEMS:
        raise HTTPException(422, f"unknown item {item!r}; use one of {', '.join(ITEMS)}")
    scope = await _scope(conn, caller)
    first = _month(month)
    try:
        quantity, unit = normalise_quantity(item, body.quantity, body.unit)
        figure = FigureCalculator(await load_library(conn)).energy(item, quantity, first) \
            if item in _ENERGY else None
    except DomainError as exc:
        raise HTTPException(422, str(exc)) from exc
    async with conn.transaction():
        found = await queries.get_unit(conn, unit_id=unit_id, scope=scope, lock=True)
        if found is None:
            raise HTTPException(404, f"no unit {unit_id} among the units you may see")
        before = await queries.figure_history(conn, unit_id=unit_id, month=first, item=item)
        changed = await queries.store_figures(
            conn, figures=[(unit_id, first, item, quantity, unit, figure.tco2 if figure else None,
                            figure.tce if figure else None, figure.factor_ids if figure else ())],
            source="rest", batch_id=None, by=caller.username)
        history = await queries.figure_history(conn, unit_id=unit_id, month=first, item=item)
        await auditlog.record(conn, action="monitoring.figure.correct", client_ip=ip, principal=caller,
                              target=f"monitoring_unit:{unit_id}/{month}/{item}",
                              before=before[-1] if before else None, after=history[-1] if history else None,
                              detail={"reason": body.reason, "changed": bool(changed)})
    if changed:
        await _queue_codes(conn, request, background, months=[first], by=caller.username)
    return {"unit_id": unit_id, "month": month, "item": item, "changed": bool(changed), "revisions": history}


@router.post("/recompute")
async def recompute_figures(body: Recompute, caller: MonitoringWriter, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Recompute the stored tCO2/tce of every energy figure with the factor library as it is now (after a factor
    row was added or corrected): a figure whose values change gets a new revision of one 'recompute' batch, its
    quantity and source unchanged; audited (administrators)."""
    if caller.role != "admin":
        raise HTTPException(403, "figures are recomputed by administrators")
    try:
        run = await recompute.recompute(conn, reason=body.reason, by=caller.username)
    except DomainError as exc:
        raise HTTPException(422, f"cannot recompute the figures: {exc}") from exc
    await auditlog.record(conn, action="monitoring.figures.recompute", client_ip=ip, principal=caller,
                          target=f"monitoring_batch:{run.batch_id}", detail={**run.as_dict(), "reason": body.reason})
    return run.as_dict()


@router.get("/units/{unit_id}/figures/{month}/{item}/revisions")
async def figure_revisions(unit_id: UnitId, month: Annotated[str, PathParam(pattern=r"^\d{4}-\d{2}$")],
                           item: Annotated[str, PathParam(max_length=32)], caller: MonitoringReader,
                           conn: Conn) -> dict[str, Any]:
    """Every value a figure has had, oldest first, with its source and who recorded it."""
    scope = await _scope(conn, caller)
    if await queries.get_unit(conn, unit_id=unit_id, scope=scope) is None:
        raise HTTPException(404, f"no unit {unit_id} among the units you may see")
    first = _month(month)
    return {"revisions": await queries.figure_history(conn, unit_id=unit_id, month=first, item=item)}


# --- views -------------------------------------------------------------------------------------------------------


def _period(year: int, month: int | None) -> tuple[date, date]:
    if month is None:
        return date(year, 1, 1), date(year + 1, 1, 1)
    return date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)


def _summaries(rows: list[tuple[str, str, float, float, float]]) -> dict[str, dict[str, Any]]:
    """Per group key: energy per type, tCO2, tce, value added, intensities and energy shares (of tce)."""
    by_key: dict[str, dict[str, Any]] = defaultdict(lambda: {"energy": {}, "economic": {}})
    for key, item, quantity, tco2, tce in rows:
        entry = by_key[key]
        if item in ECONOMIC_ITEMS:
            entry["economic"][item] = quantity
        else:
            entry["energy"][item] = {"quantity": quantity, "unit": ENERGY_TYPES[EnergyType(item)].unit,
                                     "tco2": tco2, "tce": tce}
    for entry in by_key.values():
        energy = entry["energy"]
        entry["tco2"] = sum(e["tco2"] for e in energy.values())
        entry["tce"] = sum(e["tce"] for e in energy.values())
        value_added = entry["economic"].get("value_added")
        entry["value_added_1e4_cny"] = value_added
        entry["intensity_tco2_per_1e4_cny"] = intensity(entry["tco2"], value_added)
        entry["intensity_tce_per_1e4_cny"] = intensity(entry["tce"], value_added)
        entry["shares_tce"] = shares({item: e["tce"] for item, e in energy.items()})
    return by_key


@router.get("/view")
async def view(
    caller: MonitoringReader, conn: Conn, region: RegionCode, year: Year, month: MonthOfYear = None,
    by: Annotated[Literal["region", "industry", "unit"], Query(
        description="rows: the region's sub-regions, its industries (divisions) or its units (ranked by tCO2)")] = "region",
    industry: Annotated[str | None, Query(pattern=r"^[0-9]{2,4}$", description="only this class")] = None,
    lang: LangQuery = "zh-CN",
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="by=unit: this many units of the ranking "
                                                                   "(omit for all)")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="by=unit: skip this many ranked units")] = 0,
) -> dict[str, Any]:
    """Monitoring of a region by year or month: per energy type consumption, tCO2 and tce, intensity per 10^4
    yuan of value added, energy structure, year-on-year (and month-on-month) change, the year's monthly trend,
    and rows by sub-region, industry or unit (a ranking). Energy in tce uses electricity's calorific
    equivalent (GB/T 2589-2020, 0.1229 kgce/kWh); value added at current prices."""
    scope = await _scope(conn, caller)
    regions, industries = await intake.registries(conn)
    found = regions.get(region)
    if found is None:
        raise HTTPException(404, f"unknown region {region}; see GET /api/v1/monitoring/regions")
    if not scope.covers_region(region) and not scope.enterprises:
        raise HTTPException(404, f"region {region} is outside what you may see")
    prefix = region_prefix(region)
    group = {"industry": "industry", "unit": "unit"}.get(by) or {1: "city", 2: "county"}.get(found.level)
    if group is None:
        raise HTTPException(422, f"region {region} is county-level and has no sub-regions; use by=industry or by=unit")
    start, end = _period(year, month)
    ask = {"scope": scope, "prefix": prefix, "industry": industry}
    ranked: list[tuple[int, float]] | None = None
    units_total = None
    if group == "unit":  # the ranking comes first (from the unit totals), then the figures of the page's units
        ranked, units_total = await queries.rank_units(conn, **ask, start=start, end=end, limit=limit,
                                                       offset=offset)
        ask_rows: dict[str, Any] = {**ask, "unit_ids": [unit_id for unit_id, _ in ranked]}
    else:
        ask_rows = ask
    now = _summaries(await queries.aggregate(conn, **ask_rows, start=start, end=end, group=group))
    last_year = _summaries(await queries.aggregate(conn, **ask_rows, start=start.replace(year=year - 1),
                                                   end=end.replace(year=end.year - 1), group=group))
    total = _summaries(await queries.aggregate(conn, **ask, start=start, end=end, group="total")).get("total")
    total_last_year = _summaries(await queries.aggregate(conn, **ask, start=start.replace(year=year - 1),
                                                         end=end.replace(year=end.year - 1), group="total")).get("total")
    trend = _summaries(await queries.aggregate(conn, **ask, start=date(year, 1, 1), end=date(year + 1, 1, 1),
                                               group="month"))
    estimated_rows = await estimates.estimated_by(conn, **ask_rows, start=start, end=end, group=group)
    estimated_total = (await estimates.estimated_by(conn, **ask, start=start, end=end, group="total")).get("total")
    estimated_trend = await estimates.estimated_by(conn, **ask, start=date(year, 1, 1), end=date(year + 1, 1, 1),
                                                   group="month")
    names = await _names(conn, group, now.keys(), regions, industries, lang)
    rows = []
    for key, entry in now.items():
        before = last_year.get(key)
        rows.append({"key": key, **names.get(key, {"name": key}), **entry,
                     "yoy_tco2": change(entry["tco2"], before["tco2"] if before else None),
                     "yoy_tce": change(entry["tce"], before["tce"] if before else None),
                     **_apart(entry["tco2"], estimated_rows.get(key))})
    if ranked is not None:
        position = {str(unit_id): offset + place for place, (unit_id, _) in enumerate(ranked, start=1)}
        rows.sort(key=lambda r: position[r["key"]])
        for row in rows:
            row["rank"] = position[row["key"]]
    else:
        rows.sort(key=lambda r: (r["key"],))
        for row in rows:
            row["rank"] = None
    answer: dict[str, Any] = {
        "region": {"code": found.code, "name": found.name, "display_name": region_name(found, lang),
                   "level": found.level}, "year": year, "month": month,
        "synthetic": await queries.any_synthetic(conn, scope=scope, prefix=prefix),
        "by": by, "industry": industry, "energy_types": _ENERGY,
        "total": total and {**total, "yoy_tco2": change(total["tco2"], total_last_year and total_last_year["tco2"]),
                            "yoy_tce": change(total["tce"], total_last_year and total_last_year["tce"]),
                            **_apart(total["tco2"], estimated_total)},
        "rows": rows, "units_total": units_total, "offset": offset if group == "unit" else None,
        "trend": [{"month": key, "tco2": entry["tco2"], "tce": entry["tce"], "energy": entry["energy"],
                   **_apart(entry["tco2"], estimated_trend.get(key))}
                  for key, entry in sorted(trend.items())],
        "basis": {"tce": "GB/T 2589-2020, electricity at its calorific equivalent", "prices": "current",
                  "figures": "reported figures (file, REST, sync) of the units in scope",
                  "estimated": _ESTIMATED_BASIS},
    }
    if month is not None:
        previous = date(year - 1, 12, 1) if month == 1 else date(year, month - 1, 1)
        before = _summaries(await queries.aggregate(conn, **ask, start=previous, end=start, group="total")).get("total")
        if answer["total"] is not None:
            answer["total"]["mom_tco2"] = change(answer["total"]["tco2"], before and before["tco2"])
            answer["total"]["mom_tce"] = change(answer["total"]["tce"], before and before["tce"])
    return answer


_ESTIMATED_BASIS = ("fuel CO2 (coal, oil, gas) of units reporting electricity only, estimated from their electricity"
                    " use by the electricity-carbon factors' fuel models (estimated_*, with the models); never part of"
                    " tco2, tce or the energy figures, which are reported; with_estimated_tco2 = tco2 + estimated_tco2")


def _apart(reported_tco2: float, estimated: dict[str, Any] | None) -> dict[str, Any]:
    """The reported tCO2 and the estimated tCO2 of one row, total or month side by side, never mixed: tco2 stays
    the reported figure; estimated_* are the estimates with their band and models; with_estimated_tco2 adds both
    and estimated_share says how much of that is estimated."""
    est = estimated["tco2"] if estimated else 0.0
    combined = reported_tco2 + est
    return {"reported_tco2": reported_tco2, "estimated_tco2": est,
            "estimated_low_tco2": estimated["low_tco2"] if estimated else 0.0,
            "estimated_high_tco2": estimated["high_tco2"] if estimated else 0.0,
            "estimated_unit_months": estimated["unit_months"] if estimated else 0,
            "estimated_models": estimated["models"] if estimated else {},
            "with_estimated_tco2": combined, "estimated_share": est / combined if combined > 0 else 0.0}


async def _names(conn: Conn, group: str, keys: Any, regions: Any, industries: Any,
                 lang: str) -> dict[str, dict[str, Any]]:
    """Each row's name as stored, its name in `lang` (display_name) and what the row's kind adds."""
    keys = list(keys)
    if group in ("city", "county"):
        return {code: {"name": name, "display_name": region_name(regions.get(code), lang, name)}  # type: ignore[arg-type]
                for code, name in (await queries.region_names(conn, codes=keys)).items()}
    if group == "industry":
        found = {}
        for key in keys:
            cls = industries.get(key)
            if cls is not None:
                found[key] = {"name": cls.name, "name_en": cls.name_en, "high_energy": cls.high_energy,
                              "display_name": industry_name(cls, lang)}  # type: ignore[arg-type]
        return found
    units = await queries.unit_names(conn, unit_ids=keys)
    return {str(unit_id): {"name": u["name"], "display_name": u["name"], "credit_code": u["credit_code"],
                           "kind": u["kind"], "region_code": u["region_code"], "industry_code": u["industry_code"],
                           "synthetic": u["synthetic"]} for unit_id, u in units.items()}


@router.get("/units/{unit_id}")
async def unit_archive(unit_id: UnitId, caller: MonitoringReader, conn: Conn, year: Year, sites: VisibleSites,
                       lang: LangQuery = "zh-CN") -> dict[str, Any]:
    """A unit's archive: its registration, its year's monthly figures with tCO2/tce and their sources, totals,
    intensity and year-on-year change, open anomaly reminders, its metered sites with their meters (those the
    caller may see), and, for a unit linked to a metered enterprise, the metered monthly activities by process
    from the pipeline (shown beside the reported figures)."""
    scope = await _scope(conn, caller)
    unit = await queries.get_unit(conn, unit_id=unit_id, scope=scope)
    if unit is None:
        raise HTTPException(404, f"no unit {unit_id} among the units you may see")
    regions, industries = await intake.registries(conn)
    figures = await queries.unit_figures(conn, unit_id=unit_id, start=date(year - 1, 1, 1), end=date(year + 1, 1, 1))
    this_year = [f for f in figures if f["month"].year == year]
    rows = [(f"{f['month']:%Y-%m}", f["item"], f["quantity"], f["tco2"] or 0.0, f["tce"] or 0.0) for f in this_year]
    months = _summaries(rows)
    total = _summaries(_per_item("total", rows)).get("total")
    previous = _summaries(_per_item("total", [
        ("", f["item"], f["quantity"], f["tco2"] or 0.0, f["tce"] or 0.0)
        for f in figures if f["month"].year == year - 1])).get("total")
    metered: list[dict[str, Any]] = []
    if unit["enterprise_id"]:
        start, end = month_range(year, None)
        metered = [asdict(row) for row in await metered_aggregates(conn, enterprise=unit["enterprise_id"],
                                                                    start=start, end=end)]
    anomalies = await queries.list_anomalies(conn, scope=scope, prefix="", unit_id=unit_id, state="open", limit=200)
    estimated = await estimates.unit_estimates(conn, unit_id=unit_id, start=date(year, 1, 1), end=date(year + 1, 1, 1))
    estimated_by_month = {e["month"]: e for e in estimated}
    return {
        "unit": name_rows([unit], lang, regions=regions, industries=industries)[0], "year": year,
        "synthetic": unit["synthetic"],
        "shown": "reported",  # the totals are the reported figures; metered activities are listed beside them
        "total": total and {**total, "yoy_tco2": change(total["tco2"], previous and previous["tco2"]),
                            "yoy_tce": change(total["tce"], previous and previous["tce"]),
                            **_apart(total["tco2"], _added(estimated))},
        "months": [{"month": key, **entry, **_apart(entry["tco2"], _added(
                    [estimated_by_month[key]] if key in estimated_by_month else []))}
                   for key, entry in sorted(months.items())],
        "figures": this_year, "estimated": estimated, "metered": metered, "anomalies": anomalies,
        "sites": await _unit_sites(conn, unit, sites),
    }


def _added(found: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A unit's monthly estimates added up as estimates.estimated_by adds them (None: no estimate)."""
    if not found:
        return None
    return {"tco2": sum(e["tco2"] for e in found), "low_tco2": sum(e["low_tco2"] for e in found),
            "high_tco2": sum(e["high_tco2"] for e in found), "unit_months": len(found),
            "models": {e["model_id"]: e["model_version"] for e in found}}


def _per_item(key: str, rows: Any) -> list[tuple[str, str, float, float, float]]:
    """One row per item under `key`: the months of `rows` added up (a year's total from its months)."""
    sums: dict[str, list[float]] = {}
    for _, item, quantity, tco2, tce in rows:
        acc = sums.setdefault(item, [0.0, 0.0, 0.0])
        acc[0] += quantity
        acc[1] += tco2
        acc[2] += tce
    return [(key, item, q, c, t) for item, (q, c, t) in sums.items()]


_LIVE_SECONDS = 15 * 60  # a site whose newest device contact is this recent is live


async def _unit_sites(conn: Conn, unit: dict[str, Any], visible: list[str] | None) -> list[dict[str, Any]]:
    """The metered sites of the unit (its site, else its enterprise's sites) the caller may see, each with its
    meters (devices and their points) and whether it is live."""
    if not unit["enterprise_id"] and not unit["site_id"]:
        return []
    found = [s for s in await list_sites(conn, sites=visible)
             if (s["site_id"] == unit["site_id"]) or (not unit["site_id"] and s["enterprise_id"] == unit["enterprise_id"])]
    if not found:
        return []
    devices = await list_devices(conn, sites=[s["site_id"] for s in found])
    now = datetime.now(UTC)
    answer = []
    for site in found:
        seen = site["last_seen"]
        answer.append({
            "site_id": site["site_id"], "name": site["name"], "last_seen": seen,
            "live": seen is not None and (now - seen).total_seconds() < _LIVE_SECONDS,
            "meters": [{"device_id": d["device_id"], "process": d["process"], "last_seen": d["last_seen"],
                        "points": d["points"]}
                       for d in devices if d["site_id"] == site["site_id"]],
        })
    return answer


# --- anomaly reminders -------------------------------------------------------------------------------------------


@router.get("/anomalies")
async def list_anomalies(
    caller: MonitoringReader, conn: Conn,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    unit_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    state: Annotated[Literal["open", "dismissed", "confirmed"] | None, Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Data-anomaly reminders per unit or per region, newest month first (`synthetic`: of generated demo units)."""
    scope = await _scope(conn, caller)
    prefix = region_prefix(region) if region else ""
    found = await queries.list_anomalies(conn, scope=scope, prefix=prefix, unit_id=unit_id, state=state, limit=limit)
    return {"anomalies": found, "synthetic": any(a["synthetic"] for a in found)}


@router.post("/anomalies/scan")
async def scan_anomalies(caller: MonitoringReviewer, conn: Conn, ip: ClientIP, region: RegionCode,
                         through: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="last month expected")],
                         ) -> dict[str, Any]:
    """Run the anomaly rules on the region's units over the 24 months up to `through`: a jump against the unit's
    own history (tce), missing months, and an intensity outlier within the industry class (each month)."""
    scope = await _scope(conn, caller)
    if not scope.covers_region(region):
        raise HTTPException(404, f"region {region} is outside what you may see")
    last = _month(through, "through")
    start = date(last.year - 2, last.month, 1)
    end = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    totals = await queries.monthly_unit_totals(conn, scope=scope, prefix=region_prefix(region), start=start, end=end)
    per_unit: dict[int, dict[date, float]] = defaultdict(dict)
    per_class: dict[tuple[str, date], dict[str, float]] = defaultdict(dict)
    for unit_id, industry, month, tce, tco2, value_added in totals:
        per_unit[unit_id][month] = tce
        value = intensity(tco2, value_added)
        if value is not None:
            per_class[industry, month][str(unit_id)] = value
    found = []
    for unit_id, series in per_unit.items():
        for anomaly in [*jump_anomalies(series), *missing_month_anomalies(series, through=last)]:
            found.append((unit_id, anomaly.month, anomaly.rule, anomaly.item, anomaly.detail, anomaly.value,
                          anomaly.reference))
    for (_, month), values in per_class.items():
        for unit, anomaly in intensity_outliers(values, month=month):
            found.append((int(unit), month, anomaly.rule, anomaly.item, anomaly.detail, anomaly.value,
                          anomaly.reference))
    async with conn.transaction():
        new = await queries.add_anomalies(conn, found=found)
        await auditlog.record(conn, action="monitoring.anomalies.scan", client_ip=ip, principal=caller,
                              target=f"monitoring_region:{region}", detail={"through": through, "found": len(found),
                                                                            "new": new})
    return {"found": len(found), "new": new}


async def _decide(anomaly_id: int, state: str, body: AnomalyDecision, caller: Principal, conn: Conn,
                  ip: str | None) -> dict[str, Any]:
    scope = await _scope(conn, caller)
    async with conn.transaction():
        before = await queries.get_anomaly(conn, anomaly_id=anomaly_id, scope=scope, lock=True)
        if before is None:
            raise HTTPException(404, f"no anomaly reminder {anomaly_id} among the units you may see")
        if before["state"] != "open":
            raise HTTPException(409, f"anomaly reminder {anomaly_id} was already {before['state']} by "
                                     f"{before['decided_by']}")
        await queries.decide_anomaly(conn, anomaly_id=anomaly_id, state=state, by=caller.username,
                                     comment=body.comment)
        after = await queries.get_anomaly(conn, anomaly_id=anomaly_id, scope=scope)
        await auditlog.record(conn, action=f"monitoring.anomaly.{state}", client_ip=ip, principal=caller,
                              target=f"monitoring_anomaly:{anomaly_id}", before=before, after=after,
                              detail={"comment": body.comment})
    assert after is not None
    return after


@router.post("/anomalies/{anomaly_id}/dismiss")
async def dismiss_anomaly(anomaly_id: UnitId, body: AnomalyDecision, caller: MonitoringReviewer, conn: Conn,
                          ip: ClientIP) -> dict[str, Any]:
    """The figures are right: close the reminder with a comment (audited)."""
    return await _decide(anomaly_id, "dismissed", body, caller, conn, ip)


@router.post("/anomalies/{anomaly_id}/confirm")
async def confirm_anomaly(anomaly_id: UnitId, body: AnomalyDecision, caller: MonitoringReviewer, conn: Conn,
                          ip: ClientIP) -> dict[str, Any]:
    """The figures are wrong: confirm the reminder with a comment (audited); the unit corrects them."""
    return await _decide(anomaly_id, "confirmed", body, caller, conn, ip)


# --- public and international ------------------------------------------------------------------------------------


@router.get("/public/institutions")
async def public_institutions(_: AnonymousRateLimit, conn: Conn, year: Year,
                              lang: LangQuery = "zh-CN") -> dict[str, Any]:
    """Public institutions' CO2 and energy in `year` against the year before (no login; only units marked public)."""
    rows = await queries.public_reductions(conn, year=year)
    regions, _ = await intake.registries(conn)
    for row in rows:
        row["reduction_tco2"] = row["tco2_previous"] - row["tco2"]
        row["change_tco2"] = change(row["tco2"], row["tco2_previous"])
        row["region_name"] = region_name(regions.get(row["region_code"]), lang, row["region_name"])
    return {"year": year, "institutions": rows, "totals": _reduction_totals(rows),
            "synthetic": any(row["synthetic"] for row in rows)}


@router.get("/institutions")
async def institutions(caller: MonitoringReader, conn: Conn, year: Year,
                       region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
                       lang: LangQuery = "zh-CN") -> dict[str, Any]:
    """Monitoring of the public institutions (事业单位) the caller may see: each one's tCO2 and tce in `year`
    against the year before, whether it is published on the public page, and the totals."""
    scope = await _scope(conn, caller)
    prefix = region_prefix(region) if region else ""
    rows = await queries.institution_totals(conn, scope=scope, prefix=prefix, year=year)
    regions, industries = await intake.registries(conn)
    for row in rows:
        row["reduction_tco2"] = row["tco2_previous"] - row["tco2"]
        row["change_tco2"] = change(row["tco2"], row["tco2_previous"])
    return {"year": year, "region": region, "institutions": name_rows(rows, lang, regions=regions,
                                                                       industries=industries),
            "totals": _reduction_totals(rows), "synthetic": any(row["synthetic"] for row in rows)}


def _reduction_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    tco2 = sum(r["tco2"] for r in rows)
    before = sum(r["tco2_previous"] for r in rows)
    return {"institutions": len(rows), "tco2": tco2, "tco2_previous": before, "reduction_tco2": before - tco2,
            "change_tco2": change(tco2, before), "reduced": sum(1 for r in rows if r["reduction_tco2"] > 0)}


@router.get("/boundaries/{region}")
async def region_boundaries(region: Annotated[str, PathParam(pattern=r"^[0-9]{6}$")],
                            caller: MonitoringReader) -> dict[str, Any]:
    """GeoJSON of the region's sub-regions for the map (properties.code = GB/T 2260 code). The packaged file of
    the demo prefecture 330500 is a schematic (`schematic: true`); see docs/monitoring.md to load a real one."""
    try:
        return boundaries.load(region)
    except boundaries.BoundaryMissing as exc:
        raise HTTPException(404, str(exc)) from exc
    except boundaries.BoundaryInvalid as exc:
        raise HTTPException(422, f"the boundary file is unusable: {exc}") from exc


@router.get("/world")
async def world_comparison(
    caller: MonitoringReader,
    countries: Annotated[str, Query(pattern=r"^[A-Z_]{3,8}(,[A-Z_]{3,8}){0,49}$",
                                    description="ISO 3166-1 alpha-3 codes, comma-separated")] = "CHN,USA,IND,RUS,JPN",
    start: Annotated[int, Query(ge=1990, le=2100)] = 1990,
    end: Annotated[int, Query(ge=1990, le=2100)] = 2100,
    top: Annotated[int, Query(ge=0, le=50, description="also the trends of the year's top emitters")] = 10,
) -> dict[str, Any]:
    """International comparison from world_co2.csv (Our World in Data / Global Carbon Budget 2024, CC BY 4.0):
    the countries' annual CO2 and share of the world, and the top emitters of the latest year."""
    try:
        data = world.load(world.data_path())
    except world.WorldDataMissing as exc:
        raise HTTPException(404, str(exc)) from exc
    return world.comparison(data, countries=countries.split(","), start=start, end=end, top=top)

