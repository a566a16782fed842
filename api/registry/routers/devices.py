"""GET /api/v1/devices: the devices of the sites the caller may see; /devices/health: last contact and
readings by quality, for technicians, and the gateways' own health reports (spool backlog, drops);
PUT /devices/{device_id}/gateway: move a device to another gateway (administrators, audited)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.audit import auditlog
from api.auth.deps import DevicesReader, HierarchyAdmin, VisibleSites
from api.deps import ClientIP, Conn
from api.registry import gateway_health_queries, queries
from carbonflow.device_bindings import BindingError, UnknownDevice, move_device_async

router = APIRouter(tags=["registry"])

ONLINE_S = 60
STALE_S = 15 * 60


@router.get("/devices")
async def devices(caller: DevicesReader, conn: Conn, sites: VisibleSites) -> dict[str, Any]:
    return {"devices": await queries.list_devices(conn, sites=sites)}


class QualityCounts(BaseModel):
    good: int
    uncertain: int
    bad: int


class PointHealth(BaseModel):
    point: str
    unit: str
    kind: str
    quality: QualityCounts
    last_reading_at: datetime | None
    last_value: float | None
    last_quality: str | None


class DeviceHealth(BaseModel):
    device_id: str
    site_id: str | None
    process: str | None
    profile: str | None
    gateway_id: str | None
    last_seen: datetime | None = Field(description="last contact: the gateway's last batch of the device, or its "
                                                   "newest reading in the window when that is later")
    age_s: float | None = Field(description="seconds since last_seen")
    status: str = Field(description=f"online (seen within {ONLINE_S} s), stale (within {STALE_S // 60} min), "
                                    "offline, or never")
    quality: QualityCounts = Field(description="readings of the window by quality, all points")
    points: list[PointHealth]


GATEWAY_MISSED_REPORTS = 3


class GatewayHealth(BaseModel):
    gateway_id: str
    site_id: str | None
    status: str = Field(description="online, stale (online but missed "
                                    f"{GATEWAY_MISSED_REPORTS} status reports), offline, or never (no report yet)")
    state_since: datetime | None = Field(description="when the gateway last went online or offline")
    last_seen: datetime | None = Field(description="when its last online status report arrived")
    age_s: float | None = Field(description="seconds since last_seen")
    agent_version: str | None
    report_interval_s: float | None = Field(description="the agent republishes its status this often")
    spool_backlog: int | None = Field(description="readings in the gateway's spool not yet acknowledged")
    spool_bytes: int | None
    oldest_unsent_age_s: float | None = Field(description="age of the oldest unsent reading at the last report")
    dropped_total: int = Field(description="readings the spool dropped over its lifetime (overflow)")
    last_overflow_at: datetime | None
    last_overflow_dropped: int | None


class DevicesHealth(BaseModel):
    generated_at: datetime
    window_s: int
    devices: list[DeviceHealth]
    gateways: list[GatewayHealth]


def _status(age_s: float | None) -> str:
    if age_s is None:
        return "never"
    if age_s <= ONLINE_S:
        return "online"
    return "stale" if age_s <= STALE_S else "offline"


@router.get("/devices/health", response_model=DevicesHealth)
async def devices_health(
    caller: DevicesReader, conn: Conn, sites: VisibleSites,
    hours: Annotated[int, Query(ge=1, le=168, description="window for the quality counts")] = 1,
) -> dict[str, Any]:
    """Every device with its last contact and status, and its readings in the window counted by quality
    (good, uncertain, bad), per point and in all; and every gateway with its last status report: online state,
    spool backlog, oldest unsent reading and readings dropped by spool overflow."""
    found = await queries.device_health(conn, window=timedelta(hours=hours), sites=sites)
    now = found["now"]
    for device in found["devices"]:
        times = [t for t in (device["last_seen"], *(p["last_reading_at"] for p in device["points"])) if t is not None]
        last = device["last_seen"] = max(times, default=None)
        device["age_s"] = max(0.0, (now - last).total_seconds()) if last else None
        device["status"] = _status(device["age_s"])
    gateways = [_gateway(g, now) for g in await gateway_health_queries.gateway_health(conn, sites=sites)]
    return {"generated_at": now, "window_s": hours * 3600, "devices": found["devices"], "gateways": gateways}


def _gateway(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    age = max(0.0, (now - row["last_seen"]).total_seconds()) if row["last_seen"] else None
    if row["state"] is None:
        status = "never"
    elif row["state"] == "offline":
        status = "offline"
    else:
        limit = max(ONLINE_S, GATEWAY_MISSED_REPORTS * row["interval_s"]) if row["interval_s"] else None
        status = "stale" if limit is not None and age is not None and age > limit else "online"
    return {
        "gateway_id": row["gateway_id"], "site_id": row["site_id"], "status": status,
        "state_since": row["state_since"], "last_seen": row["last_seen"], "age_s": age,
        "agent_version": row["agent_version"], "report_interval_s": row["interval_s"],
        "spool_backlog": row["spool_depth"], "spool_bytes": row["spool_bytes"],
        "oldest_unsent_age_s": row["oldest_unsent_age_s"], "dropped_total": row["dropped_total"] or 0,
        "last_overflow_at": row["last_overflow_at"], "last_overflow_dropped": row["last_overflow_dropped"],
    }


_ID = r"^[A-Za-z0-9_.-]{1,128}$"


class GatewayMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gateway_id: str = Field(pattern=_ID, description="an active gateway of the device's site (or one without a site)")


class DeviceBinding(BaseModel):
    device_id: str
    gateway_id: str | None = Field(description="the only gateway whose readings of the device ingest accepts")
    site_id: str | None


class DeviceMoved(BaseModel):
    before: DeviceBinding
    after: DeviceBinding


@router.put("/devices/{device_id}/gateway", response_model=DeviceMoved,
            responses={404: {"description": "no such device"},
                       409: {"description": "the gateway is not active, or serves another site than the device's"}})
async def move_device(device_id: Annotated[str, Path(pattern=_ID)], body: GatewayMove, admin: HierarchyAdmin,
                      conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Bind the device to another gateway: from now on ingest accepts its readings from that gateway only (over
    MQTT within INGEST_REGISTRY_REFRESH_S, over HTTP at once) and dead-letters the old gateway's."""
    try:
        async with conn.transaction():
            before, after = await move_device_async(conn, device_id, body.gateway_id)
            await auditlog.record(conn, action="device.move", client_ip=ip, principal=admin,
                                  target=f"device:{device_id}", before=before, after=after)
    except UnknownDevice as exc:
        raise HTTPException(404, str(exc)) from exc
    except BindingError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"before": before, "after": after}
