"""/api/v1/inventory: an enterprise's GHG inventory (GB/T 32150-2015, GB/T 32151.5-2015 steel).

Activity data come from two places: metered (monthly sums of the `emissions` the stream job derived
from hourly counter deltas, and of production counters) and entered (POST .../activity, as JSON lines
or an uploaded CSV/XLSX in the `carbonflow inventory` file format). Every submission is a new version;
nothing is overwritten: for each line key the newest version counts and older lines stay listed.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.accounting import queries as inventory_queries
from api.accounting.deps import (
    ActivityWriter,
    BasisQuery,
    GridSeriesQuery,
    ScopedEnterprise,
    SeriesQuery,
    document_or_422,
)
from api.audit import auditlog
from api.auth.deps import EmissionsReader
from api.deps import ClientIP, Conn
from api.uploads import json_sha256, media_type, read_one_file
from carbon_domain.errors import DomainError
from carbon_domain.grid import DEFAULT_GRID_SERIES, GridLocation
from carbon_domain.inventory import ActivityDataError, ActivityLine, compute_inventory
from carbon_domain.reports.benchmarks import benchmark_gaps, infer_route
from carbon_domain.reports.document import DEFAULT_TOLERANCE, PRODUCTION, QUALITIES
from carbon_domain.units import convert
from carbonflow.activity_file import read_activity_file

router = APIRouter(prefix="/inventory", tags=["accounting"])

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_LINES = 20_000
MAX_QUANTITY = 1e15  # in any unit: far above a works' year, and far below where unit conversion overflows
_XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
Quality = Literal["measured", "calculated", "estimated"]
YearQuery = Annotated[int, Query(ge=1990, le=2200)]
MonthQuery = Annotated[int | None, Query(ge=1, le=12, description="one month; omit for the whole year")]
ToleranceQuery = Annotated[float, Query(gt=0, le=1, description="metered-vs-entered difference reported (0.05 = 5 %)")]


class ActivitySubmission(BaseModel):
    """Entered activity data: lines in the activity-file format, each optionally with its `quality`."""

    model_config = ConfigDict(extra="forbid")

    lines: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_LINES, description=(
        "period, process, source_type (combustion, process, electricity, heat, fixed_carbon or production), "
        "item, quantity, unit, direction, and optionally quality (measured, calculated, estimated) and site "
        "(one of the enterprise's sites: it chooses the electricity factor); "
        "lines are numbered by their position, from 1"))
    note: str = Field("", max_length=2000)


class ProductionLine(BaseModel):
    """An output tonnage of a process (sinter, coke, rolled steel...): the denominator of its intensity."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    line: int
    period: str = Field(pattern=r"^\d{4}(-(0[1-9]|1[0-2]))?$")
    process: str
    source_type: Literal["production"]
    item: str
    quantity: float = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=32)
    direction: Literal["out"] = "out"
    site: str | None = Field(None, max_length=128)

    @field_validator("period", mode="before")
    @classmethod
    def _period_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("process", "item")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"must be lower-case snake_case of at most 64 characters, got {value!r}")
        return value


def _problem_text(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg'].removeprefix('Value error, ')}"
                     for e in exc.errors())


