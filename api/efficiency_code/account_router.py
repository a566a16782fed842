"""/api/v1/efficiency-code: codes computed from the monitoring figures, carbon accounts, grade distributions, the
watch list, exports and certificates.

'efficiency_code_compute' (government, administrators) starts a computation (audited; a background job whose
progress GET .../jobs/{id} shows; each period a recorded run). 'efficiency_code_view' (government: its region;
enterprise: its own units; administrators: all) reads accounts, distributions, the watch list and exports, and
issues certificates (audited). The verification of a certificate is public and shows no figures.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.audit import auditlog
from api.auth.access import Principal
from api.auth.deps import AnonymousRateLimit, caller_with
from api.deps import ClientIP, Conn
from api.efficiency_code import account, compute, queries
from api.efficiency_code.certificate import render_certificate
from api.monitoring import queries as monitoring
from carbon_domain.errors import EfficiencyCodeError

router = APIRouter(prefix="/efficiency-code", tags=["efficiency_code"])

_PERIOD = r"^\d{4}(-\d{2}\.\.\d{4}-\d{2})?$"
PeriodParam = Annotated[str, Query(pattern=_PERIOD, description="2025, or 2024-07..2025-06 for a rolling 12 months")]
UnitId = Annotated[int, Path(ge=1, le=2**62)]


Viewer = Annotated[Principal, Depends(caller_with("efficiency_code_view"))]
Computer = Annotated[Principal, Depends(caller_with("efficiency_code_compute"))]


class ComputeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    periods: list[str] = Field(min_length=1, max_length=12, description="years (2025) or rolling 12 months "
                                                                        "(2024-07..2025-06)")
    only_changed: bool = Field(default=False, description="skip a period whose inputs have not changed since its "
                                                          "last run (a recomputation after corrections)")


def _period(label: str) -> str:
    try:
        return compute.parse_period(label).label
    except EfficiencyCodeError as exc:
        raise HTTPException(422, str(exc)) from exc


async def _latest(conn: Conn, version: str) -> str:
    periods = [p for p in await queries.stored_periods(conn, config_version=version) if len(p) == 4]
    if not periods:
        raise HTTPException(404, "no codes have been computed yet; start a computation "
                                 "(POST /api/v1/efficiency-code/compute)")
    return periods[0]


@router.post("/compute", status_code=202)
async def start_computation(body: ComputeRequest, caller: Computer, conn: Conn, ip: ClientIP,
                            request: Request, background: BackgroundTasks) -> dict[str, Any]:
    """Compute the codes of the periods for every unit from the monitoring figures, in the background (the
    industry averages need the whole population, so all units are computed whoever asks). Answers the job."""
    periods = list(dict.fromkeys(_period(p) for p in body.periods))
    job = await queries.create_job(conn, periods=periods, only_changed=body.only_changed,
                                   requested_by=caller.username)
    await auditlog.record(conn, action="efficiency_code.compute", client_ip=ip, principal=caller,
                          target=f"efficiency_code_job:{job['job_id']}",
                          detail={"periods": periods, "only_changed": body.only_changed})
    background.add_task(compute.run_job, request.app.state.pool, job["job_id"])
    return job


@router.get("/jobs/{job_id}", responses={404: {"description": "no such job"}})
async def job_progress(job_id: UnitId, caller: Computer, conn: Conn) -> dict[str, Any]:
    """A computation's state and progress (periods done of periods asked) and the runs it recorded."""
    job = await queries.get_job(conn, job_id=job_id)
    if job is None:
        raise HTTPException(404, f"no computation job {job_id}")
    return job


@router.get("/recomputations")
async def recomputations(caller: Viewer, conn: Conn, period: PeriodParam) -> dict[str, Any]:
    """Every recorded computation of a period, newest first, with why it ran."""
    return {"period": period, "runs": await queries.runs(conn, period=_period(period))}


@router.get("/units")
async def units(caller: Viewer, conn: Conn, period: PeriodParam | None = None) -> dict[str, Any]:
    """The units in scope with their code of `period` (default: the latest computed year)."""
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    version = (await queries.active_config(conn)).version
    chosen = _period(period) if period else await _latest(conn, version)
    rows = await account.unit_rows(conn, scope=scope, period=chosen, config_version=version)
    return {"period": chosen, "config_version": version, "synthetic": any(r["synthetic"] for r in rows),
            "periods": await queries.stored_periods(conn, config_version=version), "units": rows}


async def _unit(conn: Conn, caller: Principal, unit_id: int) -> dict[str, Any]:
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    found = await monitoring.coded_units(conn, scope=scope, unit_id=unit_id)
    if not found:
        raise HTTPException(404, f"no unit {unit_id} among the units you may see")
    return found[0]


@router.get("/units/{unit_id}/account", responses={404: {"description": "unknown unit or no code yet"}})
async def carbon_account(unit_id: UnitId, caller: Viewer, conn: Conn,
                         period: PeriodParam | None = None) -> dict[str, Any]:
    """A unit's carbon account: its code, grade and level with their provenance, history by year, drivers
    (energy types, months), the step to the next grade, the monthly figures and factor rows behind them, and
    for a metered enterprise its metered activities by process (down to the meter readings in the series)."""
    unit = await _unit(conn, caller, unit_id)
    config = await queries.active_config(conn)
    found = await account.account(conn, unit=unit, period=_period(period) if period else None, config=config)
    if found is None:
        raise HTTPException(404, f"unit {unit_id} has no code for {period or 'any period'} under configuration "
                                 f"{config.version}; start a computation (POST /api/v1/efficiency-code/compute)")
    return found


