"""Estimating into monitoring (docs/monitoring.md, "Estimated figures"): the fuel CO2 of every monitoring
enterprise unit-month that reports electricity only, by the newest fuel model of its industry, stored apart from
the reported figures. The API's POST /grid-factors/simulation/to-monitoring and the demo's seeding
(api/grid_factors/demo_data.py) run it; each caller audits its run."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from api.grid_factors import queries
from api.grid_factors.monitoring_link import electricity_only_months
from api.monitoring.estimates import replace_estimates
from carbon_domain.grid_factors import UnitPeriod, simulate_region

__all__ = ["estimate_into_monitoring"]


async def estimate_into_monitoring(conn: psycopg.AsyncConnection, *, since: date, by: str) -> dict[str, Any] | None:
    """Replace the estimates from `since` on with a new run; its summary (run_id, estimated, estimated_tco2,
    models {industry: model id}, unmodelled), or None when no fuel model has been fitted yet. Call inside a
    transaction."""
    stored = await queries.latest_fuel_models(conn)
    if not stored:
        return None
    months = await electricity_only_months(conn, since=since)
    data = [UnitPeriod(unit_id=str(m["unit_id"]), industry=m["industry"], region="monitoring",
                       period=m["month"].isoformat(), electricity_mwh=m["electricity_mwh"]) for m in months]
    result = simulate_region("monitoring", data, {industry: model for industry, (_, model) in stored.items()})
    rows = [{"unit_id": int(u.unit_id), "month": date.fromisoformat(u.period), "electricity_mwh": u.electricity_mwh,
             "tco2": u.total_t, "low_tco2": u.low_t, "high_tco2": u.high_t, "model_id": stored[u.industry][0],
             "model_version": u.model_version} for u in result.units]
    used = {u.industry: stored[u.industry][0] for u in result.units}
    run_id = await replace_estimates(conn, since=since, rows=rows, models=used, by=by)
    return {"run_id": run_id, "estimated": len(rows), "estimated_tco2": result.simulated_t, "models": used,
            "unmodelled": list(result.unmodelled)}
