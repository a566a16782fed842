"""The sink's storage of raw readings: one row of `reading_batches` per device batch (085_reading_batches.sql),
the per-point minute and hour rollups added in the same statement, exactly once.

A write's batches reach PostgreSQL in one binary COPY into a temporary table, a row per batch with its readings
as arrays. When no incoming batch overlaps a stored one of its gateway and device (one index probe each), no
compacted block lies where their old readings fall (one index scan per write) and none is older than the rows
of `readings`, the batches are stored as they came (the usual case, late backlogs included). Otherwise their
readings are unnested and a reading whose (gateway, seq, ts) is already stored is dropped: held by an overlapping stored batch (a replayed Kafka record, a re-sent
envelope), by a compacted block, or by a row of `readings` written before batches existed; what is left is
grouped back into batches. Only the readings of batches that were inserted are added to the rollups and
returned when they are counter readings, which drive deltas and emissions.

Those checks see only what is committed: two transactions storing overlapping readings of one device at once
(a partition's old and new owner during a rebalance, an envelope re-sent through another ingest worker) would
each miss the other's. `lock_devices` serialises them: the writer holds a lock per (gateway, device) from the
start of its transaction, and the second one's checks run after the first one has committed.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, repeat

import psycopg

from carbon_domain.schemas import epoch_us, from_epoch_us
from carbonflow.db.compaction import COMPACTION_LOCK

__all__ = ["Batch", "distinct_readings", "lock_devices", "store_batches"]

_ORIGIN = "'2000-01-01T00:00:00Z'"
# The two-key form of the advisory lock (int4, int4) is a key space of its own: no device's lock can be the
# single bigint key of the compaction or scope-rollup lock. Rows come out of unnest in array order, so the
# locks are taken in the order of the keys given; the keys come as array literals (_int_array).
_LOCK_DEVICES = "SELECT pg_advisory_xact_lock(k.hi, k.lo) FROM unnest(%s::int[], %s::int[]) AS k(hi, lo)"
_LOCK_KEY = struct.Struct(">ii")
_ROLLUP_COLUMNS = ("point_key, bucket, n, n_valid, sum, min, max, first_ts, first_value, last_ts, last_value,"
                   " worst_quality, n_uncertain, n_bad")

# The minute partials of the new readings: sorted and aggregated once, then added to rollup_1m as they are and
# combined into hours for rollup_1h (aggregating the raw rows a second time cost about as much as the first).
# Minutes do not overlap, so an hour's first (last) valid value is that of its earliest (latest) minute having one.
# first_ts (last_ts) is the time of first_value (last_value), so readings without a value do not count there:
# the upsert keeps the first value of whichever side has the earlier first_ts, and a valueless uncertain reading
# arriving later would otherwise replace the bucket's first value by NULL.
_MINUTE_PARTIALS = (
    f"part AS (SELECT point_key, date_bin('1 minute', ts, {_ORIGIN}) AS bucket, count(*) AS n,"
    " count(*) FILTER (WHERE quality < 2 AND value IS NOT NULL) AS n_valid,"
    " sum(value) FILTER (WHERE quality < 2) AS sum, min(value) FILTER (WHERE quality < 2) AS min,"
    " max(value) FILTER (WHERE quality < 2) AS max,"
    " min(ts) FILTER (WHERE quality < 2 AND value IS NOT NULL) AS first_ts,"
    " (array_agg(value ORDER BY ts) FILTER (WHERE quality < 2 AND value IS NOT NULL))[1] AS first_value,"
    " max(ts) FILTER (WHERE quality < 2 AND value IS NOT NULL) AS last_ts,"
    " (array_agg(value ORDER BY ts DESC) FILTER (WHERE quality < 2 AND value IS NOT NULL))[1] AS last_value,"
    " max(quality) AS worst_quality, count(*) FILTER (WHERE quality = 1) AS n_uncertain,"
    " count(*) FILTER (WHERE quality = 2) AS n_bad"
    " FROM new GROUP BY 1, 2)"
)
_HOURS_FROM_MINUTES = (
    f"SELECT point_key, date_bin('1 hour', bucket, {_ORIGIN}), sum(n), sum(n_valid), sum(sum), min(min), max(max),"
    " min(first_ts), (array_agg(first_value ORDER BY bucket) FILTER (WHERE first_value IS NOT NULL))[1],"
    " max(last_ts), (array_agg(last_value ORDER BY bucket DESC) FILTER (WHERE last_value IS NOT NULL))[1],"
    " max(worst_quality), sum(n_uncertain), sum(n_bad) FROM part GROUP BY 1, 2"
)


def _rollup_cte(name: str, table: str, select: str) -> str:
    """A data-modifying CTE adding partial aggregates (rows of `select`) to a rollup table, bucket by bucket."""
    return (
        f"{name} AS (INSERT INTO {table} ({_ROLLUP_COLUMNS}) {select}"
        f" ON CONFLICT (point_key, bucket) DO UPDATE SET n = {table}.n + EXCLUDED.n,"
        f" n_valid = {table}.n_valid + EXCLUDED.n_valid,"
        f" sum = CASE WHEN {table}.sum IS NULL THEN EXCLUDED.sum WHEN EXCLUDED.sum IS NULL THEN {table}.sum"
        f"  ELSE {table}.sum + EXCLUDED.sum END,"
        f" min = least({table}.min, EXCLUDED.min), max = greatest({table}.max, EXCLUDED.max),"
        f" first_value = CASE WHEN {table}.first_ts IS NULL OR EXCLUDED.first_ts < {table}.first_ts"
        f"  THEN EXCLUDED.first_value ELSE {table}.first_value END,"
        f" first_ts = least({table}.first_ts, EXCLUDED.first_ts),"
        f" last_value = CASE WHEN {table}.last_ts IS NULL OR EXCLUDED.last_ts > {table}.last_ts"
        f"  THEN EXCLUDED.last_value ELSE {table}.last_value END,"
        f" last_ts = greatest({table}.last_ts, EXCLUDED.last_ts),"
        f" worst_quality = greatest({table}.worst_quality, EXCLUDED.worst_quality),"
        f" n_uncertain = {table}.n_uncertain + EXCLUDED.n_uncertain, n_bad = {table}.n_bad + EXCLUDED.n_bad)"
    )


_TEMP_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS _readings_in (batch_no int, gateway_key int, seq bigint, ts timestamptz,"
    " point_key int, value double precision, quality smallint) ON COMMIT DELETE ROWS;"
    " CREATE TEMP TABLE IF NOT EXISTS _batches_in (batch_no int, gateway_key int, device_id text, seq_lo bigint,"
    " seq_hi bigint, ts_lo timestamptz, ts_hi timestamptz, seqs bigint[], times timestamptz[], point_keys int[],"
    " vals double precision[], qualities smallint[]) ON COMMIT DELETE ROWS"
)
_COPY_BATCHES = ("COPY _batches_in (batch_no, gateway_key, device_id, seq_lo, seq_hi, ts_lo, ts_hi, seqs, times,"
                 " point_keys, vals, qualities) FROM STDIN (FORMAT BINARY)")
# The readings of the batches, one row each, for the checks below.
_UNNEST_READINGS = (
    "INSERT INTO _readings_in SELECT i.batch_no, i.gateway_key, u.seq, u.ts, u.pk, u.value, u.quality"
    " FROM _batches_in i CROSS JOIN LATERAL unnest(i.seqs, i.times, i.point_keys, i.vals, i.qualities)"
    " AS u(seq, ts, pk, value, quality)"
)
# The incoming batches that overlap a stored batch of the same gateway and device in sequence and in time: only
# their readings can already be stored (the probe is _DROP_STORED's, without unnesting anything).
_OVERLAPS = ("b.gateway_key = i.gateway_key AND b.device_id = i.device_id AND b.seq_hi >= i.seq_lo"
             " AND b.seq_lo <= i.seq_hi AND b.ts_hi >= i.ts_lo AND b.ts_lo <= i.ts_hi")
"""A stored batch b of incoming batch i's gateway and device overlapping it in sequence and in time."""
_OVERLAPPING = (
    f"SELECT i.batch_no FROM _batches_in i CROSS JOIN LATERAL (SELECT 1 FROM reading_batches b WHERE {_OVERLAPS}"
    " LIMIT 1) x"  # LIMIT: probed per batch
)
# Readings that a stored batch of the same gateway and device holds. The lateral probe walks the primary key
# (gateway_key, device_id, seq_hi, seq_lo, ts_hi, ts_lo) from seq_hi >= the incoming seq_lo: for a new batch
# of a gateway whose sequence numbers grow there is nothing there, and only batches overlapping in sequence
# and in time are unnested (a stored reading equal to an incoming one lies in both ranges). The time range
# keeps a file import (random sequence numbers: every batch of a device spans nearly all of them) from
# unnesting every stored batch of the device for each incoming one. OFFSET 0 keeps the probe a subquery run per
# incoming batch, whatever the statistics say (flattened, the unnest was joined to every incoming reading).
_DROP_STORED = (
    "DELETE FROM _readings_in r USING (SELECT i.batch_no, s.seq, s.ts FROM _batches_in i CROSS JOIN LATERAL"
    "  (SELECT u.seq, u.ts FROM reading_batches b CROSS JOIN LATERAL unnest(b.seqs, b.times) AS u(seq, ts)"
    f"    WHERE {_OVERLAPS} OFFSET 0) s) d"
    " WHERE r.batch_no = d.batch_no AND r.seq = d.seq AND r.ts = d.ts"
)
# Readings that a compacted block holds: only the blocks of the (point, hour)s of old readings are read.
_DROP_COMPACTED = (
    "DELETE FROM _readings_in i USING (SELECT COALESCE(b.gateway_key, u.gk) AS gateway_key, u.seq, u.ts"
    "  FROM (SELECT DISTINCT point_key, date_bin('1 hour', ts, " + _ORIGIN + ") AS hour FROM _readings_in"
    "        WHERE ts < %(old)s) k"
    "  JOIN reading_blocks b ON b.point_key = k.point_key AND b.hour = k.hour"
    "  CROSS JOIN LATERAL unnest(b.gateway_keys, b.seqs, b.times) AS u(gk, seq, ts)) s"
    " WHERE i.gateway_key = s.gateway_key AND i.seq = s.seq AND i.ts = s.ts"
)
# Whether any compacted block lies where old readings of a write could be: a point of theirs, an hour from the
# oldest one's until the check age. A superset of the (point, hour)s _DROP_COMPACTED reads, found with one index
# scan of the primary key (point_key, hour) for the whole write instead of unnesting every reading; a backlog
# into hours that nothing was compacted for (the usual late data) then skips the unnesting altogether.
_NEAR_COMPACTED = (
    "SELECT EXISTS (SELECT 1 FROM reading_blocks WHERE point_key = ANY(%(points)s::int[])"
    f" AND hour >= date_bin('1 hour', %(oldest)s::timestamptz, {_ORIGIN}) AND hour < %(old)s)"
)
# Readings that a row of `readings` holds (rows from before 085 and from tools that insert rows), by its
# primary key; only asked for readings no newer than the newest row there is.
_DROP_IN_ROWS = (
    "DELETE FROM _readings_in i USING readings x WHERE i.ts <= %(newest)s AND x.gateway_key = i.gateway_key"
    " AND x.seq = i.seq AND x.ts = i.ts"
)
# One statement stores the batches, adds the readings of the batches it stored to both rollups and hands back
# their counter readings. ON CONFLICT DO NOTHING keeps a batch that another transaction stored meanwhile (a
# partition handed over between workers) from counting twice. `source` is a CTE of batch rows: the incoming
# ones as they are when none of their readings can be stored already (the usual case), else what is left of
# them after the checks, grouped back into batches.
_BATCH_COLUMNS = "gateway_key, device_id, seq_lo, seq_hi, ts_lo, ts_hi, point_keys, seqs, times, vals, qualities"


