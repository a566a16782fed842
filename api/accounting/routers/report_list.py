"""GET /api/v1/reports: the reports in the caller's scope (each enterprise year with entered activity data or a
report case), with their workflow state and current snapshot, for the reports page's list; and GET
/reports/{enterprise}/{year}/snapshots/{snapshot}: a submitted snapshot's frozen document, for its preview."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from api.accounting import listing_queries
from api.accounting import queries as inventory_queries
from api.accounting.deps import ScopedEnterprise, YearParam
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


@router.get("/{enterprise}/{year}/snapshots/{snapshot}")
async def snapshot_document(enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn, year: YearParam,
                            snapshot: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> dict[str, Any]:
    """A submitted snapshot: who froze it and when, its hashes and total, and the frozen inventory document."""
    found = await inventory_queries.get_snapshot(conn, enterprise=enterprise.enterprise_id, year=year,
                                                 snapshot_id=snapshot)
    if found is None:
        raise HTTPException(404, f"no snapshot {snapshot} of {enterprise.enterprise_id} {year}; GET "
                                 f"/api/v1/reports/{enterprise.enterprise_id}/{year}/workflow lists its snapshots")
    return {"enterprise": enterprise.enterprise_id, "year": year, **found}
