"""/api/v1/devices/{device}/points/{point}/range: a point's measurement range, the limits the out_of_range alarm
checks. Read with 'devices'; set by hand or reset to the device profile's range with 'point_ranges'
(technicians and administrators). Limits are in the point's stored unit; every change is audited with before
and after.

/api/v1/devices/{device}/points/{point}/rise-limit: a counter's plausibility limit, the most it may rise in an
hour (stored unit), set by hand or reset to the profile's (or the default) with 'point_ranges'. A reading rising
faster is stored as bad and not counted (docs/accounting.md, "Implausible readings")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.audit import auditlog
from api.auth.deps import DevicesReader, PointRangeAdmin, VisibleSites
from api.deps import ClientIP, Conn
from api.registry import point_range_queries
from carbon_domain.plausibility import DEFAULT_MAX_RISE_PER_H
from carbon_domain.schemas import IDENTIFIER_PATTERN
from device_profiles.point_rules import point_rise_limit

router = APIRouter(tags=["registry"])

DevicePath = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, description="the device's id")]
PointPath = Annotated[str, Path(pattern=r"^[^\x00-\x1f/]{1,128}$", description="the point's name")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such point among the sites the caller may see"}}
_LIMIT = "a finite number in the point's stored unit (`unit`), or null for no limit on this side"


class RangeBody(BaseModel):
    # strict: a limit is a JSON number, not "10" or true; no NaN or Infinity
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    low: float | None = Field(description=_LIMIT)
    high: float | None = Field(description=_LIMIT)
    unit: str | None = Field(None, max_length=32,
                             description="optional: the unit you mean; refused unless it is the point's stored unit")

    @model_validator(mode="after")
    def _ordered(self) -> RangeBody:
        if self.low is None and self.high is None:
            raise ValueError("give low, high or both; to return to the profile's range, DELETE the range")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


class PointRange(BaseModel):
    device_id: str
    point: str
    unit: str = Field(description="the point's stored unit, in which readings and limits are")
    low: float | None
    high: float | None
    source: Literal["manual", "profile", "none"] | None = Field(
        description="manual: set by hand; profile: the device profile's valid_range; none: the profile gives none; "
                    "null: not looked at yet (the stream worker fills in the profile's range at its next alarm run)")
    profile: str | None = Field(description="the device's profile, whose range a reset returns to")
    max_rise_per_h: float | None = Field(
        description="a counter's plausibility limit: the most it may rise in an hour, in `unit`; null for a gauge")
    max_rise_source: Literal["manual", "profile", "default"] | None = Field(
        description="manual: set by hand; profile: the profile's plausibility (max_rise_per_h, or rated power x "
                    "1.2); default: neither gives one; null for a gauge")


class RiseLimitBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    max_rise_per_h: float = Field(gt=0, description="the most the counter may rise in an hour, in its stored unit")
    unit: str | None = Field(None, max_length=32,
                             description="optional: the unit you mean; refused unless it is the point's stored unit")


def _rise_limit(row: dict[str, Any]) -> tuple[float | None, str | None]:
    """The counter's limit in force and where it comes from (as the stream sink derives it)."""
    if row["kind"] != "counter":
        return None, None
    if row["max_rise_per_h"] is not None:
        return row["max_rise_per_h"], "manual"
    found = point_rise_limit(row["profile"], row["point"], unit=row["unit"], source_unit=row["source_unit"],
                             normalised=row["normalised"])
    return (DEFAULT_MAX_RISE_PER_H, "default") if found is None else (found, "profile")


def _view(row: dict[str, Any]) -> dict[str, Any]:
    limit, source = _rise_limit(row)
    return {"device_id": row["device_id"], "point": row["point"], "unit": row["unit"], "low": row["range_low"],
            "high": row["range_high"], "source": row["range_source"], "profile": row["profile"],
            "max_rise_per_h": limit, "max_rise_source": source}


def _missing(device: str, point: str) -> HTTPException:
    return HTTPException(404, f"no point {point!r} of device {device!r} among the sites you may see")


@router.get("/devices/{device_id}/points/{point}/range", response_model=PointRange, responses=_NOT_FOUND)
async def get_point_range(device_id: DevicePath, point: PointPath, caller: DevicesReader, conn: Conn,
                          sites: VisibleSites) -> dict[str, Any]:
    """The point's range and where it comes from."""
    row = await point_range_queries.get_range(conn, device=device_id, point=point, sites=sites)
    if row is None:
        raise _missing(device_id, point)
    return _view(row)


@router.put("/devices/{device_id}/points/{point}/range", response_model=PointRange,
            responses={**_NOT_FOUND, 422: {"description": "limits not numbers, not ordered, or in another unit"}})