def _store_and_roll_up(source: str) -> str:
    return (
        f"WITH source AS ({source}),"
        f" stored AS (INSERT INTO reading_batches ({_BATCH_COLUMNS}) SELECT {_BATCH_COLUMNS} FROM source"
        "   ON CONFLICT DO NOTHING RETURNING gateway_key, device_id, seq_hi, seq_lo, ts_hi, ts_lo),"
        " kept AS (SELECT s.* FROM source s JOIN stored USING (gateway_key, device_id, seq_hi, seq_lo, ts_hi, ts_lo)),"
        " new AS (SELECT k.gateway_key, u.seq, u.ts, u.point_key, u.value, u.quality FROM kept k CROSS JOIN LATERAL"
        "   unnest(k.seqs, k.times, k.point_keys, k.vals, k.qualities) AS u(seq, ts, point_key, value, quality)), "
        + _MINUTE_PARTIALS + ", "
        + _rollup_cte("minutes", "rollup_1m", f"SELECT {_ROLLUP_COLUMNS} FROM part") + ", "
        + _rollup_cte("hours", "rollup_1h", _HOURS_FROM_MINUTES)
        + " SELECT gateway_key, seq, ts, point_key, value, quality FROM new WHERE point_key = ANY(%(counters)s)"
    )


_STORE_AS_SENT = _store_and_roll_up(f"SELECT {_BATCH_COLUMNS} FROM _batches_in")
_STORE_WHAT_IS_LEFT = _store_and_roll_up(
    "SELECT g.*, i.device_id FROM (SELECT batch_no, min(gateway_key) AS gateway_key,"
    " min(seq) AS seq_lo, max(seq) AS seq_hi, min(ts) AS ts_lo, max(ts) AS ts_hi,"
    " array_agg(point_key) AS point_keys, array_agg(seq) AS seqs, array_agg(ts) AS times,"
    " array_agg(value) AS vals, array_agg(quality) AS qualities"
    " FROM _readings_in GROUP BY batch_no) g JOIN _batches_in i USING (batch_no)"
)
# A batch of 100,000 readings sorts in memory instead of spilling to disk (default work_mem is 4 MB).
_BATCH_WORK_MEM = "64MB"

