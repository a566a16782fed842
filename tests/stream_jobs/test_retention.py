"""Retention on plain PostgreSQL: old monthly partitions of raw readings are dropped, hourly data kept five years.

Runs in a database of its own: dropping partitions would take other tests' readings with them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbon_domain.schemas import DeviceBatch, DeviceColumns, Reading, device_columns
from carbonflow.cli import main
from carbonflow.db.compaction import CompactionSettings, compact_readings
from carbonflow.db.retention import (
    RetentionSettings,
    _delete_blocks,
    apply_retention,
    retention_settings,
)
from stream_jobs import sink as sink_module
from stream_jobs.recompute import RecomputeRefused, recompute_site
from stream_jobs.sink import ReadingSink, load_factor_library

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
OLD = NOW - timedelta(days=600)  # in a monthly partition (migrate makes 24 months back)
ANCIENT = NOW - timedelta(days=1000)  # before every partition: in the default one
RECENT = NOW - timedelta(days=5)
DEVICE, SITE = "ret-meter", "ret-site"


@pytest.fixture
def scratch_url(scratch_url: str) -> str:
    """The scratch database (conftest.py) with a metered site and its counter at ANCIENT, OLD and RECENT."""
    with psycopg.connect(scratch_url) as conn:
        conn.execute("INSERT INTO enterprises VALUES ('ret-ent', 'Retention', 'CN', NULL)")
        conn.execute("INSERT INTO sites VALUES (%s, 'ret-ent', 'Retention site', NULL, NULL)", (SITE,))
        conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (DEVICE, SITE))
        conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 'kWh', 'counter',"
                     " 'electricity')", (DEVICE,))
    asyncio.run(_write(scratch_url))
    return scratch_url


def _record(block: int, start: datetime) -> DeviceColumns:
    """The Kafka record of three hours of the counter (every 20 minutes) from `start`."""
    readings = [Reading(seq=100 * block + i, device=DEVICE, point="kwh", value=1000.0 * block + 10.0 * i,
                        unit="kWh", kind="counter", source_ts=start + timedelta(minutes=20 * i),
                        gateway_ts=start + timedelta(minutes=20 * i)) for i in range(10)]
    return device_columns("ret-gw", DEVICE, start, False, readings)


async def _write(url: str) -> None:
    """Three hours of a counter (every 20 minutes) at each of ANCIENT, OLD and RECENT."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        sink = ReadingSink(conn, await load_factor_library(conn))
        for block, start in enumerate((ANCIENT, OLD, RECENT)):
            await sink.write([_record(block, start)])


def _counts(conn: psycopg.Connection, start: datetime) -> dict[str, int]:
    end = start + timedelta(hours=4)
    return {table: conn.execute(f"SELECT count(*) FROM {table} WHERE {column} >= %s AND {column} < %s",
                                (start, end)).fetchone()[0]  # type: ignore[index]
            for table, column in (("all_readings", "ts"), ("rollup_1m", "bucket"), ("rollup_1h", "bucket"),
                                  ("emissions", "ts"), ("scope_rollup_1h", "bucket"))}


def test_raw_partitions_older_than_the_raw_retention_are_dropped_and_hourly_data_kept(scratch_url: str) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        before = {t: _counts(conn, t) for t in (ANCIENT, OLD, RECENT)}
        result = apply_retention(conn, RetentionSettings())
        after = {t: _counts(conn, t) for t in (ANCIENT, OLD, RECENT)}
        horizon = conn.execute("SELECT data, before FROM retention_horizon ORDER BY 1").fetchall()
    assert result["created"] == 0  # migrate made them already
    assert f"readings_{OLD:%Y%m}" in result["dropped"] and not any(d.startswith("emissions") for d in result["dropped"])
    for t in (ANCIENT, OLD):
        assert after[t] == {**before[t], "all_readings": 0, "rollup_1m": 0}
    assert after[RECENT] == before[RECENT] and before[OLD]["all_readings"] == 10 and before[OLD]["emissions"] == 10
    assert horizon == [("hourly", result["hourly_before"]), ("raw", result["raw_before"])]


def test_hourly_data_goes_only_after_the_hourly_retention(scratch_url: str) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        later = OLD + timedelta(days=1830 + 40)  # OLD's whole month is past five years then, RECENT is not
        result = apply_retention(conn, RetentionSettings(), now=later)
        old, recent = _counts(conn, OLD), _counts(conn, RECENT)
    assert f"emissions_{OLD:%Y%m}" in result["dropped"] and result["created"] == 9  # 3 months x 3 tables
    assert old == {"all_readings": 0, "rollup_1m": 0, "rollup_1h": 0, "emissions": 0, "scope_rollup_1h": 0}
    assert recent["rollup_1h"] == 4 and recent["emissions"] == 10 and recent["scope_rollup_1h"] == 16


