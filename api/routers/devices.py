"""GET /api/v1/devices: the devices of the sites the caller may see; /devices/health: last contact and
readings by quality, for technicians."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api import queries
from api.deps import Conn, DevicesReader, VisibleSites

router = APIRouter(tags=["devices"])

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


class DevicesHealth(BaseModel):
    generated_at: datetime
    window_s: int
    devices: list[DeviceHealth]


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
    (good, uncertain, bad), per point and in all."""
    found = await queries.device_health(conn, window=timedelta(hours=hours), sites=sites)
    now = found["now"]
    for device in found["devices"]:
        times = [t for t in (device["last_seen"], *(p["last_reading_at"] for p in device["points"])) if t is not None]
        last = device["last_seen"] = max(times, default=None)
        device["age_s"] = max(0.0, (now - last).total_seconds()) if last else None
        device["status"] = _status(device["age_s"])
    return {"generated_at": now, "window_s": hours * 3600, "devices": found["devices"]}
