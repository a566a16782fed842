"""The site hierarchy for administrators: enterprises (region code, industry class), sites, devices (site,
process, profile) and the activity bound to each point. Every change is audited with before and after;
deleting something that data depends on answers 409 and says what."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from api.audit import auditlog
from api.auth.access import Principal
from api.auth.deps import HierarchyAdmin
from api.deps import ClientIP, Conn
from api.errors import Conflict, InvalidInput, NotFound
from api.registry import hierarchy_queries
from carbon_domain.schemas import IDENTIFIER_PATTERN

router = APIRouter(tags=["registry"])

_ID = IDENTIFIER_PATTERN  # what ingest admits as a device id
_REGION = r"^[A-Z]{2}(-[A-Z0-9]{1,10}){0,4}$"
_INDUSTRY = r"^[a-z][a-z0-9_-]{0,31}$"
_ACTIVITY = r"^[a-z][a-z0-9_]{0,63}(:[a-z0-9][a-z0-9_-]{0,63})?$"
_TEXT = r"^[^\x00-\x1f]*$"

IdPath = Annotated[str, Path(pattern=_ID, description="letters, digits, '_', '.' and '-'")]
Id = Annotated[str, Field(pattern=_ID)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=_TEXT)]
Region = Annotated[str, Field(pattern=_REGION, description="ISO country code and sub-regions, e.g. CN-ZJ-HZ")]
Industry = Annotated[str, Field(pattern=_INDUSTRY, description="industry class, e.g. steel, cement, light")]
Label = Annotated[str, Field(min_length=1, max_length=128, pattern=_TEXT)]
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: digits and capitals without I, O, Z, S, V
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _credit_code(code: str) -> str:
    """The code, if its 18th character is the GB 32100-2015 check character of the first 17."""
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
    expected = _CREDIT_CHARS[(31 - total % 31) % 31]
    if code[17] != expected:
        raise ValueError(f"check character is {code[17]!r}, the first 17 characters give {expected!r}: "
                         "re-read the code from the business licence")
    return code


CreditCode = Annotated[str, Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
                                  description="统一社会信用代码: 18 digits and capitals (no I, O, Z, S, V)"),
                       AfterValidator(_credit_code)]
Activity = Annotated[str, Field(pattern=_ACTIVITY, description="electricity, natural_gas, production:<product>...")]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such object"}}
_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "the id is taken, or data still depends on the object"}}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Patch(_Body):
    """Only the fields sent are changed; fields listed in `_required` may not be set to null."""

    _required: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> _Patch:
        nulled = sorted(f for f in self.model_fields_set & set(self._required) if getattr(self, f) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class EnterpriseCreate(_Body):
    enterprise_id: Id
    name: Name
    region: Region
    industry: Industry | None = None
    credit_code: CreditCode | None = None


class EnterprisePatch(_Patch):
    _required = ("name", "region")
    name: Name | None = None
    region: Region | None = None
    industry: Industry | None = None
    credit_code: CreditCode | None = None


class Enterprise(BaseModel):
    enterprise_id: str
    name: str
    region: str
    industry: str | None
    credit_code: str | None = None


class EnterpriseListed(Enterprise):
    sites: int


class SiteCreate(_Body):
    site_id: Id
    enterprise_id: Id
    name: Name
    province: Label | None = None
    grid_region: Label | None = None


class SitePatch(_Patch):
    _required = ("enterprise_id", "name")
    enterprise_id: Id | None = None
    name: Name | None = None
    province: Label | None = None
    grid_region: Label | None = None


class Site(BaseModel):
    site_id: str
    enterprise_id: str
    name: str
    province: str | None
    grid_region: str | None


class DeviceCreate(_Body):
    device_id: Id
    site_id: Id
    process: Label | None = None
    profile: Label | None = None
    gateway_id: Id | None = None


class DevicePatch(_Patch):
    _required = ("site_id",)
    site_id: Id | None = None
    process: Label | None = None
    profile: Label | None = None
    gateway_id: Id | None = Field(None, description="refused: a device changes gateway by PUT /devices/{id}/gateway")


class PointBinding(BaseModel):
    point_key: int
    device_id: str
    point: str
    unit: str
    kind: str
    activity: str | None


class Device(BaseModel):
    device_id: str
    site_id: str | None
    process: str | None
    profile: str | None
    gateway_id: str | None
    last_seen: datetime | None
    points: list[PointBinding]


class EnterpriseDeleted(BaseModel):
    deleted: Enterprise


class SiteDeleted(BaseModel):
    deleted: Site


class DeviceDeleted(BaseModel):
    deleted: Device


class PointDeleted(BaseModel):
    deleted: PointBinding


class PointBody(_Body):
    activity: Activity | None = Field(description="the accounting activity; null unbinds the point")
    unit: Annotated[str, Field(max_length=32, pattern=_TEXT)] | None = Field(
        None, description="unit of a new point, or a new unit; omitted keeps the current one")
    kind: Literal["gauge", "counter"] | None = Field(None, description="omitted keeps the current kind (new: gauge)")


def _http(exc: Exception) -> HTTPException:
    status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 422
    return HTTPException(status, str(exc))


async def _create(conn: Conn, admin: Principal, ip: str | None, kind: str, values: dict[str, Any]) -> dict[str, Any]:
    try:
        async with conn.transaction():
            after = await hierarchy_queries.create(conn, kind=kind, values=values)
            await auditlog.record(conn, action=f"{kind}.create", client_ip=ip, principal=admin,
                                  target=f"{kind}:{after[hierarchy_queries.KINDS[kind][1]]}", after=after)
    except (Conflict, InvalidInput) as exc:
        raise _http(exc) from exc
    return after


async def _update(conn: Conn, admin: Principal, ip: str | None, kind: str, key: str, body: _Patch) -> dict[str, Any]:
    try:
        async with conn.transaction():
            before, after = await hierarchy_queries.update(conn, kind=kind, key=key, changes=body.changes())
            await auditlog.record(conn, action=f"{kind}.update", client_ip=ip, principal=admin,
                                  target=f"{kind}:{key}", before=before, after=after)
    except (NotFound, InvalidInput) as exc:
        raise _http(exc) from exc
    return after


async def _get(conn: Conn, kind: str, key: str) -> dict[str, Any]:
    found = await hierarchy_queries.get(conn, kind=kind, key=key)
    if found is None:
        raise HTTPException(404, f"no {kind} {key!r}")
    return found


async def _delete(conn: Conn, admin: Principal, ip: str | None, kind: str, key: str) -> dict[str, Any]:
    remove = {"enterprise": hierarchy_queries.delete_enterprise, "site": hierarchy_queries.delete_site,
              "device": hierarchy_queries.delete_device}[kind]
    try:
        async with conn.transaction():
            before = await remove(conn, key=key)
            await auditlog.record(conn, action=f"{kind}.delete", client_ip=ip, principal=admin,
                                  target=f"{kind}:{key}", before=before)
    except (NotFound, Conflict) as exc:
        raise _http(exc) from exc
    return {"deleted": before}


# --- enterprises --------------------------------------------------------------------------------------------


@router.get("/enterprises")
async def list_enterprises(
    admin: HierarchyAdmin, conn: Conn,
    region: Annotated[str | None, Query(pattern=_REGION, description="this region and its sub-regions")] = None,
) -> dict[str, list[EnterpriseListed]]:
    rows = await hierarchy_queries.list_enterprises(conn, region=region)
    return {"enterprises": [EnterpriseListed.model_validate(r) for r in rows]}


@router.post("/enterprises", status_code=201, response_model=Enterprise, responses={**_CONFLICT})
async def create_enterprise(body: EnterpriseCreate, admin: HierarchyAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    return await _create(conn, admin, ip, "enterprise", body.model_dump())


@router.get("/enterprises/{enterprise_id}", response_model=Enterprise, responses={**_NOT_FOUND})
async def get_enterprise(enterprise_id: IdPath, admin: HierarchyAdmin, conn: Conn) -> dict[str, Any]:
    return await _get(conn, "enterprise", enterprise_id)


@router.patch("/enterprises/{enterprise_id}", response_model=Enterprise, responses={**_NOT_FOUND})
async def update_enterprise(enterprise_id: IdPath, body: EnterprisePatch, admin: HierarchyAdmin, conn: Conn,
                            ip: ClientIP) -> dict[str, Any]:
    """Rename an enterprise, or change its region code or industry class."""
    return await _update(conn, admin, ip, "enterprise", enterprise_id, body)


@router.delete("/enterprises/{enterprise_id}", response_model=EnterpriseDeleted, responses={**_NOT_FOUND, **_CONFLICT})
async def delete_enterprise(enterprise_id: IdPath, admin: HierarchyAdmin, conn: Conn,
                            ip: ClientIP) -> dict[str, Any]:
    """Delete an enterprise that has no sites and no users."""
    return await _delete(conn, admin, ip, "enterprise", enterprise_id)


# --- sites (GET /sites, the list by scope, is in routers/sites.py) ------------------------------------------


@router.post("/sites", status_code=201, response_model=Site, responses={**_CONFLICT})
async def create_site(body: SiteCreate, admin: HierarchyAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    return await _create(conn, admin, ip, "site", body.model_dump())


@router.get("/sites/{site_id}", response_model=Site, responses={**_NOT_FOUND})
async def get_site(site_id: IdPath, admin: HierarchyAdmin, conn: Conn) -> dict[str, Any]:
    return await _get(conn, "site", site_id)


@router.patch("/sites/{site_id}", response_model=Site, responses={**_NOT_FOUND})
async def update_site(site_id: IdPath, body: SitePatch, admin: HierarchyAdmin, conn: Conn,
                      ip: ClientIP) -> dict[str, Any]:
    """Rename a site, move it to another enterprise or change its province or grid region."""
    return await _update(conn, admin, ip, "site", site_id, body)


@router.delete("/sites/{site_id}", response_model=SiteDeleted, responses={**_NOT_FOUND, **_CONFLICT})
async def delete_site(site_id: IdPath, admin: HierarchyAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Delete a site without devices, gateways or emissions."""
    return await _delete(conn, admin, ip, "site", site_id)


