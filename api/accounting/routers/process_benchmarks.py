"""/api/v1/process-benchmarks: process intensity indicators (tCO2 per tonne of product, by process and
production route) with their benchmark and limit values. Read by any signed-in caller; set and deleted by
administrators, every change audited. The gap of an enterprise against them:
GET /api/v1/inventory/{enterprise}/benchmarks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.accounting import queries as inventory_queries
from api.audit import auditlog
from api.auth.deps import BenchmarkAdmin, Caller
from api.deps import ClientIP, Conn

router = APIRouter(prefix="/process-benchmarks", tags=["accounting"])

_NAME = r"^[a-z][a-z0-9_]{0,63}$"
_ROUTE = r"^[a-z][a-z0-9-]{0,31}$"
ProcessParam = Annotated[str, Path(pattern=_NAME, description="a process (sintering, ironmaking...) or 'enterprise'")]
RouteParam = Annotated[str, Path(pattern=_ROUTE, description="bf-bof, eaf... or 'any'")]
ProductParam = Annotated[str, Path(pattern=_NAME, description="the product the intensity is per, e.g. crude_steel")]


class IndicatorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    benchmark_tco2_per_t: float = Field(ge=0, le=100, allow_inf_nan=False, description="benchmark (advanced) value")
    limit_tco2_per_t: float | None = Field(None, ge=0, le=100, allow_inf_nan=False,
                                           description="limit (admission) value; omit when there is none")
    source: str = Field(min_length=1, max_length=500, description="the document the values come from")

    @model_validator(mode="after")
    def _limit_not_below_benchmark(self) -> IndicatorBody:
        if self.limit_tco2_per_t is not None and self.limit_tco2_per_t < self.benchmark_tco2_per_t:
            raise ValueError(f"limit_tco2_per_t {self.limit_tco2_per_t} is below benchmark_tco2_per_t "
                             f"{self.benchmark_tco2_per_t}: a limit is the laxer of the two values")
        return self


@router.get("")
async def list_indicators(
    caller: Caller, conn: Conn,
    process: Annotated[str | None, Query(pattern=_NAME)] = None,
    route: Annotated[str | None, Query(pattern=_ROUTE)] = None,
) -> dict[str, Any]:
    return {"indicators": await inventory_queries.list_process_benchmarks(conn, process=process, route=route)}


@router.put("/{process}/{route}/{product}")
async def set_indicator(body: IndicatorBody, admin: BenchmarkAdmin, conn: Conn, ip: ClientIP, process: ProcessParam,
                        route: RouteParam, product: ProductParam) -> dict[str, Any]:
    """Create or replace an indicator's benchmark and limit values."""
    async with conn.transaction():
        before, after = await inventory_queries.set_process_benchmark(
            conn, process=process, route=route, product=product, benchmark=body.benchmark_tco2_per_t,
            limit=body.limit_tco2_per_t, source=body.source, updated_by=admin.username)
        await auditlog.record(conn, action="process_benchmark.set", client_ip=ip, principal=admin,
                              target=f"{process}/{route}/{product}", before=before, after=after)
    return after


@router.delete("/{process}/{route}/{product}")
async def delete_indicator(admin: BenchmarkAdmin, conn: Conn, ip: ClientIP, process: ProcessParam, route: RouteParam,
                           product: ProductParam) -> dict[str, Any]:
    async with conn.transaction():
        before = await inventory_queries.delete_process_benchmark(conn, process=process, route=route, product=product)
        if before is None:
            raise HTTPException(404, f"no indicator {process}/{route}/{product}")
        await auditlog.record(conn, action="process_benchmark.delete", client_ip=ip, principal=admin,
                              target=f"{process}/{route}/{product}", before=before)
    return {"deleted": before}
