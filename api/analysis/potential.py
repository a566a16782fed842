"""/api/v1/analysis/reduction-potential/{enterprise}: a works' reduction potential per process (issue 21) against
the benchmark (advanced) and limit (admission) values of the process benchmark library (/api/v1/process-benchmarks),
from the accounting inventory of a year. Processes that emit without a sourced indicator are listed as such,
without a number. Read with 'emissions' in the enterprise's scope (the enterprise itself, its region's
government, its auditor, administrators). Formulas in carbon_domain.reduction_potential."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.accounting import queries as accounting
from api.accounting.deps import ScopedEnterprise, document_or_422
from api.auth.deps import EmissionsReader
from api.deps import Conn
from carbon_domain.reduction_potential import process_potentials
from carbon_domain.reports.benchmarks import benchmark_gaps, infer_route

__all__ = ["router"]

router = APIRouter(prefix="/analysis", tags=["analysis"])
FORMULA = "potential = max(0, intensity − reference) × output; intensity = process tCO2 / product output"


@router.get("/reduction-potential/{enterprise}")
async def reduction_potential(
    enterprise: ScopedEnterprise, caller: EmissionsReader, conn: Conn,
    year: Annotated[int, Query(ge=1990, le=2200)],
    route: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{0,31}$",
                                       description="bf-bof, eaf...; inferred from the processes when omitted")] = None,
) -> dict[str, Any]:
    """Per process: intensity, the benchmark and limit values with their source, and the t CO2 saved at each;
    'no_benchmark' for a process that emits without a sourced indicator, 'no_output' without a product output."""
    document = await document_or_422(conn, enterprise=enterprise, year=year, month=None, series="ndrc-steel-2013",
                                     basis="entered")
    chosen = route or infer_route(line["process"] for line in document["lines"])
    gaps = benchmark_gaps(document, await accounting.list_process_benchmarks(conn), chosen)
    by_process = {row["process"]: float(row["tco2"]) for row in document["by_process"]}
    rows = process_potentials(by_process, gaps)
    processes = [r for r in rows if r.process != "enterprise"]
    return {
        "enterprise": enterprise.enterprise_id, "year": year, "period": document["period_label"], "route": chosen,
        "route_inferred": route is None, "total_tco2": document["total_tco2"],
        "processes": [asdict(r) for r in rows],
        "to_benchmark_tco2": sum(r.to_benchmark_tco2 or 0 for r in processes),
        "to_limit_tco2": sum(r.to_limit_tco2 or 0 for r in processes),
        "without_benchmark": [r.process for r in processes if r.status == "no_benchmark"],
        "formula": FORMULA,
        "inputs": "the year's accounting inventory (entered basis, series ndrc-steel-2013) and the process "
                  "benchmark library rows named by `source`",
    }