def _checked_lines(raw: list[dict[str, Any]], *, default_quality: str, library: Any, series: str,
                   scope: list[tuple[str, str]],
                   sites: dict[str, GridLocation]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validated lines ready to store, and the problems (line, reason) of those that are not."""
    problems: list[dict[str, Any]] = []
    accounted: list[dict[str, Any]] = []
    qualities: dict[int, str] = {}
    production: list[ProductionLine] = []
    for record in raw:
        record = dict(record)
        number = record["line"]
        quality = record.pop("quality", None) or default_quality
        if quality not in QUALITIES:
            problems.append({"line": number, "reason": f"quality must be one of {', '.join(QUALITIES)}, got {quality!r}"})
            continue
        qualities[number] = quality
        quantity = record.get("quantity")
        if isinstance(quantity, (int, float, str)) and _above(quantity, MAX_QUANTITY):
            problems.append({"line": number, "reason": f"quantity {quantity} exceeds {MAX_QUANTITY:g}; check the "
                                                       "unit and the exponent"})
            continue
        if record.get("source_type") == PRODUCTION:
            try:
                line = ProductionLine.model_validate(record)
                convert(line.quantity, line.unit, "t")
            except ValidationError as exc:
                problems.append({"line": number, "reason": _problem_text(exc)})
                continue
            except DomainError as exc:
                problems.append({"line": number, "reason": f"production quantity must be a mass (t, kg, kt): {exc}"})
                continue
            if line.site is not None and line.site not in sites:
                problems.append({"line": number, "reason": f"site {line.site!r} is not a site of this enterprise "
                                                           f"(its sites: {', '.join(sorted(sites)) or 'none'})"})
                continue
            production.append(line)
        else:
            accounted.append(record)
    try:
        compute_inventory(accounted, library, series=series, scope_chain=scope, locations=sites,
                          grid_series=DEFAULT_GRID_SERIES)
    except ActivityDataError as exc:
        problems.extend({"line": p.line, "reason": p.reason} for p in exc.problems)
    if problems:
        return [], sorted(problems, key=lambda p: p["line"])
    stored = [ActivityLine.model_validate(r).model_dump(mode="json") for r in accounted]
    stored += [p.model_dump(mode="json") for p in production]
    return sorted(({**s, "quality": qualities[s["line"]]} for s in stored), key=lambda s: s["line"]), []


def _above(value: float | str, limit: float) -> bool:
    try:
        return abs(float(value)) > limit
    except (TypeError, ValueError):
        return False  # not a number: the line's validation says so


def _read_upload(name: str, data: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """Records of an uploaded CSV/XLSX with the file's own line numbers, read problems and origin."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise HTTPException(422, f"{name}: not UTF-8 text ({exc}); save the CSV as UTF-8") from exc
    with tempfile.TemporaryDirectory(prefix="cf-activity-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            records, problems = read_activity_file(path)
        except Exception as exc:  # ActivityFileError, or openpyxl's own error for a sheet broken inside
            raise HTTPException(422, f"{name}: cannot read the file: {str(exc).replace(str(path), name)}") from exc
    return records, [{"line": p.line, "reason": p.reason} for p in problems], suffix[1:]


@router.post("/{enterprise}/activity", status_code=201, openapi_extra={"requestBody": {"content": {
    "application/json": {"schema": ActivitySubmission.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": ".csv or .xlsx activity file"},
        "quality": {"type": "string", "enum": list(QUALITIES), "default": "measured"},
        "note": {"type": "string"}}}},
}, "required": True}})
async def submit_activity(
    request: Request, enterprise: ScopedEnterprise, writer: ActivityWriter, conn: Conn, ip: ClientIP,
    series: SeriesQuery = "ndrc-steel-2013",
) -> dict[str, Any]:
    """Store entered activity data as a new version (JSON lines, or a CSV/XLSX upload as multipart `file`).
    Lines are checked against the factor library of `series`; every bad line is reported with its line
    number (422) and then nothing is stored."""
    content_type = media_type(request)
    filename: str | None = None
    if content_type == "application/json":
        body = await request.body()
        if len(body) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"activity submissions are limited to {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
        try:
            submission = ActivitySubmission.model_validate_json(body)
        except ValidationError as exc:
            raise HTTPException(422, f"invalid submission: {_problem_text(exc)}") from exc
        records = [{**line, "line": position} for position, line in enumerate(submission.lines, start=1)]
        read_problems: list[dict[str, Any]] = []
        note, default_quality, origin = submission.note, "measured", "json"
        digest = json_sha256(submission.lines)
    elif content_type == "multipart/form-data":
        sent = await read_one_file(request, max_bytes=MAX_UPLOAD_BYTES, holding="the .csv or .xlsx activity file",
                                   plural="activity files", suffixes=(".csv", ".xlsx"), named="an activity file")
        default_quality = str(sent.form.get("quality") or "measured")
        note = str(sent.form.get("note") or "")[:2000]
        records, read_problems, origin = _read_upload(sent.name, sent.data)
        filename, digest = sent.upload.filename, hashlib.sha256(sent.data).hexdigest()
        if len(records) > MAX_LINES:
            raise HTTPException(413, f"at most {MAX_LINES} lines per submission, got {len(records)}")
    else:
        raise HTTPException(415, "send application/json ({\"lines\": [...]}) or multipart/form-data with a 'file'")

    library = await inventory_queries.load_library(conn)
    if not any(row.series == series for row in library.rows()):
        known = ", ".join(sorted({row.series for row in library.rows()}))
        raise HTTPException(422, f"unknown factor series {series!r}; known: {known}")
    lines, problems = _checked_lines(records, default_quality=default_quality, library=library, series=series,
                                     scope=inventory_queries.scope_chain(enterprise),
                                     sites={s.site_id: GridLocation(enterprise.enterprise_id, s.province, s.grid_region,
                                                                    s.site_id) for s in enterprise.sites})
    problems = sorted([*read_problems, *problems], key=lambda p: p["line"])
    if problems:
        raise HTTPException(422, {"message": f"{len(problems)} bad line(s); nothing stored", "problems": problems})
    async with conn.transaction():
        stored = await inventory_queries.add_submission(
            conn, enterprise=enterprise.enterprise_id, submitted_by=writer.username, origin=origin, filename=filename,
            content_sha256=digest, note=note, lines=lines)
        await auditlog.record(conn, action="activity.submit", client_ip=ip, principal=writer,
                              target=enterprise.enterprise_id,
                              after={k: stored[k] for k in ("version", "lines", "replaces_lines", "origin",
                                                            "filename", "content_sha256")})
    return {"enterprise": enterprise.enterprise_id, **stored}


