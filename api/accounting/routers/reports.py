"""/api/v1/reports: the enterprise GHG report (PDF or XLSX, Chinese or ?lang=en English) and its review workflow.

GET /reports/{enterprise}/{year}.pdf|.xlsx renders the current inventory (404 for a year without activity
data: there is nothing to report), or with ?snapshot= the frozen document of a submission (whose Chinese
bytes must still hash to the sha256 stored when it was submitted; the English rendering is a translation).
A submission freezes who submitted it and when, which the report's cover shows. The approved snapshot's PDF
can be fetched signed with the platform's key (?signed=true; api.accounting.signing).
The workflow (carbon_domain.reports.workflow): 送审 submit by the enterprise freezes a snapshot; 初审 and
终审 by government reviewers of the enterprise's region; 退回 return with a comment; a verifier
(auditor assigned to the enterprise) records findings and a verified total. Every step is audited.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.accounting import queries as inventory_queries
from api.accounting.deps import (
    BasisQuery,
    GridSeriesQuery,
    ScopedEnterprise,
    SeriesQuery,
    YearParam,
    document_or_422,
)
from api.accounting.render import render_pdf, render_xlsx
from api.accounting.signing import sign_pdf
from api.audit import auditlog
from api.auth.access import Principal
from api.auth.deps import EmissionsReader
from api.deps import ClientIP, Conn, Settings
from carbon_domain.factors import FACTOR_TIMEZONE
from carbon_domain.grid import DEFAULT_GRID_SERIES, GridSeries
from carbon_domain.reports.document import Enterprise
from carbon_domain.reports.errors import (
    ActionNotPermitted,
    CommentRequired,
    ConflictOfDuties,
    FontMissing,
    InvalidTransition,
    SigningKeyError,
    WorkflowError,
)
from carbon_domain.reports.labels import Language
from carbon_domain.reports.workflow import Action, Participants, State, allowed_actions, transition

router = APIRouter(prefix="/reports", tags=["accounting"])

_MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SnapshotQuery = Annotated[int | None, Query(ge=1, description="render the frozen document of this submission")]
LanguageQuery = Annotated[Language, Query(description="language of the report: zh (the submitted one) or en")]
SignedQuery = Annotated[bool, Query(description="the approved snapshot's PDF signed with the platform's key")]
SUBMITTED_LANGUAGE: Language = "zh"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode()


def _render(fmt: str, document: dict[str, Any], lang: Language) -> bytes:
    try:
        return (render_pdf if fmt == "pdf" else render_xlsx)(document, lang)
    except FontMissing as exc:  # a broken install, not a bad request: say what to install
        raise HTTPException(503, f"the report cannot be rendered: {exc}") from exc


async def _report(conn: Conn, enterprise: Enterprise, year: int, fmt: str, series: str, basis: str,
                  snapshot: int | None, lang: Language, grid_series: GridSeries) -> Response:
    if snapshot is None:
        document = await document_or_422(conn, enterprise=enterprise, year=year, month=None, series=series,
                                         basis=basis, grid_series=grid_series)  # type: ignore[arg-type]
        if not document["lines"]:
            raise HTTPException(404, f"no report: {enterprise.enterprise_id} has no activity data for {year}; enter "
                                     f"data with POST /api/v1/inventory/{enterprise.enterprise_id}/activity or "
                                     "choose a year with data")
        data = _render(fmt, document, lang)
    else:
        frozen = await inventory_queries.get_snapshot(conn, enterprise=enterprise.enterprise_id, year=year,
                                                      snapshot_id=snapshot)
        if frozen is None:
            raise HTTPException(404, f"no snapshot {snapshot} of {enterprise.enterprise_id} {year}")
        data = _render(fmt, frozen["document"], lang)
        if lang == SUBMITTED_LANGUAGE and _sha256(data) != frozen[f"{fmt}_sha256"]:
            # the renderer changed since submission: say so rather than pass off different bytes
            raise HTTPException(409, f"snapshot {snapshot} no longer renders to the submitted {fmt} "
                                     f"(sha256 {frozen[f'{fmt}_sha256']}); the report renderer has changed")
    suffix = ("-s" + str(snapshot) if snapshot else "") + ("" if lang == SUBMITTED_LANGUAGE else f"-{lang}")
    name = f"{enterprise.enterprise_id}-{year}-ghg-report{suffix}.{fmt}"
    return Response(data, media_type=_MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": _sha256(data),
        "Content-Language": "zh-CN" if lang == "zh" else "en"})


@router.get("/{enterprise}/{year}.pdf", response_class=Response)
async def report_pdf(enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn, settings: Settings,
                     year: YearParam, series: SeriesQuery = "ndrc-steel-2013", basis: BasisQuery = "entered",
                     snapshot: SnapshotQuery = None, lang: LanguageQuery = "zh", signed: SignedQuery = False,
                     grid_series: GridSeriesQuery = DEFAULT_GRID_SERIES) -> Response:
    """The report as PDF, fonts embedded (same data, same bytes); with ?signed=true the approved snapshot
    (?snapshot=) signed by the platform, its submitted bytes untouched before the signature."""
    if not signed:
        return await _report(conn, enterprise, year, "pdf", series, basis, snapshot, lang, grid_series)
    await _check_signable(conn, enterprise.enterprise_id, year, snapshot, lang)
    response = await _report(conn, enterprise, year, "pdf", series, basis, snapshot, lang, grid_series)
    if settings.report_signing_key is None or settings.report_signing_cert is None:
        raise HTTPException(409, "this platform has no report signing key: set CARBONFLOW_REPORT_SIGNING_KEY and "
                                 "CARBONFLOW_REPORT_SIGNING_CERT")
    try:
        data = await sign_pdf(bytes(response.body), key=settings.report_signing_key,
                        certificate=settings.report_signing_cert,
                        reason=f"终审通过 approved: {enterprise.enterprise_id} {year} snapshot {snapshot}")
    except SigningKeyError as exc:
        raise HTTPException(409, f"the report cannot be signed: {exc}") from exc
    name = f"{enterprise.enterprise_id}-{year}-ghg-report-s{snapshot}-signed.pdf"
    return Response(data, media_type=_MEDIA["pdf"], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": _sha256(data),
        "X-Submitted-SHA256": response.headers["X-Content-SHA256"], "Content-Language": "zh-CN"})


async def _check_signable(conn: Conn, enterprise: str, year: int, snapshot: int | None, lang: str) -> None:
    if lang != SUBMITTED_LANGUAGE:
        raise HTTPException(422, f"only the submitted report ({SUBMITTED_LANGUAGE}) is signed; drop lang={lang}")
    view = await inventory_queries.workflow_view(conn, enterprise=enterprise, year=year)
    if view["state"] != State.APPROVED.value or snapshot is None or view.get("snapshot_id") != snapshot:
        raise HTTPException(409, f"only the approved snapshot is signed: {enterprise} {year} is {view['state']!r}"
                                 + (f" with snapshot {view.get('snapshot_id')}" if view.get("snapshot_id") else "")
                                 + "; ask for ?snapshot=<approved snapshot>&signed=true after 终审")


@router.get("/{enterprise}/{year}.xlsx", response_class=Response)
async def report_xlsx(enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn, year: YearParam,
                      series: SeriesQuery = "ndrc-steel-2013", basis: BasisQuery = "entered",
                      snapshot: SnapshotQuery = None, lang: LanguageQuery = "zh",
                      grid_series: GridSeriesQuery = DEFAULT_GRID_SERIES) -> Response:
    """The report as XLSX: a cover sheet, then one sheet per section, figures as numbers."""
    return await _report(conn, enterprise, year, "xlsx", series, basis, snapshot, lang, grid_series)


# --- workflow -----------------------------------------------------------------------------------


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=5000, description="required to return a report: what to revise")
    series: str = Field(default="ndrc-steel-2013", pattern=r"^[a-z0-9][a-z0-9.-]*$", max_length=64,
                        description="submit only: the fuel factor table of the frozen inventory")
    basis: Literal["entered", "metered"] = Field(default="entered", description="submit only")
    grid_series: GridSeries = Field(default=DEFAULT_GRID_SERIES, description=(
        "submit only: the electricity factor series of the frozen inventory (enterprise, province, national or "
        "carbon-market; see GET /inventory)"))


class VerificationFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)
    message: str = Field(min_length=1, max_length=2000)
    tco2_effect: float | None = Field(None, allow_inf_nan=False, description="effect on the total, tCO2")


class VerificationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verified_total_tco2: float = Field(allow_inf_nan=False, description="the total the verifier confirms")
    findings: list[VerificationFinding] = Field(default_factory=list, max_length=500)
    opinion: str = Field("", max_length=5000)


def _transition(state: str, action: Action, caller: Principal, comment: str, participants: Participants) -> State:
    try:
        return transition(State(state), action, caller.role, comment=comment, actor=caller.username,
                          participants=participants)
    except (ActionNotPermitted, ConflictOfDuties) as exc:
        raise HTTPException(403, str(exc)) from exc
    except InvalidTransition as exc:
        raise HTTPException(409, str(exc)) from exc
    except CommentRequired as exc:
        raise HTTPException(422, str(exc)) from exc
    except WorkflowError as exc:  # a rule added later without its own status
        raise HTTPException(409, str(exc)) from exc


@router.get("/{enterprise}/{year}/workflow")
async def workflow(enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn,
                   year: YearParam) -> dict[str, Any]:
    """State, the actions the caller may take now, events, snapshots and verifications (with the difference
    between each verified total and the submitted total)."""
    view = await inventory_queries.workflow_view(conn, enterprise=enterprise.enterprise_id, year=year)
    participants = await inventory_queries.review_participants(conn, enterprise=enterprise.enterprise_id, year=year,
                                                               snapshot_id=view["snapshot_id"])
    allowed = allowed_actions(State(view["state"]), caller.role, actor=caller.username, participants=participants)
    return {"enterprise": enterprise.enterprise_id, "year": year, "allowed_actions": [a.value for a in allowed],
            **view}


@router.post("/{enterprise}/{year}/actions/{action}")
async def take_action(
    enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn, ip: ClientIP, settings: Settings,
    year: YearParam, action: Literal["submit", "first_review", "final_review", "return"],
    body: ActionBody | None = None,
) -> dict[str, Any]:
    """送审 submit, 初审 first_review, 终审 final_review or 退回 return (with a comment). First and final
    review need two people, neither of whom prepared or verified the report (403 says who did what)."""
    body = body or ActionBody()
    chosen = Action(action)
    async with conn.transaction():
        case = await inventory_queries.lock_case(conn, enterprise=enterprise.enterprise_id, year=year)
        participants = await inventory_queries.review_participants(
            conn, enterprise=enterprise.enterprise_id, year=year, snapshot_id=case["snapshot_id"])
        target = _transition(case["state"], chosen, caller, body.comment, participants)
        snapshot: dict[str, Any] | None = None
        if chosen is Action.SUBMIT:
            # the cross-check tolerance is the platform's, so that the submitter cannot widen it
            document = await document_or_422(conn, enterprise=enterprise, year=year, month=None, series=body.series,
                                             basis=body.basis, tolerance=settings.cross_check_tolerance,
                                             grid_series=body.grid_series)
            if not document["lines"]:
                raise HTTPException(422, f"nothing to submit: {enterprise.enterprise_id} has no activity data for "
                                         f"{year}; enter data with POST /api/v1/inventory/{{enterprise}}/activity")
            # the cover names who submitted the report and when; frozen with the figures
            document = {**document, "submission": {
                "prepared_by": caller.username,
                "submitted_at": datetime.now(UTC).astimezone(FACTOR_TIMEZONE).isoformat(timespec="seconds")}}
            snapshot = await inventory_queries.create_snapshot(
                conn, enterprise=enterprise.enterprise_id, year=year, created_by=caller.username, document=document,
                document_sha256=_sha256(_canonical(document)), pdf_sha256=_sha256(_render("pdf", document, "zh")),
                xlsx_sha256=_sha256(_render("xlsx", document, "zh")))
        event = await inventory_queries.record_transition(
            conn, enterprise=enterprise.enterprise_id, year=year, action=chosen.value, from_state=case["state"],
            to_state=target.value, actor=caller.username, actor_role=caller.role, comment=body.comment,
            snapshot_id=snapshot["snapshot_id"] if snapshot else None)
        await auditlog.record(conn, action=f"report.{chosen.value}", client_ip=ip, principal=caller,
                              target=f"{enterprise.enterprise_id}/{year}", before={"state": case["state"]},
                              after={"state": target.value, "snapshot_id": event["snapshot_id"]},
                              detail={"comment": body.comment} if body.comment else None)
    return {"enterprise": enterprise.enterprise_id, "year": year, "state": target.value, "event": event,
            "snapshot": snapshot}


@router.post("/{enterprise}/{year}/verification", status_code=201)
async def verify(enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn, ip: ClientIP, year: YearParam,
                 body: VerificationBody) -> dict[str, Any]:
    """A third-party verifier's findings and verified total for the submitted snapshot under review."""
    async with conn.transaction():
        case = await inventory_queries.lock_case(conn, enterprise=enterprise.enterprise_id, year=year)
        participants = await inventory_queries.review_participants(
            conn, enterprise=enterprise.enterprise_id, year=year, snapshot_id=case["snapshot_id"])
        _transition(case["state"], Action.VERIFY, caller, "", participants)
        findings = [f.model_dump() for f in body.findings]
        verification = await inventory_queries.add_verification(
            conn, snapshot_id=case["snapshot_id"], verifier=caller.username,
            verified_total_tco2=body.verified_total_tco2, findings=findings, opinion=body.opinion)
        await inventory_queries.record_transition(
            conn, enterprise=enterprise.enterprise_id, year=year, action=Action.VERIFY.value,
            from_state=case["state"], to_state=case["state"], actor=caller.username, actor_role=caller.role,
            comment=body.opinion, snapshot_id=None)
        view = await inventory_queries.workflow_view(conn, enterprise=enterprise.enterprise_id, year=year)
        submitted = next(s["total_tco2"] for s in view["snapshots"] if s["snapshot_id"] == case["snapshot_id"])
        difference = round(body.verified_total_tco2 - submitted, 3)
        await auditlog.record(conn, action="report.verify", client_ip=ip, principal=caller,
                              target=f"{enterprise.enterprise_id}/{year}",
                              after={"verification_id": verification["verification_id"],
                                     "snapshot_id": case["snapshot_id"],
                                     "verified_total_tco2": body.verified_total_tco2, "difference_tco2": difference})
    return {**verification, "submitted_total_tco2": submitted, "difference_tco2": difference,
            "difference_relative": round(difference / submitted, 6) if submitted else None}
