"""The demo's illustrative provincial dataset: imported once, labelled illustrative, traced under both
conventions, so that the regional factors have something to show on a fresh demo."""

from __future__ import annotations

import hashlib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg

from api.audit import auditlog
from api.grid_factors import queries
from api.grid_factors.estimating import estimate_into_monitoring
from api.grid_factors.monitoring_link import unit_energy_from_monitoring
from api.uploads import json_sha256
from carbon_domain.grid_factors import CONVENTIONS, Flow, Region, fit_factors, fit_fuel_models, trace_flows
from carbonflow.grid_factor_files import read_grid_file

__all__ = ["DEMO_ESTIMATOR", "ILLUSTRATIVE_NAME", "ensure_demo_estimates", "ensure_demo_unit_data",
           "ensure_illustrative_input"]

ILLUSTRATIVE_NAME = "East China provinces (illustrative, not statistics)"
# who the demo's estimate run is by (monitoring_estimate_runs.created_by): says the estimates are of demo data
DEMO_ESTIMATOR = "demo (synthetic prefecture)"
_FILE = "grid_regions_illustrative.csv"


async def ensure_illustrative_input(conn: psycopg.AsyncConnection) -> dict[str, Any] | None:
    """Import and trace the illustrative dataset unless the demo did so before; the new input set or None."""
    async with conn.cursor() as cur:
        await cur.execute("SELECT 1 FROM grid_region_inputs WHERE origin = 'demo' LIMIT 1")
        if await cur.fetchone() is not None:
            return None
    path = Path(str(resources.files("carbon_domain").joinpath("data", _FILE)))
    rows, problems = read_grid_file(path, "regional")
    if problems:  # the shipped file is checked by the tests; this guards a hand-edited installation
        raise ValueError(f"{path}: line {problems[0].line}: {problems[0].reason}")
    regions = [Region(r["region"], r["mwh"], r["tco2"]) for r in rows if r["record"] == "region"]
    flows = [Flow(r["region"], r["to_region"], r["mwh"]) for r in rows if r["record"] == "flow"]
    async with conn.transaction():
        created = await queries.add_region_input(
            conn, name=ILLUSTRATIVE_NAME, period="2024", illustrative=True, source=f"carbonflow demo ({_FILE})",
            imported_by="demo", origin="demo", filename=_FILE,
            content_sha256=hashlib.sha256(path.read_bytes()).hexdigest(), rows=rows)
        for convention in CONVENTIONS:
            await queries.add_flow_result(conn, input_id=created["input_id"], result=trace_flows(regions, flows,
                                                                                                   convention),
                                          computed_by="demo")
        await auditlog.record(conn, action="grid_factors.regional_import", client_ip=None, actor="demo",
                              actor_kind="system", target=f"grid-input:{created['input_id']}",
                              after={"name": ILLUSTRATIVE_NAME, "illustrative": True, "origin": "demo"})
    return created


# the demo's units reporting electricity only (so that the simulation has something to estimate): about one in
# seven, chosen by credit code so that a rerun picks the same ones
_ELECTRICITY_ONLY_EVERY = 7
_SYNTHETIC_VERIFIER = "synthetic verifier (demo data, not a real verification)"


def _electricity_only(unit_id: str) -> bool:
    return int(hashlib.sha256(unit_id.encode()).hexdigest()[:8], 16) % _ELECTRICITY_ONLY_EVERY == 0