@router.get("/{enterprise}/activity")
async def list_activity(enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn) -> dict[str, Any]:
    """The versions of entered activity data, oldest first."""
    return {"enterprise": enterprise.enterprise_id,
            "submissions": await inventory_queries.list_submissions(conn, enterprise=enterprise.enterprise_id)}


@router.get("/{enterprise}")
async def inventory(
    enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn, year: YearQuery, month: MonthQuery = None,
    series: SeriesQuery = "ndrc-steel-2013", basis: BasisQuery = "entered",
    tolerance: ToleranceQuery = DEFAULT_TOLERANCE, grid_series: GridSeriesQuery = DEFAULT_GRID_SERIES,
) -> dict[str, Any]:
    """The inventory: totals by source, process and month, intensity per tonne of crude steel, every line
    with its data source, quality and factor ids, the electricity factor of each site and why
    (`grid_factors`), the cross-check against metered totals, and the verifier findings."""
    return await document_or_422(conn, enterprise=enterprise, year=year, month=month, series=series, basis=basis,
                                 tolerance=tolerance, grid_series=grid_series)


@router.get("/{enterprise}/benchmarks")
async def benchmark_gap(
    enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn, year: YearQuery, month: MonthQuery = None,
    route: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{0,31}$",
                                       description="bf-bof, eaf...; inferred from the processes when omitted")] = None,
    series: SeriesQuery = "ndrc-steel-2013", basis: BasisQuery = "entered",
    grid_series: GridSeriesQuery = DEFAULT_GRID_SERIES,
) -> dict[str, Any]:
    """Per process: intensity against the benchmark and limit, and the CO2 saved at benchmark intensity."""
    document = await document_or_422(conn, enterprise=enterprise, year=year, month=month, series=series, basis=basis,
                                     grid_series=grid_series)
    chosen = route or infer_route(line["process"] for line in document["lines"])
    rows = benchmark_gaps(document, await inventory_queries.list_process_benchmarks(conn), chosen)
    return {
        "enterprise": enterprise.enterprise_id, "period": document["period_label"], "route": chosen,
        "route_inferred": route is None, "total_tco2": document["total_tco2"], "processes": rows,
        "reduction_potential_tco2": round(sum(r["reduction_potential_tco2"] or 0 for r in rows
                                              if r["process"] != "enterprise"), 3),
    }
