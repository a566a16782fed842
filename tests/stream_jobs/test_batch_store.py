"""Raw readings stored one row per device batch (stream_jobs/batch_store.py, 085_reading_batches.sql) against a
real PostgreSQL: replays, re-chunked re-sends, restarted sequences, compacted blocks and rows from before batches
each stored and rolled up once, and the batch readers answering as a search over every stored reading does.

Every exactly-once test compares the stored readings and the rollup_1m / rollup_1h counts and sums with what
was sent, so that a reading stored or counted twice (or lost) shows in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceColumns, Reading, device_columns
from carbonflow.db.compaction import CompactionSettings, compact_readings
from stream_jobs.sink import ReadingSink

T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # far older than SINK_CHECK_AGE: compacted blocks are checked too
MINUTE = timedelta(minutes=1)
QUALITY = {"good": 0, "uncertain": 1, "bad": 2}

Row = tuple[int, datetime, float | None, str, str]  # seq, ts, value, point, quality name


@dataclass(frozen=True)
class Env:
    url: str
    conn: psycopg.AsyncConnection
    sink: ReadingSink
    device: str
    gateway: str


@pytest.fixture
async def env(database_url: str) -> AsyncIterator[Env]:
    tag = uuid.uuid4().hex[:8]
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        yield Env(database_url, conn, ReadingSink(conn, FactorLibrary.default()), f"bs-dev-{tag}", f"bs-gw-{tag}")
    finally:
        await conn.close()


def _reading(device: str, row: Row) -> Reading:
    seq, ts, value, point, quality = row
    return Reading(seq=seq, device=device, point=point, value=value, unit="kW", quality=quality,
                   reason=None if quality == "good" else "test", source_ts=ts, gateway_ts=ts)


def _record(gateway: str, device: str, rows: Iterable[Row], *, backlog: bool = False) -> DeviceColumns:
    """The Kafka record (version 2) of one device's readings, as ingest makes it."""
    readings = [_reading(device, row) for row in rows]
    return device_columns(gateway, device, T0, backlog, readings)


def _minutes(seqs: Iterable[int], start: datetime = T0, *, point: str = "kw") -> list[Row]:
    """One good reading a minute from `start` per sequence number (seq n at start + n minutes), valued n."""
    return [(s, start + s * MINUTE, float(s), point, "good") for s in seqs]


async def _stored(conn: psycopg.AsyncConnection, *devices: str) -> list[tuple]:
    """Every stored reading of the devices, whichever store holds it, as (gateway, seq, ts, point, value, quality)."""
    cur = await conn.execute(
        "SELECT g.gateway_id, r.seq, r.ts, p.point, r.value, r.quality FROM all_readings r"
        " JOIN points p USING (point_key) JOIN gateways g USING (gateway_key)"
        " WHERE p.device_id = ANY(%s) ORDER BY 1, 2, 3, 4", (list(devices),))
    return await cur.fetchall()


async def _rolled_up(conn: psycopg.AsyncConnection, *devices: str) -> dict[str, tuple[int, int, float]]:
    """Readings, valid readings and sum of values counted by each rollup table over the devices' points."""
    out = {}
    for table in ("rollup_1m", "rollup_1h"):
        cur = await conn.execute(
            f"SELECT COALESCE(sum(r.n), 0), COALESCE(sum(r.n_valid), 0), COALESCE(sum(r.sum), 0) FROM {table} r"
            " JOIN points p USING (point_key) WHERE p.device_id = ANY(%s)", (list(devices),))
        n, valid, total = await cur.fetchone()  # type: ignore[misc]
        out[table] = (int(n), int(valid), float(total))
    return out


def _expected(gateway: str, rows: Iterable[Row]) -> list[tuple]:
    return sorted((gateway, s, ts, point, value, QUALITY[q]) for s, ts, value, point, q in rows)


def _counted(stored: list[tuple]) -> dict[str, tuple[int, int, float]]:
    """What the rollups must count for these stored readings: each once."""
    valid = [r[4] for r in stored if r[5] < 2 and r[4] is not None]
    return {table: (len(stored), len(valid), float(sum(valid))) for table in ("rollup_1m", "rollup_1h")}