_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z, PostgreSQL's timestamp origin, in Unix microseconds

# PostgreSQL's binary COPY format, packed here: psycopg dumps a list element by element in Python, which cost
# several times what packing a whole array with one struct call costs (its C accelerations skip arrays).
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_ROW_HEAD = struct.Struct(">hiiii")  # 12 fields; batch_no and gateway_key, each with its length
_RANGES = struct.Struct(">iqiqiqiq")  # seq_lo, seq_hi, ts_lo, ts_hi with their lengths
# struct code: element type oid, width ("t": timestamptz, microseconds since 2000 packed as "q")
_ARRAY_TYPES = {"q": (20, 8), "t": (1184, 8), "i": (23, 4), "h": (21, 2), "d": (701, 8)}
_formats: dict[tuple[str, int], struct.Struct] = {}


def _array(code: str, values: list) -> bytes:
    """One COPY field: a one-dimensional array of int8 / int4 / int2 / float8 (NULL elements allowed)."""
    oid, width = _ARRAY_TYPES[code]
    code = "q" if code == "t" else code
    n = len(values)
    if None in values:
        body = b"".join(struct.pack(f">i{code}", width, v) if v is not None else b"\xff\xff\xff\xff" for v in values)
        head = struct.pack(">iiiii", 1, 1, oid, n, 1)
        return struct.pack(">i", len(head) + len(body)) + head + body
    fmt = _formats.get((code, n))
    if fmt is None:
        fmt = _formats[(code, n)] = struct.Struct(f">iiiiii{'i' + code}" + f"i{code}" * (n - 1))
    # each element is preceded by its width: zip/repeat/chain interleave them without a Python loop
    return fmt.pack(20 + n * (4 + width), 1, 0, oid, n, 1, *chain.from_iterable(zip(repeat(width), values)))


