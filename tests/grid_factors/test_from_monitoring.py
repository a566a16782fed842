"""The electricity-carbon factor tools read the government monitoring figures: each enterprise's monthly
electricity use and fuel CO2 become unit energy data (keyed by credit code, region label, industry class), through
an audited administrator's import, and the demo turns its synthetic prefecture into unit data, made-up verified
figures (labelled) and first fits once, then estimates the fuel CO2 of the prefecture's electricity-only units into
monitoring once, which the monitoring view shows apart from the reported figures."""

from __future__ import annotations

import asyncio
from datetime import date

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.grid_factors.demo_data import DEMO_ESTIMATOR, ensure_demo_estimates, ensure_demo_unit_data
from api.grid_factors.monitoring_link import unit_energy_from_monitoring
from carbonflow.demo.region_seed import FUELS, YEARS, generate, seed_region

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


def test_the_demo_estimates_its_electricity_only_units_into_monitoring_once_and_the_view_shows_them_apart(
        prefecture: str, client: TestClient, headers: Headers, db: psycopg.Connection) -> None:
    electricity_only = generate().electricity_only
    ids = [i for (i,) in db.execute("SELECT unit_id FROM monitoring_units WHERE credit_code = ANY(%s)",
                                    (electricity_only,)).fetchall()]
    assert len(ids) == len(electricity_only) > 0
    assert db.execute("SELECT count(*) FROM monitoring_figures WHERE unit_id = ANY(%s) AND item = ANY(%s)",
                      (ids, list(FUELS))).fetchone() == (0,)  # they report electricity, never a fuel
    year = YEARS[-1]
    before = client.get("/api/v1/monitoring/view", headers=headers["gov"],
                        params={"region": "330500", "year": year, "by": "industry"}).json()["total"]

    async def run() -> tuple[dict[str, object] | None, dict[str, object] | None]:
        async with await psycopg.AsyncConnection.connect(prefecture, autocommit=True) as conn:
            await ensure_demo_unit_data(conn, since=date(2000, 1, 1))  # the fits (done already when run in order)
            since = date(YEARS[0], 1, 1)
            return await ensure_demo_estimates(conn, since=since), await ensure_demo_estimates(conn, since=since)

    first, again = asyncio.run(run())
    assert first is not None and again is None
    estimated = dict(db.execute(
        "SELECT e.unit_id, count(*) FROM monitoring_estimates e JOIN monitoring_estimate_runs r USING (run_id)"
        " WHERE r.created_by = %s AND e.unit_id = ANY(%s) GROUP BY 1", (DEMO_ESTIMATOR, ids)).fetchall())
    assert estimated == dict.fromkeys(ids, 12 * len(YEARS))  # every month of every electricity-only unit

    view = client.get("/api/v1/monitoring/view", headers=headers["gov"],
                      params={"region": "330500", "year": year, "by": "industry"})
    assert view.status_code == 200, view.text
    body = view.json()
    total = body["total"]
    in_view = db.execute(
        "SELECT count(*), sum(e.tco2) FROM monitoring_estimates e JOIN monitoring_units u USING (unit_id)"
        " WHERE u.region_code LIKE '3305%%' AND e.month >= %s AND e.month < %s",
        (date(year, 1, 1), date(year + 1, 1, 1))).fetchone()
    assert body["synthetic"] is True
    assert (total["tco2"], total["reported_tco2"]) == (pytest.approx(before["tco2"]), pytest.approx(before["tco2"]))
    assert (total["estimated_unit_months"], total["estimated_tco2"]) == (in_view[0], pytest.approx(in_view[1]))
    assert total["estimated_unit_months"] >= 12 * len(ids) and total["estimated_tco2"] > 0
    assert total["with_estimated_tco2"] == pytest.approx(total["tco2"] + total["estimated_tco2"])
    archive = client.get(f"/api/v1/monitoring/units/{ids[0]}", headers=headers["gov"], params={"year": year}).json()
    assert [e["month"] for e in archive["estimated"]] == [f"{year}-{m:02d}" for m in range(1, 13)]
    assert archive["synthetic"] is True and archive["total"]["estimated_tco2"] > 0
