"""Compaction of closed hours into blocks (carbonflow/db/compaction.py) against a real PostgreSQL: every reading
kept exactly once, replays after compaction add nothing, and every reader of raw readings answers the same."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from api.accounting.queries import metered_aggregates
from api.emissions import scope_totals
from api.registry import queries as registry_queries
from api.registry.hierarchy_queries import _point_data
from api.telemetry import queries
from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, PointKind, Quality, Reading
from carbonflow.cli import main
from carbonflow.db.compaction import (
    COMPACTION_LOCK,
    CompactionSettings,
    compact_readings,
    compaction_settings,
)
from stream_jobs.alarms import RULES, AlarmSettings
from stream_jobs.recompute import recompute_site
from stream_jobs.sink import ReadingSink, load_factor_library
from tests.conftest import owner_url

# closed hours, well behind any horizon; starts off the hour so blocks begin and end mid-stretch
T0 = datetime(2026, 11, 20, 7, 41, 13, tzinfo=UTC)
HOURS = 5
NOW = T0 + timedelta(days=3)  # the compaction's "now": every seeded hour is closed
END = T0 + timedelta(hours=HOURS)


@dataclass(frozen=True)
class Plant:
    enterprise: str
    site: str
    device: str
    gateway: str

    def keys(self, conn: psycopg.Connection) -> list[int]:
        return [r[0] for r in conn.execute("SELECT point_key FROM points WHERE device_id = %s ORDER BY 1",
                                           (self.device,)).fetchall()]


def _quality(i: int) -> Quality:
    return Quality.BAD if i % 17 == 0 else Quality.UNCERTAIN if i % 11 == 0 else Quality.GOOD


def _batches(plant: Plant, start: int = 0, stop: int = HOURS * 100) -> list[DeviceBatch]:
    """A gauge every 36 s, an energy counter every 3 min and a production counter every 6 min, in batches of
    25 steps (one Kafka record each)."""
    out = []
    for first in range(start, stop, 25):
        readings = []
        for i in range(first, min(stop, first + 25)):
            ts = T0 + timedelta(seconds=36 * i, microseconds=i)
            q = _quality(i)
            readings.append(Reading(seq=3 * i, device=plant.device, point="kw", unit="kW", kind=PointKind.GAUGE,
                                    value=None if q is Quality.BAD and i % 2 else 100 + (i * 13) % 29 * 0.41,
                                    quality=q, reason=None if q is Quality.GOOD else "test", source_ts=ts,
                                    gateway_ts=ts))
            if i % 5 == 0:
                readings.append(Reading(seq=3 * i + 1, device=plant.device, point="kwh", unit="kWh",
                                        kind=PointKind.COUNTER, value=1000 + i * 2.5, source_ts=ts, gateway_ts=ts))
            if i % 10 == 0:
                readings.append(Reading(seq=3 * i + 2, device=plant.device, point="steel_t", unit="t",
                                        kind=PointKind.COUNTER, value=50 + i * 0.125, source_ts=ts, gateway_ts=ts))
        out.append(DeviceBatch(gateway=plant.gateway, device=plant.device, received_at=NOW, readings=readings))
    return out


async def _store(url: str, batches: list[DeviceBatch]) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        sink = ReadingSink(conn, await load_factor_library(conn))
        for batch in batches:
            await sink.write([batch])


def _plant(url: str) -> Plant:
    tag = uuid.uuid4().hex[:8]
    plant = Plant(f"cp-ent-{tag}", f"cp-site-{tag}", f"cp-dev-{tag}", f"cp-gw-{tag}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Compaction', 'CN')",
                     (plant.enterprise,))
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Compaction')",
                     (plant.site, plant.enterprise))
        conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, 'melt')",
                     (plant.device, plant.site))
        conn.execute(
            "INSERT INTO points (device_id, point, unit, kind, activity, range_low, range_high) VALUES"
            " (%(d)s, 'kw', 'kW', 'gauge', NULL, 0, 105), (%(d)s, 'kwh', 'kWh', 'counter', 'electricity', NULL, NULL),"
            " (%(d)s, 'steel_t', 't', 'counter', 'production:steel', NULL, NULL)", {"d": plant.device})
    asyncio.run(_store(url, _batches(plant)))
    return plant


def _compact(url: str, plant: Plant, **kwargs: Any) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        return compact_readings(conn, CompactionSettings(), now=NOW, point_keys=plant.keys(conn), **kwargs)


def _rounded(value: Any) -> Any:
    """Floats to 9 decimals: sums over rows read in another order differ in their last bits."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def _counts(url: str, plant: Plant) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        keys = plant.keys(conn)
        hot, blocks, in_blocks = conn.execute(
            "SELECT (SELECT count(*) FROM readings WHERE point_key = ANY(%(k)s))"
            " + (SELECT count(*) FROM reading_batches b CROSS JOIN LATERAL unnest(b.point_keys) AS u(pk)"
            "    WHERE u.pk = ANY(%(k)s)),"
            " (SELECT count(*) FROM reading_blocks WHERE point_key = ANY(%(k)s)),"
            " (SELECT COALESCE(sum(n), 0) FROM reading_blocks WHERE point_key = ANY(%(k)s))", {"k": keys}).fetchone()
        distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (r.gateway_key, r.seq, r.ts)) FROM points p"
            " CROSS JOIN LATERAL cf_point_readings(p.point_key, '-infinity', 'infinity') r WHERE p.device_id = %s",
            (plant.device,)).fetchone()
    return {"hot": hot, "blocks": blocks, "in_blocks": int(in_blocks), "stored": distinct[0], "distinct": distinct[1]}


