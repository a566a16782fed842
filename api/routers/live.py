"""GET /api/v1/live: the newest value of every point the caller may see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter

from api import queries
from api.deps import Conn, LiveReader, VisibleSites

router = APIRouter(tags=["live"])


@router.get("/live")
async def live(caller: LiveReader, conn: Conn, sites: VisibleSites) -> dict[str, Any]:
    return {"values": await queries.latest_values(conn, within=timedelta(minutes=10), sites=sites)}