async def _assert_once(env: Env, expected: list[tuple], *devices: str) -> None:
    devices = devices or (env.device,)
    stored = await _stored(env.conn, *devices)
    assert (stored, await _rolled_up(env.conn, *devices)) == (expected, _counted(expected))


async def _hot_batches(env: Env) -> int:
    cur = await env.conn.execute("SELECT count(*) FROM reading_batches WHERE device_id = %s", (env.device,))
    return (await cur.fetchone())[0]  # type: ignore[index]


def _compact(env: Env, now: datetime) -> dict[str, Any]:
    with psycopg.connect(env.url, autocommit=True) as conn:
        keys = [r[0] for r in conn.execute("SELECT point_key FROM points WHERE device_id = %s",
                                           (env.device,)).fetchall()]
        return compact_readings(conn, CompactionSettings(), now=now, point_keys=keys)


# --- exactly once -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("age", ["old", "fresh"])
async def test_a_record_replayed_in_a_later_write_is_stored_and_rolled_up_once(env: Env, age: str) -> None:
    # fresh readings are only checked against hot batches; old ones also against blocks, under the shared lock
    start = T0 if age == "old" else datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=12)
    rows = _minutes(range(10), start)
    record = _record(env.gateway, env.device, rows)
    await env.sink.write([record])
    await env.sink.write([record])
    await _assert_once(env, _expected(env.gateway, rows))


async def test_a_record_taken_twice_in_one_write_is_stored_once(env: Env) -> None:
    rows = _minutes(range(10))
    record = _record(env.gateway, env.device, rows)
    await env.sink.write([record, record])
    await _assert_once(env, _expected(env.gateway, rows))
    assert await _hot_batches(env) == 1


async def test_a_reading_repeated_inside_one_record_is_stored_once(env: Env) -> None:
    rows = _minutes(range(6))
    await env.sink.write([_record(env.gateway, env.device, rows + rows[2:4])])
    await _assert_once(env, _expected(env.gateway, rows))


async def test_a_write_of_replayed_and_new_records_stores_only_the_new_ones(env: Env) -> None:
    old, new = _minutes(range(10)), _minutes(range(10, 20))
    await env.sink.write([_record(env.gateway, env.device, old)])
    # the first record's readings are all dropped: it leaves no batch, the second is stored as sent
    await env.sink.write([_record(env.gateway, env.device, old), _record(env.gateway, env.device, new)])
    await _assert_once(env, _expected(env.gateway, old + new))
    assert await _hot_batches(env) == 2


@pytest.mark.parametrize("writes", ["separate writes", "one write"])
async def test_a_re_chunked_resend_stores_only_the_readings_not_yet_stored(env: Env, writes: str) -> None:
    first, resent = _minutes(range(10)), _minutes(range(5, 15))
    records = [_record(env.gateway, env.device, first), _record(env.gateway, env.device, resent)]
    if writes == "one write":
        await env.sink.write(records)
    else:
        for record in records:
            await env.sink.write([record])
    await _assert_once(env, _expected(env.gateway, _minutes(range(15))))
    assert (await _rolled_up(env.conn, env.device))["rollup_1h"][0] == 15


@pytest.mark.parametrize("writes", ["separate writes", "one write"])
async def test_a_restarted_sequence_with_new_timestamps_is_stored_as_new_readings(env: Env, writes: str) -> None:
    # the gateway lost its sequence counter: the same numbers, in batches of the same size, an hour later
    before, after = _minutes(range(10)), _minutes(range(10), T0 + timedelta(hours=1))
    after = [(s, ts, value + 100.0, point, q) for s, ts, value, point, q in after]
    records = [_record(env.gateway, env.device, before), _record(env.gateway, env.device, after)]
    if writes == "one write":
        await env.sink.write(records)
    else:
        for record in records:
            await env.sink.write([record])
    await env.sink.write([records[1]])  # and a replay of the later one still adds nothing
    await _assert_once(env, _expected(env.gateway, before + after))


