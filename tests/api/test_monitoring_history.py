"""A figure's revision history (migration 146): the current row is the latest revision and the history table holds
the superseded ones, so a first import writes no history row, yet the history answers as before: revision 1 of a
first import, every superseded revision after a correction, the last revision of a deleted figure."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from api.accounting.queries import load_library
from api.monitoring import queries
from carbon_domain.factors import FactorLibrary
from carbon_domain.monitoring import FigureCalculator
from tests.api.test_monitoring import credit_code, csv_file, upload


def _unit(db: psycopg.Connection, code: str) -> int:
    return int(db.execute("SELECT unit_id FROM monitoring_units WHERE credit_code = %s", (code,)).fetchone()[0])  # type: ignore[index]


def _history_rows(db: psycopg.Connection, unit_id: int) -> int:
    return int(db.execute("SELECT count(*) FROM monitoring_figure_revisions WHERE unit_id = %s",
                          (unit_id,)).fetchone()[0])  # type: ignore[index]


def _revisions(client: TestClient, headers: dict[str, str], unit_id: int, month: str, item: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/monitoring/units/{unit_id}/figures/{month}/{item}/revisions", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["revisions"])


def test_a_first_import_writes_no_history_row_yet_the_history_shows_revision_1(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    code = credit_code("330502")
    upload(api_app_client, admin_headers, csv_file(f"{code},History Co,330502,441,2025-04,electricity,50,MWh"))
    unit_id = _unit(db, code)
    history = _revisions(api_app_client, admin_headers, unit_id, "2025-04", "electricity")
    batch = db.execute("SELECT batch_id, created_by FROM monitoring_batches WHERE batch_id = %s",
                       (history[0]["batch_id"],)).fetchone()
    assert (_history_rows(db, unit_id), [(h["revision"], h["quantity"], h["unit"], h["source"]) for h in history],
            history[0]["recorded_by"] == batch[1], bool(history[0]["factor_ids"])) == (  # type: ignore[index]
        0, [(1, 50.0, "MWh", "file")], True, True)


def test_a_correction_keeps_revision_1_readable_as_it_was(api_app_client: TestClient, admin_headers: dict[str, str],
                                                         db: psycopg.Connection) -> None:
    code = credit_code("330502")
    upload(api_app_client, admin_headers, csv_file(f"{code},History Co,330502,441,2025-05,coal,100,t"))
    unit_id = _unit(db, code)
    first = _revisions(api_app_client, admin_headers, unit_id, "2025-05", "coal")
    r = api_app_client.put(f"/api/v1/monitoring/units/{unit_id}/figures/2025-05/coal", headers=admin_headers,
                           json={"quantity": 120, "unit": "t", "reason": "restated"})
    after = _revisions(api_app_client, admin_headers, unit_id, "2025-05", "coal")
    assert (r.status_code, r.json()["revisions"] == after, after[0] == first[0], _history_rows(db, unit_id),
            [(h["revision"], h["quantity"], h["source"]) for h in after]) == (
        200, True, True, 1, [(1, 100.0, "file"), (2, 120.0, "rest")])


def test_importing_the_same_figures_again_adds_no_revision(api_app_client: TestClient, admin_headers: dict[str, str],
                                                            db: psycopg.Connection) -> None:
    code = credit_code("330502")
    data = csv_file(f"{code},History Co,330502,441,2025-06,heat,70,GJ")
    upload(api_app_client, admin_headers, data)
    unit_id = _unit(db, code)
    before = _revisions(api_app_client, admin_headers, unit_id, "2025-06", "heat")
    again = upload(api_app_client, admin_headers, data).json()
    assert (again["stored"], _revisions(api_app_client, admin_headers, unit_id, "2025-06", "heat"),
            _history_rows(db, unit_id)) == (0, before, 0)


def test_a_deleted_unit_leaves_every_revision_of_its_figures_in_the_history(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    code = credit_code("330502")
    upload(api_app_client, admin_headers, csv_file(f"{code},History Co,330502,441,2025-07,oil,8,t"))
    unit_id = _unit(db, code)
    api_app_client.put(f"/api/v1/monitoring/units/{unit_id}/figures/2025-07/oil", headers=admin_headers,
                       json={"quantity": 9, "unit": "t", "reason": "restated"})
    shown = _revisions(api_app_client, admin_headers, unit_id, "2025-07", "oil")
    db.execute("DELETE FROM monitoring_units WHERE unit_id = %s", (unit_id,))
    kept = db.execute("SELECT revision, quantity, source, recorded_by, recorded_at FROM monitoring_figure_history"
                      " WHERE unit_id = %s ORDER BY revision", (unit_id,)).fetchall()
    assert kept == [(h["revision"], h["quantity"], h["source"], h["recorded_by"], datetime.fromisoformat(h["recorded_at"]))
                    for h in shown]


def test_the_history_names_the_factor_rows_the_calculator_used(api_app_client: TestClient,
                                                                admin_headers: dict[str, str], database_url: str,
                                                                db: psycopg.Connection) -> None:
    code = credit_code("330502")
    upload(api_app_client, admin_headers, csv_file(f"{code},History Co,330502,441,2025-08,natural_gas,3,1e4Nm3"))
    unit_id = _unit(db, code)

    async def calculated() -> tuple[str, ...]:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            return FigureCalculator(await load_library(conn)).energy("natural_gas", 3.0, date(2025, 8, 1)).factor_ids

    shown = _revisions(api_app_client, admin_headers, unit_id, "2025-08", "natural_gas")
    assert [h["factor_ids"] for h in shown] == [list(asyncio.run(calculated()))]


def test_recomputing_with_an_unchanged_factor_library_adds_no_revision(api_app_client: TestClient,
                                                                       admin_headers: dict[str, str],
                                                                       database_url: str, db: psycopg.Connection) -> None:
    code = credit_code("330502")
    upload(api_app_client, admin_headers, csv_file(f"{code},History Co,330502,441,2025-09,electricity,12,MWh"))
    unit_id = _unit(db, code)

    async def run() -> int:
        async with await psycopg.AsyncConnection.connect(database_url) as conn, conn.transaction():
            batch = await queries.create_batch(conn, source="recompute", origin="history test", sha256=None, by="t")
            coefficients = [("electricity", date(2025, 9, 1), *_per_unit(await load_library(conn)))]
            return await queries.recompute_figures(conn, coefficients=coefficients, first_unit=unit_id,
                                                   last_unit=unit_id, batch_id=batch, by="t")

    def _per_unit(library: FactorLibrary) -> tuple[float, float, tuple[str, ...]]:
        one = FigureCalculator(library).energy("electricity", 1.0, date(2025, 9, 1))
        return one.tco2, one.tce, one.factor_ids

    before = _revisions(api_app_client, admin_headers, unit_id, "2025-09", "electricity")
    assert (asyncio.run(run()), _revisions(api_app_client, admin_headers, unit_id, "2025-09", "electricity")) == (
        0, before)