def _copy_data(batches: list[Batch]) -> bytes:
    """COPY ... (FORMAT BINARY) data of the _batches_in rows of `batches`."""
    out = [_COPY_SIGNATURE]
    for no, b in enumerate(batches):
        device = b.device.encode()
        out.append(_ROW_HEAD.pack(12, 4, no, 4, b.gateway_key))
        out.append(struct.pack(">i", len(device)) + device)
        out.append(_RANGES.pack(8, min(b.seqs), 8, max(b.seqs), 8, min(b.times_us) - _PG_EPOCH_US,
                                8, max(b.times_us) - _PG_EPOCH_US))
        out += (_array("q", b.seqs), _array("t", [t - _PG_EPOCH_US for t in b.times_us]), _array("i", b.point_keys),
                _array("d", b.values), _array("h", b.qualities))
    out.append(_COPY_TRAILER)
    return b"".join(out)


@dataclass(frozen=True)
class Batch:
    """One device's readings from one record, column by column (times in microseconds since the Unix epoch)."""

    gateway_key: int
    device: str
    seqs: list[int]
    times_us: list[int]
    point_keys: list[int]
    values: list[float | None]
    qualities: list[int]

    def only(self, keep: list[int]) -> Batch:
        """The same batch with only the readings at the positions `keep`."""
        return Batch(self.gateway_key, self.device, [self.seqs[i] for i in keep], [self.times_us[i] for i in keep],
                     [self.point_keys[i] for i in keep], [self.values[i] for i in keep],
                     [self.qualities[i] for i in keep])