async def test_the_same_sequence_numbers_of_another_gateway_or_device_are_kept(env: Env) -> None:
    other_gateway, other_device = f"{env.gateway}-b", f"{env.device}-b"
    rows = _minutes(range(10))
    await env.sink.write([_record(env.gateway, env.device, rows)])
    await env.sink.write([_record(other_gateway, env.device, rows)])
    await env.sink.write([_record(env.gateway, other_device, rows)])
    await _assert_once(env, sorted(_expected(env.gateway, rows) * 2 + _expected(other_gateway, rows)),
                       env.device, other_device)


async def test_a_replay_after_compaction_moved_its_batch_into_blocks_adds_nothing(env: Env) -> None:
    first = _minutes(range(10))
    await env.sink.write([_record(env.gateway, env.device, first)])
    moved = _compact(env, T0 + timedelta(days=2))
    assert (moved["readings"], await _hot_batches(env)) == (10, 0)
    await env.sink.write([_record(env.gateway, env.device, first)])
    await _assert_once(env, _expected(env.gateway, first))
    assert await _hot_batches(env) == 0
    # a re-chunked re-send over the compacted batch: only the five readings the blocks lack are new
    await env.sink.write([_record(env.gateway, env.device, _minutes(range(5, 15)))])
    await _assert_once(env, _expected(env.gateway, _minutes(range(15))))
    cur = await env.conn.execute("SELECT seqs FROM reading_batches WHERE device_id = %s", (env.device,))
    assert await cur.fetchall() == [([10, 11, 12, 13, 14],)]


async def test_an_old_backlog_beside_compacted_hours_is_stored_once_and_a_replay_in_the_same_write_dropped(
        env: Env) -> None:
    # compacted: the device's kw readings of hour 0 and another point's of hour 1
    hour0, other_point = _minutes(range(10)), _minutes(range(60, 70), point="kvar")
    await env.sink.write([_record(env.gateway, env.device, hour0 + other_point)])
    assert _compact(env, T0 + timedelta(days=2))["readings"] == 20
    # a backlog of kw in hour 1 (blocks of its point and of its hour exist, not of both) and in hour 3, with a
    # replay of hour 0 in the same write: the backlog is stored and counted once, the replay not at all
    backlog = _minutes(range(70, 80)) + _minutes(range(180, 190))
    await env.sink.write([_record(env.gateway, env.device, backlog), _record(env.gateway, env.device, hour0)])
    await _assert_once(env, _expected(env.gateway, hour0 + other_point + backlog))
    # a replay starting inside a compacted hour, and the backlog's hours replayed: nothing is added
    await env.sink.write([_record(env.gateway, env.device, hour0[5:])])
    await env.sink.write([_record(env.gateway, env.device, backlog)])
    await _assert_once(env, _expected(env.gateway, hour0 + other_point + backlog))


async def test_a_replay_of_readings_stored_as_rows_before_batches_is_dropped(scratch_url: str) -> None:
    # a database of its own: the rows' horizon is the whole database's
    device, gateway = "bs-rows-dev", "bs-rows-gw"
    rows = _minutes(range(10))
    async with await psycopg.AsyncConnection.connect(scratch_url, autocommit=True) as conn:
        cur = await conn.execute("INSERT INTO gateways (gateway_id) VALUES (%s) RETURNING gateway_key", (gateway,))
        gkey = (await cur.fetchone())[0]  # type: ignore[index]
        cur = await conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, 'kw', 'kW', 'gauge')"
                                 " RETURNING point_key", (device,))
        pkey = (await cur.fetchone())[0]  # type: ignore[index]
        async with conn.cursor() as c:  # as the sink stored them before 085, without rollups
            await c.executemany("INSERT INTO readings VALUES (%s, %s, %s, %s, %s, 0)",
                                [(gkey, s, ts, pkey, value) for s, ts, value, _p, _q in rows])
        await conn.execute("UPDATE reading_rows_horizon SET newest = %s", (rows[-1][1],))
        env = Env(scratch_url, conn, ReadingSink(conn, FactorLibrary.default()), device, gateway)
        await env.sink.write([_record(gateway, device, rows)])
        assert (await _stored(conn, device), await _rolled_up(conn, device)) == (
            _expected(gateway, rows), _counted([]))
        # a record half in the rows, half new: the new half is stored and counted, once
        await env.sink.write([_record(gateway, device, _minutes(range(5, 15)))])
        assert await _stored(conn, device) == _expected(gateway, _minutes(range(15)))
        assert await _rolled_up(conn, device) == _counted(_expected(gateway, _minutes(range(10, 15))))