def _derived(url: str, plant: Plant) -> dict[str, Any]:
    """What the stream job derived from the readings: rollups, emissions, activity intervals, scope rollups."""
    with psycopg.connect(url) as conn:
        keys = plant.keys(conn)
        return _rounded({
            "rollup_1m": conn.execute("SELECT * FROM rollup_1m WHERE point_key = ANY(%s) ORDER BY 1, 2", (keys,)).fetchall(),
            "rollup_1h": conn.execute("SELECT * FROM rollup_1h WHERE point_key = ANY(%s) ORDER BY 1, 2", (keys,)).fetchall(),
            "emissions": conn.execute("SELECT ts, start_ts, quantity, tco2, quality FROM emissions WHERE site_id = %s"
                                      " ORDER BY ts", (plant.site,)).fetchall(),
            "activity": conn.execute("SELECT ts, start_ts, quantity, quality FROM activity_intervals"
                                     " WHERE site_id = %s ORDER BY ts", (plant.site,)).fetchall(),
            "scopes": conn.execute(
                "SELECT level, scope_id, bucket, activity, quantity, tco2, intervals FROM scope_rollup_1h"
                " WHERE scope_id = ANY(%s) ORDER BY 1, 2, 3, 4",
                ([plant.device, plant.site, f"{plant.site}/melt", plant.enterprise],)).fetchall(),
        })


