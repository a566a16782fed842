"""GET /api/v1/gateways: edge gateways with their registry status and devices, for technicians and administrators;
POST /gateways (register), POST /gateways/{id}/revoke and GET /gateways/{id}/certificate (the key bundle of a
certificate gateway) with 'gateway_registry', audited. Registering and revoking rewrite the broker's ACL as
`carbonflow gateways` does (carbonflow/gateway_admin.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.audit import auditlog
from api.auth.access import Principal
from api.auth.deps import GatewaysReader, VisibleSites, caller_with
from api.deps import ClientIP, Conn, Settings
from api.registry import queries
from carbon_domain.schemas import IDENTIFIER_PATTERN
from carbonflow.gateway_admin import (
    GatewayConflict,
    GatewayFiles,
    UnknownGateway,
    add_gateway_async,
    certificate_bundle,
    gateway_view_async,
    revoke_async,
)
from carbonflow.gateways import GatewayError

router = APIRouter(tags=["registry"])


GatewayRegistrar = Annotated[Principal, Depends(caller_with("gateway_registry"))]
GatewayId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, description="the gateway's id (its certificate's CN)")]


class GatewayRow(BaseModel):
    gateway_id: str
    site_id: str | None
    status: Literal["active", "revoked", "unregistered"] = Field(
        description="active: may publish; revoked: ingest refuses its data; unregistered: seen but never registered")
    auth: Literal["certificate", "password"]
    registered_at: datetime | None
    revoked_at: datetime | None
    cert_expires_at: datetime | None = Field(description="when its client certificate expires (certificate "
                                                         "gateways registered since this was recorded)")
    first_seen: datetime
    last_seen: datetime | None
    devices: list[str]


class GatewayList(BaseModel):
    gateways: list[GatewayRow]


class NewGateway(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gateway_id: str = Field(pattern=IDENTIFIER_PATTERN, description="the gateway's id, e.g. gw-line-2")
    site_id: str | None = Field(None, pattern=IDENTIFIER_PATTERN, description="the site it serves")
    auth: Literal["certificate", "password"] = Field("certificate", description=(
        "certificate: a client certificate is issued (download it with GET /gateways/{id}/certificate); "
        "password: a password is generated and shown once in the answer"))


class RegistryChange(BaseModel):
    gateway: dict[str, Any]
    password: str | None = Field(None, description="a password gateway's new password, shown only here")
    acl: str = Field(description="the broker ACL written; the broker applies it when it reloads (SIGHUP)")


def _files(settings: Settings) -> GatewayFiles:
    if settings.gateway_home is None:
        raise HTTPException(409, "this API has no gateway registry files: start it with CARBONFLOW_HOME set to the"
                                 " directory holding certs/ and mqtt/ (as `carbonflow gateways` uses)")
    return GatewayFiles.under(settings.gateway_home)


@router.get("/gateways", response_model=GatewayList)
async def gateways(caller: GatewaysReader, conn: Conn, sites: VisibleSites) -> dict[str, Any]:
    return {"gateways": await queries.list_gateways(conn, sites=sites)}


@router.post("/gateways", status_code=201, response_model=RegistryChange,
             responses={409: {"description": "already active, unknown site, or no registry files"}})
async def add_gateway(body: NewGateway, caller: GatewayRegistrar, conn: Conn, settings: Settings,
                      ip: ClientIP) -> dict[str, Any]:
    """Register a gateway (or re-register a revoked one): it may publish below its id from the broker's next
    reload, and ingest accepts its data."""
    files = _files(settings)
    try:
        async with conn.transaction():
            before, added = await add_gateway_async(conn, files, body.gateway_id, site_id=body.site_id,
                                                    auth=body.auth)
            await auditlog.record(conn, action="gateway.add", client_ip=ip, principal=caller,
                                  target=f"gateway:{body.gateway_id}", before=before, after=added.gateway)
    except GatewayError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"gateway": added.gateway, "password": added.password, "acl": str(added.acl)}


@router.post("/gateways/{gateway_id}/revoke", response_model=RegistryChange,
             responses={404: {"description": "no registered gateway of that id"},
                        409: {"description": "already revoked"}})
async def revoke_gateway(gateway_id: GatewayId, caller: GatewayRegistrar, conn: Conn, settings: Settings,
                         ip: ClientIP) -> dict[str, Any]:
    """Revoke a gateway: ingest refuses its data at once and the broker refuses its writes after its reload."""
    files = _files(settings)
    try:
        async with conn.transaction():
            before, after, acl = await revoke_async(conn, files, gateway_id)
            await auditlog.record(conn, action="gateway.revoke", client_ip=ip, principal=caller,
                                  target=f"gateway:{gateway_id}", before=before, after=after)
    except UnknownGateway as exc:
        raise HTTPException(404, str(exc)) from exc
    except GatewayError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"gateway": after, "acl": str(acl)}


@router.get("/gateways/{gateway_id}/certificate", response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "ca.crt, <id>.crt and <id>.key"},
                       404: {"description": "no such gateway"},
                       409: {"description": "revoked, a password gateway, or its files are missing"}})
async def certificate(gateway_id: GatewayId, caller: GatewayRegistrar, conn: Conn, settings: Settings,
                      ip: ClientIP) -> Response:
    """The files the gateway's edge agent connects with, as a zip; it holds the private key, so each download
    is audited."""
    files = _files(settings)
    gateway = await gateway_view_async(conn, gateway_id)
    if gateway is None:
        raise HTTPException(404, f"no gateway {gateway_id!r}; see GET /api/v1/gateways")
    try:
        data = certificate_bundle(files, gateway)
    except GatewayConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    await auditlog.record(conn, action="gateway.certificate_download", client_ip=ip, principal=caller,
                          target=f"gateway:{gateway_id}", detail={"expires_at": gateway["cert_expires_at"]})
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{gateway_id}-certificate.zip"'})
