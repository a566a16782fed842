"""/api/v1/grid-factors: differentiated electricity-carbon factors (电碳因子, issue 19; docs/grid_factors.md).

Regional factors: administrators import regions and flows (CSV/XLSX or JSON) and compute flow-traced
consumption factors under a chosen convention; every signed-in caller with 'emissions' reads them. A
result can be published into the accounting factor library (through its own `add_factor`), never copied.
Enterprise factors: administrators import unit energy data and verified emissions, fit versions, pin a unit to
a factor with a reason; administrators and governments (their region) read the library, the simulation and the
third-party check (out of sample by default: factors refitted without the months or enterprises they are checked
on). Administrators write the fuel models' estimates of electricity-only units into monitoring, where they stay
apart from the reported figures (api/monitoring/estimates.py). Every change lands in the audit log.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ValidationError

from api.accounting import queries as inventory_queries
from api.audit import auditlog
from api.auth.access import Principal
from api.auth.deps import BenchmarkAdmin, EmissionsReader
from api.deps import ClientIP, Conn
from api.errors import Conflict
from api.grid_factors import estimating, queries
from api.grid_factors.monitoring_link import unit_energy_from_monitoring
from api.grid_factors.schemas import (
    FitIn,
    FromMonitoringIn,
    PinIn,
    PublishIn,
    RegionalInputIn,
    TraceIn,
    UnitEnergyRowIn,
    UnitImportIn,
    VerifiedRowIn,
)
from api.uploads import json_sha256, media_type, read_one_file
from carbon_domain.errors import GridFactorError
from carbon_domain.factors import FactorRow, Scope
from carbon_domain.grid_factors import (
    Flow,
    Region,
    check_estimates,
    fit_factors,
    fit_fuel_models,
    holdout_estimates,
    simulate_region,
    trace_flows,
)
from carbonflow.grid_factor_files import FileKind, GridFileError, check_rows, read_grid_file

__all__ = ["router"]

router = APIRouter(prefix="/grid-factors", tags=["grid_factors"])

MAX_UPLOAD_BYTES = 16 * 1024 * 1024


# --- reading bodies: JSON or a CSV/XLSX upload, checked line by line ------------------------------------------

def _problems(problems: list[dict[str, Any]]) -> HTTPException:
    return HTTPException(422, {"message": f"{len(problems)} bad line(s); nothing stored", "problems": problems})


async def _upload(request: Request, kind: FileKind) -> tuple[list[dict[str, Any]], dict[str, str], str, str, str]:
    """Rows of a multipart `file`, the form's other fields, origin, filename and the file's sha256."""
    sent = await read_one_file(request, max_bytes=MAX_UPLOAD_BYTES, holding="the .csv or .xlsx file",
                               plural="files", suffixes=(".csv", ".xlsx"))
    name, data = sent.name, sent.data
    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="cf-grid-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            rows, problems = read_grid_file(path, kind)
        except GridFileError as exc:
            raise HTTPException(422, f"{name}: {str(exc).replace(str(path), name)}") from exc
    if problems:
        raise _problems([{"line": p.line, "reason": p.reason} for p in problems])
    fields = {k: str(v) for k, v in sent.form.items() if k != "file" and isinstance(v, str)}
    return rows, fields, suffix[1:], name, hashlib.sha256(data).hexdigest()


async def _json_body(request: Request, model: type[BaseModel]) -> Any:
    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"bodies are limited to {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(422, f"invalid body: {_first_problem(exc)}") from exc


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']}{more}"


def _checked(records: list[dict[str, Any]], kind: FileKind) -> list[dict[str, Any]]:
    rows, problems = check_rows(records, kind)
    if problems:
        raise _problems([{"line": p.line, "reason": p.reason} for p in problems])
    return rows


def _upload_doc(kind: str, extra: dict[str, Any], json_schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": json_schema},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": f".csv or .xlsx {kind} file"}, **extra}}}}}}


# --- regional factors ----------------------------------------------------------------------------------------

_REGIONAL_FORM = {"name": {"type": "string"}, "period": {"type": "string", "example": "2025"},
                  "illustrative": {"type": "boolean"}, "source": {"type": "string"}}


@router.post("/regional/inputs", status_code=201,
             openapi_extra=_upload_doc("regional input", _REGIONAL_FORM, RegionalInputIn.model_json_schema()))
async def import_regional_input(request: Request, admin: BenchmarkAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Import regions (generation, its emissions) and flows between them as a new input set. Bad lines are
    reported with their line numbers (422) and nothing is stored."""
    content_type = media_type(request)
    if content_type == "application/json":
        body: RegionalInputIn = await _json_body(request, RegionalInputIn)
        records = [{**r.model_dump(), "line": n} for n, r in enumerate(body.rows, start=1)]
        rows = _checked(records, "regional")
        header = body.model_dump(exclude={"rows"})
        origin, filename, digest = "json", None, json_sha256(records)
    elif content_type == "multipart/form-data":
        rows, fields, origin, filename, digest = await _upload(request, "regional")
        try:
            header = RegionalInputIn.model_validate(
                {"name": fields.get("name") or filename, "period": fields.get("period", ""),
                 "illustrative": fields.get("illustrative", "false").lower() in ("true", "1", "yes", "on"),
                 "source": fields.get("source", ""), "rows": [{"record": "flow", "region": "-", "mwh": 0}]}
            ).model_dump(exclude={"rows"})
        except ValidationError as exc:
            raise HTTPException(422, f"invalid form field: {_first_problem(exc)}") from exc
    else:
        raise HTTPException(415, "send application/json or multipart/form-data with a 'file'")
    _regions_and_flows(rows)  # a set that cannot be traced is refused now, not at the first trace
    async with conn.transaction():
        created = await queries.add_region_input(conn, **header, imported_by=admin.username, origin=origin,
                                                 filename=filename, content_sha256=digest, rows=rows)
        await auditlog.record(conn, action="grid_factors.regional_import", client_ip=ip, principal=admin,
                              target=f"grid-input:{created['input_id']}",
                              after={**header, "origin": origin, "filename": filename, "content_sha256": digest,
                                     "regions": created["regions"], "flows": created["flows"]})
    return {**header, **created}


