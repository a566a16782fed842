"""GET /api/v1/audit: the audit log for administrators, as JSON (a page: `offset`, `limit`, and the `total` the
filters match) or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from api.audit import auditlog
from api.auth.deps import AuditReader
from api.deps import Conn, parse_time

router = APIRouter(tags=["audit"])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    # user names typed at the login form end up here: keep spreadsheets from running them as formulas
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(auditlog.COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in auditlog.COLUMNS])
    return out.getvalue()


@router.get("/audit", response_model=None)
async def audit(
    admin: AuditReader, conn: Conn,
    user: Annotated[str | None, Query(max_length=128, description="actor user name")] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. auth.login_failed, or auth.* for a family")] = None,
    since: Annotated[str | None, Query(description="ISO-8601 time with offset, inclusive")] = None,
    until: Annotated[str | None, Query(description="ISO-8601 time with offset, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="skip this many of the newest matching "
                                                                  "entries (paging)")] = 0,
    order: Annotated[Literal["newest", "oldest"], Query(description="newest first (default) or oldest first")] = "newest",
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    t0 = parse_time("since", since) if since else None
    t1 = parse_time("until", until) if until else None
    if t0 and t1 and t1 <= t0:
        raise HTTPException(422, "until must be after since")
    rows = await auditlog.entries(conn, actor=user, action=action, since=t0, until=t1, limit=limit, offset=offset,
                                  oldest_first=order == "oldest")
    if format == "csv":
        return Response(_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="carbonflow-audit.csv"'})
    total = await auditlog.count(conn, actor=user, action=action, since=t0, until=t1)
    return {"entries": rows, "count": len(rows), "offset": offset, "total": total}
