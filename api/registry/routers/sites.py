"""GET /api/v1/sites: the sites the caller may see, with their enterprise."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth.deps import DevicesReader, VisibleSites
from api.deps import Conn
from api.registry import queries

router = APIRouter(tags=["registry"])


@router.get("/sites")
async def sites(caller: DevicesReader, conn: Conn, visible: VisibleSites) -> dict[str, Any]:
    """Sites with enterprise, region, device count and newest device contact."""
    return {"sites": await queries.list_sites(conn, sites=visible)}
