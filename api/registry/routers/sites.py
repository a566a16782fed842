"""GET /api/v1/sites: the sites the caller may see, with their enterprise."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth.deps import DevicesReader, VisibleSites
from api.deps import Conn, Settings
from api.registry import queries

router = APIRouter(tags=["registry"])


@router.get("/sites")
async def sites(caller: DevicesReader, conn: Conn, visible: VisibleSites, settings: Settings) -> dict[str, Any]:
    """Sites with enterprise, region, device count and newest device contact; `default_site` is the one the
    dashboard opens on (CARBONFLOW_DEFAULT_SITE, e.g. the running demo scenario's site) when the caller may see
    it, else null."""
    listed = await queries.list_sites(conn, sites=visible)
    default = settings.default_site if any(s["site_id"] == settings.default_site for s in listed) else None
    return {"sites": listed, "default_site": default}
