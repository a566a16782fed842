"""The demo's illustrative provincial dataset: imported once, labelled illustrative, traced under both
conventions, so that the regional factors have something to show on a fresh demo."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg

from api.audit import auditlog
from api.grid_factors import queries
from carbon_domain.grid_factors import CONVENTIONS, Flow, Region, trace_flows
from carbonflow.grid_factor_files import read_grid_file

__all__ = ["ILLUSTRATIVE_NAME", "ensure_illustrative_input"]

ILLUSTRATIVE_NAME = "East China provinces (illustrative, not statistics)"
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
