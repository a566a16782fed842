"""Retention on TimescaleDB (carbonflow/db/retention.py), run as the application role as the stream worker
runs it: through cf_apply_timescale_retention (093_least_privilege.timescale.sql), which re-sets the
background policies of 074_retention.timescale.sql and drops what is already older."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbonflow.db.compaction import CompactionSettings, compact_readings
from carbonflow.db.retention import RetentionSettings, apply_retention
from tests.timescale.conftest import APP, acting_as
from tests.timescale.seed import device, emission_rows, hot_batch, readings_rows

_RETENTION_JOBS = ("SELECT hypertable_name::text, job_id, (config ->> 'drop_after')::interval"
                   " FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' ORDER BY 1")


def _now() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _count(conn: psycopg.Connection, query: str, *args: object) -> int:
    return conn.execute(query, args).fetchone()[0]  # type: ignore[index]


def test_retention_as_the_application_role_drops_old_chunks_blocks_and_hourly_buckets(
        conn: psycopg.Connection) -> None:
    now = _now()
    raw_old, raw_kept = now - timedelta(days=600), now - timedelta(days=5)  # raw retention: 400 days
    hourly_old, hourly_kept = now - timedelta(days=2000), now - timedelta(days=600)  # hourly: 1830 days
    keys = device(conn, "ret-meter", ["kwh", "kw"])
    gateway = 2 * keys["kwh"]  # this test's own: rows are unique by (gateway, seq, ts) across points
    readings_rows(conn, [(gateway, i, t, keys["kwh"], 1.0, 0)
                         for i, t in enumerate((raw_old, raw_kept, hourly_old, hourly_kept))])
    emission_rows(conn, gateway, keys["kwh"], [hourly_old, hourly_kept])
    for t in (hourly_old, hourly_kept):  # the aggregate's buckets of the rows, before the rows go
        conn.execute("CALL refresh_continuous_aggregate('readings_hourly', %s, %s)", (t, t + timedelta(hours=1)))
    hot_batch(conn, "ret-meter", [(gateway + 1, 1, raw_old, keys["kw"], 1.0, 0)])
    hot_batch(conn, "ret-meter", [(gateway + 1, 2, raw_kept, keys["kw"], 2.0, 0)])
    with acting_as(conn, APP):
        compact_readings(conn, CompactionSettings(), point_keys=[keys["kw"]])  # both into blocks
        result = apply_retention(conn, RetentionSettings())
    assert result["raw_before"] == result["hourly_before"] + timedelta(days=1830 - 400)
    assert result["dropped"] and all(c.startswith("_timescaledb_internal.") for c in result["dropped"])
    assert result["deleted"]["reading_blocks"] >= 1
    kept = {
        "readings": [r[0] for r in conn.execute("SELECT ts FROM readings WHERE point_key = %s ORDER BY ts",
                                                (keys["kwh"],))],
        "emissions": [r[0] for r in conn.execute("SELECT ts FROM emissions WHERE point_key = %s ORDER BY ts",
                                                 (keys["kwh"],))],
        "readings_hourly": [r[0] for r in conn.execute(
            "SELECT bucket FROM readings_hourly WHERE point_key = %s ORDER BY bucket", (keys["kwh"],))],
        "reading_blocks": [r[0] for r in conn.execute("SELECT hour FROM reading_blocks WHERE point_key = %s",
                                                      (keys["kw"],))],
    }
    assert kept == {"readings": [raw_kept], "emissions": [hourly_kept],
                    "readings_hourly": [hourly_kept], "reading_blocks": [raw_kept]}
    horizon = dict(conn.execute("SELECT data, before FROM retention_horizon").fetchall())
    assert horizon["raw"] >= result["raw_before"] and horizon["hourly"] >= result["hourly_before"]


def test_retention_sets_the_policies_to_its_ages_and_keeps_their_jobs(conn: psycopg.Connection) -> None:
    before = conn.execute(_RETENTION_JOBS).fetchall()
    try:
        with acting_as(conn, APP):
            apply_retention(conn, RetentionSettings(raw_days=500, hourly_days=2000))
            changed = conn.execute(_RETENTION_JOBS).fetchall()
            apply_retention(conn, RetentionSettings(raw_days=500, hourly_days=2000))
            again = conn.execute(_RETENTION_JOBS).fetchall()
    finally:
        with acting_as(conn, APP):
            apply_retention(conn, RetentionSettings())  # the migrations' ages, for the other tests
    jobs = {rel: job for rel, job, _ in before}
    assert changed == again == [("emissions", jobs["emissions"], timedelta(days=2000)),
                                ("readings", jobs["readings"], timedelta(days=500)),
                                ("readings_hourly", jobs["readings_hourly"], timedelta(days=2000))]
    assert conn.execute(_RETENTION_JOBS).fetchall() == before


def test_retention_adds_a_policy_that_an_operator_removed(conn: psycopg.Connection) -> None:
    conn.execute("SELECT remove_retention_policy('emissions')")
    with acting_as(conn, APP):
        apply_retention(conn, RetentionSettings())
    ages = {rel: age for rel, _, age in conn.execute(_RETENTION_JOBS).fetchall()}
    assert ages == {"emissions": timedelta(days=1830), "readings": timedelta(days=400),
                    "readings_hourly": timedelta(days=1830)}


def test_the_timescale_retention_function_refuses_a_missing_cut_off(conn: psycopg.Connection) -> None:
    with acting_as(conn, APP), pytest.raises(psycopg.errors.NullValueNotAllowed, match="every age and cut-off"):
        conn.execute("SELECT cf_apply_timescale_retention('400 days', '1830 days', now(), NULL)")
