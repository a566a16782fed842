"""/api/v1/efficiency-code: the 碳效码 configuration versions (thresholds, grade boundaries, neutrality formula)
and the stored codes. Administrators only ('efficiency_code'); storing and activating a version are audited.
A version is never changed once stored: an edit is a new version, activated when it should be in force."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from api.audit import auditlog
from api.auth.access import Principal
from api.auth.deps import caller_with
from api.deps import ClientIP, Conn
from api.efficiency_code import queries
from api.efficiency_code.schemas import ConfigVersion, ConfigVersions, Run, Runs, StoredResult, StoredResults
from carbon_domain.efficiency_code import EfficiencyCodeConfig

router = APIRouter(prefix="/efficiency-code", tags=["efficiency_code"])

_VERSION = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_PERIOD = r"^\d{4}(-\d{2}\.\.\d{4}-\d{2})?$"
VersionParam = Annotated[str, Path(pattern=_VERSION, description="a configuration version, e.g. methods-4-v1")]


EfficiencyCodeAdmin = Annotated[Principal, Depends(caller_with("efficiency_code"))]


def _audited(version: dict[str, Any]) -> dict[str, Any]:
    return {"version": version["version"], "config": version["config"].model_dump(mode="json")}


@router.get("/configs")
async def list_configs(admin: EfficiencyCodeAdmin, conn: Conn) -> ConfigVersions:
    """Every configuration version and which one is in force."""
    active, versions = await queries.list_configs(conn)
    return ConfigVersions(active=active, versions=[ConfigVersion(**v) for v in versions])


@router.get("/configs/active")
async def active_config(admin: EfficiencyCodeAdmin, conn: Conn) -> ConfigVersion:
    """The version in force (the built-in one until another is activated)."""
    config = await queries.active_config(conn)
    found = await queries.config_version(conn, version=config.version)
    assert found is not None
    return ConfigVersion(**found)


@router.get("/configs/{version}", responses={404: {"description": "no such version"}})
async def get_config(admin: EfficiencyCodeAdmin, conn: Conn, version: VersionParam) -> ConfigVersion:
    found = await queries.config_version(conn, version=version)
    if found is None:
        raise HTTPException(404, f"no efficiency-code configuration version {version!r}; "
                                 "GET /api/v1/efficiency-code/configs lists them")
    return ConfigVersion(**found)


@router.post("/configs", status_code=201, responses={409: {"description": "the version name is taken"}})
async def create_config(body: EfficiencyCodeConfig, admin: EfficiencyCodeAdmin, conn: Conn,
                        ip: ClientIP) -> ConfigVersion:
    """Store a new configuration version (it is not yet in force: activate it)."""
    if body.version == "active":
        raise HTTPException(422, "version name 'active' is reserved (GET .../configs/active is the version in force); "
                                 "choose another name")
    async with conn.transaction():
        created = await queries.create_config(conn, config=body, created_by=admin.username)
        if created is None:
            raise HTTPException(409, f"configuration version {body.version!r} exists and cannot be changed; "
                                     "store the edit under a new version name")
        await auditlog.record(conn, action="efficiency_code.config.create", client_ip=ip, principal=admin,
                              target=body.version, after=_audited(created))
    return ConfigVersion(**created)


@router.post("/configs/{version}/activate", responses={404: {"description": "no such version"}})
async def activate_config(admin: EfficiencyCodeAdmin, conn: Conn, ip: ClientIP, version: VersionParam) -> ConfigVersion:
    """Put a version in force: codes computed from now on use it; results of other versions are kept."""
    async with conn.transaction():
        changed = await queries.activate_config(conn, version=version, activated_by=admin.username)
        if changed is None:
            raise HTTPException(404, f"no efficiency-code configuration version {version!r}; store it first "
                                     "(POST /api/v1/efficiency-code/configs)")
        before, after = changed
        await auditlog.record(conn, action="efficiency_code.config.activate", client_ip=ip, principal=admin,
                              target=version, before={"active": before}, after={"active": after})
        found = await queries.config_version(conn, version=version)
    assert found is not None
    return ConfigVersion(**found)


@router.get("/results")
async def stored_results(
    admin: EfficiencyCodeAdmin, conn: Conn,
    period: Annotated[str, Query(pattern=_PERIOD, description="2025, or 2024-07..2025-06 for a rolling 12 months")],
    config_version: Annotated[str | None, Query(pattern=_VERSION, description="default: the version in force")] = None,
) -> StoredResults:
    """The stored codes of a period under a configuration version."""
    version = config_version or (await queries.active_config(conn)).version
    rows = await queries.results(conn, period=period, config_version=version)
    return StoredResults(period=period, config_version=version, results=[StoredResult(**row) for row in rows])


@router.get("/runs")
async def recorded_runs(
    admin: EfficiencyCodeAdmin, conn: Conn,
    period: Annotated[str, Query(pattern=_PERIOD, description="2025, or 2024-07..2025-06 for a rolling 12 months")],
) -> Runs:
    """Every recorded computation of a period, newest first."""
    return Runs(period=period, runs=[Run(**row) for row in await queries.runs(conn, period=period)])
