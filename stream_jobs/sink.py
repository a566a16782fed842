"""PostgreSQL sink: raw readings, counter state and emissions written in one transaction per batch.

Exactly-once in effect: readings are inserted with ON CONFLICT DO NOTHING on
(gateway, seq, ts), and only rows that were actually new advance counter state
and produce emissions, so a replayed Kafka record changes nothing. Readings old
enough to belong to an hour that compaction moved into `reading_blocks`
(carbonflow/db/compaction.py) are first checked against those blocks.
"""

from __future__ import annotations

import logging
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from carbon_domain.accounting import EMITTING_ACTIVITIES, emission_for_activity
from carbon_domain.counters import CounterState, Delta, counter_delta
from carbon_domain.errors import DomainError, UnitError
from carbon_domain.factors import FactorLibrary, FactorRow
from carbon_domain.schemas import DeviceBatch, Reading
from carbon_domain.units import convert, storage_unit
from carbonflow.db.compaction import COMPACTION_LOCK, SINK_CHECK_AGE
from stream_jobs.counter_rules import point_rollover
from stream_jobs.scope_rollups import EMISSION_COLUMNS, ScopeRollups

__all__ = ["ReadingSink", "QUALITY_CODE", "load_factor_library"]

log = logging.getLogger("stream_jobs.sink")
QUALITY_CODE = {"good": 0, "uncertain": 1, "bad": 2}
_CACHE_TTL_S = 30.0
# counters bound to production:<product> give activity intervals (no emission), rolled up like emissions
_PRODUCTION = "production:"
# _emission_rows makes both kinds of interval rows; an emission row is the wider (activity intervals carry no
# factors, formula, tco2 or energy), so its width tells the two apart
_EMISSION_WIDTH = len(EMISSION_COLUMNS)

_ORIGIN = "'2000-01-01T00:00:00Z'"
_ROLLUP_COLUMNS = ("point_key, bucket, n, n_valid, sum, min, max, first_ts, first_value, last_ts, last_value,"
                   " worst_quality, n_uncertain, n_bad")

