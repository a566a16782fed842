"""Migrations 146 (history of superseded revisions) and 147 (factor-id lists kept once) on a database with figures:
every figure's history, archive figures and factor ids read the same after them as the old tables did before."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from api.monitoring import queries
from carbonflow.db.migrate import _migration_files, migrate, seed_monitoring_classes, timescale_available
from tests.api.test_monitoring import credit_code
from tests.conftest import _with_dbname

GRID = ["grid.cn.national_average@2023", "tce.electricity_calorific@gbt2589-2020"]
COAL = ["fuel.coal.ncv@gbt2589-2020", "fuel.coal.cc@ipcc2006", "tce.coal@gbt2589-2020"]
WRITTEN = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
CORRECTED = datetime(2025, 4, 1, 9, 0, 0, tzinfo=UTC)
# (month, item, quantity, unit, tco2, tce, factor ids, source, batch) of revision 1 as the old store_figures wrote it
FIRST = [(date(2025, 1, 1), "electricity", 100.0, "MWh", 53.0, 12.3, GRID, "file", 1),
         (date(2025, 1, 1), "coal", 40.0, "t", 76.0, 28.6, COAL, "file", 1),
         (date(2025, 1, 1), "value_added", 900.0, "1e4CNY", None, None, [], "file", 1)]


@pytest.fixture
def before_146(postgres_server: str) -> Iterator[str]:
    """A scratch database migrated up to 145 (the owner's URL), dropped afterwards."""
    name = f"cf_mig146_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_dbname(postgres_server, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, name text NOT NULL,"
                         " applied_at timestamptz NOT NULL DEFAULT now())")
            for file_name, sql in _migration_files(timescale_available(conn)):
                version = file_name.split("_", 1)[0]
                if version >= "146":
                    break
                with conn.transaction():
                    conn.execute(sql)  # type: ignore[arg-type]
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                                 (version, file_name))
            seed_monitoring_classes(conn)
        yield url
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _old_layout(conn: psycopg.Connection) -> int:
    """A unit with figures as the code before 146 stored them: each write both in the current row and in the
    history; the coal figure corrected once (revision 2), and one figure inserted by SQL without history."""
    region, industry = conn.execute(
        "SELECT (SELECT code FROM monitoring_regions WHERE level = 3 ORDER BY code LIMIT 1),"
        " (SELECT code FROM monitoring_industries WHERE code ~ '^[0-9]{3}$' ORDER BY code LIMIT 1)").fetchone()  # type: ignore[misc]
    unit = conn.execute("INSERT INTO monitoring_units (credit_code, name, region_code, industry_code, synthetic)"
                        " VALUES (%s, 'migration test (synthetic)', %s, %s, true)"
                        " RETURNING unit_id", (credit_code(), region, industry)).fetchone()[0]  # type: ignore[index]
    for month, item, quantity, unit_name, tco2, tce, ids, source, batch in FIRST:
        row = (unit, month, item, quantity, unit_name, tco2, tce, ids, source, batch)
        conn.execute("INSERT INTO monitoring_figures (unit_id, month, item, quantity, unit, tco2, tce, factor_ids,"
                     " source, batch_id, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                     (*row, WRITTEN))
        conn.execute("INSERT INTO monitoring_figure_revisions (unit_id, month, item, quantity, unit, tco2, tce,"
                     " factor_ids, source, batch_id, revision, recorded_by, recorded_at)"
                     " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1, 'importer', %s)", (*row, WRITTEN))
    corrected = (unit, date(2025, 1, 1), "coal", 44.0, "t", 83.6, 31.5, COAL, "rest", None)
    conn.execute("UPDATE monitoring_figures SET quantity = 44, tco2 = 83.6, tce = 31.5, source = 'rest',"
                 " batch_id = NULL, revision = 2, updated_at = %s WHERE unit_id = %s AND item = 'coal'",
                 (CORRECTED, unit))
    conn.execute("INSERT INTO monitoring_figure_revisions (unit_id, month, item, quantity, unit, tco2, tce,"
                 " factor_ids, source, batch_id, revision, recorded_by, recorded_at)"
                 " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 2, 'corrector', %s)", (*corrected, CORRECTED))
    conn.execute("INSERT INTO monitoring_figures (unit_id, month, item, quantity, unit, tco2, tce, factor_ids, source)"
                 " VALUES (%s, '2025-02-01', 'heat', 5, 'GJ', 0.5, 0.17, %s, 'file')", (unit, ["heat.default@x"]))
    return int(unit)


def _old_answers(conn: psycopg.Connection, unit: int) -> dict[str, Any]:
    """What the queries before 146 answered: each figure's history, the unit's figures, the monthly items."""
    history = {item: conn.execute(
        "SELECT revision, quantity, unit, tco2, tce, factor_ids, source, batch_id, recorded_by, recorded_at"
        " FROM monitoring_figure_revisions WHERE unit_id = %s AND item = %s ORDER BY month, revision",
        (unit, item)).fetchall() for item in ("electricity", "coal", "value_added", "heat")}
    figures = conn.execute("SELECT month, item, quantity, unit, tco2, tce, factor_ids, source, revision, updated_at"
                           " FROM monitoring_figures WHERE unit_id = %s ORDER BY month, item", (unit,)).fetchall()
    items = conn.execute("SELECT unit_id, month, item, quantity, tco2, factor_ids FROM monitoring_figures"
                         " WHERE unit_id = %s ORDER BY unit_id, month, item", (unit,)).fetchall()
    return {"history": history, "figures": figures, "items": items}


def _new_answers(url: str, unit: int) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            history = {}
            for item in ("electricity", "coal", "value_added", "heat"):
                month = date(2025, 2, 1) if item == "heat" else date(2025, 1, 1)
                rows = await queries.figure_history(conn, unit_id=unit, month=month, item=item)
                history[item] = [tuple(r.values()) for r in rows]
            figures = await queries.unit_figures(conn, unit_id=unit, start=date(2025, 1, 1), end=date(2025, 3, 1))
            items = await queries.monthly_items(conn, start=date(2025, 1, 1), end=date(2025, 3, 1), unit_ids=[unit])
            return {"history": history, "figures": [tuple(f.values()) for f in figures], "items": items}
    return asyncio.run(run())


def test_figures_read_the_same_after_the_history_and_factor_list_migrations(before_146: str) -> None:
    with psycopg.connect(before_146, autocommit=True) as conn:
        unit = _old_layout(conn)
        old = _old_answers(conn, unit)
        old_rows = conn.execute("SELECT count(*) FROM monitoring_figure_revisions").fetchone()
        applied = migrate(conn)
        new_rows = conn.execute("SELECT count(*) FROM monitoring_figure_revisions").fetchone()
        lists = conn.execute("SELECT count(*) FROM monitoring_factor_set_lists").fetchone()
    assert ([a.split("_", 1)[0] for a in applied if a < "148"], old_rows, new_rows, lists) == (
        ["146", "147"], (4,), (1,), (3,))
    assert _new_answers(before_146, unit) == old


@pytest.mark.parametrize("ids", [GRID, COAL, ["电网.华东@2023", "tce.x"], ["a"]])
def test_the_key_of_a_factor_list_is_the_same_in_python_and_in_the_database(database_url: str, ids: list[str]) -> None:
    with psycopg.connect(database_url) as conn:
        in_database = conn.execute("SELECT cf_monitoring_factor_set_key(%s::text[])", (ids,)).fetchone()
    assert in_database == (queries.factor_set_key(ids),)
