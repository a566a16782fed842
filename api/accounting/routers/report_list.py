"""GET /api/v1/reports: the reports in the caller's scope (each enterprise year with entered activity data or a
report case), with their workflow state and current snapshot, for the reports page's list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.accounting import listing_queries
from api.auth.deps import EmissionsReader
from api.deps import Conn

router = APIRouter(prefix="/reports", tags=["accounting"])


@router.get("")
async def list_reports(
    caller: EmissionsReader, conn: Conn,
    year: Annotated[int | None, Query(ge=1990, le=2200, description="one year; omit for all")] = None,
    enterprise: Annotated[str | None, Query(min_length=1, max_length=128, description="one enterprise")] = None,
) -> dict[str, Any]:
    """Enterprise years in scope, newest first: state, current snapshot and its total, lines entered, sites."""
    reports = await listing_queries.report_cases(conn, scope=caller.scope, year=year, enterprise=enterprise)
    return {"reports": reports, "count": len(reports)}