# --- devices and their points (GET /devices, the list by scope, is in routers/devices.py) -------------------


@router.post("/devices", status_code=201, response_model=Device, responses={**_CONFLICT})
async def create_device(body: DeviceCreate, admin: HierarchyAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    return await _create(conn, admin, ip, "device", body.model_dump())


@router.get("/devices/{device_id}", response_model=Device, responses={**_NOT_FOUND})
async def get_device(device_id: IdPath, admin: HierarchyAdmin, conn: Conn) -> dict[str, Any]:
    return await _get(conn, "device", device_id)


@router.patch("/devices/{device_id}", response_model=Device, responses={**_NOT_FOUND})
async def update_device(device_id: IdPath, body: DevicePatch, admin: HierarchyAdmin, conn: Conn,
                        ip: ClientIP) -> dict[str, Any]:
    """Move a device to another site, or change its process or profile (its gateway: PUT .../gateway)."""
    if "gateway_id" in body.model_fields_set:
        # one way to re-point a device, with its checks (active gateway of the device's site) and its own audit action
        raise HTTPException(422, f"change a device's gateway with PUT /api/v1/devices/{device_id}/gateway")
    return await _update(conn, admin, ip, "device", device_id, body)


@router.delete("/devices/{device_id}", response_model=DeviceDeleted, responses={**_NOT_FOUND, **_CONFLICT})
async def delete_device(device_id: IdPath, admin: HierarchyAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Delete a device and its point bindings when none of its points has readings or alarms."""
    return await _delete(conn, admin, ip, "device", device_id)


PointPath = Annotated[str, Path(pattern=r"^[^\x00-\x1f/]{1,128}$", description="the point's name")]


@router.put("/devices/{device_id}/points/{point}", response_model=PointBinding, responses={**_NOT_FOUND})
async def put_point(device_id: IdPath, point: PointPath, body: PointBody, admin: HierarchyAdmin, conn: Conn,
                    ip: ClientIP) -> dict[str, Any]:
    """Bind a point of a device to an accounting activity (created when the device does not have it yet)."""
    try:
        async with conn.transaction():
            before, after = await hierarchy_queries.put_point(conn, device=device_id, point=point, unit=body.unit,
                                                              kind=body.kind, activity=body.activity)
            await auditlog.record(conn, action="point.bind", client_ip=ip, principal=admin,
                                  target=f"point:{device_id}/{point}", before=before, after=after)
    except NotFound as exc:
        raise _http(exc) from exc
    return after


@router.delete("/devices/{device_id}/points/{point}", response_model=PointDeleted,
               responses={**_NOT_FOUND, **_CONFLICT})
async def delete_point(device_id: IdPath, point: PointPath, admin: HierarchyAdmin, conn: Conn,
                       ip: ClientIP) -> dict[str, Any]:
    """Remove a point binding that has no readings."""
    try:
        async with conn.transaction():
            before = await hierarchy_queries.delete_point(conn, device=device_id, point=point)
            await auditlog.record(conn, action="point.delete", client_ip=ip, principal=admin,
                                  target=f"point:{device_id}/{point}", before=before)
    except (NotFound, Conflict) as exc:
        raise _http(exc) from exc
    return {"deleted": before}