# The minute partials of the new readings: sorted and aggregated once, then added to rollup_1m as they are and
# combined into hours for rollup_1h (aggregating the raw rows a second time cost about as much as the first).
# Minutes do not overlap, so an hour's first (last) valid value is that of its earliest (latest) minute having one.
_MINUTE_PARTIALS = (
    f"part AS (SELECT point_key, date_bin('1 minute', ts, {_ORIGIN}) AS bucket, count(*) AS n,"
    " count(*) FILTER (WHERE quality < 2 AND value IS NOT NULL) AS n_valid,"
    " sum(value) FILTER (WHERE quality < 2) AS sum, min(value) FILTER (WHERE quality < 2) AS min,"
    " max(value) FILTER (WHERE quality < 2) AS max, min(ts) FILTER (WHERE quality < 2) AS first_ts,"
    " (array_agg(value ORDER BY ts) FILTER (WHERE quality < 2 AND value IS NOT NULL))[1] AS first_value,"
    " max(ts) FILTER (WHERE quality < 2) AS last_ts,"
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


# One statement stores the batch, adds only the rows that were new to both rollups,
# and hands back the new counter rows, which drive deltas and emissions.
_INSERT_AND_ROLL_UP = (
    "WITH new AS (INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
    " SELECT gateway_key, seq, ts, point_key, value, quality FROM _readings_in ON CONFLICT DO NOTHING"
    " RETURNING gateway_key, seq, ts, point_key, value, quality), "
    + _MINUTE_PARTIALS + ", "
    + _rollup_cte("minutes", "rollup_1m", f"SELECT {_ROLLUP_COLUMNS} FROM part") + ", "
    + _rollup_cte("hours", "rollup_1h", _HOURS_FROM_MINUTES)
    + " SELECT n.* FROM new n WHERE EXISTS (SELECT 1 FROM _readings_in i WHERE i.is_counter"
    " AND i.gateway_key = n.gateway_key AND i.seq = n.seq AND i.ts = n.ts)"
)
# Incoming readings that a compacted block already holds: dropped before the insert, as the primary key drops
# those still in readings. Only the blocks of the (point, hour)s of old readings are read, three arrays each.
_DROP_COMPACTED = (
    "DELETE FROM _readings_in i USING (SELECT COALESCE(b.gateway_key, u.gk) AS gateway_key, u.seq, u.ts"
    "  FROM (SELECT DISTINCT point_key, date_bin('1 hour', ts, " + _ORIGIN + ") AS hour FROM _readings_in"
    "        WHERE ts < %(old)s) k"
    "  JOIN reading_blocks b ON b.point_key = k.point_key AND b.hour = k.hour"
    "  CROSS JOIN LATERAL unnest(b.gateway_keys, b.seqs, b.times) AS u(gk, seq, ts)) s"
    " WHERE i.gateway_key = s.gateway_key AND i.seq = s.seq AND i.ts = s.ts"
)
_SCOPE_ROLLUP_LOCK = 0x63665F73636F7065  # pg_advisory_xact_lock key ("cf_scope")
# A batch of 100,000 readings sorts in memory instead of spilling to disk (default work_mem is 4 MB).
_BATCH_WORK_MEM = "64MB"

@dataclass(frozen=True)
class _PointInfo:
    key: int
    kind: str
    unit: str
    activity: str | None
    site_id: str | None
    rollover: float | None = None  # register wrap value from the device profile, in `unit`
    normalised: bool = False  # readings are converted to `unit`, the storage unit of their dimension


async def load_factor_library(conn: psycopg.AsyncConnection) -> FactorLibrary:
    """The factor library as stored in the database (seeded defaults plus administrators' versions)."""
    cur = await conn.execute(
        "SELECT factor_id, key, value, unit, scope, scope_id, valid_from, valid_to, series, source FROM factors"
    )
    names = [d.name for d in cur.description or []]
    return FactorLibrary(FactorRow.model_validate(dict(zip(names, row))) for row in await cur.fetchall())


def _stored_value(reading: Reading, info: _PointInfo) -> tuple[float | None, int]:
    """The value and quality code stored for a reading: converted to the point's unit when it is normalised; a
    value in a unit that does not convert is stored as bad, without a value."""
    quality = QUALITY_CODE[reading.quality.value]
    if not info.normalised or reading.value is None or reading.unit == info.unit:
        return reading.value, quality
    try:
        return convert(reading.value, reading.unit, info.unit), quality
    except UnitError:
        log.warning("point %s: %s does not convert to the point's unit %s; stored as bad",
                    info.key, reading.unit, info.unit)
        return None, QUALITY_CODE["bad"]


# PostgreSQL's binary COPY format for _readings_in rows, packed here: the rows are plain numbers, and
# psycopg's per-row write_row (an awaited call each) cost more than the packing itself.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_COPY_ROW = struct.Struct(">hiiiqiqiiidihi?")
_COPY_ROW_NULL_VALUE = struct.Struct(">hiiiqiqiiiihi?")
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _binary_copy(rows: list[tuple]) -> bytes:
    """COPY ... (FORMAT BINARY) data of (gateway_key, seq, ts, point_key, value, quality, is_counter) rows."""
    pack, pack_null = _COPY_ROW.pack, _COPY_ROW_NULL_VALUE.pack
    out = [_COPY_SIGNATURE]
    for gkey, seq, ts, pkey, value, quality, is_counter in rows:
        micros = (ts - _PG_EPOCH) // _MICROSECOND
        if value is None:
            out.append(pack_null(7, 4, gkey, 8, seq, 8, micros, 4, pkey, -1, 2, quality, 1, is_counter))
        else:
            out.append(pack(7, 4, gkey, 8, seq, 8, micros, 4, pkey, 8, value, 2, quality, 1, is_counter))
    out.append(_COPY_TRAILER)
    return b"".join(out)


def _by_table(rows: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Interval rows split into those of `emissions` and those of `activity_intervals`."""
    emissions = [r for r in rows if len(r) == _EMISSION_WIDTH]
    return emissions, [r for r in rows if len(r) != _EMISSION_WIDTH]


class ReadingSink:
    """Writes DeviceBatches; one instance per worker, owning one connection."""

    def __init__(self, conn: psycopg.AsyncConnection, library: FactorLibrary) -> None:
        self._conn = conn
        self._library = library
        self._scopes = ScopeRollups(conn)
        self._gateways: dict[str, int] = {}
        self._points: dict[tuple[str, str], _PointInfo] = {}
        self._points_loaded_at = 0.0
        self.readings_written = 0
        self.emissions_written = 0

    async def _gateway_key(self, gateway: str) -> int:
        if gateway not in self._gateways:
            cur = await self._conn.execute(
                "INSERT INTO gateways (gateway_id) VALUES (%s) ON CONFLICT (gateway_id)"
                " DO UPDATE SET gateway_id = EXCLUDED.gateway_id RETURNING gateway_key",
                (gateway,),
            )
            row = await cur.fetchone()
            assert row is not None
            self._gateways[gateway] = row[0]
        return self._gateways[gateway]

    async def _point_infos(self, batch: DeviceBatch) -> dict[str, _PointInfo]:
        if time.monotonic() - self._points_loaded_at > _CACHE_TTL_S:
            self._points.clear()
            self._points_loaded_at = time.monotonic()
        known, device = self._points, batch.device
        missing = {(r.point, r.unit, r.kind.value) for r in batch.readings if (device, r.point) not in known}
        if missing:
            # one statement for all of a device's new points (a new gateway's first batch brings hundreds);
            # a point sent twice with different units or kinds keeps the last, as one statement each did
            chosen = {point: (unit, kind) for point, unit, kind in sorted(missing)}
            # a new point stores its storage unit; one from before 072_point_units keeps the unit as sent
            await self._conn.execute(
                "INSERT INTO points (device_id, point, unit, kind, source_unit)"
                " SELECT %s, v.point, v.unit, v.kind, v.source FROM unnest(%s::text[], %s::text[], %s::text[],"
                " %s::text[]) AS v(point, unit, kind, source) ORDER BY v.point"
                " ON CONFLICT (device_id, point) DO UPDATE SET kind = EXCLUDED.kind, source_unit = EXCLUDED.source_unit,"
                " unit = CASE WHEN points.normalised THEN EXCLUDED.unit ELSE EXCLUDED.source_unit END",
                (batch.device, list(chosen), [storage_unit(u) for u, _ in chosen.values()],
                 [k for _, k in chosen.values()], [u for u, _ in chosen.values()]),
            )
            cur = await self._conn.execute(
                "SELECT p.point, p.point_key, p.kind, p.unit, p.activity, d.site_id, d.profile, p.normalised,"
                " p.source_unit FROM points p LEFT JOIN devices d ON d.device_id = p.device_id WHERE p.device_id = %s",
                (batch.device,),
            )
            for point, key, kind, unit, activity, site, profile, normalised, source in await cur.fetchall():
                rollover = point_rollover(profile, point, unit=unit, source_unit=source, normalised=normalised)
                self._points[(batch.device, point)] = _PointInfo(key, kind, unit, activity, site, rollover,
                                                                 normalised)
        return {point: known[(device, point)] for point in {r.point for r in batch.readings}}

    async def write(self, batches: list[DeviceBatch]) -> None:
        """Store a list of batches atomically; safe to call again with the same batches."""
        async with self._conn.transaction():
            rows = []
            infos: dict[tuple[int, int], _PointInfo] = {}  # of counter readings, which drive deltas
            seen: dict[str, tuple[object, str]] = {}
            old_before = datetime.now(UTC) - SINK_CHECK_AGE
            has_old = False
            for batch in batches:
                if not batch.readings:
                    continue
                gkey = await self._gateway_key(batch.gateway)
                points = await self._point_infos(batch)
                for r in batch.readings:
                    info = points[r.point]
                    value, quality = _stored_value(r, info)
                    is_counter = info.kind == "counter"
                    rows.append((gkey, r.seq, r.source_ts, info.key, value, quality, is_counter))
                    if is_counter:
                        infos[(gkey, r.seq)] = info
                newest = max(r.gateway_ts for r in batch.readings)
                has_old = has_old or min(r.source_ts for r in batch.readings) < old_before
                if batch.device not in seen or newest > seen[batch.device][0]:  # type: ignore[operator]
                    seen[batch.device] = (newest, batch.gateway)
            new_counter_rows = await self._insert_readings(rows, old_before if has_old else None)
            await self._conn.execute(
                "UPDATE devices d SET last_seen = greatest(d.last_seen, v.ts), gateway_id = v.gw"
                " FROM unnest(%s::text[], %s::timestamptz[], %s::text[]) AS v(device, ts, gw)"
                " WHERE d.device_id = v.device",
                (list(seen), [v[0] for v in seen.values()], [v[1] for v in seen.values()]),
            )
            await self._advance_counters(new_counter_rows, infos)
            self.readings_written += len(rows)

    async def _insert_readings(self, rows: list[tuple], old_before: datetime | None = None) -> list[tuple]:
        """Insert every row once; return the counter rows that were new (they drive deltas). With `old_before`,
        rows older than it are also checked against the compacted blocks."""
        if old_before is not None:
            # waits while a compaction moves rows to blocks (its delete would hide them from ON CONFLICT), and
            # keeps it from starting until this transaction has committed its rows for it to find
            await self._conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (COMPACTION_LOCK,))
        await self._conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _readings_in (gateway_key int, seq bigint, ts timestamptz,"
            " point_key int, value double precision, quality smallint, is_counter bool) ON COMMIT DELETE ROWS"
        )
        async with self._conn.cursor() as cur:
            async with cur.copy("COPY _readings_in FROM STDIN (FORMAT BINARY)") as copy:
                await copy.write(_binary_copy(rows))
            if old_before is not None:
                await cur.execute(_DROP_COMPACTED, {"old": old_before})
            await cur.execute(f"SET LOCAL work_mem = '{_BATCH_WORK_MEM}'")
            await cur.execute(_INSERT_AND_ROLL_UP)
            return list(await cur.fetchall())

    async def _advance_counters(self, new_rows: list[tuple], infos: dict[tuple[int, int], _PointInfo]) -> None:
        counters = sorted(
            (r for r in new_rows if infos[(r[0], r[1])].kind == "counter" and r[4] is not None and r[5] < 2),
            key=lambda r: (r[3], r[2]),
        )
        if not counters:
            return
        keys = sorted({r[3] for r in counters})
        cur = await self._conn.execute(
            "SELECT point_key, ts, value FROM point_state WHERE point_key = ANY(%s) ORDER BY point_key FOR UPDATE",
            (keys,),
        )
        state = {k: CounterState(ts, v) for k, ts, v in await cur.fetchall()}
        intervals: list[tuple] = []
        late: dict[int, list[tuple]] = {}
        for row in counters:
            gkey, seq, ts, pkey, value, quality = row
            previous = state.get(pkey)
            if previous is not None and ts <= previous.ts:
                late.setdefault(pkey, []).append(row)  # backlog behind newer data: re-derive that stretch
                continue
            state[pkey] = CounterState(ts, value)
            delta = counter_delta(previous, ts, value, infos[(gkey, seq)].rollover)
            if delta is not None:
                intervals.extend(self._emission_rows(infos[(gkey, seq)], row, delta))
        for pkey, rows in late.items():
            intervals.extend(await self._rederive(pkey, rows, infos[(rows[0][0], rows[0][1])]))
        emissions, activity = _by_table(intervals)
        async with self._conn.cursor() as c:
            await c.executemany(
                "INSERT INTO point_state (point_key, ts, value) VALUES (%s, %s, %s)"
                " ON CONFLICT (point_key) DO UPDATE SET ts = EXCLUDED.ts, value = EXCLUDED.value",
                [(k, s.ts, s.value) for k, s in state.items() if k in keys],
            )
        if emissions or activity:
            await self._lock_scope_rollups()
        await self._scopes.upsert("emissions", emissions)
        await self._scopes.upsert("activity_intervals", activity)
        self.emissions_written += len(emissions)

    def _emission_rows(self, info: _PointInfo, row: tuple, delta: Delta) -> list[tuple]:
        """The emission row of one interval ending at `row` (an activity interval for a production counter), or
        none for a point without an activity."""
        gkey, seq, ts, pkey, _value, quality = row
        if info.activity is not None and info.activity.startswith(_PRODUCTION):
            return [(gkey, seq, ts, delta.start_ts, pkey, info.site_id, info.activity, delta.amount, info.unit,
                     max(quality, 1 if delta.note else 0))]
        if info.activity not in EMITTING_ACTIVITIES:
            return []
        try:
            result = emission_for_activity(info.activity, delta.amount, info.unit, ts, self._library)
        except DomainError as exc:
            log.warning("point %s: no emission computed: %s", pkey, exc)
            return []
        return [(gkey, seq, ts, delta.start_ts, pkey, info.site_id, info.activity, result.quantity,
                 result.quantity_unit, result.tco2, list(result.factor_ids), result.formula,
                 max(quality, 1 if delta.note else 0), result.energy_kwh)]

    async def _rederive(self, pkey: int, late_rows: list[tuple], info: _PointInfo) -> list[tuple]:
        """Recompute the intervals of a stretch that late readings fell into, from the stored readings."""
        return await self.stretch_emissions(pkey, info, late_rows[0][2], late_rows[-1][2])

    async def stretch_emissions(self, pkey: int, info: _PointInfo, lo: datetime, hi: datetime) -> list[tuple]:
        """Emission rows of every interval ending in [lo, hi] and of the first one after, from stored readings."""
        cur = await self._conn.execute(
            "SELECT * FROM cf_point_last(%(p)s, '-infinity', %(lo)s, 1, true)"
            " UNION ALL (SELECT * FROM cf_point_readings(%(p)s, %(lo)s, %(hi)s + interval '1 microsecond')"
            "  WHERE quality < 2 AND value IS NOT NULL)"
            " UNION ALL SELECT * FROM cf_point_first(%(p)s, %(hi)s + interval '1 microsecond', 'infinity', 1, true)",
            {"p": pkey, "lo": lo, "hi": hi},
        )
        stretch = sorted(await cur.fetchall(), key=lambda r: (r[2], r[1]))
        rows: list[tuple] = []
        previous: CounterState | None = None
        for row in stretch:
            delta = counter_delta(previous, row[2], row[4], info.rollover)
            if delta is not None:
                rows.extend(self._emission_rows(info, row, delta))
            if previous is None or row[2] > previous.ts:
                previous = CounterState(row[2], row[4])
        return rows

    async def accounted_points(self, site: str) -> list[tuple[int, _PointInfo]]:
        """Counter points of a site bound to an emitting activity or to production, with their rollover in the
        unit they are stored in (as the live path takes it)."""
        cur = await self._conn.execute(
            "SELECT p.point_key, p.kind, p.unit, p.activity, d.site_id, d.profile, p.point, p.normalised,"
            " p.source_unit FROM points p JOIN devices d USING (device_id)"
            " WHERE d.site_id = %s AND p.kind = 'counter' AND (p.activity = ANY(%s) OR p.activity LIKE %s)"
            " ORDER BY p.point_key",
            (site, sorted(EMITTING_ACTIVITIES), _PRODUCTION + "%"),
        )
        return [(key, _PointInfo(key, kind, unit, activity, site_id,
                                 point_rollover(profile, point, unit=unit, source_unit=source, normalised=normalised),
                                 normalised))
                for key, kind, unit, activity, site_id, profile, point, normalised, source in await cur.fetchall()]

    async def upsert_intervals(self, rows: list[tuple]) -> None:
        """Insert emission and production-interval rows, replacing the stored row of the same interval."""
        emissions, activity = _by_table(rows)
        await self._scopes.upsert("emissions", emissions)
        await self._scopes.upsert("activity_intervals", activity)

    async def _lock_scope_rollups(self) -> None:
        """Take the scope-rollup lock until the end of the transaction.

        The live path's sinks on other connections (the stream worker's lanes, other workers) add to the
        same site, process and enterprise rows; updating them one transaction at a time, in commit order,
        keeps two transactions from each waiting for a row the other has updated.
        """
        await self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCOPE_ROLLUP_LOCK,))
