"""GET /api/v1/devices."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import queries
from api.deps import Conn

router = APIRouter(tags=["devices"])


@router.get("/devices")
async def devices(conn: Conn) -> dict[str, Any]:
    return {"devices": await queries.list_devices(conn)}