async def _readers(url: str, plant: Plant) -> dict[str, Any]:
    """The answers of every reader of raw readings over the seeded stretch."""
    out: dict[str, Any] = {}
    sites = [plant.site]
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        # edges off the minute and hour, so the bucketed series read raw readings for their partial buckets
        lo, hi = T0 + timedelta(minutes=3, seconds=7), END - timedelta(minutes=11, seconds=3)
        for point in ("kw", "kwh"):
            for interval in ("raw", "1m", "1h", "1d"):
                out[f"series {point} {interval}"] = await queries.point_series(
                    conn, device=plant.device, point=point, start=lo, end=hi, interval=interval, sites=sites)
            for interval in ("1m", "1h"):
                found = await queries.export_point(conn, device=plant.device, point=point, start=lo, end=hi,
                                                   sites=sites)
                assert found is not None
                out[f"export {point} {interval}"] = [row async for rows in queries.export_rows(
                    conn, point_key=found["point_key"], kind=found["kind"], start=lo, end=hi, interval=interval,
                    tz="Asia/Shanghai") for row in rows]
        out["production"] = await scope_totals.site_production(conn, site=plant.site, start=lo, end=hi)
        window = NOW - T0 + timedelta(days=400)  # reaches back over the seeded hours from the real now
        out["latest"] = await queries.latest_values(conn, within=window, sites=sites)
        out["latest points"] = await queries.latest_point_values(conn, within=window, sites=sites)
        health = await registry_queries.device_health(conn, window=window, sites=sites)
        out["health"] = health["devices"]
        out["metered"] = [asdict(m) for m in await metered_aggregates(
            conn, enterprise=plant.enterprise, start=T0 - timedelta(days=1), end=END + timedelta(days=1))]
        out["metered inner"] = [asdict(m) for m in await metered_aggregates(
            conn, enterprise=plant.enterprise, start=lo, end=hi)]
        cur = await conn.execute("SELECT point_key FROM points WHERE device_id = %s", (plant.device,))
        out["count"] = await _point_data(conn, keys=[r[0] for r in await cur.fetchall()])
        sink = ReadingSink(conn, FactorLibrary.default())
        for key, info in await sink.accounted_points(plant.site):
            out[f"stretch {key}"] = await sink.stretch_emissions(
                key, info, T0 + timedelta(hours=1, minutes=5), T0 + timedelta(hours=3, minutes=2))
        for rule in ("out_of_range",):
            params = {"now": END - timedelta(minutes=20), **asdict(AlarmSettings(range_window=timedelta(days=1))),
                      "status_keys": [], "decimal_keys": [], "decimals": []}  # no status point, no rounding here
            cur = await conn.execute(RULES[rule][1], params)
            out[f"alarm {rule}"] = [r for r in await cur.fetchall() if r[0] == plant.device]
        result = await recompute_site(conn, site=plant.site, start=T0, end=END)
        out["recompute"] = result["tco2_after"]
    out["after recompute"] = _derived(url, plant)
    return _rounded(out)


def test_compaction_moves_closed_hours_into_blocks_keeping_every_reading_once(database_url: str) -> None:
    plant = _plant(database_url)
    before = _counts(database_url, plant)
    result = _compact(database_url, plant)
    after = _counts(database_url, plant)
    assert before["hot"] == before["stored"] == before["distinct"] > 0 and before["blocks"] == 0
    # three points over six clock hours (the stretch starts at 07:41)
    assert (result["readings"], result["points"], result["blocks"]) == (before["hot"], 3, 18)
    assert after == {"hot": 0, "blocks": 18, "in_blocks": before["hot"], "stored": before["hot"],
                     "distinct": before["hot"]}


def test_compaction_leaves_hours_inside_the_horizon_alone(database_url: str) -> None:
    plant = _plant(database_url)
    # "now" 90 minutes after the last reading: with a 2-hour horizon only hours closed by now - 2 h move
    with psycopg.connect(database_url, autocommit=True) as conn:
        result = compact_readings(conn, CompactionSettings(120), now=END + timedelta(minutes=90),
                                  point_keys=plant.keys(conn))
        hours = conn.execute("SELECT DISTINCT hour FROM reading_blocks WHERE point_key = ANY(%s) ORDER BY 1",
                             (plant.keys(conn),)).fetchall()
        # batches move whole: what stays hot is every batch whose newest reading is not before the cut-off
        oldest_hot_end = conn.execute("SELECT min(ts_hi) FROM reading_batches WHERE device_id = %s",
                                      (plant.device,)).fetchone()[0]
    cutoff = (END + timedelta(minutes=90) - timedelta(minutes=120)).replace(minute=0, second=0, microsecond=0)
    assert result["before"] == cutoff
    assert [h[0] for h in hours][-1] == cutoff - timedelta(hours=1)
    assert oldest_hot_end >= cutoff


def test_running_compaction_again_moves_nothing(database_url: str) -> None:
    plant = _plant(database_url)
    _compact(database_url, plant)
    blocks = _counts(database_url, plant)
    again = _compact(database_url, plant)
    assert (again["readings"], again["blocks"], _counts(database_url, plant)) == (0, 0, blocks)