@router.get("/distribution")
async def distribution(caller: Viewer, conn: Conn, period: PeriodParam | None = None,
                       by: Annotated[Literal["region", "industry"], Query()] = "region") -> dict[str, Any]:
    """Grade counts by county or by industry class over the units in scope."""
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    version = (await queries.active_config(conn)).version
    chosen = _period(period) if period else await _latest(conn, version)
    return await account.distribution(conn, scope=scope, period=chosen, config_version=version, by=by)


@router.get("/distribution/regions", responses={404: {"description": "unknown region or outside your scope"},
                                                 422: {"description": "a county has no sub-regions"}})
async def region_distribution(
    caller: Viewer, conn: Conn, period: PeriodParam | None = None,
    region: Annotated[str, Query(pattern=r"^[0-9]{6}$", description="a province or city (GB/T 2260), e.g. 330500")]
    = "330500",
) -> dict[str, Any]:
    """For the grade map: per sub-region of `region` (a province's cities, a city's counties), the grade counts
    of the units in scope, their mean grade and the share of the worst grades (4 and 5), for `period` (default:
    the latest computed year), with the configuration and formula versions they come from."""
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    found = next((r for r in await monitoring.list_regions(conn) if r["code"] == region), None)
    if found is None:
        raise HTTPException(404, f"unknown region {region}; GET /api/v1/monitoring/regions lists them")
    if not scope.covers_region(region) and not scope.enterprises:
        raise HTTPException(404, f"region {region} is outside what you may see; choose a region of yours")
    if found["level"] >= 3:
        raise HTTPException(422, f"region {region} is a county and has no sub-regions on the map; choose its city "
                                 f"(GET .../distribution?by=region gives counts per county)")
    config = await queries.active_config(conn)
    chosen = _period(period) if period else await _latest(conn, config.version)
    return await account.region_distribution(conn, scope=scope, region=found, period=chosen, config=config)


@router.get("/watch")
async def watch_list(caller: Viewer, conn: Conn,
                     rising: Annotated[int, Query(ge=1, le=10, description="N: intensity rose N periods in a row")] = 2,
                     ) -> dict[str, Any]:
    """Units in scope whose grade worsened year on year, or whose intensity rose for N years in a row."""
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    version = (await queries.active_config(conn)).version
    return {"config_version": version, "rising": rising,
            "units": await account.watch(conn, scope=scope, config_version=version, rising=rising)}


@router.get("/export")
async def export(caller: Viewer, conn: Conn, period: PeriodParam | None = None,
                 format: Annotated[Literal["csv", "xlsx"], Query()] = "csv") -> Response:
    """The codes of the units in scope as CSV or XLSX."""
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    version = (await queries.active_config(conn)).version
    chosen = _period(period) if period else await _latest(conn, version)
    rows = await account.unit_rows(conn, scope=scope, period=chosen, config_version=version)
    name = f"efficiency-codes-{chosen}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        return Response(account.export_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(account.export_xlsx(rows, period=chosen, config_version=version), headers=headers,
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.post("/units/{unit_id}/certificate", responses={404: {"description": "unknown unit or no code"}},
             response_class=Response)
async def issue_certificate(unit_id: UnitId, caller: Viewer, conn: Conn, ip: ClientIP, request: Request,
                            period: PeriodParam | None = None) -> Response:
    """Issue a certificate of the unit's code for the period (PDF with a QR code to the public verification
    page; audited). A unit without a code gets none."""
    unit = await _unit(conn, caller, unit_id)
    config = await queries.active_config(conn)
    history = await queries.unit_results(conn, unit_id=str(unit_id), config_version=config.version)
    years = [row for row in history if row["period_kind"] == "calendar_year"]
    chosen = _period(period) if period else (years[-1]["period"] if years else None)
    result = next((row for row in history if row["period"] == chosen), None)
    if result is None or result["grade"] is None:
        why = result["excluded_detail"] if result else "no code has been computed"
        raise HTTPException(404, f"unit {unit_id} has no code for {chosen or 'any period'} ({why}); "
                                 "a certificate needs one")
    async with conn.transaction():
        issued = await queries.issue_certificate(conn, fields={
            "token": secrets.token_urlsafe(18), "unit_id": unit_id, "unit_name": unit["name"],
            "credit_code": unit["credit_code"], "period": chosen, "config_version": config.version,
            "code": result["code"], "grade": result["grade"], "synthetic": unit["synthetic"],
            "issued_by": caller.username})
        await auditlog.record(conn, action="efficiency_code.certificate.issue", client_ip=ip, principal=caller,
                              target=f"monitoring_unit:{unit_id}/{chosen}",
                              after={"token": issued["token"], "code": issued["code"], "period": chosen})
    url = f"{str(request.base_url).rstrip('/')}/#/verify/{issued['token']}"
    pdf = render_certificate(certificate=issued, level=result["level"], colour=result["colour"], verify_url=url)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{unit["credit_code"]}-{chosen}.pdf"',
        "X-Verify-Url": url})


@router.get("/public/certificates/{token}", responses={404: {"description": "no such certificate"}})
async def verify_certificate(_: AnonymousRateLimit, conn: Conn,
                             token: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]) -> dict[str, Any]:
    """Public (no login): confirms a certificate's unit, period, code and issue date; no figures."""
    found = await queries.certificate(conn, token=token)
    if found is None:
        raise HTTPException(404, "no certificate with this number: it was not issued by this platform")
    return {"valid": True, **{k: found[k] for k in ("unit_name", "credit_code", "period", "code", "issued_at",
                                                     "synthetic")}}