async def put_point_range(device_id: DevicePath, point: PointPath, body: RangeBody, caller: PointRangeAdmin,
                          conn: Conn, sites: VisibleSites, ip: ClientIP) -> dict[str, Any]:
    """Set the range by hand; the stream worker never overwrites it with the profile's."""
    async with conn.transaction():
        before = await point_range_queries.get_range(conn, device=device_id, point=point, sites=sites, lock=True)
        if before is None:
            raise _missing(device_id, point)
        if body.unit is not None and body.unit != before["unit"]:
            raise HTTPException(422, f"point {device_id}/{point} stores {before['unit'] or 'no unit'!r}: give the "
                                     f"limits in that unit, not {body.unit!r}")
        await point_range_queries.set_range(conn, device=device_id, point=point, low=body.low, high=body.high)
        after = await point_range_queries.get_range(conn, device=device_id, point=point, sites=sites)
        assert after is not None
        await auditlog.record(conn, action="point.range_set", client_ip=ip, principal=caller,
                              target=f"point:{device_id}/{point}", before=_view(before), after=_view(after))
    return _view(after)


@router.delete("/devices/{device_id}/points/{point}/range", response_model=PointRange, responses=_NOT_FOUND)
async def delete_point_range(device_id: DevicePath, point: PointPath, caller: PointRangeAdmin, conn: Conn,
                             sites: VisibleSites, ip: ClientIP) -> dict[str, Any]:
    """Drop a hand-set range: the stream worker fills in the device profile's range (if any) at its next run."""
    async with conn.transaction():
        before = await point_range_queries.get_range(conn, device=device_id, point=point, sites=sites, lock=True)
        if before is None:
            raise _missing(device_id, point)
        await point_range_queries.reset_range(conn, device=device_id, point=point)
        after = await point_range_queries.get_range(conn, device=device_id, point=point, sites=sites)
        assert after is not None
        await auditlog.record(conn, action="point.range_reset", client_ip=ip, principal=caller,
                              target=f"point:{device_id}/{point}", before=_view(before), after=_view(after))
    return _view(after)


async def _change_rise_limit(device_id: str, point: str, limit: float | None, unit: str | None, caller: Any,
                             conn: Any, sites: list[str] | None, ip: str | None) -> dict[str, Any]:
    async with conn.transaction():
        before = await point_range_queries.get_range(conn, device=device_id, point=point, sites=sites, lock=True)
        if before is None:
            raise _missing(device_id, point)
        if before["kind"] != "counter":
            raise HTTPException(422, f"point {device_id}/{point} is a {before['kind']}: a rise limit applies to "
                                     "counters; a gauge's plausible range is its range (PUT .../range)")
        if unit is not None and unit != before["unit"]:
            raise HTTPException(422, f"point {device_id}/{point} stores {before['unit'] or 'no unit'!r}: give the "
                                     f"limit per hour in that unit, not {unit!r}")
        await point_range_queries.set_rise_limit(conn, device=device_id, point=point, limit=limit)
        after = await point_range_queries.get_range(conn, device=device_id, point=point, sites=sites)
        assert after is not None
        await auditlog.record(conn, action="point.rise_limit_set" if limit is not None else "point.rise_limit_reset",
                              client_ip=ip, principal=caller, target=f"point:{device_id}/{point}",
                              before=_view(before), after=_view(after))
    return _view(after)


@router.put("/devices/{device_id}/points/{point}/rise-limit", response_model=PointRange,
            responses={**_NOT_FOUND, 422: {"description": "not a counter, not a positive number, or another unit"}})
async def put_rise_limit(device_id: DevicePath, point: PointPath, body: RiseLimitBody, caller: PointRangeAdmin,
                         conn: Conn, sites: VisibleSites, ip: ClientIP) -> dict[str, Any]:
    """Set a counter's plausibility limit by hand; the stream sink applies it from its next re-read of the points."""
    return await _change_rise_limit(device_id, point, body.max_rise_per_h, body.unit, caller, conn, sites, ip)


@router.delete("/devices/{device_id}/points/{point}/rise-limit", response_model=PointRange,
               responses={**_NOT_FOUND, 422: {"description": "not a counter"}})
async def delete_rise_limit(device_id: DevicePath, point: PointPath, caller: PointRangeAdmin, conn: Conn,
                            sites: VisibleSites, ip: ClientIP) -> dict[str, Any]:
    """Drop a hand-set limit: the profile's applies again, or the default."""
    return await _change_rise_limit(device_id, point, None, None, caller, conn, sites, ip)
