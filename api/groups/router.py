"""/api/v1/groups: enterprise groups (集团) that hold carbon targets (docs/targets.md).

Reading needs 'monitoring': administrators see every group, a government user the groups whose members are all in
its region, an enterprise user the groups it belongs to. Creating a group is for administrators and for government
users whose region holds every member; it is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as PathParam

from api.audit import auditlog
from api.auth.access import Principal
from api.auth.deps import caller_with
from api.deps import ClientIP, Conn
from api.groups import queries
from api.groups.schemas import GroupCreate
from api.groups.scope import member_regions, outside_region, visible_groups
from api.monitoring import queries as monitoring

__all__ = ["router"]

router = APIRouter(prefix="/groups", tags=["groups"])
Id = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


Reader = Annotated[Principal, Depends(caller_with("monitoring"))]
Creator = Annotated[Principal, Depends(caller_with(
    "monitoring_data", roles=("admin", "government"),
    may_not="create enterprise groups; a government user of the members' region or an administrator may"))]


@router.get("")
async def list_groups(caller: Reader, conn: Conn) -> dict[str, Any]:
    """The groups the caller may see, with their member enterprises."""
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    return {"groups": await visible_groups(conn, scope=scope)}


@router.get("/{group_id}")
async def open_group(caller: Reader, conn: Conn, group_id: Id) -> dict[str, Any]:
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    found = next((g for g in await visible_groups(conn, scope=scope) if g["group_id"] == group_id), None)
    if found is None:
        raise HTTPException(404, f"no enterprise group {group_id} that you may see; see GET /api/v1/groups")
    return found


@router.post("", status_code=201)
async def create_group(caller: Creator, conn: Conn, ip: ClientIP, body: GroupCreate) -> dict[str, Any]:
    """Registers a group of existing enterprises. Audited."""
    known = await queries.existing_enterprises(conn, enterprise_ids=body.members)
    unknown = [m for m in body.members if m not in known]
    if unknown:
        raise HTTPException(422, f"unknown enterprises {unknown}; register them first (GET /api/v1/hierarchy "
                                 "lists the enterprises)")
    scope = await monitoring.unit_scope(conn, scope=caller.scope)
    if not scope.all:
        outside = outside_region(scope, await member_regions(conn, members=body.members))
        if outside:
            raise HTTPException(403, f"enterprises {outside} have no monitoring units in your region; a group "
                                     "may hold only enterprises of your region, or ask an administrator")
    async with conn.transaction():
        group = await queries.create_group(conn, name=body.name, members=body.members, by=caller.username)
        if group is None:
            raise HTTPException(409, f"a group named {body.name!r} exists already; choose another name")
        await auditlog.record(conn, action="groups.create", client_ip=ip, principal=caller,
                              target=f"enterprise_group:{group['group_id']}", after=body.model_dump())
    return group
