"""/api/v1/factors: the versioned emission-factor library. Any signed-in caller reads it; administrators
add rows. A row is never edited in place: a correction is a new row (a new factor_id) for the same key,
which becomes the version that computations resolve. Every addition lands in the audit log, and
GET /factors/history shows the versions with who published each and when (to the roles that read emissions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from api.accounting import factor_history_queries
from api.accounting import queries as inventory_queries
from api.audit import auditlog
from api.auth.deps import BenchmarkAdmin, Caller, EmissionsReader
from api.deps import ClientIP, Conn
from api.errors import Conflict
from carbon_domain.errors import DomainError
from carbon_domain.factors import FACTOR_TIMEZONE, FactorRow, current_versions

router = APIRouter(prefix="/factors", tags=["accounting"])


def _moment(value: str) -> datetime:
    """A day (2025-01-31, read in China Standard Time) or an ISO time with offset; 422 otherwise."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), FACTOR_TIMEZONE)
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HTTPException(422, f"at: {value!r} is neither a date (2025-01-31) nor an ISO time with offset") from exc
    if parsed.tzinfo is None:
        raise HTTPException(422, f"at: {value!r} needs a UTC offset (e.g. +08:00 or Z)")
    return parsed


@router.get("")
async def list_factors(
    caller: Caller, conn: Conn,
    key: Annotated[str | None, Query(max_length=160, description="e.g. grid.cn.national_average")] = None,
    series: Annotated[str | None, Query(max_length=64, description="one published table, e.g. ndrc-steel-2013")] = None,
    at: Annotated[str | None, Query(max_length=40, description="rows valid at this day or time (UTC+08:00 days)")] = None,
) -> dict[str, Any]:
    """Factor rows, oldest version first. With `key` and `at`, `resolved` is the national row a computation
    at that time would use (the newest valid version)."""
    moment = _moment(at) if at is not None else None
    day = moment.astimezone(FACTOR_TIMEZONE).date() if moment is not None else None
    rows = await inventory_queries.list_factors(conn, key=key, series=series, day=day)
    answer: dict[str, Any] = {"factors": rows}
    if key is not None and moment is not None:
        library = await inventory_queries.load_library(conn)
        try:
            answer["resolved"] = library.resolve(key, moment, series=series).model_dump(mode="json")
        except DomainError as exc:
            answer["resolved"], answer["resolve_error"] = None, str(exc)
    return answer


@router.get("/history")
async def factor_history(
    caller: EmissionsReader, conn: Conn,
    key: Annotated[str | None, Query(max_length=160, description="e.g. grid.cn.national_average")] = None,
    series: Annotated[str | None, Query(max_length=64, description="one published table, e.g. ndrc-steel-2013")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="newest audit entries to return")] = 200,
) -> dict[str, Any]:
    """Every version of the rows asked for, oldest first, each with where its value comes from (`source`), when
    it was added, who published it (null for the rows shipped with the platform), and the newer version that
    replaced it (`superseded_by`, null for a current row); and the newest factor.* entries of the audit log.
    For the roles that read emission figures: the versions behind their figures and who answers for them."""
    rows = await inventory_queries.list_factors(conn, key=key, series=series, day=None)
    replaced = current_versions((await inventory_queries.load_library(conn)).rows())
    changes = await factor_history_queries.factor_changes(conn, key=key, limit=limit)
    published = await factor_history_queries.publishers(conn, factor_ids=[r["factor_id"] for r in rows])
    for row in rows:
        row["superseded_by"] = replaced.get(row["factor_id"])
        row["published_by"] = published.get(row["factor_id"])
    return {"versions": rows, "changes": changes, "current": sum(1 for r in rows if r["superseded_by"] is None)}


@router.post("", status_code=201)
async def add_factor(row: FactorRow, admin: BenchmarkAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Publish a new factor row (a new version when its key, scope and period already have one)."""
    try:
        async with conn.transaction():
            created = await inventory_queries.add_factor(conn, row=row)
            await auditlog.record(conn, action="factor.create", client_ip=ip, principal=admin, target=row.factor_id,
                                  after=row.model_dump(mode="json"))
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return created
