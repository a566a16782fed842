"""The background policies of 002 and 074 (.timescale.sql), each run once by hand with `CALL run_job`: the
test server has no job scheduler, so when they run is not tested, only what one run does."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from tests.timescale.conftest import APP, acting_as
from tests.timescale.seed import device, readings_rows


def _run_policy(conn: psycopg.Connection, procedure: str, relation: str) -> None:
    job = conn.execute("SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s"
                       " AND hypertable_name = %s", (procedure, relation)).fetchone()
    assert job is not None, f"no {procedure} on {relation}"
    conn.execute("CALL run_job(%s)", job)


def _days_ago(conn: psycopg.Connection, days: int) -> datetime:
    return conn.execute("SELECT date_trunc('hour', now()) - make_interval(days => %s)", (days,)).fetchone()[0]  # type: ignore[index]


def _compressed(conn: psycopg.Connection, relation: str, at: datetime) -> bool | None:
    """Whether the chunk of `relation` (a hypertable or the aggregate) holding `at` is compressed; None: no chunk."""
    row = conn.execute("SELECT is_compressed FROM timescaledb_information.chunks c"
                       " LEFT JOIN timescaledb_information.continuous_aggregates a"
                       "   ON a.materialization_hypertable_name = c.hypertable_name"
                       " WHERE COALESCE(a.view_name, c.hypertable_name) = %s"
                       " AND c.range_start <= %s AND c.range_end > %s", (relation, at, at)).fetchone()
    return None if row is None else row[0]


def test_the_refresh_policy_fills_the_hourly_aggregate_with_the_readings_figures(conn: psycopg.Connection) -> None:
    start = _days_ago(conn, 2)
    keys = device(conn, "pol-hourly", ["kw"])
    point, gateway = keys["kw"], 2 * keys["kw"]
    # two hours: good, uncertain (estimated), bad and empty readings
    qualities, values = [0, 1, 2, 0, 0, 1, 0, 2, 0], [5.0, 7.0, 900.0, None, 3.0, 4.0, 9.0, 1.0, 2.0]
    readings = [(gateway, i, start + timedelta(minutes=13 * i), point, v, q)
                for i, (v, q) in enumerate(zip(values, qualities, strict=True))]
    readings_rows(conn, readings)
    _run_policy(conn, "policy_refresh_continuous_aggregate", "readings_hourly")
    with acting_as(conn, APP):  # the services read the aggregate
        hours = conn.execute("SELECT bucket, n, n_valid, n_uncertain, n_bad, sum, min, max, worst_quality"
                             " FROM readings_hourly WHERE point_key = %s ORDER BY bucket", (point,)).fetchall()
    expected = []
    for hour in (start, start + timedelta(hours=1)):
        inside = [r for r in readings if hour <= r[2] < hour + timedelta(hours=1)]
        valid = [r[4] for r in inside if r[5] < 2 and r[4] is not None]
        expected.append((hour, len(inside), len(valid), sum(r[5] == 1 for r in inside), sum(r[5] == 2 for r in inside),
                         sum(valid), min(valid), max(valid), max(r[5] for r in inside)))
    assert hours == expected


def test_the_compression_policy_compresses_readings_older_than_a_week(conn: psycopg.Connection) -> None:
    old, recent = _days_ago(conn, 10), _days_ago(conn, 2)
    keys = device(conn, "pol-compress", ["kw"])
    point, gateway = keys["kw"], 2 * keys["kw"]
    readings_rows(conn, [(gateway, 1, old, point, 1.0, 0), (gateway, 2, recent, point, 2.0, 0)])
    _run_policy(conn, "policy_compression", "readings")
    with acting_as(conn, APP):
        stored = conn.execute("SELECT array_agg(value ORDER BY ts) FROM cf_point_readings(%s, %s, now())",
                              (point, old)).fetchone()[0]  # type: ignore[index]
    assert (_compressed(conn, "readings", old), _compressed(conn, "readings", recent), stored) == (True, False, [1.0, 2.0])


def test_the_retention_policy_drops_readings_chunks_older_than_400_days(conn: psycopg.Connection) -> None:
    old, kept = _days_ago(conn, 450), _days_ago(conn, 350)
    keys = device(conn, "pol-retain", ["kw"])
    point, gateway = keys["kw"], 2 * keys["kw"]
    readings_rows(conn, [(gateway, 1, old, point, 1.0, 0), (gateway, 2, kept, point, 2.0, 0)])
    _run_policy(conn, "policy_retention", "readings")
    left = [r[0] for r in conn.execute("SELECT ts FROM readings WHERE point_key = %s", (point,))]
    assert (left, _compressed(conn, "readings", old)) == ([kept], None)


def test_the_aggregate_policies_compress_its_buckets_after_90_days_and_drop_them_after_1830(
        conn: psycopg.Connection) -> None:
    ancient, old, recent = _days_ago(conn, 2000), _days_ago(conn, 100), _days_ago(conn, 3)
    keys = device(conn, "pol-aggregate", ["kw"])
    point, gateway = keys["kw"], 2 * keys["kw"]
    readings_rows(conn, [(gateway, i, t, point, float(i), 0) for i, t in enumerate((ancient, old, recent))])
    for t in (ancient, old, recent):  # beyond the refresh policy's 30 days: refreshed by hand
        conn.execute("CALL refresh_continuous_aggregate('readings_hourly', %s, %s)", (t, t + timedelta(hours=1)))
    _run_policy(conn, "policy_compression", "readings_hourly")
    _run_policy(conn, "policy_retention", "readings_hourly")
    buckets = [r[0] for r in conn.execute("SELECT bucket FROM readings_hourly WHERE point_key = %s ORDER BY 1",
                                          (point,))]
    assert buckets == [old, recent]
    assert (_compressed(conn, "readings_hourly", old), _compressed(conn, "readings_hourly", recent)) == (True, False)