def distinct_readings(batches: list[Batch]) -> list[Batch]:
    """The batches of one write with every (gateway, seq, ts) once: a record taken twice in one write is kept
    once, a batch overlapping an earlier one of the same gateway and device loses the readings that one has, and
    a reading that one record carries twice is kept once (a row per reading had its primary key for that).

    Checking ranges first keeps the usual case (no overlap) at one comparison per batch; once a device's batches
    overlap, the (seq, ts) of every reading kept for it are held in one set, so that batches which all overlap (a
    file import's random sequence numbers) cost one look-up per reading, not one per reading and earlier batch.
    """
    ranges: dict[tuple[int, str], list[tuple[int, int]]] = {}
    kept: dict[tuple[int, str], list[Batch]] = {}
    taken: dict[tuple[int, str], set[tuple[int, int]]] = {}
    out = []
    for batch in batches:
        if not batch.seqs:
            continue
        key = (batch.gateway_key, batch.device)
        if len(set(batch.seqs)) != len(batch.seqs):  # rare: only then is the record searched for repeated (seq, ts)
            first: dict[tuple[int, int], int] = {}
            for i, pair in enumerate(zip(batch.seqs, batch.times_us)):
                first.setdefault(pair, i)
            batch = batch.only(sorted(first.values()))
        lo, hi = min(batch.seqs), max(batch.seqs)
        earlier = ranges.setdefault(key, [])
        held = taken.get(key)
        if held is None and any(held_lo <= hi and lo <= held_hi for held_lo, held_hi in earlier):
            held = taken[key] = {pair for b in kept[key] for pair in zip(b.seqs, b.times_us)}
        if held is not None:
            batch = batch.only([i for i, pair in enumerate(zip(batch.seqs, batch.times_us)) if pair not in held])
            if not batch.seqs:
                continue
            held.update(zip(batch.seqs, batch.times_us))
            lo, hi = min(batch.seqs), max(batch.seqs)
        earlier.append((lo, hi))
        kept.setdefault(key, []).append(batch)
        out.append(batch)
    return out


