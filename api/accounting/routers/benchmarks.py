"""/api/v1/benchmarks: a site's CO2 intensity benchmark per product (tCO2 per tonne), read by those who see
the site's emissions and set by administrators; every change lands in the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.accounting import queries
from api.audit import auditlog
from api.auth.deps import BenchmarkAdmin, EmissionsReader, VisibleSites
from api.deps import ClientIP, Conn
from api.registry import queries as registry_queries

router = APIRouter(prefix="/benchmarks", tags=["accounting"])

_PRODUCT = r"^[a-z0-9][a-z0-9_]{0,63}$"


class BenchmarkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tco2_per_t: float = Field(gt=0, le=100, description="tCO2 per tonne of product")
    source: str = Field(min_length=1, max_length=500,
                        description="where the value comes from, e.g. a sector standard or last year's figure")


@router.get("")
async def list_benchmarks(
    caller: EmissionsReader, conn: Conn, sites: VisibleSites,
    site: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, Any]:
    """Benchmarks of the sites the caller may see (or of one site)."""
    return {"benchmarks": await queries.list_benchmarks(conn, sites=sites, site=site)}


@router.put("/{site}/{product}")
async def set_benchmark(
    body: BenchmarkBody, admin: BenchmarkAdmin, conn: Conn, ip: ClientIP,
    site: Annotated[str, Path(max_length=128)],
    product: Annotated[str, Path(pattern=_PRODUCT, description="e.g. crude_steel, as in production:crude_steel")],
) -> dict[str, Any]:
    """Create or replace the site's benchmark for a product."""
    if not await registry_queries.site_exists(conn, site=site):
        raise HTTPException(404, f"no site {site!r}; see /api/v1/sites")
    async with conn.transaction():
        before, after = await queries.set_benchmark(conn, site=site, product=product, tco2_per_t=body.tco2_per_t,
                                                    source=body.source, updated_by=admin.username)
        await auditlog.record(conn, action="benchmark.set", client_ip=ip, principal=admin,
                              target=f"{site}/{product}", before=before, after=after)
    return after