def test_compaction_failing_midway_leaves_the_rows_and_a_rerun_moves_them_once(database_url: str) -> None:
    plant = _plant(database_url)
    before = _counts(database_url, plant)

    def crash(done: int, total: int, moved: int) -> None:
        raise RuntimeError("worker killed")  # inside the transaction, after the first point's blocks were written

    with pytest.raises(RuntimeError):
        _compact(database_url, plant, progress=crash)
    assert _counts(database_url, plant) == before
    _compact(database_url, plant)
    assert _counts(database_url, plant) == {**before, "hot": 0, "blocks": 18, "in_blocks": before["hot"]}


def test_replaying_every_batch_after_compaction_stores_and_derives_nothing(database_url: str) -> None:
    plant = _plant(database_url)
    derived, counts = _derived(database_url, plant), _counts(database_url, plant)
    _compact(database_url, plant)
    asyncio.run(_store(database_url, _batches(plant)))
    assert (_counts(database_url, plant), _derived(database_url, plant)) == (
        {**counts, "hot": 0, "blocks": 18, "in_blocks": counts["hot"]}, derived)


def test_late_reading_after_compaction_is_stored_hot_then_merged_into_its_block(database_url: str) -> None:
    plant = _plant(database_url)
    late = DeviceBatch(gateway=plant.gateway, device=plant.device, received_at=NOW, readings=[Reading(
        seq=10_000_001, device=plant.device, point="kw", unit="kW", kind=PointKind.GAUGE, value=42.0,
        source_ts=T0 + timedelta(hours=1, seconds=1), gateway_ts=T0 + timedelta(hours=1, seconds=1))])
    stored = _counts(database_url, plant)["stored"]
    _compact(database_url, plant)
    asyncio.run(_store(database_url, [late]))
    assert _counts(database_url, plant) == {"hot": 1, "blocks": 18, "in_blocks": stored, "stored": stored + 1,
                                            "distinct": stored + 1}
    _compact(database_url, plant)
    asyncio.run(_store(database_url, [late]))  # a replay of the late reading, now in its block
    assert _counts(database_url, plant) == {"hot": 0, "blocks": 18, "in_blocks": stored + 1,
                                            "stored": stored + 1, "distinct": stored + 1}


def test_every_reader_of_raw_readings_answers_the_same_after_compaction(database_url: str) -> None:
    plant = _plant(database_url)
    before = asyncio.run(_readers(database_url, plant))
    _compact(database_url, plant)
    assert _counts(database_url, plant)["hot"] == 0
    after = asyncio.run(_readers(database_url, plant))
    assert before["series kw raw"]["points"] and before["alarm out_of_range"] and before["metered"]
    for name in before:
        assert after[name] == before[name], name


def test_late_counter_reading_re_derives_its_stretch_from_blocks_as_from_rows(database_url: str) -> None:
    # two identical plants; one compacted before a late counter reading falls inside its stored stretch
    plain, compacted = _plant(database_url), _plant(database_url)
    _compact(database_url, compacted)
    intervals = len(_derived(database_url, compacted)["emissions"])
    for plant in (plain, compacted):
        ts = T0 + timedelta(hours=2, minutes=1)
        asyncio.run(_store(database_url, [DeviceBatch(gateway=plant.gateway, device=plant.device, received_at=NOW,
                                                      readings=[Reading(seq=10_000_003, device=plant.device,
                                                                        point="kwh", unit="kWh",
                                                                        kind=PointKind.COUNTER, value=1504.0,
                                                                        source_ts=ts, gateway_ts=ts)])]))
    expected, got = _derived(database_url, plain), _derived(database_url, compacted)
    assert len(got["emissions"]) == intervals + 1
    assert (got["emissions"], got["activity"]) == (expected["emissions"], expected["activity"])


def test_an_old_batch_waits_for_a_running_compaction_and_a_compaction_for_an_old_batch(database_url: str) -> None:
    plant = _plant(database_url)
    finished: list[dict[str, Any]] = []
    with psycopg.connect(database_url) as holder:
        # what the sink does before it stores readings older than SINK_CHECK_AGE
        holder.execute("SELECT pg_advisory_xact_lock_shared(%s)", (COMPACTION_LOCK,))
        worker = threading.Thread(target=lambda: finished.append(_compact(database_url, plant)))
        worker.start()
        time.sleep(0.5)
        assert not finished
        holder.rollback()
    worker.join(timeout=30)
    assert finished and finished[0]["readings"] > 0