def _regions_and_flows(rows: list[dict[str, Any]]) -> tuple[list[Region], list[Flow]]:
    regions = [Region(r["region"], r["mwh"], r["tco2"]) for r in rows if r["record"] == "region"]
    flows = [Flow(r["region"], r["to_region"], r["mwh"]) for r in rows if r["record"] == "flow"]
    known = {r.name for r in regions}
    for row in rows:
        if row["record"] == "flow":
            for end in (row["region"], row["to_region"]):
                if end not in known:
                    raise _problems([{"line": row["line"], "reason": f"flow names region {end!r}, which has no"
                                                                      " region row; add it with mwh and tco2"}])
    return regions, flows


@router.get("/regional/inputs")
async def list_regional_inputs(caller: EmissionsReader, conn: Conn) -> dict[str, Any]:
    """Input sets, newest first (illustrative ones say so)."""
    return {"inputs": await queries.region_inputs(conn)}


@router.post("/regional/inputs/{input_id}/trace", status_code=201)
async def trace_regional_input(input_id: int, body: TraceIn, admin: BenchmarkAdmin, conn: Conn,
                               ip: ClientIP) -> dict[str, Any]:
    """Compute and store the consumption factors of an input set under `convention`, with the conservation
    check (consumption-weighted intensities against total generation emissions)."""
    header = await queries.region_input(conn, input_id=input_id)
    if header is None:
        raise HTTPException(404, f"no regional input set {input_id}; see GET /api/v1/grid-factors/regional/inputs")
    regions, flows = _regions_and_flows(await queries.region_rows(conn, input_id=input_id))
    try:
        result = trace_flows(regions, flows, body.convention)
    except GridFactorError as exc:
        raise HTTPException(422, f"input set {input_id}: {exc}") from exc
    async with conn.transaction():
        stored = await queries.add_flow_result(conn, input_id=input_id, result=result, computed_by=admin.username)
        await auditlog.record(conn, action="grid_factors.trace", client_ip=ip, principal=admin,
                              target=f"grid-result:{stored['result_id']}",
                              after={"input_id": input_id, "convention": body.convention,
                                     "conservation_error": result.conservation_error})
    return {**stored, "illustrative": header["illustrative"], "period": header["period"]}


