"""The electricity-carbon factor tools read the government monitoring figures: each enterprise's monthly
electricity use and fuel CO2 become unit energy data (keyed by credit code, region label, industry class), through
an audited administrator's import, and the demo turns its synthetic prefecture into unit data, made-up verified
figures (labelled) and first fits once."""

from __future__ import annotations

import asyncio
from datetime import date

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.grid_factors.demo_data import ensure_demo_unit_data
from api.grid_factors.monitoring_link import unit_energy_from_monitoring
from carbonflow.demo.region_seed import seed_region

Headers = dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def prefecture(database_url: str, client: TestClient) -> str:
    asyncio.run(seed_region(database_url))
    return database_url


async def _rows(url: str, since: date) -> list[dict[str, object]]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        return await unit_energy_from_monitoring(conn, since=since)


def test_monitoring_figures_become_unit_energy_rows_with_fuels_missing_where_unreported(
        prefecture: str, db: psycopg.Connection) -> None:
    rows = asyncio.run(_rows(prefecture, date(2000, 1, 1)))
    unit, period = rows[0]["unit_id"], rows[0]["period"]
    figures = dict(db.execute(
        "SELECT f.item, CASE WHEN f.item = 'electricity' THEN f.quantity ELSE f.tco2 END FROM monitoring_figures f"
        " JOIN monitoring_units u USING (unit_id) WHERE u.credit_code = %s AND f.month = %s::date",
        (unit, f"{period}-01")).fetchall())
    assert rows[0]["electricity_mwh"] == pytest.approx(figures["electricity"])
    reports_fuel = any(item in figures for item in ("coal", "oil", "natural_gas"))
    assert (rows[0]["coal_tco2"], rows[0]["oil_tco2"], rows[0]["gas_tco2"]) == (
        (figures.get("coal", 0), figures.get("oil", 0), figures.get("natural_gas", 0)) if reports_fuel
        else (None, None, None))
    label = db.execute("SELECT r.label FROM monitoring_units u JOIN monitoring_regions r ON r.code = u.region_code"
                       " WHERE u.credit_code = %s", (unit,)).fetchone()
    assert (rows[0]["region"],) == label and [r["line"] for r in rows] == list(range(1, len(rows) + 1))
    kinds = {r[0] for r in db.execute("SELECT DISTINCT u.kind FROM monitoring_units u WHERE u.credit_code = ANY(%s)",
                                      ([r["unit_id"] for r in rows],)).fetchall()}
    assert kinds == {"enterprise"}  # public institutions are not factor-fitted units
    later = asyncio.run(_rows(prefecture, date(2099, 1, 1)))
    assert later == []


def test_an_administrator_imports_unit_energy_from_monitoring_and_it_is_audited(
        prefecture: str, client: TestClient, headers: Headers, db: psycopg.Connection) -> None:
    r = client.post("/api/v1/grid-factors/units/from-monitoring", headers=headers["admin"], json={"since": "2000-01"})
    assert r.status_code == 201, r.text
    body = r.json()
    rows = asyncio.run(_rows(prefecture, date(2000, 1, 1)))
    assert (body["rows"], body["units"]) == (len(rows), len({r["unit_id"] for r in rows}))
    assert db.execute("SELECT origin FROM grid_unit_imports WHERE import_id = %s",
                      (body["import_id"],)).fetchone() == ("monitoring",)
    assert db.execute("SELECT action, after->>'since' FROM audit_log WHERE target = %s",
                      (f"grid-import:{body['import_id']}",)).fetchall() == [("grid_factors.unit_energy_import",
                                                                              "2000-01")]
    assert client.post("/api/v1/grid-factors/units/from-monitoring", headers=headers["gov"],
                       json={"since": "2000-01"}).status_code == 403
    assert client.post("/api/v1/grid-factors/units/from-monitoring", headers=headers["admin"],
                       json={"since": "2000-13"}).status_code == 422
    late = client.post("/api/v1/grid-factors/units/from-monitoring", headers=headers["admin"], json={"since": "2099-01"})
    assert late.status_code == 422 and "no monitoring figures" in late.json()["detail"]


def test_the_demo_makes_unit_data_labelled_verified_figures_and_first_fits_once(
        prefecture: str, db: psycopg.Connection) -> None:
    async def run() -> tuple[dict[str, int] | None, dict[str, int] | None]:
        async with await psycopg.AsyncConnection.connect(prefecture, autocommit=True) as conn:
            return (await ensure_demo_unit_data(conn, since=date(2000, 1, 1)),
                    await ensure_demo_unit_data(conn, since=date(2000, 1, 1)))

    first, again = asyncio.run(run())
    assert first is not None and again is None
    (energy_import, verified_import) = db.execute(
        "SELECT import_id FROM grid_unit_imports WHERE imported_by = 'demo' AND origin = 'monitoring'"
        " ORDER BY import_id").fetchall()
    units = {u for (u,) in db.execute("SELECT DISTINCT unit_id FROM grid_unit_energy WHERE import_id = %s",
                                      energy_import).fetchall()}
    checked = {u for (u,) in db.execute("SELECT DISTINCT unit_id FROM grid_verified_emissions WHERE import_id = %s",
                                        verified_import).fetchall()}
    electricity_only = units - checked  # the units whose fuels the demo hides, so that the simulation estimates them
    fuels_shown = db.execute("SELECT count(*) FROM grid_unit_energy WHERE import_id = %s AND unit_id = ANY(%s)"
                             " AND (coal_tco2 IS NOT NULL OR oil_tco2 IS NOT NULL OR gas_tco2 IS NOT NULL)",
                             (*energy_import, list(electricity_only))).fetchone()
    assert (checked <= units, 0 < len(electricity_only) < len(units) / 4, fuels_shown) == (True, True, (0,))
    verifiers = db.execute("SELECT DISTINCT verifier FROM grid_verified_emissions WHERE import_id = %s",
                           verified_import).fetchall()
    assert verifiers == [("synthetic verifier (demo data, not a real verification)",)]
    assert first["factors"] > 0 and first["fuel_models"] > 0