def _import_seq(device: str, point: str, ts: datetime) -> int:
    """A sequence number as ingest/file_import.py derives it: 63 bits of a hash, so random across readings."""
    digest = hashlib.sha256(f"{device}\x1f{point}\x1f{ts.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _import_records(env: Env, rows: list[Row], per_record: int) -> list[DeviceColumns]:
    """Records of a file import: sorted by point and time, cut into envelopes of `per_record` readings."""
    ordered = sorted(rows, key=lambda r: (r[3], r[1]))
    return [_record("manual-import", env.device, ordered[i:i + per_record], backlog=True)
            for i in range(0, len(ordered), per_record)]


async def test_a_file_imported_twice_is_stored_once_though_its_sequence_numbers_are_random(env: Env) -> None:
    rows = [(_import_seq(env.device, point, ts), ts, float(i % 17), point, "good")
            for point in ("kwh", "m3") for i, ts in enumerate(T0 + n * 5 * MINUTE for n in range(150))]
    await env.sink.write(_import_records(env, rows, 40))
    for record in _import_records(env, rows, 40):  # imported again later, one write per record
        await env.sink.write([record])
    # and again with the rows cut differently (a file with rows added in front)
    extra = [(_import_seq(env.device, "kwh", T0 - n * MINUTE), T0 - n * MINUTE, 1.0, "kwh", "good")
             for n in range(1, 8)]
    await env.sink.write(_import_records(env, extra + rows, 33))
    await _assert_once(env, _expected("manual-import", rows + extra))


@pytest.mark.parametrize("first", ["commits", "rolls back"])
async def test_one_record_written_by_two_workers_at_once_is_stored_once(env: Env, first: str) -> None:
    """A partition handed over between workers: both store the same record, the second waits for the first."""
    warm, rows = _minutes(range(100, 105)), _minutes(range(10))
    record = _record(env.gateway, env.device, rows)
    async with await psycopg.AsyncConnection.connect(env.url) as holder:  # not autocommit: the write stays open
        other = ReadingSink(holder, FactorLibrary.default())
        await other.write([_record(env.gateway, env.device, warm)])  # gateway and points known to both sinks
        await holder.commit()
        await env.sink.write([_record(env.gateway, env.device, warm)])
        await holder.execute("SELECT 1")  # a transaction open, so that the write's own is a savepoint in it
        await other.write([record])
        second = asyncio.create_task(env.sink.write([record]))
        done, _ = await asyncio.wait([second], timeout=0.5)
        assert not done  # waits on the first one's batch
        await (holder.commit() if first == "commits" else holder.rollback())
        await asyncio.wait_for(second, timeout=10)
    await _assert_once(env, _expected(env.gateway, warm + rows))


# --- writers of the same device at once -----------------------------------------------------------------------


def _every(seqs: Iterable[int], start: datetime, step: timedelta) -> list[Row]:
    """One good reading per sequence number n at start + n * step, valued n."""
    return [(s, start + s * step, float(s), "kw", "good") for s in seqs]


def _chunked(gateway: str, device: str, rows: list[Row], per_record: int) -> list[DeviceColumns]:
    return [_record(gateway, device, rows[i:i + per_record]) for i in range(0, len(rows), per_record)]


@contextlib.asynccontextmanager
async def _second_worker(env: Env, devices: Iterable[str], warm: list[Row]) -> AsyncIterator[
        tuple[psycopg.AsyncConnection, ReadingSink]]:
    """A second worker's sink on a connection whose next write stays open (uncommitted) until it commits.

    Both sinks have written `warm` for every device first, so that neither waits on the other's first
    registration of the gateway and points, only on what this test is about."""
    async with await psycopg.AsyncConnection.connect(env.url) as holder:  # not autocommit
        other = ReadingSink(holder, FactorLibrary.default())
        for device in devices:
            await other.write([_record(env.gateway, device, warm)])
            await holder.commit()
            await env.sink.write([_record(env.gateway, device, warm)])
        await holder.execute("SELECT 1")  # a transaction open, so that the next write's own is a savepoint in it
        yield holder, other


async def _batch_seqs(env: Env, device: str) -> list[list[int]]:
    cur = await env.conn.execute("SELECT seqs FROM reading_batches WHERE device_id = %s ORDER BY seq_lo", (device,))
    return [row[0] for row in await cur.fetchall()]


@pytest.mark.parametrize("age", ["old", "fresh"])
async def test_a_resend_written_while_the_first_write_is_open_waits_and_stores_only_what_is_new(
        env: Env, age: str) -> None:
    """A partition's old and new owner (or two ingest workers) writing overlapping readings of one device, cut
    into other batches: the second write waits for the first to commit, then finds its readings stored."""
    # fresh readings meet only the overlap probe of hot batches; old ones also the blocks, under the shared lock
    start = T0 if age == "old" else datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    step = MINUTE if age == "old" else timedelta(seconds=1)
    warm, first, resent = _every(range(100, 105), start, step), _every(range(30), start, step), _every(
        range(15, 45), start, step)
    async with _second_worker(env, [env.device], warm) as (holder, other):
        await other.write(_chunked(env.gateway, env.device, first, 10))
        second = asyncio.create_task(env.sink.write(_chunked(env.gateway, env.device, resent, 15)))
        done, _ = await asyncio.wait([second], timeout=0.5)
        assert not done  # waits for the first write's transaction
        await holder.commit()
        await asyncio.wait_for(second, timeout=10)
    await _assert_once(env, _expected(env.gateway, warm + _every(range(45), start, step)))
    # the re-send's first record held only stored readings; its second kept the 15 new ones
    assert await _batch_seqs(env, env.device) == [list(range(10)), list(range(10, 20)), list(range(20, 30)),
                                                  list(range(30, 45)), list(range(100, 105))]


async def test_writes_of_other_devices_do_not_wait_for_an_open_write(env: Env) -> None:
    held, free = [f"{env.device}-a", f"{env.device}-b"], [f"{env.device}-c", f"{env.device}-d"]
    warm, rows = _minutes(range(100, 105)), _minutes(range(20))
    async with _second_worker(env, held + free, warm) as (holder, other):
        await other.write([_record(env.gateway, device, rows) for device in held])
        # the same gateway and sequence numbers, other devices: stored while the first write is still open
        await asyncio.wait_for(env.sink.write([_record(env.gateway, device, rows) for device in free]), timeout=5)
        assert await _stored(env.conn, *free) == sorted(_expected(env.gateway, warm + rows) * 2)
        await holder.commit()
    await _assert_once(env, sorted(_expected(env.gateway, warm + rows) * 4), *held, *free)


async def test_writers_of_two_devices_in_opposite_orders_do_not_deadlock(env: Env) -> None:
    """Two writes of devices P and Q, one in the order P, Q and one in the order Q, P, both queued behind an open
    write of P: were each device locked in the order of its records, the first would take P when it is free
    and wait for Q, which the second holds while it waits for P."""
    p, q = f"{env.device}-p", f"{env.device}-q"
    warm = _minutes(range(100, 105))
    async with await psycopg.AsyncConnection.connect(env.url, autocommit=True) as third_conn:
        third = ReadingSink(third_conn, FactorLibrary.default())
        await third.write([_record(env.gateway, device, warm) for device in (p, q)])
        async with _second_worker(env, [p, q], warm) as (holder, other):
            await other.write([_record(env.gateway, p, _minutes(range(10)))])  # holds P until it commits
            p_first = asyncio.create_task(env.sink.write([_record(env.gateway, p, _minutes(range(5, 20))),
                                                          _record(env.gateway, q, _minutes(range(15)))]))
            done, _ = await asyncio.wait([p_first], timeout=0.3)
            assert not done
            q_first = asyncio.create_task(third.write([_record(env.gateway, q, _minutes(range(10, 25))),
                                                       _record(env.gateway, p, _minutes(range(15, 30)))]))
            done, _ = await asyncio.wait([q_first], timeout=0.3)
            assert not done
            await holder.commit()
            await asyncio.wait_for(asyncio.gather(p_first, q_first), timeout=15)
    await _assert_once(env, sorted(_expected(env.gateway, warm + _minutes(range(30)))
                                   + _expected(env.gateway, warm + _minutes(range(25)))), p, q)


async def test_a_compaction_waits_for_an_open_write_of_old_readings_and_moves_each_reading_once(env: Env) -> None:
    warm, first = _minutes(range(100, 105)), _minutes(range(10))
    await env.sink.write([_record(env.gateway, env.device, first)])
    async with _second_worker(env, [env.device], warm) as (holder, other):
        # a re-send over the stored batch, open: five of its readings are new, none committed yet
        await other.write([_record(env.gateway, env.device, _minutes(range(5, 15)))])
        compaction = asyncio.create_task(asyncio.to_thread(_compact, env, T0 + timedelta(days=2)))
        done, _ = await asyncio.wait([compaction], timeout=0.5)
        assert not done  # the write holds the compaction lock shared
        await holder.commit()
        moved = await asyncio.wait_for(compaction, timeout=30)
    assert (moved["readings"], await _hot_batches(env)) == (20, 0)
    await _assert_once(env, _expected(env.gateway, warm + _minutes(range(15))))


# --- rollups --------------------------------------------------------------------------------------------------


async def test_a_valueless_uncertain_reading_arriving_later_keeps_the_buckets_first_and_last_value(env: Env) -> None:
    s = timedelta(seconds=1)
    await env.sink.write([_record(env.gateway, env.device, [(1, T0 + 20 * s, 5.0, "kw", "good"),
                                                            (2, T0 + 40 * s, 7.0, "kw", "good")])])
    await env.sink.write([_record(env.gateway, env.device, [(3, T0 + 10 * s, None, "kw", "uncertain"),
                                                            (4, T0 + 50 * s, None, "kw", "uncertain")])])
    for table in ("rollup_1m", "rollup_1h"):
        cur = await env.conn.execute(
            f"SELECT r.n, r.n_valid, r.first_ts, r.first_value, r.last_ts, r.last_value FROM {table} r"
            " JOIN points p USING (point_key) WHERE p.device_id = %s", (env.device,))
        assert await cur.fetchall() == [(4, 2, T0 + 20 * s, 5.0, T0 + 40 * s, 7.0)], table


# --- readers over hot batches ----------------------------------------------------------------------------------


def _overlapping_batches(rng: random.Random) -> list[list[Row]]:
    """Live batches of five minutes from T0 + 1 h, a backlog batch spanning T0 .. T0 + 2.5 h over them and a short
    one inside it. `kw` is in every batch, `rare` in some, `flaky` of every quality, valueless when not good.
    Every reading has a time of its own, so that newest and oldest are unambiguous."""
    used: set[datetime] = set()

    def at(lo: timedelta, hi: timedelta) -> datetime:
        while True:
            ts = T0 + timedelta(seconds=rng.randrange(int(lo.total_seconds()), int(hi.total_seconds())),
                                microseconds=rng.randrange(1_000_000))
            if ts not in used:
                used.add(ts)
                return ts

    def batch(first_seq: int, lo: timedelta, hi: timedelta, n: int, rare: float) -> list[Row]:
        rows: list[Row] = []
        for i in range(n):
            rows.append((first_seq + len(rows), at(lo, hi), float(rng.randrange(100)), "kw", "good"))
            if rng.random() < rare:
                rows.append((first_seq + len(rows), at(lo, hi), float(rng.randrange(100)), "rare", "good"))
            quality = rng.choice(["good", "uncertain", "bad"])
            value = float(rng.randrange(100)) if quality == "good" or rng.random() < 0.5 else None
            rows.append((first_seq + len(rows), at(lo, hi), value, "flaky", quality))
        return rows

    live = [batch(10_000 + 100 * k, timedelta(minutes=60 + 5 * k), timedelta(minutes=65 + 5 * k), 6, 0.1)
            for k in range(12)]
    backlog = batch(0, timedelta(0), timedelta(minutes=150), 40, 0.05)
    short = batch(5_000, timedelta(minutes=30), timedelta(minutes=40), 5, 0.5)
    return [*live, backlog, short]


async def test_newest_and_oldest_over_overlapping_batches_match_a_search_of_every_reading(env: Env) -> None:
    rng = random.Random(20261005)
    for rows in _overlapping_batches(rng):
        await env.sink.write([_record(env.gateway, env.device, rows)])
    cur = await env.conn.execute("SELECT point, point_key FROM points WHERE device_id = %s", (env.device,))
    keys = dict(await cur.fetchall())
    edges = [datetime.min.replace(tzinfo=UTC), T0, T0 + timedelta(minutes=35), T0 + timedelta(minutes=61),
             T0 + timedelta(minutes=97), T0 + timedelta(minutes=149), datetime.max.replace(tzinfo=UTC)]
    windows = [(lo, hi) for lo in edges for hi in edges if lo < hi]
    wrong, found = [], 0
    for point, key in keys.items():
        for lo, hi in windows:
            for max_quality in (0, 1, 2):
                for need_value in (False, True):
                    for reader, order in (("cf_point_last", "DESC"), ("cf_point_first", "ASC")):
                        args = {"p": key, "lo": lo, "hi": hi, "q": max_quality, "v": need_value}
                        cur = await env.conn.execute(
                            f"SELECT seq, ts, value, quality FROM {reader}(%(p)s, %(lo)s, %(hi)s, %(q)s, %(v)s)", args)
                        got = await cur.fetchall()
                        cur = await env.conn.execute(
                            "SELECT seq, ts, value, quality FROM all_readings WHERE point_key = %(p)s"
                            " AND ts >= %(lo)s AND ts < %(hi)s AND quality <= %(q)s"
                            f" AND (NOT %(v)s OR value IS NOT NULL) ORDER BY ts {order} LIMIT 1", args)
                        want = await cur.fetchall()
                        found += bool(want)
                        if got != want:
                            wrong.append((reader, point, lo, hi, max_quality, need_value, got, want))
    assert wrong == [] and found > 300


async def test_reading_count_adds_hot_batches_blocks_and_rows_of_several_points_of_one_device(env: Env) -> None:
    # three hours of batches of a quarter of an hour, three points each; the first hour compacted into blocks
    for k in range(12):
        rows = [(100 * k + 3 * i + j, T0 + timedelta(minutes=15 * k + i), float(i), point, "good")
                for i in range(15) for j, point in enumerate(("a", "b", "c")) if (i + j) % 4]
        await env.sink.write([_record(env.gateway, env.device, rows)])
    moved = _compact(env, T0 + timedelta(hours=3, minutes=30))  # 2-hour horizon: hours before T0 + 1 h move
    cur = await env.conn.execute("SELECT point, point_key FROM points WHERE device_id = %s", (env.device,))
    keys = dict(await cur.fetchall())
    cur = await env.conn.execute("SELECT gateway_key FROM gateways WHERE gateway_id = %s", (env.gateway,))
    gkey = (await cur.fetchone())[0]  # type: ignore[index]
    async with env.conn.cursor() as c:  # rows written around the sink (a tool, or before 085)
        await c.executemany("INSERT INTO readings VALUES (%s, %s, %s, %s, 1.0, 0)",
                            [(gkey, 90_000 + i, T0 + timedelta(hours=5, seconds=i), keys["a" if i % 3 else "b"])
                             for i in range(20)])
    assert moved["readings"] > 0 and await _hot_batches(env) > 0

    async def count(points: list[str], limit: int) -> tuple[int, int]:
        args = {"k": [keys[p] for p in points], "limit": limit}
        cur = await env.conn.execute(
            "SELECT cf_points_reading_count(%(k)s, %(limit)s),"
            " least(%(limit)s, (SELECT count(*) FROM all_readings WHERE point_key = ANY(%(k)s)))", args)
        got, want = await cur.fetchone()  # type: ignore[misc]
        return got, want

    for points in (["a"], ["b"], ["c"], ["a", "b"], ["a", "b", "c"], ["c", "a", "c"]):
        got, want = await count(points, 10**9)
        assert got == want > 0, points
    total = (await count(["a", "b", "c"], 10**9))[1]
    for limit in (1, 50, total - 1, total):
        assert await count(["a", "b", "c"], limit) == (limit, limit)