def _int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers, for a parameter cast to int[] (psycopg dumps a list of ints element
    by element in Python, which cost several times the statements that take them)."""
    return "{" + ",".join(map(str, values)) + "}"


@functools.lru_cache(maxsize=1 << 16)  # a sink writes the same devices over and over
def _device_lock_key(gateway: str, device: str) -> tuple[int, int]:
    """The advisory lock key of a gateway's device: 64 bits of a hash of both ids (text holds no NUL byte, so
    the pair is unambiguous); two devices sharing a key only wait for each other."""
    digest = hashlib.blake2b(gateway.encode() + b"\0" + device.encode(), digest_size=8).digest()
    return _LOCK_KEY.unpack(digest)


async def lock_devices(conn: psycopg.AsyncConnection, devices: Iterable[tuple[str, str]]) -> None:
    """Take the write lock of each (gateway id, device id) until the transaction ends, in one statement.

    Waits while another transaction holding one of them is open. Every writer takes its locks in the same
    (sorted) order, so two writers of the same devices queue instead of deadlocking. Take them first in the
    transaction, before any row lock, and once per transaction (one `ReadingSink.write`): locks taken by a
    second call are no longer in order with the first's.
    """
    keys = sorted({_device_lock_key(gateway, device) for gateway, device in devices})
    if not keys:
        return
    await conn.execute(_LOCK_DEVICES, (_int_array(hi for hi, _ in keys), _int_array(lo for _, lo in keys)))


async def _near_compacted_blocks(conn: psycopg.AsyncConnection, batches: list[Batch], old_before: datetime) -> bool:
    """Whether a compacted block may hold one of the batches' readings older than `old_before` (no false
    negatives: a block of one of their points in an hour between the oldest of them and `old_before`)."""
    old_us = epoch_us(old_before)
    old = [(first, b) for b in batches if (first := min(b.times_us)) < old_us]
    if not old:
        return False
    points: set[int] = set()
    for _, b in old:
        points.update(b.point_keys)
    oldest = from_epoch_us(min(first for first, _ in old))
    cur = await conn.execute(_NEAR_COMPACTED, {"points": _int_array(points), "oldest": oldest, "old": old_before})
    row = await cur.fetchone()
    return bool(row and row[0])


async def store_batches(conn: psycopg.AsyncConnection, batches: list[Batch], counter_keys: list[int], *,
                        old_before: datetime | None, rows_newest: datetime | None) -> list[tuple]:
    """Store the batches once each (inside the caller's transaction, which holds `lock_devices` for their
    gateways and devices); return the readings of `counter_keys` that were new, as (gateway_key, seq, ts,
    point_key, value, quality).

    With `old_before`, readings older than it are also checked against the compacted blocks; with
    `rows_newest`, readings up to then against the rows of `readings`.
    """
    if old_before is not None:
        # waits while a compaction moves rows or batches to blocks (its delete would hide them from the checks
        # below), and keeps it from starting until this transaction has committed what it stores
        await conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (COMPACTION_LOCK,))
        if not await _near_compacted_blocks(conn, batches, old_before):
            old_before = None  # no block can hold one of these readings
    await conn.execute(_TEMP_TABLES)
    async with conn.cursor() as cur:
        async with cur.copy(_COPY_BATCHES) as copy:
            await copy.write(_copy_data(batches))
        await cur.execute(f"SET LOCAL work_mem = '{_BATCH_WORK_MEM}'")
        newest_row = rows_newest is not None and min(min(b.times_us) for b in batches) <= epoch_us(rows_newest)
        if old_before is None and not newest_row:
            await cur.execute(_OVERLAPPING)
            if not await cur.fetchall():
                await cur.execute(_STORE_AS_SENT, {"counters": counter_keys})
                return list(await cur.fetchall())
        await cur.execute(_UNNEST_READINGS)
        await cur.execute(_DROP_STORED)
        if old_before is not None:
            await cur.execute(_DROP_COMPACTED, {"old": old_before})
        if newest_row:
            await cur.execute(_DROP_IN_ROWS, {"newest": rows_newest})
        await cur.execute(_STORE_WHAT_IS_LEFT, {"counters": counter_keys})
        return list(await cur.fetchall())