@router.get("/regional/results")
async def list_regional_results(
    caller: EmissionsReader, conn: Conn, input_id: int | None = None,
    convention: Annotated[Literal["consumption", "generation"] | None, Query()] = None,
) -> dict[str, Any]:
    """Flow-tracing results (without their factors), newest first."""
    return {"results": await queries.flow_results(conn, input_id=input_id, convention=convention)}


@router.get("/regional/results/{result_id}")
async def regional_result(result_id: int, caller: EmissionsReader, conn: Conn) -> dict[str, Any]:
    """One result: its factors per region, convention, conservation check and input set."""
    found = await queries.flow_result(conn, result_id=result_id)
    if found is None:
        raise HTTPException(404, f"no flow-tracing result {result_id}")
    return found


def _period_bounds(period: str) -> tuple[date, date]:
    year, _, month = period.partition("-")
    if not month:
        return date(int(year), 1, 1), date(int(year), 12, 31)
    start = date(int(year), int(month), 1)
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, date.fromordinal(following.toordinal() - 1)


@router.post("/regional/results/{result_id}/publish", status_code=201)
async def publish_regional_result(result_id: int, body: PublishIn, admin: BenchmarkAdmin, conn: Conn,
                                  ip: ClientIP) -> dict[str, Any]:
    """Publish a result's consumption factors into the accounting factor library, one row per region
    (key grid.<region>.consumption, series flow-traced-<convention>), through the library's own insert."""
    found = await queries.flow_result(conn, result_id=result_id)
    if found is None:
        raise HTTPException(404, f"no flow-tracing result {result_id}")
    if found["illustrative"]:
        raise HTTPException(409, f"result {result_id} comes from illustrative input set {found['input_id']}:"
                                 " illustrative data are never published to the accounting factor library")
    start, end = _period_bounds(found["period"])
    try:
        valid_from = date.fromisoformat(body.valid_from) if body.valid_from else start
    except ValueError as exc:
        raise HTTPException(422, f"valid_from: {body.valid_from!r} is not a day (e.g. 2025-01-01)") from exc
    rows = []
    for factor in found["factors"]:
        slug = "".join(c if c.isalnum() else "_" for c in factor["region"].lower())
        key = f"grid.{slug}.consumption"
        try:
            rows.append(FactorRow(
                factor_id=f"{key}@flow-{result_id}", key=key, value=factor["intensity"], unit="tCO2/MWh",
                scope=Scope.REGION, scope_id=factor["region"].replace(" ", "_"), valid_from=valid_from,
                valid_to=max(end, valid_from), series=f"flow-traced-{found['convention']}",
                source=f"carbonflow flow tracing result {result_id} of input set {found['input_id']}"
                       f" ({found['input_name']}; {found['source'] or 'no source given'})"[:500]))
        except ValidationError as exc:
            raise HTTPException(422, f"region {factor['region']!r}: {_first_problem(exc)}") from exc
    try:
        async with conn.transaction():
            for row in rows:
                await inventory_queries.add_factor(conn, row=row)
            await auditlog.record(conn, action="grid_factors.publish", client_ip=ip, principal=admin,
                                  target=f"grid-result:{result_id}", after=[r.factor_id for r in rows])
    except Conflict as exc:
        raise HTTPException(409, f"result {result_id} is already published: {exc}") from exc
    return {"result_id": result_id, "published": [r.model_dump(mode="json") for r in rows]}


# --- unit energy data and verified emissions ------------------------------------------------------------------

async def _unit_import(request: Request, kind: FileKind, row_model: type[BaseModel], admin: Principal,
                       conn: Any, ip: str | None) -> dict[str, Any]:
    content_type = media_type(request)
    if content_type == "application/json":
        body: UnitImportIn = await _json_body(request, UnitImportIn)
        records = []
        for line, raw in enumerate(body.rows, start=1):
            try:
                records.append({**row_model.model_validate(raw).model_dump(), "line": line})
            except ValidationError as exc:
                raise _problems([{"line": line, "reason": _first_problem(exc)}]) from exc
        rows, note, origin, filename, digest = _checked(records, kind), body.note, "json", None, json_sha256(records)
    elif content_type == "multipart/form-data":
        rows, fields, origin, filename, digest = await _upload(request, kind)
        note = fields.get("note", "")[:2000]
    else:
        raise HTTPException(415, "send application/json ({\"rows\": [...]}) or multipart/form-data with a 'file'")
    async with conn.transaction():
        created = await queries.add_unit_import(conn, kind=kind, imported_by=admin.username, origin=origin,
                                                filename=filename, content_sha256=digest, note=note, rows=rows)
        await auditlog.record(conn, action=f"grid_factors.{kind}_import", client_ip=ip, principal=admin,
                              target=f"grid-import:{created['import_id']}",
                              after={"rows": len(rows), "origin": origin, "filename": filename,
                                     "content_sha256": digest})
    return created