def test_compacted_hours_go_with_the_raw_retention_like_raw_rows(scratch_url: str) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        moved = compact_readings(conn, CompactionSettings(), now=NOW)["readings"]
        blocks = {t: conn.execute("SELECT COALESCE(sum(n), 0) FROM reading_blocks WHERE hour >= %s AND hour < %s",
                                  (t - timedelta(hours=1), t + timedelta(hours=4))).fetchone()[0]
                  for t in (ANCIENT, OLD, RECENT)}
        result = apply_retention(conn, RetentionSettings())
        kept = {t: conn.execute("SELECT COALESCE(sum(n), 0) FROM reading_blocks WHERE hour >= %s AND hour < %s",
                                (t - timedelta(hours=1), t + timedelta(hours=4))).fetchone()[0]
                for t in (ANCIENT, OLD, RECENT)}
    # ANCIENT's blocks sit in the default partition, OLD's in their monthly one
    assert moved == 30 and blocks == {ANCIENT: 10, OLD: 10, RECENT: 10}
    assert f"reading_blocks_{OLD:%Y%m}" in result["dropped"] and kept == {ANCIENT: 0, OLD: 0, RECENT: 10}


def _block_hours(conn: psycopg.Connection) -> list[datetime]:
    return [r[0] for r in conn.execute("SELECT hour FROM reading_blocks ORDER BY hour").fetchall()]


def test_a_compacted_hour_straddling_the_raw_cut_off_is_kept_until_all_of_it_is_older(scratch_url: str) -> None:
    # ANCIENT's readings (every 20 minutes for 3 hours) sit in the default partition's blocks of 4 hours
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        compact_readings(conn, CompactionSettings(), now=NOW)
        hours = [ANCIENT + timedelta(hours=h) for h in range(4)]
        assert _block_hours(conn)[:4] == hours
        apply_retention(conn, RetentionSettings(), now=ANCIENT + timedelta(days=400, hours=2, minutes=30))
        assert _block_hours(conn)[:2] == hours[2:]  # the hour 2:00-3:00 holds readings after the cut-off at 2:30
        apply_retention(conn, RetentionSettings(), now=ANCIENT + timedelta(days=400, hours=3))
        assert _block_hours(conn)[:1] == hours[3:]  # an hour ending exactly at the cut-off goes


def test_the_block_delete_of_timescaledb_spares_hours_that_end_after_the_cut_off(scratch_url: str) -> None:
    # TimescaleDB's reading_blocks is one plain table: the statement of its branch, run here on the whole
    # partitioned table, must leave every block with a reading at or after the cut-off
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        compact_readings(conn, CompactionSettings(), now=NOW)
        deleted = _delete_blocks(conn, "reading_blocks", OLD + timedelta(hours=2))
        kept = _block_hours(conn)
    assert deleted == 6  # ANCIENT's 4 hours and OLD's first 2
    assert kept == [OLD + timedelta(hours=h) for h in (2, 3)] + [RECENT + timedelta(hours=h) for h in range(4)]


async def test_recompute_refuses_a_period_whose_raw_readings_were_dropped(scratch_url: str) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        apply_retention(conn, RetentionSettings())
    async with await psycopg.AsyncConnection.connect(scratch_url, autocommit=True) as conn:
        with pytest.raises(RecomputeRefused, match="dropped by retention"):
            await recompute_site(conn, site=SITE, start=OLD - timedelta(days=1), end=OLD + timedelta(days=1))
        cur = await conn.execute("SELECT count(*) FROM emissions WHERE ts >= %s AND ts < %s",
                                 (OLD, OLD + timedelta(hours=4)))
        kept = (await cur.fetchone())[0]  # type: ignore[index]
        with pytest.raises(RecomputeRefused):  # RECENT's first interval starts at OLD's last reading
            await recompute_site(conn, site=SITE, start=RECENT - timedelta(hours=1), end=NOW)
        result = await recompute_site(conn, site=SITE, start=RECENT + timedelta(minutes=10), end=NOW)
    assert (kept, result["tco2_after"]) == (10, pytest.approx(result["tco2_before"]))
    assert result["tco2_after"] > 0