@pytest.mark.parametrize(("raw", "message"), [
    ("59", "from 60 to"), ("soon", "whole number of minutes"), ("-5", "from 60 to"), ("99999999", "got 99999999"),
])
def test_a_bad_compaction_horizon_is_refused_with_its_variable(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match="CARBONFLOW_COMPACT_AFTER_MINUTES") as err:
        compaction_settings({"CARBONFLOW_COMPACT_AFTER_MINUTES": raw})
    assert message in str(err.value)


def test_compaction_horizon_defaults_to_two_hours() -> None:
    assert (compaction_settings({}), compaction_settings({"CARBONFLOW_COMPACT_AFTER_MINUTES": "90"})) == (
        CompactionSettings(120), CompactionSettings(90))


# scratch_url (conftest.py): a database of its own, since `carbonflow db compact` compacts every point


def test_db_compact_command_shows_progress_and_what_it_moved(scratch_url: str, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    plant = _plant(scratch_url)
    stored = _counts(scratch_url, plant)["stored"]
    info = psycopg.conninfo.conninfo_to_dict(scratch_url)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
                                       f"{info.get('port', 5432)}/{info['dbname']}")
    assert main(["db", "compact", "--older-than", "30"]) == 2
    assert "from 60 to" in capsys.readouterr().err
    assert main(["db", "compact", "--older-than", "90"]) == 0
    captured = capsys.readouterr()
    assert "compacting: 1/1 devices' batches and points' rows" in captured.err and f"{stored:,} readings moved" in captured.err
    assert f"{stored:,} readings of 3 points moved into 18 blocks" in captured.out
    assert _counts(scratch_url, plant)["hot"] == 0


def test_a_closed_month_left_without_rows_gives_its_index_space_back_when_compacted_by_the_owner(
        scratch_url: str) -> None:
    month = (datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=40))
    part = f"readings_{month:%Y%m}"
    with psycopg.connect(scratch_url, autocommit=True) as conn:
        # 30,000 readings of one point, a minute apart, written around the stream job
        conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES ('rc-dev', 'kw', 'kW', 'gauge')")
        key = conn.execute("SELECT point_key FROM points WHERE device_id = 'rc-dev'").fetchone()[0]
        conn.execute("INSERT INTO readings SELECT 1, i, %s::timestamptz + i * interval '1 second', %s, i * 0.5, 0"
                     " FROM generate_series(0, 29999) AS i", (month, key))
        before = conn.execute(f"SELECT pg_total_relation_size('{part}')").fetchone()[0]
        # the stream worker's role moves the readings but may not rebuild the owner's indexes
        as_app = compact_readings(conn, CompactionSettings())
        stored = conn.execute("SELECT sum(n) FROM reading_blocks WHERE point_key = %s", (key,)).fetchone()[0]
        with psycopg.connect(owner_url(scratch_url), autocommit=True) as owner:
            as_owner = compact_readings(owner, CompactionSettings())
        after = conn.execute(f"SELECT pg_total_relation_size('{part}')").fetchone()[0]
    assert ((as_app["readings"], stored, as_app["reclaimed"], as_app["reclaim_skipped"])
            == (30_000, 30_000, [], [part]))
    assert (as_owner["readings"], as_owner["reclaimed"], as_owner["reclaim_skipped"]) == (0, [part], [])
    assert before > 2_000_000 and after < 100_000


def test_replays_racing_a_compaction_store_every_reading_once(database_url: str) -> None:
    plant = _plant(database_url)
    stored = _counts(database_url, plant)["stored"]
    batches = _batches(plant)
    replayer = threading.Thread(target=lambda: asyncio.run(_store(database_url, batches * 2)))
    replayer.start()
    moved = 0
    while replayer.is_alive():  # compacts whatever the replays stored meanwhile (nothing, if they hold)
        moved += _compact(database_url, plant)["readings"]
    replayer.join()
    moved += _compact(database_url, plant)["readings"]
    assert moved == stored
    assert _counts(database_url, plant) == {"hot": 0, "blocks": 18, "in_blocks": stored, "stored": stored,
                                            "distinct": stored}