@router.post("/units/energy", status_code=201, openapi_extra=_upload_doc(
    "unit energy", {"note": {"type": "string"}}, UnitImportIn.model_json_schema()))
async def import_unit_energy(request: Request, admin: BenchmarkAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Import units' electricity use and, where known, their coal, oil and gas CO2 per period."""
    return await _unit_import(request, "unit_energy", UnitEnergyRowIn, admin, conn, ip)


@router.post("/units/from-monitoring", status_code=201)
async def import_unit_energy_from_monitoring(body: FromMonitoringIn, admin: BenchmarkAdmin, conn: Conn,
                                             ip: ClientIP) -> dict[str, Any]:
    """Take every enterprise's monthly electricity use and fuel CO2 from the government monitoring figures (from
    `since` on) as a new unit energy import, keyed by credit code; months without fuel figures are units with
    electricity data only, for the simulation."""
    year, month = (int(part) for part in body.since.split("-"))
    rows = await unit_energy_from_monitoring(conn, since=date(year, month, 1))
    if not rows:
        raise HTTPException(422, f"no monitoring figures with electricity use from {body.since} on; import monthly"
                                 " figures first (POST /api/v1/monitoring/imports or /monitoring/figures)")
    digest = json_sha256([{k: v for k, v in r.items() if k != "synthetic"} for r in rows])
    async with conn.transaction():
        created = await queries.add_unit_import(conn, kind="unit_energy", imported_by=admin.username,
                                                origin="monitoring", filename=None, content_sha256=digest,
                                                note=f"monitoring figures from {body.since}", rows=rows)
        await auditlog.record(conn, action="grid_factors.unit_energy_import", client_ip=ip, principal=admin,
                              target=f"grid-import:{created['import_id']}",
                              after={"rows": len(rows), "origin": "monitoring", "since": body.since,
                                     "content_sha256": digest})
    return {**created, "units": len({r["unit_id"] for r in rows}),
            "electricity_only": sum(r["coal_tco2"] is None and r["oil_tco2"] is None and r["gas_tco2"] is None
                                    for r in rows)}


@router.post("/verified", status_code=201, openapi_extra=_upload_doc(
    "verified emissions", {"note": {"type": "string"}}, UnitImportIn.model_json_schema()))
async def import_verified(request: Request, admin: BenchmarkAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Import third-party verified emissions per unit and period (第三方认证)."""
    return await _unit_import(request, "verified", VerifiedRowIn, admin, conn, ip)


# --- enterprise factor library --------------------------------------------------------------------------------

def _unit_reader(caller: Principal) -> str | None:
    """The region a unit-level reader is held to (None: all); 403 for roles that see single enterprises, as
    units are not yet tied to enterprises."""
    if caller.scope.all:
        return None
    if caller.role == "government" and caller.scope.regions:
        return caller.scope.regions[0]
    raise HTTPException(403, f"role {caller.role!r} may not read unit-level factor data; administrators and"
                             " government users may")


def _within(region: str, scope: str | None) -> bool:
    return scope is None or region == scope or region.startswith(f"{scope}-")


@router.get("/units/regions")
async def unit_data_regions(caller: EmissionsReader, conn: Conn) -> dict[str, Any]:
    """The regions that have unit energy data (those the caller may read), with their counts of units, for
    picking a region to simulate."""
    scope = _unit_reader(caller)
    counts: dict[str, int] = {}
    for region in (await queries.unit_regions(conn)).values():
        if _within(region, scope):
            counts[region] = counts.get(region, 0) + 1
    return {"regions": [{"region": r, "units": n} for r, n in sorted(counts.items())]}


@router.post("/enterprise/fit", status_code=201)
async def fit_enterprise_factors(body: FitIn, admin: BenchmarkAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Fit E = a + b*Q_elec on the verified emissions, per unit or per industry, and store each fit as a new
    version in the library; groups that cannot be fitted are listed with their reason."""
    data = await queries.unit_periods(conn)
    try:
        fits, skipped = fit_factors(data, by=body.by, min_n=body.min_n)
    except GridFactorError as exc:
        raise HTTPException(422, str(exc)) from exc
    async with conn.transaction():
        stored = await queries.add_factor_versions(conn, fits=fits, fitted_by=admin.username)
        await auditlog.record(conn, action="grid_factors.fit", client_ip=ip, principal=admin, target=f"by:{body.by}",
                              after={"factors": [s["factor_id"] for s in stored][:1000], "fitted": len(stored),
                                     "skipped": len(skipped)})
    return {"by": body.by, "fitted": stored, "skipped": skipped}


@router.get("/enterprise/factors")
async def list_enterprise_factors(
    caller: EmissionsReader, conn: Conn,
    scope: Annotated[Literal["unit", "industry"] | None, Query()] = None,
    scope_id: Annotated[str | None, Query(max_length=160)] = None, latest: bool = False,
) -> dict[str, Any]:
    """The factor library: every version (or only the newest per scope), with fit statistics, and the pins.
    A government user sees industry factors and the unit factors and pins of units in its region."""
    region = _unit_reader(caller)
    factors = await queries.factor_library(conn, scope=scope, scope_id=scope_id, latest_only=latest)
    pins = list((await queries.current_pins(conn)).values())
    if region is not None:
        regions = await queries.unit_regions(conn)
        factors = [f for f in factors if f["scope"] == "industry" or _within(regions.get(f["scope_id"], ""), region)]
        pins = [p for p in pins if _within(regions.get(p["unit_id"], ""), region)]
    return {"factors": factors, "pins": pins}


@router.post("/enterprise/pins", status_code=201)
async def pin_unit(body: PinIn, admin: BenchmarkAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Pin a unit to a factor version by hand (or lift its pin with factor_id null), with a reason."""
    if body.factor_id is not None and await queries.enterprise_factor(conn, factor_id=body.factor_id) is None:
        raise HTTPException(422, f"factor_id {body.factor_id!r} is not in the library; see"
                                 " GET /api/v1/grid-factors/enterprise/factors")
    before = (await queries.current_pins(conn)).get(body.unit_id)
    async with conn.transaction():
        pin = await queries.add_pin(conn, unit_id=body.unit_id, factor_id=body.factor_id, reason=body.reason.strip(),
                                    pinned_by=admin.username)
        await auditlog.record(conn, action="grid_factors.pin", client_ip=ip, principal=admin,
                              target=f"unit:{body.unit_id}",
                              before=before and {"factor_id": before["factor_id"], "reason": before["reason"]},
                              after={"factor_id": body.factor_id, "reason": pin["reason"]})
    return pin


@router.get("/check")
async def third_party_check(
    caller: EmissionsReader, conn: Conn,
    bound: Annotated[float, Query(gt=0, le=10, description="flag factors whose MAPE exceeds this fraction")] = 0.1,
    worst: Annotated[int, Query(ge=1, le=100)] = 5,
    holdout: Annotated[Literal["months", "units", "none"], Query(description=(
        "months: refit each factor in use without the last test_months months and check on those; units: refit"
        " the industry factors without one unit in `every` and check on those units; none: in-sample (the"
        " stored factors on the figures they were fitted on, which understates the error)"))] = "months",
    test_months: Annotated[int, Query(ge=1, le=120, description="holdout=months: months held out")] = 3,
    every: Annotated[int, Query(ge=2, le=100, description="holdout=units: hold out one unit in this many")] = 5,
) -> dict[str, Any]:
    """Estimates against the verified emissions, out of sample by default: each unit's factor (its pin, else its
    own, else its industry's) refitted on the verified figures it is not checked on (see `holdout`); MAPE, bias
    and worst cases per industry, region and factor; factors over `bound` flagged. `holdout` in the answer says
    how the figures were split."""
    scope = _unit_reader(caller)
    data = [d for d in await queries.unit_periods(conn) if _within(d.region, scope)]
    pins, unit_factors, industry_factors = await queries.factors_in_use(conn)
    try:
        estimates, uncovered, split = holdout_estimates(
            data, pins=pins, unit_factors=unit_factors, industry_factors=industry_factors, holdout=holdout,
            test_months=test_months, every=every)
    except GridFactorError as exc:
        raise HTTPException(422, str(exc)) from exc
    report = check_estimates(estimates, bound=bound, worst=worst)
    return {"region": scope, "estimated": len(estimates), "uncovered": uncovered, "holdout": _plain(split),
            **_plain(report)}


def _plain(value: Any) -> Any:
    """Dataclasses as JSON values; NaN (a fit without verified figures) as null."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# --- electricity -> fuel models and the regional simulation ---------------------------------------------------

@router.post("/fuel-models/fit", status_code=201)
async def fit_fuel(admin: BenchmarkAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Fit each industry's electricity -> coal / oil / gas ratios on its units with full data (new versions)."""
    models, skipped = fit_fuel_models(await queries.unit_periods(conn))
    async with conn.transaction():
        stored = await queries.add_fuel_models(conn, models=list(models.values()), fitted_by=admin.username)
        await auditlog.record(conn, action="grid_factors.fuel_fit", client_ip=ip, principal=admin,
                              target="fuel-models", after={"models": [s["model_id"] for s in stored],
                                                           "skipped": skipped})
    return {"fitted": [{**s, **_plain(models[s["industry"]])} for s in stored], "skipped": skipped}


@router.get("/simulation")
async def simulate(
    caller: EmissionsReader, conn: Conn, region: Annotated[str, Query(min_length=1, max_length=160)],
    period: Annotated[str | None, Query(pattern=r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$")] = None,
    confidence: Annotated[float, Query(gt=0, lt=1)] = 0.95,
) -> dict[str, Any]:
    """A region's fuel CO2 (仿真计算): measured where units report fuels, simulated from electricity for the
    rest (marked estimated, with the model), with its band and share, next to the verified total."""
    scope = _unit_reader(caller)
    if not _within(region, scope):
        raise HTTPException(404, f"region {region!r} is outside your region {scope!r}")
    data = [d for d in await queries.unit_periods(conn, region=region) if period is None or d.period == period]
    stored = await queries.latest_fuel_models(conn)
    result = simulate_region(region, data, {industry: model for industry, (_, model) in stored.items()},
                             confidence=confidence)
    verified = [d.verified_t for d in data if d.verified_t is not None]
    reported = sum(verified) if len(verified) == len(data) and data else None
    return {**_plain(result), "period": period, "models": {i: model_id for i, (model_id, _) in stored.items()},
            "verified_t": reported,
            "error_vs_verified": (result.total_t - reported) / reported if reported else None,
            "verified_units": len(verified), "unit_periods": len(data)}


@router.post("/simulation/to-monitoring", status_code=201)
async def estimate_into_monitoring(body: FromMonitoringIn, admin: BenchmarkAdmin, conn: Conn,
                                   ip: ClientIP) -> dict[str, Any]:
    """Estimate the fuel CO2 of every monitoring enterprise unit-month from `since` on that reports electricity
    only, by the newest fuel model of its industry, and store the estimates in monitoring apart from the reported
    figures (replacing the earlier estimates of those months). The monitoring views show them as estimated, with
    the model; unit-months of industries without a model are listed, not estimated."""
    year, month = (int(part) for part in body.since.split("-"))
    async with conn.transaction():
        run = await estimating.estimate_into_monitoring(conn, since=date(year, month, 1), by=admin.username)
        if run is None:
            raise HTTPException(422, "no fuel model yet; fit them first (POST /api/v1/grid-factors/fuel-models/fit)")
        await auditlog.record(conn, action="grid_factors.estimate_to_monitoring", client_ip=ip, principal=admin,
                              target=f"monitoring-estimates:{run['run_id']}",
                              after={"since": body.since, "estimates": run["estimated"], "models": run["models"],
                                     "unmodelled": len(run["unmodelled"])})
    return {"run_id": run["run_id"], "since": body.since, "estimated": run["estimated"],
            "estimated_tco2": run["estimated_tco2"], "models": run["models"], "unmodelled": run["unmodelled"]}
