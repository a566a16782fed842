"""/api/v1/alarms: alarms of the sites the caller may see, with their history (raised, acknowledged,
cleared), and the two things people do with them: acknowledge (idempotent) and clear by hand with a comment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.alarms import queries as alarm_queries
from api.alarms.queries import AlarmState
from api.audit import auditlog
from api.auth.deps import AlarmActor, AlarmsReader, VisibleSites
from api.deps import ClientIP, Conn, parse_time

router = APIRouter(prefix="/alarms", tags=["alarms"])

AlarmId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the alarm's id")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such alarm among the sites the caller may see"}}


class Alarm(BaseModel):
    alarm_id: int
    rule: str
    device_id: str
    site_id: str | None
    point: str
    severity: str
    state: str = Field(description="active or cleared")
    detail: str
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
    cleared_by: str | None = Field(description="who cleared it by hand; null when its rule cleared it")
    clear_comment: str | None
    source: str = Field("device", description="device (a device's or gateway's rule) or platform (the platform "
                                              "itself, e.g. a failed monitoring sync; device_id names its subject)")
    enterprise_id: str | None = Field(None, description="the enterprise a platform alarm is about (a projected "
                                                        "allowance deficit, a deadline ahead), else null")
    region_code: str | None = Field(None, description="the region (GB/T 2260) a platform alarm is about (a "
                                                      "sub-region off track against its target), else null")


class AlarmList(BaseModel):
    alarms: list[Alarm]


class ClearBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=1000, description="why the alarm is cleared by hand")


@router.get("", response_model=AlarmList)
async def list_alarms(
    caller: AlarmsReader, conn: Conn, sites: VisibleSites,
    state: Annotated[AlarmState, Query(description="active, cleared or all")] = "active",
    site: Annotated[str | None, Query(max_length=128, description="only this site")] = None,
    rule: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                                      description="only this rule, e.g. stuck_value or out_of_range")] = None,
    since: Annotated[str | None, Query(description="ISO-8601 time with offset: alarms raised, acknowledged or "
                                                   "cleared since then")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Alarms newest first, each with its raised, acknowledged and cleared times."""
    start = parse_time("since", since) if since is not None else None
    return {"alarms": await alarm_queries.list_alarms(conn, state=state, sites=sites, site=site, since=start,
                                                      limit=limit, rule=rule, scope=caller.scope)}


@router.post("/{alarm_id}/acknowledge", response_model=Alarm, responses=_NOT_FOUND)
async def acknowledge(alarm_id: AlarmId, caller: AlarmActor, conn: Conn, sites: VisibleSites,
                      ip: ClientIP) -> dict[str, Any]:
    """Record who acknowledged the alarm and when; acknowledging again keeps the first acknowledgement."""
    async with conn.transaction():
        before = await alarm_queries.get_alarm(conn, alarm_id=alarm_id, sites=sites, lock=True,
                                                  scope=caller.scope)
        if before is None:
            raise HTTPException(404, f"no alarm {alarm_id} among the sites you may see")
        await alarm_queries.acknowledge(conn, alarm_id=alarm_id, by=caller.username)
        after = await alarm_queries.get_alarm(conn, alarm_id=alarm_id, sites=sites, scope=caller.scope)
        await auditlog.record(conn, action="alarm.acknowledge", client_ip=ip, principal=caller,
                              target=f"alarm:{alarm_id}", before=before, after=after,
                              detail={"already_acknowledged": before["acknowledged_at"] is not None})
    assert after is not None
    return after


@router.post("/{alarm_id}/clear", response_model=Alarm,
             responses={**_NOT_FOUND, 409: {"description": "the alarm is already cleared"}})
async def clear(alarm_id: AlarmId, body: ClearBody, caller: AlarmActor, conn: Conn, sites: VisibleSites,
                ip: ClientIP) -> dict[str, Any]:
    """Clear an active alarm by hand; the comment says why. Its rule may raise it again."""
    async with conn.transaction():
        before = await alarm_queries.get_alarm(conn, alarm_id=alarm_id, sites=sites, lock=True,
                                                  scope=caller.scope)
        if before is None:
            raise HTTPException(404, f"no alarm {alarm_id} among the sites you may see")
        if before["state"] != "active":
            by = f" by {before['cleared_by']}" if before["cleared_by"] else ""
            raise HTTPException(409, f"alarm {alarm_id} was already cleared at "
                                     f"{before['cleared_at'].isoformat() if before['cleared_at'] else '?'}{by}")
        await alarm_queries.clear(conn, alarm_id=alarm_id, by=caller.username, comment=body.comment)
        after = await alarm_queries.get_alarm(conn, alarm_id=alarm_id, sites=sites, scope=caller.scope)
        await auditlog.record(conn, action="alarm.clear", client_ip=ip, principal=caller,
                              target=f"alarm:{alarm_id}", before=before, after=after,
                              detail={"comment": body.comment})
    assert after is not None
    return after
