"""/api/v1/devices/{device}/points/{point}/range: a point's measurement range, the limits the out_of_range alarm
checks. Read with 'devices'; set by hand or reset to the device profile's range with 'point_ranges'
(technicians and administrators). Limits are in the point's stored unit; every change is audited with before
and after."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api import auditlog, point_range_queries
from api.deps import ClientIP, Conn, DevicesReader, PointRangeAdmin, VisibleSites
from carbon_domain.schemas import IDENTIFIER_PATTERN

router = APIRouter(tags=["devices"])

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


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {"device_id": row["device_id"], "point": row["point"], "unit": row["unit"], "low": row["range_low"],
            "high": row["range_high"], "source": row["range_source"], "profile": row["profile"]}


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
