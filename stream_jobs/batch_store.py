"""The sink's storage of raw readings: one row of `reading_batches` per device batch (085_reading_batches.sql),
the per-point minute and hour rollups added in the same statement, exactly once.

The readings of a write go to PostgreSQL through one binary COPY into a temporary table, with the batch
they belong to. Before anything is stored, an incoming reading whose (gateway, seq, ts) is already stored
is dropped: held by a stored batch of the same gateway and device whose sequence range overlaps (a replayed
Kafka record, a re-sent envelope), by a compacted block (readings old enough for their hour to have been
compacted), or by a row of `readings` written before batches existed. What is left is grouped back into
batches, inserted, and only the readings of batches that were inserted are added to the rollups and
returned when they are counter readings, which drive deltas and emissions.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from carbonflow.db.compaction import COMPACTION_LOCK

__all__ = ["BatchRows", "distinct_readings", "store_batches"]

_ORIGIN = "'2000-01-01T00:00:00Z'"
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
    " point_key int, value double precision, quality smallint, is_counter bool) ON COMMIT DELETE ROWS;"
    " CREATE TEMP TABLE IF NOT EXISTS _batches_in (batch_no int, gateway_key int, device_id text, seq_lo bigint,"
    " seq_hi bigint, ts_lo timestamptz, ts_hi timestamptz) ON COMMIT DELETE ROWS"
)
_BATCHES_IN = ("INSERT INTO _batches_in SELECT * FROM unnest(%s::int[], %s::int[], %s::text[], %s::bigint[],"
               " %s::bigint[], %s::timestamptz[], %s::timestamptz[])")
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
    "    WHERE b.gateway_key = i.gateway_key AND b.device_id = i.device_id AND b.seq_hi >= i.seq_lo"
    "      AND b.seq_lo <= i.seq_hi AND b.ts_hi >= i.ts_lo AND b.ts_lo <= i.ts_hi OFFSET 0) s) d"
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
# Readings that a row of `readings` holds (rows from before 085 and from tools that insert rows), by its
# primary key; only asked for readings no newer than the newest row there is.
_DROP_IN_ROWS = (
    "DELETE FROM _readings_in i USING readings x WHERE i.ts <= %(newest)s AND x.gateway_key = i.gateway_key"
    " AND x.seq = i.seq AND x.ts = i.ts"
)
# One statement groups what is left back into batches, stores them, adds the readings of the batches it
# stored to both rollups and hands back their counter readings. ON CONFLICT DO NOTHING keeps a batch that
# another transaction stored meanwhile (a partition handed over between workers) from counting twice.
_STORE_AND_ROLL_UP = (
    "WITH grouped AS (SELECT g.*, i.device_id FROM (SELECT batch_no, min(gateway_key) AS gateway_key,"
    "   min(seq) AS seq_lo, max(seq) AS seq_hi, min(ts) AS ts_lo, max(ts) AS ts_hi,"
    "   array_agg(point_key) AS point_keys, array_agg(seq) AS seqs, array_agg(ts) AS times,"
    "   array_agg(value) AS vals, array_agg(quality) AS qualities"
    "   FROM _readings_in GROUP BY batch_no) g JOIN _batches_in i USING (batch_no)),"
    " stored AS (INSERT INTO reading_batches (gateway_key, device_id, seq_lo, seq_hi, ts_lo, ts_hi, point_keys,"
    "   seqs, times, vals, qualities) SELECT gateway_key, device_id, seq_lo, seq_hi, ts_lo, ts_hi, point_keys,"
    "   seqs, times, vals, qualities FROM grouped ON CONFLICT DO NOTHING"
    "   RETURNING gateway_key, device_id, seq_hi, seq_lo, ts_hi, ts_lo),"
    " kept AS (SELECT g.batch_no FROM grouped g JOIN stored s USING (gateway_key, device_id, seq_hi, seq_lo, ts_hi,"
    "   ts_lo)),"
    " new AS (SELECT * FROM _readings_in WHERE batch_no IN (SELECT batch_no FROM kept)), "
    + _MINUTE_PARTIALS + ", "
    + _rollup_cte("minutes", "rollup_1m", f"SELECT {_ROLLUP_COLUMNS} FROM part") + ", "
    + _rollup_cte("hours", "rollup_1h", _HOURS_FROM_MINUTES)
    + " SELECT gateway_key, seq, ts, point_key, value, quality FROM new WHERE is_counter"
)
# A batch of 100,000 readings sorts in memory instead of spilling to disk (default work_mem is 4 MB).
_BATCH_WORK_MEM = "64MB"

# PostgreSQL's binary COPY format for _readings_in rows, packed here: the rows are plain numbers, and
# psycopg's per-row write_row (an awaited call each) cost more than the packing itself.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_COPY_ROW = struct.Struct(">hiiiiiqiqiiidihi?")
_COPY_ROW_NULL_VALUE = struct.Struct(">hiiiiiqiqiiiihi?")
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z, PostgreSQL's timestamp origin, in Unix microseconds
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_epoch_us(us: int) -> datetime:
    return _UNIX_EPOCH + timedelta(microseconds=us)


@dataclass
class BatchRows:
    """The readings of one write, numbered by the batch (Kafka record) they came in.

    `rows` are (batch_no, gateway_key, seq, ts, point_key, value, quality, is_counter), ts in microseconds
    since the Unix epoch; `batches` are (gateway_key, device_id, seq_lo, seq_hi, ts_lo, ts_hi) by batch_no.
    """

    rows: list[tuple] = field(default_factory=list)
    batches: list[tuple[int, str, int, int, datetime, datetime]] = field(default_factory=list)

    def add(self, gateway_key: int, device: str, readings: list[tuple]) -> None:
        """Add one batch: `readings` are (seq, ts, point_key, value, quality, is_counter)."""
        no = len(self.batches)
        seqs = [r[0] for r in readings]
        times = [r[1] for r in readings]
        self.batches.append((gateway_key, device, min(seqs), max(seqs), _from_epoch_us(min(times)),
                             _from_epoch_us(max(times))))
        self.rows.extend((no, gateway_key, *r) for r in readings)

    def copy_data(self) -> bytes:
        """COPY ... (FORMAT BINARY) data of the rows."""
        pack, pack_null = _COPY_ROW.pack, _COPY_ROW_NULL_VALUE.pack
        out = [_COPY_SIGNATURE]
        for no, gkey, seq, ts, pkey, value, quality, is_counter in self.rows:
            micros = ts - _PG_EPOCH_US
            if value is None:
                out.append(pack_null(8, 4, no, 4, gkey, 8, seq, 8, micros, 4, pkey, -1, 2, quality, 1, is_counter))
            else:
                out.append(pack(8, 4, no, 4, gkey, 8, seq, 8, micros, 4, pkey, 8, value, 2, quality, 1, is_counter))
        out.append(_COPY_TRAILER)
        return b"".join(out)


def distinct_readings(batches: list[tuple[int, str, list[tuple]]]) -> list[tuple[int, str, list[tuple]]]:
    """The batches of one write with every (gateway, seq, ts) once: a record taken twice in one write is kept
    once, a batch overlapping an earlier one of the same gateway and device loses the readings that one has, and
    a reading that one record carries twice is kept once (a row per reading had its primary key for that).

    Batches are (gateway_key, device, readings) with readings as `BatchRows.add` takes them. Checking ranges
    first keeps the usual case (no overlap) at one comparison per batch; once a device's batches overlap, the
    (seq, ts) of every reading kept for it are held in one set, so that batches which all overlap (a file
    import's random sequence numbers) cost one look-up per reading, not one per reading and earlier batch.
    """
    ranges: dict[tuple[int, str], list[tuple[int, int]]] = {}
    kept: dict[tuple[int, str], list[list[tuple]]] = {}
    taken: dict[tuple[int, str], set[tuple[int, int]]] = {}
    out = []
    for gkey, device, readings in batches:
        if not readings:
            continue
        key = (gkey, device)
        seqs = [r[0] for r in readings]
        if len(set(seqs)) != len(seqs):  # rare: only then is the record searched for repeated (seq, ts)
            unique: dict[tuple[int, int], tuple] = {}
            for r in readings:
                unique.setdefault((r[0], r[1]), r)
            readings = list(unique.values())
        lo, hi = min(seqs), max(seqs)
        earlier = ranges.setdefault(key, [])
        held = taken.get(key)
        if held is None and any(held_lo <= hi and lo <= held_hi for held_lo, held_hi in earlier):
            held = taken[key] = {(r[0], r[1]) for batch in kept[key] for r in batch}
        if held is not None:
            readings = [r for r in readings if (r[0], r[1]) not in held]
            if not readings:
                continue
            held.update((r[0], r[1]) for r in readings)
            lo, hi = min(r[0] for r in readings), max(r[0] for r in readings)
        earlier.append((lo, hi))
        kept.setdefault(key, []).append(readings)
        out.append((gkey, device, readings))
    return out


async def store_batches(conn: psycopg.AsyncConnection, batches: BatchRows, *, old_before: datetime | None,
                        rows_newest: datetime | None) -> list[tuple]:
    """Store the batches once each (inside the caller's transaction); return the counter readings that were new,
    as (gateway_key, seq, ts, point_key, value, quality).

    With `old_before`, readings older than it are also checked against the compacted blocks; with
    `rows_newest`, readings up to then against the rows of `readings`.
    """
    if old_before is not None:
        # waits while a compaction moves rows or batches to blocks (its delete would hide them from the checks
        # below), and keeps it from starting until this transaction has committed what it stores
        await conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (COMPACTION_LOCK,))
    await conn.execute(_TEMP_TABLES)
    gkeys, devices, los, his, ts_los, ts_his = (list(c) for c in zip(*batches.batches))
    async with conn.cursor() as cur:
        async with cur.copy("COPY _readings_in FROM STDIN (FORMAT BINARY)") as copy:
            await copy.write(batches.copy_data())
        await cur.execute(_BATCHES_IN, (list(range(len(gkeys))), gkeys, devices, los, his, ts_los, ts_his))
        await cur.execute(_DROP_STORED)
        if old_before is not None:
            await cur.execute(_DROP_COMPACTED, {"old": old_before})
        if rows_newest is not None:
            await cur.execute(_DROP_IN_ROWS, {"newest": rows_newest})
        await cur.execute(f"SET LOCAL work_mem = '{_BATCH_WORK_MEM}'")
        await cur.execute(_STORE_AND_ROLL_UP)
        return list(await cur.fetchall())