@pytest.mark.parametrize(("env", "message"), [
    ({"CARBONFLOW_RAW_RETENTION_DAYS": "a year"}, "CARBONFLOW_RAW_RETENTION_DAYS must be a whole number"),
    ({"CARBONFLOW_HOURLY_RETENTION_DAYS": "365"}, "at least 1827 days"),
    ({"CARBONFLOW_RAW_RETENTION_DAYS": "2000"}, "shorter than the raw retention"),
    ({"CARBONFLOW_RAW_RETENTION_DAYS": "0"}, "at least 1 day"),
])
def test_bad_retention_settings_are_refused_with_a_reason(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        retention_settings(env)


def test_retention_defaults_keep_hourly_data_five_years() -> None:
    assert retention_settings({}) == RetentionSettings(raw_days=400, hourly_days=1830)


def test_db_retain_command_reports_what_it_dropped(scratch_url: str, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    info = psycopg.conninfo.conninfo_to_dict(scratch_url)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
                                       f"{info.get('port', 5432)}/{info['dbname']}")
    assert main(["db", "retain", "--raw-days", "500"]) == 0
    out = capsys.readouterr().out
    assert f"readings_{OLD:%Y%m}" in out and "rollup_1m" in out
    assert main(["db", "retain", "--hourly-days", "30"]) == 2
    assert "at least 1827 days" in capsys.readouterr().err


def _hourly(conn: psycopg.Connection) -> list[tuple]:
    """Everything the hourly data holds (kept five years), to compare before and after a replay."""
    return (conn.execute("SELECT * FROM rollup_1h ORDER BY point_key, bucket").fetchall()
            + conn.execute("SELECT ts, tco2 FROM emissions ORDER BY ts").fetchall())


async def test_a_record_replayed_after_retention_dropped_its_readings_is_not_stored_or_counted_again(
        scratch_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    later = RECENT + timedelta(days=401)  # RECENT's raw readings are past the raw cut-off, its hours are kept
    async with await psycopg.AsyncConnection.connect(scratch_url, autocommit=True) as conn:
        sink = ReadingSink(conn, await load_factor_library(conn))
        await sink.write([_record(2, RECENT)])  # a replay before retention: already stored, and the sink has
        # read the horizon (none yet) that it will re-read below
        with psycopg.connect(scratch_url, autocommit=True) as sync:
            apply_retention(sync, RetentionSettings(), now=later)
            hourly, raw = _hourly(sync), _counts(sync, RECENT)["all_readings"]
        monkeypatch.setattr(sink_module, "_HORIZON_TTL_S", 0.0)  # the few minutes until it is re-read have passed
        written = sink.readings_written
        with caplog.at_level(logging.WARNING, logger="stream_jobs.sink"):
            await sink.write([_record(2, RECENT)])
    with psycopg.connect(scratch_url, autocommit=True) as sync:
        assert (_hourly(sync), _counts(sync, RECENT)["all_readings"]) == (hourly, raw)
        assert sync.execute("SELECT count(*) FROM reading_batches").fetchone() == (0,)
    assert (raw, sink.readings_too_old, sink.readings_written - written) == (0, 10, 0)
    horizon = (later - timedelta(days=400)).isoformat()
    assert [r.getMessage() for r in caplog.records if "raw retention horizon" in r.getMessage()] == [
        (f"dropped 10 readings older than the raw retention horizon {horizon}: their period was deleted by"
         " retention, so they are not stored or counted again")]


async def test_a_record_straddling_the_raw_horizon_stores_only_its_readings_after_it(scratch_url: str) -> None:
    with psycopg.connect(scratch_url, autocommit=True) as sync:
        horizon = apply_retention(sync, RetentionSettings(), now=NOW)["raw_before"]
    readings = [Reading(seq=500 + i, device=DEVICE, point="temp", value=20.0 + i, unit="degC", kind="gauge",
                        source_ts=horizon + timedelta(minutes=m), gateway_ts=horizon + timedelta(minutes=m))
                for i, m in enumerate((-10, 0, 10))]
    async with await psycopg.AsyncConnection.connect(scratch_url, autocommit=True) as conn:
        sink = ReadingSink(conn, await load_factor_library(conn))
        await sink.write([DeviceBatch(gateway="ret-gw", device=DEVICE, received_at=NOW, readings=readings)])
    with psycopg.connect(scratch_url, autocommit=True) as sync:
        stored = sync.execute("SELECT r.ts, r.value FROM all_readings r JOIN points p USING (point_key)"
                              " WHERE p.point = 'temp' ORDER BY r.ts").fetchall()
    assert stored == [(horizon, 21.0), (horizon + timedelta(minutes=10), 22.0)]
    assert (sink.readings_too_old, sink.readings_written) == (1, 2)
