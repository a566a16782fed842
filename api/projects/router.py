"""/api/v1/projects: reduction projects (docs/projects.md). Everyone with 'projects' reads the projects in scope
(an enterprise its own, a government user its region's, an auditor those it verifies); enterprises and
administrators change their own; an assigned verifier ('project_verify') verifies or refuses a submitted period;
an administrator assigns verifiers and certifies, which issues the reduction into the owner's holdings. Every
write is audited (projects.*)."""

from __future__ import annotations

import hashlib
import math
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from api.accounting import queries as inventory_queries
from api.alarms import clear_platform_alarm, raise_platform_alarm
from api.assets import queries as asset_queries
from api.audit import auditlog
from api.auth import accounts
from api.auth.access import Principal
from api.auth.deps import caller_with, require_permission
from api.deps import ClientIP, Conn
from api.projects import queries
from api.projects.fee_import import MAX_FEE_FILE_BYTES, FeeFileError, read_fee_csv
from api.projects.schemas import (
    MONTH,
    FeeIn,
    PeriodIn,
    PointBinding,
    ProjectIn,
    ReviewIn,
    SpendingIn,
    StageIn,
    StagePlanIn,
    TwoHighIn,
    VerdictIn,
    VerifierIn,
)
from api.registry import hierarchy_queries
from api.table_export import TableFormat, table_response
from api.telemetry.monthly_queries import month_windows, point_series_monthly
from api.telemetry.queries import last_readings
from api.uploads import media_type, read_one_file
from carbon_domain.accounting import EMITTING_ACTIVITIES
from carbon_domain.assets import EntryKind, Instrument
from carbon_domain.errors import DomainError
from carbon_domain.projects import (
    GRID_RENEWABLES,
    Activity,
    MeteredUse,
    PeriodInputs,
    ProjectKind,
    Stage,
    next_stages,
    period_reduction,
    stages_of,
    two_high_actual,
    two_high_warnings,
)
from carbon_domain.units import convert

router = APIRouter(prefix="/projects", tags=["projects"])

TZ = ZoneInfo("Asia/Shanghai")  # monitoring periods are calendar months of China Standard Time
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
_METER_ROLES = frozenset({"export", "import"})
ProjectId = Annotated[int, Path(ge=1)]
PeriodId = Annotated[int, Path(ge=1)]


Reader = Annotated[Principal, Depends(caller_with("projects"))]


async def _seen(conn: psycopg.AsyncConnection, caller: Principal, project_id: int, *,
                lock: bool = False) -> dict[str, Any]:
    found = await queries.project(conn, project_id=project_id, visibility=queries.visibility_of(caller), lock=lock)
    if found is None:
        raise HTTPException(404, f"no project {project_id} in your scope; GET /api/v1/projects lists yours")
    return found


async def _owned(conn: psycopg.AsyncConnection, caller: Principal, project_id: int, *,
                 lock: bool = False) -> dict[str, Any]:
    """A project the caller may change: its enterprise's user, or an administrator."""
    if caller.role not in ("enterprise", "admin"):
        raise HTTPException(403, f"role {caller.role!r} may read projects but not change them "
                                 "(the owning enterprise or an administrator does)")
    return await _seen(conn, caller, project_id, lock=lock)


def _refuse(exc: DomainError) -> HTTPException:
    return HTTPException(422, str(exc))


_PROJECT_EXPORT = ("project_id", "enterprise_id", "name", "kind", "grid_region", "stage", "budget", "spent",
                   "capacity_kw", "created_at", "created_by")
_PERIOD_EXPORT = ("period_id", "project_id", "start_ts", "end_ts", "status", "be_tco2", "pe_tco2", "le_tco2", "er_tco2",
                  "ef_cm", "issued_tco2", "formula_version", "factor_ids", "inputs", "computed_at", "computed_by")
Format = Annotated[TableFormat, Query(description="json, or csv / xlsx for a spreadsheet")]


@router.get("", response_model=None)
async def list_projects(caller: Reader, conn: Conn, format: Format = "json") -> dict[str, Any] | Response:
    """The projects in the caller's scope, with budget and spent; format=csv or xlsx for a spreadsheet."""
    projects = await queries.list_projects(conn, visibility=queries.visibility_of(caller))
    if format == "json":
        return {"projects": projects}
    return table_response(projects, _PROJECT_EXPORT, fmt=format, filename="projects")


