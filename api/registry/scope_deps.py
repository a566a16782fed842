"""The `site=`, `enterprise=` and `process=` query of the scope exports and period comparisons, resolved against
what the caller may see: 422 without any of them, 404 (the same answer for unknown and hidden) for a site or
enterprise outside the caller's scope, or a process that no device of the visible sites has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query

from api.auth.deps import VisibleSites
from api.deps import Conn
from api.registry import queries
from api.telemetry import export_queries

__all__ = ["ReportScope", "ScopeParam"]

_Name = Annotated[str | None, Query(max_length=128, description="see /api/v1/sites; may be combined")]


@dataclass(frozen=True)
class ReportScope:
    """A scope as asked for (site, enterprise, process) and the visible sites it covers."""

    site: str | None
    enterprise: str | None
    process: str | None
    sites: tuple[str, ...]

    def asked(self) -> dict[str, Any]:
        return {"site": self.site, "enterprise": self.enterprise, "process": self.process}


async def _scope(conn: Conn, visible: VisibleSites, site: _Name = None, enterprise: _Name = None,
                 process: Annotated[str | None, Query(max_length=128, description="process (工序) of the devices")]
                 = None) -> ReportScope:
    if not (site or enterprise or process):
        raise HTTPException(422, "give the scope: site=, enterprise= or process= (they may be combined)")
    listed = await queries.list_sites(conn, sites=visible)
    if site is not None:
        listed = [s for s in listed if s["site_id"] == site]
        if not listed:
            raise HTTPException(404, f"no site {site!r}; see /api/v1/sites")
    if enterprise is not None:
        listed = [s for s in listed if s["enterprise_id"] == enterprise]
        if not listed:
            raise HTTPException(404, f"no enterprise {enterprise!r}" + (f" with site {site!r}" if site else "")
                                     + "; see the enterprise_id of /api/v1/sites")
    sites = tuple(s["site_id"] for s in listed)
    if process is not None and not await export_queries.has_process(conn, sites=sites, process=process):
        raise HTTPException(404, f"no device of process {process!r} in the sites you may see")
    return ReportScope(site=site, enterprise=enterprise, process=process, sites=sites)


ScopeParam = Annotated[ReportScope, Depends(_scope)]
