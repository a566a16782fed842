"""GET /api/v1/gateways: edge gateways with their devices, for technicians and administrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth.deps import GatewaysReader, VisibleSites
from api.deps import Conn
from api.registry import queries

router = APIRouter(tags=["registry"])


@router.get("/gateways")
async def gateways(caller: GatewaysReader, conn: Conn, sites: VisibleSites) -> dict[str, Any]:
    return {"gateways": await queries.list_gateways(conn, sites=sites)}
