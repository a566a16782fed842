"""/api/v1/implausible-readings: counter readings the stream sink stored as bad because they are negative or
rose faster than their point's limit (docs/accounting.md, "Implausible readings"). Listed with 'alarms' for
the sites in the caller's scope; a rise is accepted, after someone checked the meter, with 'point_ranges'
(technicians and administrators, who set the limits). Accepting is audited, and the stream worker then
recomputes the affected hours so that accounting includes the rise. A negative reading is never accepted."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.alarms import implausible_queries
from api.audit import auditlog
from api.auth.deps import AlarmsReader, PointRangeAdmin, VisibleSites
from api.deps import ClientIP, Conn, parse_time

router = APIRouter(prefix="/implausible-readings", tags=["alarms"])

FlagId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the implausible reading's id")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such implausible reading among the sites the caller may see"}}


class ImplausibleReading(BaseModel):
    flag_id: int
    device_id: str
    point: str
    unit: str
    site_id: str | None
    ts: datetime = Field(description="the reading's time")
    value: float = Field(description="the reading as stored (quality bad), in `unit`")
    reason: Literal["negative", "rise"]
    detail: str
    previous_ts: datetime | None = Field(description="the last plausible reading it was judged against")
    previous_value: float | None
    limit_per_h: float | None = Field(description="the point's rise limit when it was judged, per hour in `unit`")
    flagged_at: datetime
    state: Literal["open", "accepted"]
    accepted_by: str | None
    accepted_at: datetime | None
    accepted_with: int | None = Field(description="the accepted reading that made this one plausible, if not itself")
    recomputed_at: datetime | None = Field(description="when the stream worker recomputed its hours; null: pending")


class ImplausibleList(BaseModel):
    readings: list[ImplausibleReading]


class Accepted(BaseModel):
    accepted: ImplausibleReading
    also_accepted: list[int] = Field(description="later rises of the point that are plausible counted from it")
    note: str


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=1000, description="what was checked: why the rise is real")


@router.get("", response_model=ImplausibleList)
async def list_implausible(
    caller: AlarmsReader, conn: Conn, sites: VisibleSites,
    state: Annotated[Literal["open", "accepted"] | None, Query(description="open, accepted, or both when absent")]
    = "open",
    device_id: Annotated[str | None, Query(max_length=128, description="only this device")] = None,
    since: Annotated[str | None, Query(description="ISO-8601 time with offset: readings since then")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Implausible counter readings newest first."""
    start = parse_time("since", since) if since is not None else None
    return {"readings": await implausible_queries.list_flags(conn, sites=sites, state=state, device=device_id,
                                                             since=start, limit=limit)}


@router.post("/{flag_id}/accept", response_model=Accepted,
             responses={**_NOT_FOUND, 409: {"description": "a negative reading, or already accepted"}})
async def accept_rise(flag_id: FlagId, body: AcceptBody, caller: PointRangeAdmin, conn: Conn, sites: VisibleSites,
                      ip: ClientIP) -> dict[str, Any]:
    """Accept a rise the meter really counted: accounting then includes it (the stream worker recomputes the
    hours from it to the next plausible reading within a minute)."""
    async with conn.transaction():
        before = await implausible_queries.get_flag(conn, flag_id=flag_id, sites=sites, lock=True)
        if before is None:
            raise HTTPException(404, f"no implausible reading {flag_id} among the sites you may see")
        if before["reason"] == "negative":
            raise HTTPException(409, f"reading {flag_id} ({before['value']:g} at {before['ts'].isoformat()}) is "
                                     "negative: no meter counts below zero, so it is never counted; fix the meter "
                                     "or its profile's scaling")
        if before["state"] != "open":
            raise HTTPException(409, f"reading {flag_id} was already accepted by {before['accepted_by']} at "
                                     f"{before['accepted_at'].isoformat() if before['accepted_at'] else '?'}")
        also = await implausible_queries.accept(conn, flag=before, by=caller.username)
        after = await implausible_queries.get_flag(conn, flag_id=flag_id, sites=sites)
        assert after is not None
        await auditlog.record(conn, action="reading.rise_accepted", client_ip=ip, principal=caller,
                              target=f"point:{before['device_id']}/{before['point']}", before=before, after=after,
                              detail={"comment": body.comment, "flag_id": flag_id, "also_accepted": also})
    return {"accepted": after, "also_accepted": also,
            "note": "accounting includes it once the stream worker has recomputed its hours (recomputed_at)"}
