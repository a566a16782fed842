"""Compaction: closed hours of raw readings moved from rows into one compressed block per (point, hour).

On plain PostgreSQL a reading stored as a row of `readings` costs about 180 bytes (tuple header, columns,
two B-tree entries). Hours that closed more than the horizon ago (`CARBONFLOW_COMPACT_AFTER_MINUTES`,
default 120, at least 60) are moved into `reading_blocks` (075_reading_blocks.plain.sql): per point and
hour, arrays of gateway, sequence, time, value and quality ordered by time, compressed by TOAST.

Each statement moves the hot rows of one point over at most a day of hours: it deletes them from
`readings`, merges them with the blocks already stored for their hours (late data arriving after an hour
was compacted lands in `readings` first and is merged at the next run) and writes the blocks, in one
transaction: a crash leaves the rows or the blocks, never both and never neither, and running it again
moves what is left. Compaction holds `COMPACTION_LOCK` (an advisory lock) while it works; the stream
sink takes it shared before it stores readings old enough to belong to a compacted hour and checks them
against the blocks, so a replayed reading is stored once whether its hour was compacted or not.

Compaction does not take the sink's per-device write locks (stream_jobs/batch_store.py `lock_devices`): it
moves only batches whose newest reading is before the cut-off, an hour or more ago, and a write that could
hold one of their readings has readings older than SINK_CHECK_AGE, so it holds COMPACTION_LOCK shared and
runs wholly before or after a compaction transaction; a write of fresher readings overlaps only newer batches,
which stay. (Writers take their device locks first, then COMPACTION_LOCK: compaction taking both would take
them in the other order and could deadlock with them.)

A closed month's partition of `readings` that compaction left without rows keeps the index pages its hot
rows needed; its indexes are rebuilt (REINDEX CONCURRENTLY) to give them back. Only the tables' owner may
rebuild them: run as the application role (the stream worker), compaction moves the readings and lists such
partitions under `reclaim_skipped`; `carbonflow db compact` runs as the owner (MIGRATION_DATABASE_URL) and
rebuilds them.

TimescaleDB compresses its hypertable chunks natively (002_timeseries.timescale.sql), so compaction leaves
the rows of `readings` alone there and moves only the hot batches into `reading_blocks` (tests/timescale).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

__all__ = [
    "COMPACTION_LOCK",
    "MIN_HORIZON_MINUTES",
    "SINK_CHECK_AGE",
    "CompactionSettings",
    "compact_readings",
    "compaction_settings",
]

COMPACTION_LOCK = 0x63665F636F6D7061  # pg_advisory lock key ("cf_compa")
MIN_HORIZON_MINUTES = 60
"""Never compact an hour closed less than this long ago: the sink checks readings older than
SINK_CHECK_AGE against the blocks, and the margin between the two absorbs clock differences."""
SINK_CHECK_AGE = timedelta(minutes=30)
_MAX_HORIZON_MINUTES = 400 * 24 * 60
_HOUR = timedelta(hours=1)
_SPAN = timedelta(days=1)  # hours of one point moved by one statement
_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
_TXN_READINGS = 100_000  # readings moved per transaction (while the lock makes old-data batches wait)

_POINTS_WITH_OLD_ROWS = (
    "SELECT p.point_key, m.first FROM points p CROSS JOIN LATERAL"
    " (SELECT min(r.ts) AS first FROM readings r WHERE r.point_key = p.point_key AND r.ts < %(cutoff)s) m"
    " WHERE m.first IS NOT NULL AND (%(points)s::int[] IS NULL OR p.point_key = ANY(%(points)s))"
    " ORDER BY p.point_key"
)
# monthly partitions of readings that ended before the cut-off: only late data still lands there
_CLOSED_PARTITIONS = (
    "SELECT c.relname, (SELECT COALESCE(sum(pg_relation_size(x.indexrelid)), 0) FROM pg_index x"
    "  WHERE x.indrelid = c.oid), pg_has_role(c.relowner, 'USAGE') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = 'readings'::regclass AND c.relname ~ '^readings_[0-9]{6}$'"
    " AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz <= %(cutoff)s"
    " ORDER BY 1"
)
_RECLAIM_AFTER_BYTES = 1 << 20  # an empty partition's indexes bigger than this are rebuilt
_NEXT_OLD_ROW = "SELECT min(ts) FROM readings WHERE point_key = %(p)s AND ts >= %(lo)s AND ts < %(cutoff)s"
_ORDER = "ORDER BY ts, gateway_key, seq"
# One statement per point and stretch of hours: rows out of readings, merged with their hours' blocks, blocks
# written. Where a reading sits in a block and in readings (only possible for rows written around the sink),
# the block's copy wins, as ON CONFLICT DO NOTHING keeps the first stored.
_COMPACT = (
    "WITH moved AS (DELETE FROM readings WHERE point_key = %(p)s AND ts >= %(lo)s AND ts < %(hi)s"
    "   RETURNING gateway_key, seq, ts, value, quality),"
    " hours AS (SELECT DISTINCT date_bin('1 hour', ts, %(origin)s) AS hour FROM moved),"
    " kept AS (SELECT COALESCE(b.gateway_key, u.gk) AS gateway_key, u.seq, u.ts, u.value, u.quality"
    "   FROM reading_blocks b JOIN hours h ON b.point_key = %(p)s AND b.hour = h.hour"
    "   CROSS JOIN LATERAL unnest(b.gateway_keys, b.seqs, b.times, b.vals, b.qualities)"
    "     AS u(gk, seq, ts, value, quality)),"
    " merged AS (SELECT DISTINCT ON (gateway_key, seq, ts) gateway_key, seq, ts, value, quality FROM"
    "   (SELECT *, 0 AS src FROM kept UNION ALL SELECT *, 1 FROM moved) a ORDER BY gateway_key, seq, ts, src),"
    " written AS (INSERT INTO reading_blocks (point_key, hour, n, gateway_key, gateway_keys, seqs, times, vals,"
    "   qualities)"
    "   SELECT %(p)s, date_bin('1 hour', ts, %(origin)s), count(*),"
    "     CASE WHEN min(gateway_key) = max(gateway_key) THEN min(gateway_key) END,"
    f"    CASE WHEN min(gateway_key) <> max(gateway_key) THEN array_agg(gateway_key {_ORDER}) END,"
    f"    array_agg(seq {_ORDER}), array_agg(ts {_ORDER}), array_agg(value {_ORDER}), array_agg(quality {_ORDER})"
    "   FROM merged GROUP BY 2"
    "   ON CONFLICT (point_key, hour) DO UPDATE SET n = EXCLUDED.n, gateway_key = EXCLUDED.gateway_key,"
    "     gateway_keys = EXCLUDED.gateway_keys, seqs = EXCLUDED.seqs, times = EXCLUDED.times,"
    "     vals = EXCLUDED.vals, qualities = EXCLUDED.qualities"
    "   RETURNING 1)"
    " SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM written)"
)


# Hot batches (085_reading_batches.sql): moved a device and an hour of batches at a time, by their newest
# reading, so every batch moved lies wholly before the cut-off. The same merge with the blocks as for rows.
_DEVICES_WITH_OLD_BATCHES = (
    "SELECT device_id, min(ts_hi) FROM reading_batches WHERE ts_hi < %(cutoff)s"
    " AND (%(points)s::int[] IS NULL OR device_id IN (SELECT device_id FROM points WHERE point_key = ANY(%(points)s)))"
    " GROUP BY 1 ORDER BY 1"
)
_NEXT_OLD_BATCH = "SELECT min(ts_hi) FROM reading_batches WHERE device_id = %(d)s AND ts_hi >= %(lo)s AND ts_hi < %(cutoff)s"
_COMPACT_BATCHES = (
    "WITH moved AS (DELETE FROM reading_batches WHERE device_id = %(d)s AND ts_hi >= %(lo)s AND ts_hi < %(hi)s"
    "   RETURNING gateway_key, point_keys, seqs, times, vals, qualities),"
    " r AS (SELECT u.point_key, m.gateway_key, u.seq, u.ts, u.value, u.quality FROM moved m CROSS JOIN LATERAL"
    "   unnest(m.point_keys, m.seqs, m.times, m.vals, m.qualities) AS u(point_key, seq, ts, value, quality)),"
    " hours AS (SELECT DISTINCT point_key, date_bin('1 hour', ts, %(origin)s) AS hour FROM r),"
    " kept AS (SELECT b.point_key, COALESCE(b.gateway_key, u.gk) AS gateway_key, u.seq, u.ts, u.value, u.quality"
    "   FROM reading_blocks b JOIN hours h ON b.point_key = h.point_key AND b.hour = h.hour"
    "   CROSS JOIN LATERAL unnest(b.gateway_keys, b.seqs, b.times, b.vals, b.qualities)"
    "     AS u(gk, seq, ts, value, quality)),"
    " merged AS (SELECT DISTINCT ON (point_key, gateway_key, seq, ts) point_key, gateway_key, seq, ts, value, quality"
    "   FROM (SELECT *, 0 AS src FROM kept UNION ALL SELECT *, 1 FROM r) a"
    "   ORDER BY point_key, gateway_key, seq, ts, src),"
    " written AS (INSERT INTO reading_blocks (point_key, hour, n, gateway_key, gateway_keys, seqs, times, vals,"
    "   qualities)"
    "   SELECT point_key, date_bin('1 hour', ts, %(origin)s), count(*),"
    "     CASE WHEN min(gateway_key) = max(gateway_key) THEN min(gateway_key) END,"
    f"    CASE WHEN min(gateway_key) <> max(gateway_key) THEN array_agg(gateway_key {_ORDER}) END,"
    f"    array_agg(seq {_ORDER}), array_agg(ts {_ORDER}), array_agg(value {_ORDER}), array_agg(quality {_ORDER})"
    "   FROM merged GROUP BY 1, 2"
    "   ON CONFLICT (point_key, hour) DO UPDATE SET n = EXCLUDED.n, gateway_key = EXCLUDED.gateway_key,"
    "     gateway_keys = EXCLUDED.gateway_keys, seqs = EXCLUDED.seqs, times = EXCLUDED.times,"
    "     vals = EXCLUDED.vals, qualities = EXCLUDED.qualities"
    "   RETURNING point_key, hour)"
    " SELECT (SELECT count(*) FROM r), (SELECT array_agg(point_key) FROM written), (SELECT array_agg(hour) FROM written)"
)


@dataclass(frozen=True)
class CompactionSettings:
    older_than_minutes: int = 120

    def __post_init__(self) -> None:
        if not MIN_HORIZON_MINUTES <= self.older_than_minutes <= _MAX_HORIZON_MINUTES:
            raise ValueError(f"compaction horizon must be from {MIN_HORIZON_MINUTES} to {_MAX_HORIZON_MINUTES}"
                             f" minutes, got {self.older_than_minutes}")


def compaction_settings(env: dict[str, str] | None = None) -> CompactionSettings:
    """CompactionSettings from CARBONFLOW_COMPACT_AFTER_MINUTES (unset or empty: 120)."""
    raw = (os.environ if env is None else env).get("CARBONFLOW_COMPACT_AFTER_MINUTES", "")
    if not raw:
        return CompactionSettings()
    try:
        minutes = int(raw)
    except ValueError as exc:
        raise ValueError(f"CARBONFLOW_COMPACT_AFTER_MINUTES must be a whole number of minutes, got {raw!r}") from exc
    try:
        return CompactionSettings(minutes)
    except ValueError as exc:
        raise ValueError(f"CARBONFLOW_COMPACT_AFTER_MINUTES: {exc}") from exc


def _floor_hour(ts: datetime) -> datetime:
    return ts - (ts - _ORIGIN) % _HOUR


def _timescale(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone() is not None


def compact_readings(conn: psycopg.Connection, settings: CompactionSettings = CompactionSettings(), *,
                     now: datetime | None = None, point_keys: Sequence[int] | None = None,
                     progress: Callable[[int, int, int], None] | None = None) -> dict[str, Any]:
    """Move the readings of hours closed before `now - horizon` into blocks; returns what was moved.

    `point_keys` limits it to those points (and leaves partitions as they are); otherwise closed months'
    partitions of `readings` left without rows get their indexes rebuilt (`reclaimed`), when the connection's
    role owns them (else they are listed in `reclaim_skipped`).
    `progress(points_done, points_total, readings_moved)` is called after each point. The connection must be in
    autocommit mode: the work is committed in transactions of about 100,000 readings, each holding the
    compaction lock.
    """
    if not conn.autocommit:
        raise ValueError("compact_readings needs a connection in autocommit mode")
    now = now or datetime.now(UTC)
    cutoff = _floor_hour(now - timedelta(minutes=settings.older_than_minutes))
    result: dict[str, Any] = {"before": cutoff, "points": 0, "readings": 0, "blocks": 0, "seconds": 0.0,
                              "reclaimed": [], "reclaim_skipped": []}
    started = time.monotonic()
    points = None if point_keys is None else list(point_keys)
    devices = conn.execute(_DEVICES_WITH_OLD_BATCHES, {"cutoff": cutoff, "points": points}).fetchall()
    timescale = _timescale(conn)  # TimescaleDB compresses the rows of readings natively; batches are ours
    rows = [] if timescale else conn.execute(_POINTS_WITH_OLD_ROWS, {"cutoff": cutoff, "points": points}).fetchall()
    total = len(devices) + len(rows)
    moved_points: set[int] = set()
    batch_blocks: set[tuple[int, datetime]] = set()

    def report(done: int) -> None:
        if progress is not None:
            progress(done, total, result["readings"])

    def move_batches(device: str, lo: datetime) -> datetime | None:
        hi = min(cutoff, lo + _HOUR)
        moved, keys, hours = conn.execute(_COMPACT_BATCHES, {"d": device, "lo": lo, "hi": hi,  # type: ignore[misc]
                                                              "origin": _ORIGIN}).fetchone()
        result["readings"] += moved
        written = set(zip(keys or [], hours or []))
        result["blocks"] += len(written - batch_blocks)  # a block that two spans of batches share counts once
        batch_blocks.update(written)
        moved_points.update(keys or [])
        row = conn.execute(_NEXT_OLD_BATCH, {"d": device, "lo": hi, "cutoff": cutoff}).fetchone()
        return None if row is None else row[0]

    def move_rows(point: int, lo: datetime) -> datetime | None:
        hi = min(cutoff, _floor_hour(lo) + _SPAN)
        moved, blocks = conn.execute(_COMPACT, {"p": point, "lo": _floor_hour(lo), "hi": hi,  # type: ignore[misc]
                                                "origin": _ORIGIN}).fetchone()
        result["readings"] += moved
        result["blocks"] += blocks
        if moved:
            moved_points.add(point)
        row = conn.execute(_NEXT_OLD_ROW, {"p": point, "lo": hi, "cutoff": cutoff}).fetchone()
        return None if row is None else row[0]

    work = [(move_batches, device, first) for device, first in devices] + [(move_rows, p, f) for p, f in rows]
    i, next_lo = 0, (work[0][2] if work else None)
    while i < len(work):
        with conn.transaction():
            # waits for the sinks' transactions storing old readings, and makes new ones wait for this one
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (COMPACTION_LOCK,))
            pending_from = result["readings"]
            while i < len(work) and result["readings"] - pending_from < _TXN_READINGS:
                move, key, _first = work[i]
                next_lo = move(key, next_lo)  # type: ignore[arg-type]
                if next_lo is not None:
                    continue
                i += 1
                next_lo = work[i][2] if i < len(work) else None
                report(i)
    result["points"] = len(moved_points)
    if timescale:
        result["skipped"] = "TimescaleDB compresses the rows of readings natively; hot batches were compacted"
    elif point_keys is None:
        result["reclaimed"], result["reclaim_skipped"] = _reclaim_emptied_partitions(conn, cutoff)
    result["seconds"] = time.monotonic() - started
    return result


def _reclaim_emptied_partitions(conn: psycopg.Connection, cutoff: datetime) -> tuple[list[str], list[str]]:
    """Give back the space of closed months' readings partitions that compaction left without rows; return
    those rebuilt and those that need it but that this role, not being their owner, may not rebuild.

    Deleted rows leave their index pages allocated (VACUUM only marks them reusable, for rows that will
    not come to a closed month): such a partition's indexes are rebuilt, CONCURRENTLY so that late data
    can still be stored meanwhile, and VACUUM truncates its emptied heap.
    """
    reclaimed, skipped = [], []
    for name, index_bytes, owned in conn.execute(_CLOSED_PARTITIONS, {"cutoff": cutoff}).fetchall():
        if index_bytes < _RECLAIM_AFTER_BYTES:
            continue
        # name matched ^readings_[0-9]{6}$: safe to quote as is
        if conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() is not None:
            continue
        if not owned:
            skipped.append(name)
            continue
        conn.execute(f'VACUUM "{name}"')
        conn.execute(f'REINDEX TABLE CONCURRENTLY "{name}"')
        reclaimed.append(name)
    return reclaimed, skipped