def _synthetic_verified(row: dict[str, Any]) -> float:
    """A made-up verified figure for a demo unit-period: its fuels' CO2 plus electricity at 0.5 t/MWh, off by a
    deterministic -4 %..+4 %, as a verifier's figure would differ from the platform's."""
    fuels = (row["coal_tco2"] or 0) + (row["oil_tco2"] or 0) + (row["gas_tco2"] or 0)
    wobble = int(hashlib.sha256(f"{row['unit_id']}{row['period']}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return round((fuels + 0.5 * row["electricity_mwh"]) * (0.96 + 0.08 * wobble), 3)


async def ensure_demo_unit_data(conn: psycopg.AsyncConnection, *, since: date) -> dict[str, int] | None:
    """Once per database: the synthetic prefecture's monitoring figures from `since` as unit energy data (one unit
    in seven keeps electricity only), made-up verified figures for the others (labelled synthetic), and the
    first fits of the factor library and the electricity -> fuel models. None when done before or when there is
    no monitoring data."""
    async with conn.cursor() as cur:
        await cur.execute("SELECT 1 FROM grid_unit_imports WHERE origin = 'monitoring' AND imported_by = 'demo' LIMIT 1")
        if await cur.fetchone() is not None:
            return None
    rows = [r for r in await unit_energy_from_monitoring(conn, since=since) if r["synthetic"]]
    if not rows:
        return None
    for row in rows:
        if _electricity_only(row["unit_id"]):
            row.update(coal_tco2=None, oil_tco2=None, gas_tco2=None)
    verified = [{"line": n, "unit_id": r["unit_id"], "period": r["period"], "verified_tco2": _synthetic_verified(r),
                 "verifier": _SYNTHETIC_VERIFIER}
                for n, r in enumerate((r for r in rows if not _electricity_only(r["unit_id"])), start=1)]
    note = "synthetic prefecture (carbonflow seed region); demo data, not statistics"
    async with conn.transaction():
        energy = await queries.add_unit_import(conn, kind="unit_energy", imported_by="demo", origin="monitoring",
                                               filename=None, content_sha256=json_sha256(rows), note=note, rows=rows)
        checked = await queries.add_unit_import(conn, kind="verified", imported_by="demo", origin="monitoring",
                                                filename=None, content_sha256=json_sha256(verified), note=note,
                                                rows=verified)
        data = await queries.unit_periods(conn)
        fits = [fit for by in ("industry", "unit") for fit in fit_factors(data, by=by)[0]]  # type: ignore[arg-type]
        await queries.add_factor_versions(conn, fits=fits, fitted_by="demo")
        models, _ = fit_fuel_models(data)
        await queries.add_fuel_models(conn, models=list(models.values()), fitted_by="demo")
        await auditlog.record(conn, action="grid_factors.demo_unit_data", client_ip=None, actor="demo",
                              actor_kind="system", target=f"grid-import:{energy['import_id']}",
                              after={"unit_periods": len(rows), "verified": len(verified), "factors": len(fits),
                                     "fuel_models": len(models), "verified_import": checked["import_id"]})
    return {"unit_periods": len(rows), "verified": len(verified), "factors": len(fits), "fuel_models": len(models)}


async def ensure_demo_estimates(conn: psycopg.AsyncConnection, *, since: date) -> dict[str, Any] | None:
    """Once per database, after `ensure_demo_unit_data` fitted the fuel models: estimate the fuel CO2 of the
    synthetic prefecture's electricity-only units from `since` into monitoring (docs/monitoring.md, "Estimated
    figures"), apart from the reported figures, audited as the demo's. None when done before or when there is no
    fuel model."""
    async with conn.transaction():
        cur = await conn.execute("SELECT 1 FROM monitoring_estimate_runs WHERE created_by = %s LIMIT 1",
                                 (DEMO_ESTIMATOR,))
        if await cur.fetchone() is not None:
            return None
        run = await estimate_into_monitoring(conn, since=since, by=DEMO_ESTIMATOR)
        if run is None:
            return None
        await auditlog.record(conn, action="grid_factors.estimate_to_monitoring", client_ip=None, actor="demo",
                              actor_kind="system", target=f"monitoring-estimates:{run['run_id']}",
                              after={"since": since.isoformat()[:7], "estimates": run["estimated"],
                                     "models": run["models"], "unmodelled": len(run["unmodelled"]),
                                     "note": "synthetic prefecture; demo data, not statistics"})
    return run
