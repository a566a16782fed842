"""Compaction on TimescaleDB (carbonflow/db/compaction.py): hot batches move into blocks as on plain
PostgreSQL; rows of the `readings` hypertable stay, for TimescaleDB's own compression."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from carbonflow.db.compaction import CompactionSettings, compact_readings
from tests.timescale.conftest import APP, acting_as
from tests.timescale.seed import device, hot_batch, readings_rows


def test_compaction_moves_hot_batches_into_blocks_and_leaves_hypertable_rows(conn: psycopg.Connection) -> None:
    start: datetime = conn.execute("SELECT date_trunc('hour', now()) - interval '1 day'").fetchone()[0]  # type: ignore[index]
    keys = device(conn, "cmp-meter", ["kwh"])
    point, gateway = keys["kwh"], 2 * keys["kwh"]  # a gateway of this test's own
    rows = [(gateway, i, start + timedelta(minutes=10 * i), point, float(i), 0) for i in range(6)]
    first = [(gateway + 1, 10 + i, start + timedelta(hours=1, minutes=10 * i), point, 1.0, 0) for i in range(6)]
    second = [(gateway + 1, 20 + i, start + timedelta(hours=2, minutes=10 * i), point, 2.0, 1) for i in range(6)]
    readings_rows(conn, rows)
    hot_batch(conn, "cmp-meter", first)
    hot_batch(conn, "cmp-meter", second)
    span = (point, start, start + timedelta(hours=3))
    with acting_as(conn, APP):  # as the stream worker's leader runs it
        before = sorted(conn.execute("SELECT * FROM cf_point_readings(%s, %s, %s)", span).fetchall())
        result = compact_readings(conn, CompactionSettings())
        after = sorted(conn.execute("SELECT * FROM cf_point_readings(%s, %s, %s)", span).fetchall())
    left = conn.execute("SELECT (SELECT count(*) FROM readings WHERE point_key = %(p)s),"
                        " (SELECT count(*) FROM reading_batches WHERE device_id = 'cmp-meter'),"
                        " (SELECT array_agg(n ORDER BY hour) FROM reading_blocks WHERE point_key = %(p)s)",
                        {"p": point}).fetchone()
    assert result["skipped"].startswith("TimescaleDB compresses the rows of readings natively")
    assert left == (6, 0, [6, 6])  # rows stay in the hypertable; each batch's hour is one block
    assert after == before == sorted(rows + first + second)
