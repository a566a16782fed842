"""GET /api/v1/devices: the devices of the sites the caller may see."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import queries
from api.deps import Conn, DevicesReader, VisibleSites

router = APIRouter(tags=["devices"])


@router.get("/devices")
async def devices(caller: DevicesReader, conn: Conn, sites: VisibleSites) -> dict[str, Any]:
    return {"devices": await queries.list_devices(conn, sites=sites)}
