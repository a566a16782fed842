"""Figures and unit totals name registered units (migration 139 checks this per statement, not per row): a figure
of an unknown unit is refused with a message, a deleted unit takes its figures and totals along, a unit id
never changes."""

from __future__ import annotations

import asyncio
from datetime import date

import psycopg
import pytest

from api.monitoring import queries
from tests.api.test_monitoring import credit_code


def _new_unit(db: psycopg.Connection) -> int:
    region, industry = db.execute(
        "SELECT (SELECT code FROM monitoring_regions WHERE level = 3 ORDER BY code LIMIT 1),"
        " (SELECT code FROM monitoring_industries WHERE code ~ '^[0-9]{3}$' ORDER BY code LIMIT 1)").fetchone()
    row = db.execute("INSERT INTO monitoring_units (credit_code, name, region_code, industry_code, synthetic)"
                     " VALUES (%s, 'unit check test (synthetic)', %s, %s, true) RETURNING unit_id",
                     (credit_code(), region, industry)).fetchone()
    assert row is not None
    return int(row[0])


def _store(database_url: str, figures: list[queries.Figure]) -> int:
    async def run() -> int:
        async with await psycopg.AsyncConnection.connect(database_url) as conn, conn.transaction():
            batch = await queries.create_batch(conn, source="file", origin="unit check test", sha256=None, by="test")
            return await queries.store_figures(conn, figures=figures, source="file", batch_id=batch, by="test")
    return asyncio.run(run())


def test_a_figure_of_an_unregistered_unit_is_refused_and_nothing_is_stored(database_url: str,
                                                                             db: psycopg.Connection) -> None:
    known = _new_unit(db)
    unknown = int(db.execute("SELECT COALESCE(max(unit_id), 0) + 1000 FROM monitoring_units").fetchone()[0])  # type: ignore[index]
    figures: list[queries.Figure] = [(known, date(2024, 1, 1), "electricity", 10.0, "MWh", 5.0, 1.2, ()),
                                     (unknown, date(2024, 1, 1), "electricity", 10.0, "MWh", 5.0, 1.2, ())]
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match=f"unit {unknown} is not registered"):
        _store(database_url, figures)
    stored = db.execute("SELECT count(*) FROM monitoring_figures WHERE unit_id IN (%s, %s)",
                        (known, unknown)).fetchone()
    assert stored == (0,)


def _coal_totals(db: psycopg.Connection, region: str, industry: str) -> dict[tuple[str, str], tuple[float, int]]:
    """The region totals of coal in February 2024 and in 2024 that the unit's figure adds to (rows with figures)."""
    rows = db.execute("SELECT grain, industry_code, quantity, figures FROM monitoring_region_totals"
                      " WHERE region_code = %s AND industry_code IN (%s, '*') AND item = 'coal'"
                      " AND period IN ('2024-02-01', '2024-01-01') AND figures <> 0", (region, industry)).fetchall()
    return {(grain, code): (round(quantity, 6), figures) for grain, code, quantity, figures in rows}


def test_deleting_a_unit_deletes_its_figures_and_takes_them_out_of_the_totals(database_url: str,
                                                                             db: psycopg.Connection) -> None:
    unit = _new_unit(db)
    region, industry = db.execute("SELECT region_code, industry_code FROM monitoring_units WHERE unit_id = %s",
                                  (unit,)).fetchone()  # type: ignore[misc]
    before = _coal_totals(db, region, industry)
    assert _store(database_url, [(unit, date(2024, 2, 1), "coal", 3.0, "t", 6.0, 2.1, ())]) == 1
    assert _coal_totals(db, region, industry) != before
    db.execute("DELETE FROM monitoring_units WHERE unit_id = %s", (unit,))
    assert _coal_totals(db, region, industry) == before
    left = [db.execute(f"SELECT count(*) FROM {table} WHERE unit_id = %s", (unit,)).fetchone()[0]  # type: ignore[index]
            for table in ("monitoring_figures", "monitoring_unit_totals", "monitoring_figure_revisions")]
    assert left == [0, 0, 1]


def test_a_unit_id_cannot_change(db: psycopg.Connection) -> None:
    unit = _new_unit(db)
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="cannot change"):
        db.execute("UPDATE monitoring_units SET unit_id = unit_id + 100000 WHERE unit_id = %s", (unit,))
