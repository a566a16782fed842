"""The TimescaleDB variants of the migrations, run by `migrate` as the owner role on a TimescaleDB server."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

import psycopg
import pytest

from carbonflow.db.migrate import migrate
from tests.timescale.conftest import APP, TimescaleServer, acting_as
from tests.timescale.seed import device, readings_rows

_POLICIES = ("SELECT proc_name::text, hypertable_name::text, config FROM timescaledb_information.jobs"
             " WHERE hypertable_name IS NOT NULL ORDER BY 1, 2")


def _policies(jobs: list[tuple[str, str, dict]]) -> list[tuple[str, str, dict]]:
    """The policies without TimescaleDB's internal ids (those differ from one server to the next)."""
    return [(proc, rel, {k: v for k, v in config.items() if not k.endswith("hypertable_id")})
            for proc, rel, config in jobs]


def test_migrate_picks_every_timescale_variant_and_no_plain_one(timescale: TimescaleServer) -> None:
    files = sorted(e.name for e in resources.files("carbonflow.db").joinpath("migrations").iterdir())
    timescale_variants = [f for f in files if f.endswith(".timescale.sql")]
    assert timescale_variants, "the migrations have TimescaleDB variants"
    assert [f for f in timescale.applied if f in timescale_variants] == timescale_variants
    assert not [f for f in timescale.applied if f.endswith(".plain.sql")]
    assert len(timescale.applied) == len({f.split("_", 1)[0] for f in files})  # every version, once


def test_the_migrations_draw_no_warning_from_timescaledb(timescale: TimescaleServer) -> None:
    assert timescale.warnings == []


def test_readings_and_emissions_are_hypertables_of_day_and_week_chunks(conn: psycopg.Connection) -> None:
    chunks = dict(conn.execute(
        "SELECT hypertable_name::text, time_interval FROM timescaledb_information.dimensions"
        " WHERE column_name = 'ts' ORDER BY 1").fetchall())
    assert chunks == {"readings": timedelta(days=1), "emissions": timedelta(days=7)}


def test_compressed_readings_are_segmented_by_point_and_ordered_by_every_key_column(conn: psycopg.Connection) -> None:
    settings = conn.execute(
        "SELECT attname::text, segmentby_column_index, orderby_column_index FROM"
        " timescaledb_information.compression_settings WHERE hypertable_name = 'readings'"
        " ORDER BY segmentby_column_index NULLS LAST, orderby_column_index").fetchall()
    assert settings == [("point_key", 1, None), ("ts", None, 1), ("gateway_key", None, 2), ("seq", None, 3)]


def test_the_migrations_schedule_compression_refresh_and_retention_policies(timescale: TimescaleServer) -> None:
    assert _policies(timescale.jobs) == [
        ("policy_compression", "readings", {"compress_after": "7 days"}),
        ("policy_compression", "readings_hourly", {"compress_after": "90 days"}),
        ("policy_refresh_continuous_aggregate", "readings_hourly",
         {"start_offset": "30 days", "end_offset": "01:00:00"}),
        ("policy_retention", "emissions", {"drop_after": "1830 days"}),
        ("policy_retention", "readings", {"drop_after": "400 days"}),
        ("policy_retention", "readings_hourly", {"drop_after": "1830 days"}),
    ]


def test_the_hourly_aggregate_is_a_continuous_aggregate_over_readings(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT hypertable_name::text, materialized_only, compression_enabled"
                       " FROM timescaledb_information.continuous_aggregates WHERE view_name = 'readings_hourly'"
                       ).fetchone()
    assert row == ("readings", True, True)


def test_migrate_run_again_applies_nothing_and_keeps_the_policies(conn: psycopg.Connection) -> None:
    before = conn.execute(_POLICIES).fetchall()
    assert migrate(conn, app_role=APP) == []
    assert conn.execute(_POLICIES).fetchall() == before


def test_the_application_role_stores_into_new_chunks_and_reads_compressed_ones(conn: psycopg.Connection) -> None:
    keys = device(conn, "mig-app-role", ["kw"])
    # a day no other test stores into: the application role's insert creates its chunk
    day = conn.execute("SELECT date_trunc('day', now()) - interval '200 days'").fetchone()[0]  # type: ignore[index]
    with acting_as(conn, APP):
        readings_rows(conn, [(1, i, day + timedelta(hours=i), keys["kw"], float(i), 0) for i in range(3)])
    conn.execute("SELECT compress_chunk(c) FROM show_chunks('readings', newer_than => %s::timestamptz,"
                 " older_than => %s::timestamptz) c", (day, day + timedelta(days=1)))
    with acting_as(conn, APP):
        stored = conn.execute("SELECT sum(value) FROM cf_point_readings(%s, %s, %s)",
                              (keys["kw"], day, day + timedelta(days=1))).fetchone()[0]  # type: ignore[index]
        hourly = conn.execute("SELECT count(*) FROM readings_hourly").fetchone()[0]  # type: ignore[index]
    compressed = conn.execute("SELECT bool_and(is_compressed) FROM timescaledb_information.chunks"
                              " WHERE hypertable_name = 'readings' AND range_start = %s", (day,)).fetchone()[0]  # type: ignore[index]
    assert (stored, compressed, hourly >= 0) == (3.0, True, True)


def test_the_application_role_may_not_drop_chunks_or_change_policies_itself(conn: psycopg.Connection) -> None:
    with acting_as(conn, APP):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT drop_chunks('readings', older_than => now() - interval '10 years')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT remove_retention_policy('readings')")