@router.post("", status_code=201)
async def create_project(body: ProjectIn, caller: Reader, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Register a project (stage 立项, initiated)."""
    if caller.role not in ("enterprise", "admin"):
        raise HTTPException(403, f"role {caller.role!r} may not register projects (enterprises and administrators do)")
    if caller.role == "enterprise" and body.enterprise_id not in caller.scope.enterprises:
        raise HTTPException(403, f"you may register projects of your enterprise only, not {body.enterprise_id!r}")
    if await hierarchy_queries.get(conn, kind="enterprise", key=body.enterprise_id) is None:
        raise HTTPException(422, f"enterprise_id {body.enterprise_id!r} is not registered; create the enterprise first")
    async with conn.transaction():
        project_id = await queries.create_project(conn, values=body.model_dump(mode="json"),
                                                  created_by=caller.username)
        created = await _seen(conn, caller, project_id)
        await auditlog.record(conn, action="projects.create", client_ip=ip, principal=caller,
                              target=f"project:{project_id}", after=created)
    return created


@router.get("/{project_id}")
async def get_project(project_id: ProjectId, caller: Reader, conn: Conn) -> dict[str, Any]:
    """A project with its stage history, documents, points, assigned verifiers, fees and periods."""
    found = await _seen(conn, caller, project_id)
    kind = ProjectKind(found["kind"])
    return {**found, "next_stages": [s.value for s in next_stages(kind, Stage(found["stage"]))],
            "stage_changes": await queries.stage_changes(conn, project_id=project_id),
            "documents": await queries.documents(conn, project_id=project_id),
            "points": await _points(conn, project_id),
            "verifiers": await queries.verifiers(conn, project_id=project_id),
            "fees": await _fees(conn, project_id),
            "periods": await queries.periods(conn, project_id=project_id),
            **await _stages(conn, project_id, kind, Stage(found["stage"]))}


def _reached(kind: ProjectKind, current: Stage) -> tuple[Stage, ...]:
    """The stages a project has reached: those before its current one, and the current one."""
    stages = stages_of(kind)
    return stages[:stages.index(current) + 1]


async def _stages(conn: psycopg.AsyncConnection, project_id: int, kind: ProjectKind,
                  current: Stage) -> dict[str, Any]:
    """Each stage of the kind's lifecycle with its budget, spent, progress, documents and whether it is reached;
    spent_unassigned is the spending recorded before stages were kept (migration 144)."""
    figures = await queries.stage_figures(conn, project_id=project_id)
    reached = _reached(kind, current)
    stages = []
    for stage in stages_of(kind):
        row = figures.get(stage.value, {})
        stages.append({"stage": stage.value, "reached": stage in reached, "budget": row.get("budget"),
                       "spent": row.get("spent", 0.0), "progress_pct": row.get("progress_pct", 0.0),
                       "documents": row.get("documents", 0), "note": row.get("note", ""),
                       "updated_at": row.get("updated_at"), "updated_by": row.get("updated_by")})
    return {"stages": stages, "spent_unassigned": figures.get(None, {}).get("spent", 0.0)}


@router.put("/{project_id}/stages/{stage}")
async def put_stage_plan(project_id: ProjectId, stage: Annotated[str, Path(min_length=1, max_length=32)],
                         body: StagePlanIn, caller: Reader, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Set a stage's budget, progress (0-100 %) and note (the owner or an administrator); only the fields given
    change. Answers the project's stages."""
    if body.progress_pct is not None and not 0 <= body.progress_pct <= 100:
        raise HTTPException(422, f"progress_pct {body.progress_pct:g} is out of range; give the share of the stage "
                                 "done, from 0 to 100 (%)")
    async with conn.transaction():
        found = await _owned(conn, caller, project_id)
        kind = ProjectKind(found["kind"])
        lifecycle = stages_of(kind)
        if stage not in {s.value for s in lifecycle}:
            raise HTTPException(422, f"stage {stage!r} is not in the lifecycle of a {kind.value} project; use one of "
                                     f"{', '.join(s.value for s in lifecycle)}")
        values = {k: v for k, v in body.model_dump().items() if k in body.model_fields_set}
        if values.get("note") is None:
            values.pop("note", None)
        if values.get("progress_pct") is None:
            values.pop("progress_pct", None)
        before, after = await queries.put_stage_plan(conn, project_id=project_id, stage=stage, values=values,
                                                     updated_by=caller.username)
        await auditlog.record(conn, action="projects.stage_plan", client_ip=ip, principal=caller,
                              target=f"project:{project_id}:stage:{stage}", before=before, after=after)
        return {"project_id": project_id, **await _stages(conn, project_id, kind, Stage(found["stage"]))}


@router.post("/{project_id}/stage")
async def change_stage(project_id: ProjectId, body: StageIn, caller: Reader, conn: Conn,
                       ip: ClientIP) -> dict[str, Any]:
    """Move the project one stage forward (立项 -> 实施 -> 验收 -> 备案/认证 where the kind needs it)."""
    async with conn.transaction():
        found = await _owned(conn, caller, project_id, lock=True)
        allowed = next_stages(ProjectKind(found["kind"]), Stage(found["stage"]))
        if body.to_stage not in allowed:
            then = allowed[0].value if allowed else "none: the lifecycle is complete"
            raise HTTPException(409, f"a {found['kind']} project at stage {found['stage']!r} moves next to {then}, "
                                     f"not {body.to_stage.value!r}")
        await queries.change_stage(conn, project_id=project_id, from_stage=found["stage"],
                                   to_stage=body.to_stage.value, comment=body.comment, changed_by=caller.username)
        await auditlog.record(conn, action="projects.stage", client_ip=ip, principal=caller,
                              target=f"project:{project_id}", before={"stage": found["stage"]},
                              after={"stage": body.to_stage.value}, detail={"comment": body.comment})
    return await _seen(conn, caller, project_id)


@router.post("/{project_id}/documents", status_code=201, openapi_extra={"requestBody": {"content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}}}}})
async def upload_document(project_id: ProjectId, request: Request, caller: Reader, conn: Conn,
                          ip: ClientIP) -> dict[str, Any]:
    """Store a document of the project's current stage, with its SHA-256."""
    if media_type(request) != "multipart/form-data":
        raise HTTPException(415, "send multipart/form-data with a 'file' field")
    sent = await read_one_file(request, max_bytes=MAX_DOCUMENT_BYTES, holding="the document", plural="documents")
    name = sent.name.strip()
    if not name or len(name) > 255:
        raise HTTPException(422, "the file needs a name of 1 to 255 characters")
    async with conn.transaction():
        found = await _owned(conn, caller, project_id)
        stored = await queries.add_document(
            conn, project_id=project_id, stage=found["stage"], filename=name,
            content_type=sent.upload.content_type or "application/octet-stream",
            sha256=hashlib.sha256(sent.data).hexdigest(), content=sent.data, uploaded_by=caller.username)
        await auditlog.record(conn, action="projects.document", client_ip=ip, principal=caller,
                              target=f"project:{project_id}", after=stored)
    return stored


@router.get("/{project_id}/documents/{document_id}")
async def download_document(project_id: ProjectId, document_id: Annotated[int, Path(ge=1)], caller: Reader,
                            conn: Conn) -> Response:
    await _seen(conn, caller, project_id)
    found = await queries.document(conn, project_id=project_id, document_id=document_id)
    if found is None:
        raise HTTPException(404, f"project {project_id} has no document {document_id}")
    return Response(found["content"], media_type=found["content_type"],
                    headers={"X-Content-SHA256": found["sha256"],
                             "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found['filename'], safe='')}"})


@router.post("/{project_id}/spending", status_code=201)
async def record_spending(project_id: ProjectId, body: SpendingIn, caller: Reader, conn: Conn,
                          ip: ClientIP) -> dict[str, Any]:
    """Record money spent in a stage (the project's current one unless `stage` names one it has reached); the
    project shows budget vs spent, in all and per stage."""
    async with conn.transaction():
        before = await _owned(conn, caller, project_id, lock=True)
        kind, current = ProjectKind(before["kind"]), Stage(before["stage"])
        reached = _reached(kind, current)
        stage = body.stage or current
        if stage not in reached:
            raise HTTPException(422, f"project {project_id} has not reached stage {stage.value!r}; record spending "
                                     f"in one of {', '.join(s.value for s in reached)}")
        await queries.add_spending(conn, project_id=project_id, amount=body.amount, spent_on=body.spent_on,
                                   note=body.note, stage=stage.value, recorded_by=caller.username)
        after = await _seen(conn, caller, project_id)
        await auditlog.record(conn, action="projects.spending", client_ip=ip, principal=caller,
                              target=f"project:{project_id}", before={"spent": before["spent"]},
                              after={"spent": after["spent"]},
                              detail={**body.model_dump(mode="json"), "stage": stage.value})
    return after


@router.put("/{project_id}/points")
async def bind_point(project_id: ProjectId, body: PointBinding, caller: Reader, conn: Conn,
                     ip: ClientIP) -> dict[str, Any]:
    """Bind a device point of the owner's sites: export / import energy counters (net generation of grid PV and
    wind), or electricity / a fuel activity the project consumes."""
    if body.role not in _METER_ROLES | EMITTING_ACTIVITIES:
        raise HTTPException(422, f"role {body.role!r} is unknown; use export, import or one of "
                                 f"{', '.join(sorted(EMITTING_ACTIVITIES))}")
    async with conn.transaction():
        found = await _owned(conn, caller, project_id)
        device = await hierarchy_queries.get(conn, kind="device", key=body.device_id)
        site = None if device is None else await hierarchy_queries.get(conn, kind="site", key=device["site_id"])
        if device is None or site is None or site["enterprise_id"] != found["enterprise_id"]:
            raise HTTPException(422, f"device {body.device_id!r} is not a device of enterprise "
                                     f"{found['enterprise_id']!r}; bind the owner's own meters")
        point = next((p for p in device["points"] if p["point"] == body.point), None)
        if point is None:
            raise HTTPException(422, f"device {body.device_id!r} has no point {body.point!r}")
        if point["kind"] != "counter":
            raise HTTPException(422, f"point {body.device_id}/{body.point} is a {point['kind']}; a project is "
                                     "metered by energy or fuel counters (kind counter)")
        before = await queries.bind_point(conn, project_id=project_id, device_id=body.device_id, point=body.point,
                                          role=body.role, bound_by=caller.username)
        await auditlog.record(conn, action="projects.point", client_ip=ip, principal=caller,
                              target=f"project:{project_id}", before=before, after=body.model_dump())
    return {"points": await _points(conn, project_id)}


async def _points(conn: psycopg.AsyncConnection, project_id: int) -> list[dict[str, Any]]:
    """The bound points, each with its unit and newest reading (time, value, quality; null before the first)."""
    bound = await queries.points(conn, project_id=project_id)
    last = await last_readings(conn, points=[(b["device_id"], b["point"]) for b in bound])
    out = []
    for b in bound:
        reading = last.get((b["device_id"], b["point"]), {})
        out.append({**b, "unit": reading.get("unit"), "last_ts": reading.get("ts"),
                    "last_value": reading.get("value"), "last_quality": reading.get("quality")})
    return out


@router.get("/{project_id}/points")
async def list_points(project_id: ProjectId, caller: Reader, conn: Conn) -> dict[str, Any]:
    """The project's bound points with their role, unit and newest reading and its quality."""
    await _seen(conn, caller, project_id)
    return {"project_id": project_id, "points": await _points(conn, project_id)}


@router.delete("/{project_id}/points/{device_id}/{point}")
async def unbind_point(project_id: ProjectId, device_id: Annotated[str, Path(min_length=1, max_length=128)],
                       point: Annotated[str, Path(min_length=1, max_length=128)], caller: Reader, conn: Conn,
                       ip: ClientIP) -> dict[str, Any]:
    """Unbind a point: later periods no longer read it (computed periods keep their provenance)."""
    async with conn.transaction():
        await _owned(conn, caller, project_id)
        removed = await queries.unbind_point(conn, project_id=project_id, device_id=device_id, point=point)
        if removed is None:
            raise HTTPException(404, f"point {device_id}/{point} is not bound to project {project_id}; "
                                     f"GET /api/v1/projects/{project_id}/points lists the bound ones")
        await auditlog.record(conn, action="projects.point.unbind", client_ip=ip, principal=caller,
                              target=f"project:{project_id}", before=removed, after=None)
    return {"points": await _points(conn, project_id)}


@router.put("/{project_id}/fees/{month}")
async def put_fee(project_id: ProjectId, month: Annotated[str, Path(pattern=MONTH)],
                  body: FeeIn, caller: Reader, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Record a month's settled electricity fee (结算电费)."""
    first = date(int(month[:4]), int(month[5:]), 1)
    async with conn.transaction():
        await _owned(conn, caller, project_id)
        before = await queries.put_fee(conn, project_id=project_id, month=first, energy_mwh=body.energy_mwh,
                                       amount_yuan=body.amount_yuan, updated_by=caller.username)
        await auditlog.record(conn, action="projects.fee", client_ip=ip, principal=caller,
                              target=f"project:{project_id}:{month}", before=before, after=body.model_dump())
    return {"fees": await _fees(conn, project_id)}


async def _fees(conn: psycopg.AsyncConnection, project_id: int) -> list[dict[str, Any]]:
    """The settled fees by month, with the energy in kWh and the unit price in yuan/kWh (null for 0 kWh)."""
    rows = await queries.fees(conn, project_id=project_id)
    return [{**r, "energy_kwh": r["energy_mwh"] * 1000,
             "unit_price_yuan_per_kwh": r["amount_yuan"] / (r["energy_mwh"] * 1000) if r["energy_mwh"] else None}
            for r in rows]


_FEE_EXPORT = ("month", "energy_kwh", "amount_yuan", "unit_price_yuan_per_kwh", "updated_at", "updated_by")


@router.get("/{project_id}/fees", response_model=None)
async def list_fees(project_id: ProjectId, caller: Reader, conn: Conn,
                    format: Format = "json") -> dict[str, Any] | Response:
    """The settled electricity fees by month with the derived unit price; format=csv or xlsx for a spreadsheet
    (its columns month, energy_kwh, amount_yuan import again as they are)."""
    await _seen(conn, caller, project_id)
    fees = await _fees(conn, project_id)
    if format == "json":
        return {"project_id": project_id, "fees": fees}
    return table_response(fees, _FEE_EXPORT, fmt=format, filename=f"project-{project_id}-fees")


@router.post("/{project_id}/fees/import", openapi_extra={"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "CSV: month,energy_kwh,amount_yuan (or energy_mwh), one line per month"}}}}}}})
async def import_fees(project_id: ProjectId, request: Request, caller: Reader, conn: Conn,
                      ip: ClientIP) -> dict[str, Any]:
    """Import settled fees from a CSV file: the good lines are stored (a month already recorded is replaced) and
    each bad line comes back with its line number and what is wrong with it."""
    await _owned(conn, caller, project_id)  # refused callers learn that before any parsing
    if media_type(request) != "multipart/form-data":
        raise HTTPException(415, "send multipart/form-data with a 'file' field (CSV: month,energy_kwh,amount_yuan)")
    sent = await read_one_file(request, max_bytes=MAX_FEE_FILE_BYTES, holding="the CSV of settled fees",
                               plural="fee files", unit="KiB")
    try:
        read = read_fee_csv(sent.data)
    except FeeFileError as exc:
        raise HTTPException(422, str(exc)) from exc
    async with conn.transaction():
        for line in read.lines:
            before = await queries.put_fee(conn, project_id=project_id, month=line.first_day,
                                           energy_mwh=line.energy_mwh, amount_yuan=line.amount_yuan,
                                           updated_by=caller.username)
            await auditlog.record(conn, action="projects.fee", client_ip=ip, principal=caller,
                                  target=f"project:{project_id}:{line.month}", before=before,
                                  after={"energy_mwh": line.energy_mwh, "amount_yuan": line.amount_yuan},
                                  detail={"import": sent.name, "line": line.line})
    return {"project_id": project_id, "imported": [line.month for line in read.lines],
            "refused": [{"line": p.line, "problem": p.problem} for p in read.problems],
            "fees": await _fees(conn, project_id)}


def _with_warnings(row: dict[str, Any]) -> dict[str, Any]:
    figures = {k: row[k] for k in ("approved_tce", "approved_tco2", "actual_tce", "actual_tco2")}
    return {**row, "warnings": list(two_high_warnings(**figures))}


@router.get("/{project_id}/two-high")
async def two_high(project_id: ProjectId, caller: Reader, conn: Conn) -> dict[str, Any]:
    """A 两高 project's archive: approved vs actual energy and CO2 per year, with a warning per figure exceeded."""
    await _seen(conn, caller, project_id)
    return {"project_id": project_id,
            "years": [_with_warnings(row) for row in await queries.two_high(conn, project_id=project_id)]}


TWO_HIGH_RULE = "two_high_exceeded"


async def _two_high_project(conn: psycopg.AsyncConnection, caller: Principal, project_id: int) -> dict[str, Any]:
    found = await _owned(conn, caller, project_id)
    if found["kind"] != ProjectKind.TWO_HIGH.value:
        raise HTTPException(422, f"project {project_id} is a {found['kind']} project; approved vs actual "
                                 "figures are kept for 两高 (two_high) projects")
    return found


async def _store_two_high(conn: psycopg.AsyncConnection, caller: Principal, ip: str | None, *,
                          project: dict[str, Any], year: int, values: dict[str, Any]) -> dict[str, Any]:
    """Write a year's figures, audit them, and raise (or clear) the platform alarm two_high_exceeded of the
    project's year as its actual figures exceed the approved ones (or no longer do)."""
    project_id = project["project_id"]
    before, after = await queries.put_two_high(conn, project_id=project_id, year=year, values=values,
                                               updated_by=caller.username)
    await auditlog.record(conn, action="projects.two_high", client_ip=ip, principal=caller,
                          target=f"project:{project_id}:{year}", before=before, after=after)
    answer = _with_warnings(after)
    subject = f"two_high:{project_id}:{year}"
    if answer["warnings"]:
        await raise_platform_alarm(conn, rule=TWO_HIGH_RULE, subject=subject, severity="warning",
                                   enterprise_id=project["enterprise_id"],
                                   detail=f"两高项目 {project['name']} {year} 年实际能耗或排放超出核定值 / 两高 project "
                                          f"{project['name']!r} {year}: " + "; ".join(answer["warnings"]))
    else:
        await clear_platform_alarm(conn, rule=TWO_HIGH_RULE, subject=subject)
    return answer


@router.put("/{project_id}/two-high/{year}")
async def put_two_high(project_id: ProjectId, year: Annotated[int, Path(ge=2000, le=2100)], body: TwoHighIn,
                       caller: Reader, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Record a 两高 project's approved and / or actual figures of a year (from meters or reports); an actual
    figure above its approved one raises the platform alarm two_high_exceeded, cleared once it no longer is."""
    async with conn.transaction():
        found = await _two_high_project(conn, caller, project_id)
        return await _store_two_high(conn, caller, ip, project=found, year=year,
                                     values=body.model_dump(exclude_unset=True))


async def _metered_uses(conn: psycopg.AsyncConnection, project_id: int, year: int) -> list[MeteredUse]:
    """Each bound point's increase in each month of `year` that has readings (up to now)."""
    start = datetime(year, 1, 1, tzinfo=TZ)
    end = min(datetime(year + 1, 1, 1, tzinfo=TZ), datetime.now(TZ))
    if end <= start:
        return []
    months = month_windows(start, end, TZ)
    uses = []
    for bound in await queries.points(conn, project_id=project_id):
        series = await point_series_monthly(conn, device=bound["device_id"], point=bound["point"], months=months,
                                            sites=None)
        for row in [] if series is None else series["points"]:
            if row["increase"] is not None:
                counts = row["quality_counts"]
                uses.append(MeteredUse(
                    month=row["ts"].date(), role=bound["role"], quantity=row["increase"], unit=series["unit"],
                    source=f"point {bound['device_id']}/{bound['point']}, {row['count']} readings (good "
                           f"{counts['good']}, uncertain {counts['uncertain']}, bad {counts['bad']})"))
    return uses


@router.post("/{project_id}/two-high/{year}/from-meters")
async def two_high_from_meters(project_id: ProjectId, year: Annotated[int, Path(ge=2000, le=2100)],
                               caller: Reader, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Compute a 两高 project's actual energy (tce, GB/T 2589 coefficients) and CO2 of a year (to date) from its
    bound meters' monthly increases, store them with actual_source 'meters' and their provenance, and raise or
    clear the two_high_exceeded alarm as for entered figures."""
    async with conn.transaction():
        found = await _two_high_project(conn, caller, project_id)
        if not await queries.points(conn, project_id=project_id):
            raise HTTPException(422, f"project {project_id} has no bound points; bind its meters (PUT "
                                     f"/api/v1/projects/{project_id}/points, role electricity / import or a fuel) "
                                     "or enter the actual figures from a report")
        uses = await _metered_uses(conn, project_id, year)
        if not uses:
            raise HTTPException(422, f"the bound points of project {project_id} have no readings in {year}; compute "
                                     "once the pipeline has them, or enter the figures from a report")
        try:
            actual = two_high_actual(uses, await inventory_queries.load_library(conn))
        except DomainError as exc:
            raise _refuse(exc) from exc
        if not actual.inputs:
            raise HTTPException(422, f"none of the bound points of project {project_id} meters energy use "
                                     f"({'; '.join(actual.left_out)}); bind electricity / import or fuel points")
        provenance = {"months": sorted({f"{u.month:%Y-%m}" for u in uses}), "inputs": list(actual.inputs),
                      "factor_ids": list(actual.factor_ids), "left_out": list(actual.left_out)}
        return await _store_two_high(conn, caller, ip, project=found, year=year, values={
            "actual_tce": actual.tce, "actual_tco2": actual.tco2, "actual_source": "meters",
            "actual_provenance": provenance})


@router.post("/{project_id}/verifiers", status_code=201)
async def assign_verifier(project_id: ProjectId, body: VerifierIn, caller: Reader, conn: Conn,
                          ip: ClientIP) -> dict[str, Any]:
    """Assign a third-party verifier (a user of role auditor) to the project: administrators."""
    if caller.role != "admin":
        raise HTTPException(403, "verifiers are assigned by an administrator")
    user = await accounts.get_user(conn, username=body.username)
    if user is None or user["role"] != "auditor":
        raise HTTPException(422, f"{body.username!r} is not a user of role auditor; verifiers are auditor users")
    async with conn.transaction():
        await _seen(conn, caller, project_id)
        if await queries.assign_verifier(conn, project_id=project_id, username=body.username,
                                         assigned_by=caller.username):
            await auditlog.record(conn, action="projects.verifier", client_ip=ip, principal=caller,
                                  target=f"project:{project_id}", after={"verifier": body.username})
    return {"project_id": project_id, "verifier": body.username}


def _months(body: PeriodIn) -> tuple[datetime, datetime]:
    first, last = (date(int(m[:4]), int(m[5:]), 1) for m in (body.month_from, body.month_to))
    if last < first or first.year != last.year:
        raise HTTPException(422, f"month_to {body.month_to} must be on or after month_from {body.month_from}, in the "
                                 "same year (the margins are resolved per data year)")
    after = date(last.year + 1, 1, 1) if last.month == 12 else date(last.year, last.month + 1, 1)
    return datetime(first.year, first.month, 1, tzinfo=TZ), datetime(after.year, after.month, 1, tzinfo=TZ)


async def _metered(conn: psycopg.AsyncConnection, project_id: int, start: datetime,
                   end: datetime) -> tuple[dict[str, float], list[Activity], list[str]]:
    """The counter increases of the bound points over the period: export / import in MWh, activities, and a note
    per point with its readings' quality."""
    months = month_windows(start, end, TZ)
    meters: dict[str, float] = {}
    activities: list[Activity] = []
    notes: list[str] = []
    for bound in await queries.points(conn, project_id=project_id):
        name = f"{bound['device_id']}/{bound['point']}"
        series = await point_series_monthly(conn, device=bound["device_id"], point=bound["point"], months=months,
                                            sites=None)
        rows = [] if series is None else series["points"]
        missing = sorted({m.period.label for m in months} - {r["month"] for r in rows})
        if missing:
            raise HTTPException(422, f"point {name} ({bound['role']}) has no readings in {', '.join(missing)}; "
                                     "the period can be computed once the pipeline has them")
        assert series is not None
        quantity = sum(r["increase"] or 0.0 for r in rows)
        counts = {q: sum(r["quality_counts"][q] for r in rows) for q in ("good", "uncertain", "bad")}
        notes.append(f"{bound['role']} {name}: {quantity:.6g} {series['unit']} from {sum(r['count'] for r in rows)} "
                     f"readings (good {counts['good']}, uncertain {counts['uncertain']}, bad {counts['bad']})")
        try:
            if bound["role"] in _METER_ROLES:
                meters[bound["role"]] = meters.get(bound["role"], 0.0) + convert(quantity, series["unit"], "MWh")
            else:
                activities.append(Activity(bound["role"], quantity, series["unit"], f"point {name}"))
        except DomainError as exc:
            raise HTTPException(422, f"point {name}: {exc}") from exc
    return meters, activities, notes


@router.post("/{project_id}/periods", status_code=201)
async def compute_period(project_id: ProjectId, body: PeriodIn, caller: Reader, conn: Conn,
                         ip: ClientIP) -> dict[str, Any]:
    """Compute ER = BE - PE - LE of a monitoring period from the bound points' rollups and the stored factor library,
    and store it with its provenance. A period already computed (and not refused) is 409."""
    start, end = _months(body)
    async with conn.transaction():
        found = await _owned(conn, caller, project_id, lock=True)
        kind = ProjectKind(found["kind"])
        meters, activities, notes = await _metered(conn, project_id, start, end)
        if kind in GRID_RENEWABLES and "export" not in meters:
            raise HTTPException(422, f"a {kind.value} project's generation is metered: bind an export counter "
                                     "(PUT .../points with role export) first")
        net = meters["export"] - meters.get("import", 0.0) if kind in GRID_RENEWABLES else None
        inputs = PeriodInputs(
            start=start, end=end, net_generation_mwh=net, generation_source="export - import counters",
            baseline_activities=[Activity(a.activity, a.quantity, a.unit, a.source) for a in body.baseline_activities],
            project_activities=activities, leakage_tco2=body.leakage_tco2,
            leakage_justification=body.leakage_justification, notes=notes)
        try:
            # the factor library as stored (administrators' rows included), as inventories use it
            result = period_reduction(kind, found["grid_region"], inputs, await inventory_queries.load_library(conn))
        except DomainError as exc:
            raise _refuse(exc) from exc
        figures = {"be_tco2": result.be_tco2, "pe_tco2": result.pe_tco2, "le_tco2": result.le_tco2,
                   "er_tco2": result.er_tco2, "ef_cm": result.ef_cm}
        provenance = {"inputs": list(result.inputs), "factor_ids": list(result.factor_ids),
                      "formula_version": result.formula_version, "months": [body.month_from, body.month_to]}
        stored = await queries.add_period(conn, project_id=project_id, start=start, end=end, figures=figures,
                                          provenance=provenance, computed_by=caller.username)
        if stored is None:
            raise HTTPException(409, f"{body.month_from}..{body.month_to} of project {project_id} is computed "
                                     "already; only a refused result may be recomputed")
        await auditlog.record(conn, action="projects.period.compute", client_ip=ip, principal=caller,
                              target=f"project:{project_id}:period:{stored['period_id']}", after=stored)
    return stored


async def _period(conn: psycopg.AsyncConnection, project_id: int, period_id: int) -> dict[str, Any]:
    found = await queries.period(conn, project_id=project_id, period_id=period_id)
    if found is None:
        raise HTTPException(404, f"project {project_id} has no monitoring period {period_id}")
    return found


async def _move(conn: psycopg.AsyncConnection, caller: Principal, ip: str | None, *, project_id: int,
                period: dict[str, Any], expected: str, status: str, action: str, comment: str,
                issued: int | None = None) -> dict[str, Any]:
    if period["status"] != expected:
        raise HTTPException(409, f"period {period['period_id']} is {period['status']}; {action} needs it {expected}")
    await queries.set_period_status(conn, period_id=period["period_id"], status=status, issued_tco2=issued)
    await queries.add_event(conn, period_id=period["period_id"], action=action, comment=comment,
                            actor=caller.username)
    await auditlog.record(conn, action=f"projects.period.{action}", client_ip=ip, principal=caller,
                          target=f"project:{project_id}:period:{period['period_id']}",
                          before={"status": period["status"]}, after={"status": status, "issued_tco2": issued},
                          detail={"comment": comment})
    return {**period, "status": status, "issued_tco2": issued if issued is not None else period["issued_tco2"],
            "events": await queries.events(conn, period_id=period["period_id"])}


@router.get("/{project_id}/periods", response_model=None)
async def list_periods(project_id: ProjectId, caller: Reader, conn: Conn,
                       format: Format = "json") -> dict[str, Any] | Response:
    """The monitoring periods with their figures and provenance (readings, factor rows, formula version);
    format=csv or xlsx for a spreadsheet."""
    await _seen(conn, caller, project_id)
    periods = await queries.periods(conn, project_id=project_id)
    if format == "json":
        return {"project_id": project_id, "periods": periods}
    flat = [{**p, **{k: p["provenance"].get(k) for k in ("formula_version", "factor_ids", "inputs")}} for p in periods]
    return table_response(flat, _PERIOD_EXPORT, fmt=format, filename=f"project-{project_id}-periods")


@router.get("/{project_id}/periods/{period_id}")
async def get_period(project_id: ProjectId, period_id: PeriodId, caller: Reader, conn: Conn) -> dict[str, Any]:
    """A period with its provenance and its verdicts and comments."""
    await _seen(conn, caller, project_id)
    found = await _period(conn, project_id, period_id)
    return {**found, "events": await queries.events(conn, period_id=period_id)}


@router.post("/{project_id}/periods/{period_id}/submit")
async def submit_period(project_id: ProjectId, period_id: PeriodId, body: ReviewIn, caller: Reader, conn: Conn,
                        ip: ClientIP) -> dict[str, Any]:
    """Submit a computed period for third-party verification (the owner)."""
    async with conn.transaction():
        await _owned(conn, caller, project_id)
        period = await _period(conn, project_id, period_id)
        return await _move(conn, caller, ip, project_id=project_id, period=period, expected="computed",
                           status="submitted", action="submit", comment=body.comment)


@router.post("/{project_id}/periods/{period_id}/verdict")
async def verdict(project_id: ProjectId, period_id: PeriodId, body: VerdictIn, caller: Reader, conn: Conn,
                  ip: ClientIP) -> dict[str, Any]:
    """The assigned verifier verifies or refuses a submitted period; the finding is kept either way."""
    require_permission(caller, "project_verify")
    async with conn.transaction():
        await _seen(conn, caller, project_id)
        if not await queries.is_verifier(conn, project_id=project_id, username=caller.username):
            raise HTTPException(403, f"you are not the assigned verifier of project {project_id}")
        period = await _period(conn, project_id, period_id)
        status = "verified" if body.verdict == "verify" else "refused"
        return await _move(conn, caller, ip, project_id=project_id, period=period, expected="submitted",
                           status=status, action=body.verdict, comment=body.comment)


@router.post("/{project_id}/periods/{period_id}/certify")
async def certify(project_id: ProjectId, period_id: PeriodId, body: ReviewIn, caller: Reader, conn: Conn,
                  ip: ClientIP) -> dict[str, Any]:
    """Certify a verified period (administrators) and issue its reduction, in whole tonnes rounded down, into the
    owner's holdings as certified_reduction of the period's year."""
    if caller.role != "admin":
        raise HTTPException(403, "periods are certified by an administrator, after the verifier's verification")
    async with conn.transaction():
        found = await _seen(conn, caller, project_id)
        period = await _period(conn, project_id, period_id)
        issued = max(math.floor(period["er_tco2"]), 0)
        moved = await _move(conn, caller, ip, project_id=project_id, period=period, expected="verified",
                            status="certified", action="certify", comment=body.comment, issued=issued)
        if issued:
            entry = await asset_queries.add_entry(
                conn, enterprise_id=found["enterprise_id"], kind=EntryKind.ISSUE,
                instrument=Instrument.CERTIFIED_REDUCTION, vintage=period["start_ts"].astimezone(TZ).year,
                quantity=issued, actor=caller.username, reference=f"project:{project_id}:period:{period_id}")
            await auditlog.record(conn, action="assets.issue", client_ip=ip, principal=caller,
                                  target=f"enterprise:{found['enterprise_id']}", after=entry)
    return moved


@router.post("/{project_id}/periods/{period_id}/comments", status_code=201)
async def comment(project_id: ProjectId, period_id: PeriodId, body: ReviewIn, caller: Reader, conn: Conn,
                  ip: ClientIP) -> dict[str, Any]:
    """Add a comment to a period (anyone who sees the project)."""
    if not body.comment.strip():
        raise HTTPException(422, "comment is empty")
    async with conn.transaction():
        await _seen(conn, caller, project_id)
        await _period(conn, project_id, period_id)
        await queries.add_event(conn, period_id=period_id, action="comment", comment=body.comment,
                                actor=caller.username)
        await auditlog.record(conn, action="projects.period.comment", client_ip=ip, principal=caller,
                              target=f"project:{project_id}:period:{period_id}", detail={"comment": body.comment})
    return {"events": await queries.events(conn, period_id=period_id)}
