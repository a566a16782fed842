"""GET /api/v1/live: the newest value of every point."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter

from api import queries
from api.deps import Conn

router = APIRouter(tags=["live"])


@router.get("/live")
async def live(conn: Conn) -> dict[str, Any]:
    return {"values": await queries.latest_values(conn, within=timedelta(minutes=10))}
