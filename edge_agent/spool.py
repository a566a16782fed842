"""SQLite store-and-forward spool: every reading waits here until the broker acknowledges it.

Readings are staged in memory and committed as compressed blocks (group
commit) every `flush_interval_s` (default 0.2 s) with WAL and synchronous=FULL:
a power loss can lose at most the readings of the last unflushed interval,
never a committed block. Sequence numbers are assigned in the transaction that
stores the block, so a number is never issued twice, across restarts too.
When the spool is over its byte budget the oldest blocks are dropped, and the
number of readings dropped is counted and reported.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from carbon_domain.schemas import Reading
from edge_agent.polled import PolledReadings
from edge_agent.spool_codec import EPOCH, QUALITY, QUALITY_CODE, BlockColumns, decode_block, encode_block, micros
from edge_agent.spool_columns import PointTable, SpooledColumns, device_readings

__all__ = ["Spool", "SpoolSnapshot", "SpoolStats", "SpooledBatch", "SpooledColumns", "inspect_spool"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    pid INTEGER PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, unit TEXT NOT NULL, kind TEXT NOT NULL,
    UNIQUE (device, point));
CREATE TABLE IF NOT EXISTS blocks (
    seq_first INTEGER PRIMARY KEY, seq_last INTEGER NOT NULL, oldest_gateway_ts REAL NOT NULL, data BLOB NOT NULL);
-- status reports ask for the oldest unsent reading: without this, a scan of every block on the event loop
CREATE INDEX IF NOT EXISTS blocks_by_age ON blocks (oldest_gateway_ts);
INSERT OR IGNORE INTO meta (key, value) VALUES ('next_seq', 0), ('dropped', 0), ('dropped_reported', 0);
"""


@dataclass(frozen=True)
class SpoolStats:
    depth: int
    bytes: int
    oldest_gateway_ts: float | None
    next_seq: int
    dropped: int
    staged: int


@dataclass(frozen=True)
class SpooledBatch:
    seq_first: int
    seq_last: int
    readings: list[Reading]


_READINGS = TypeAdapter(list[Reading])  # one validation call per slice of a block instead of one per reading
# A validation call holds the GIL throughout; slices this long keep each call to about 2 ms, so the
# event loop (the pollers) is never held up for long by the thread reading a block.
_VALIDATE_SLICE = 1000


class Spool:
    """A bounded, durable FIFO of readings keyed by per-gateway sequence number.

    Its numbers (depth, bytes, next sequence, drops) are kept in memory beside
    the database and change only once the transaction behind them committed,
    so status reports and drop checks read them without SQL and without waiting
    for a flush.
    """

    def __init__(self, path: Path, *, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()  # the connection: one statement or transaction at a time
        self._flush_lock = threading.Lock()  # one flush at a time, so blocks are numbered in staging order
        self._staged: list[PolledReadings | list[dict[str, Any]]] = []
        self._staged_count = 0
        self._staged_lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._points: dict[tuple[str, str], int] = {}
        self._point_meta: dict[int, tuple[str, str, str, str]] = {}
        self._point_table = PointTable()  # the same, one dict per field, for reading blocks as columns
        for pid, device, point, unit, kind in self._db.execute("SELECT pid, device, point, unit, kind FROM points"):
            self._points[(device, point)] = pid
            self._point_meta[pid] = (device, point, unit, kind)
            self._point_table.add(pid, device, point, unit, kind)
        self._bytes, self._depth = self._db.execute(
            "SELECT COALESCE(SUM(LENGTH(data)), 0), COALESCE(SUM(seq_last - seq_first + 1), 0) FROM blocks"
        ).fetchone()
        self._next_seq, self._dropped, self._dropped_reported = (
            self._meta("next_seq"), self._meta("dropped"), self._meta("dropped_reported"))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # writing -------------------------------------------------------------------------------
    def stage(self, drafts: PolledReadings | list[dict[str, Any]]) -> None:
        """Queue readings in memory (a poll's columns or a list of drafts); `flush` makes them durable and gives
        them sequence numbers."""
        with self._staged_lock:
            self._staged.append(drafts if isinstance(drafts, PolledReadings) else list(drafts))
            self._staged_count += len(drafts)

    @property
    def staged(self) -> int:
        return self._staged_count

    def flush(self) -> int:
        """Commit staged readings as one block; returns how many readings were stored."""
        with self._flush_lock:
            with self._staged_lock:
                staged, self._staged = self._staged, []
                count, self._staged_count = self._staged_count, 0
            if not count:
                return 0
            # Encoding is most of a flush and needs no connection: outside the lock, so the
            # publisher's reads and acknowledgements do not wait for it.
            block = self._columns(staged)
            data = encode_block(block)
            with self._lock:
                self._commit_block(len(block), min(block.gateway_us) / 1e6, data)
        return count

    def _commit_block(self, count: int, oldest_gateway_ts: float, data: bytes) -> None:
        """Store one encoded block under the next sequence numbers (caller holds the lock)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            first = self._meta("next_seq")
            self._db.execute(
                "INSERT INTO blocks (seq_first, seq_last, oldest_gateway_ts, data) VALUES (?, ?, ?, ?)",
                (first, first + count - 1, oldest_gateway_ts, data),
            )
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (first + count,))
            dropped_readings, dropped_bytes = self._enforce_budget(self._bytes + len(data))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._next_seq = first + count
        self._bytes += len(data) - dropped_bytes
        self._depth += count - dropped_readings
        self._dropped += dropped_readings

    def append(self, drafts: list[dict[str, Any]]) -> list[Reading]:
        """Stage and flush at once; returns the stored readings (used by tests and tools)."""
        first = self._next_seq
        self.stage(drafts)
        count = self.flush()
        return [r for b in self.batches(after_seq=first - 1, limit=count) for r in b.readings][:count]

    def _columns(self, staged: list[PolledReadings | list[dict[str, Any]]]) -> BlockColumns:
        """The staged readings as block columns (only the flushing thread calls this)."""
        points = self._points
        new: dict[tuple[str, str], tuple[str, str]] = {}
        for chunk in staged:
            if isinstance(chunk, PolledReadings):
                if not all(map(points.__contains__, chunk.keys)):
                    for key, unit, kind in zip(chunk.keys, chunk.units, chunk.kinds):
                        if key not in points and key not in new:
                            new[key] = (unit, kind)
            else:
                for d in chunk:
                    key = (str(d["device"]), str(d["point"]))
                    if key not in points and key not in new:
                        new[key] = (str(d.get("unit", "")), str(d.get("kind", "gauge")))
        if new:
            self._add_points(new)
        block = BlockColumns()
        for chunk in staged:
            if isinstance(chunk, PolledReadings):
                base = len(block)
                block.point_ids.extend(map(points.__getitem__, chunk.keys))
                block.source_us.extend(chunk.source_us)
                block.gateway_us.extend(chunk.gateway_us)
                block.values.extend(chunk.values)
                block.quality.extend(chunk.quality)
                for i, reason in chunk.reasons.items():
                    block.reasons[base + i] = reason
            else:
                self._draft_columns(chunk, block)
        return block

    def _draft_columns(self, drafts: list[dict[str, Any]], block: BlockColumns) -> None:
        """Append drafts (one dict per reading) to the block's columns."""
        points = self._points
        pids, src, gw, values, quality, reasons = (
            block.point_ids, block.source_us, block.gateway_us, block.values, block.quality, block.reasons)
        base = len(block)
        # the readings of one poll share their time stamp objects: convert each object once
        # (keyed by id, which is stable while `drafts` holds them)
        us_of: dict[int, int] = {}
        for i, d in enumerate(drafts, base):
            pids.append(points[(str(d["device"]), str(d["point"]))])
            source_ts, gateway_ts = d["source_ts"], d["gateway_ts"]
            us = us_of.get(id(source_ts))
            if us is None:
                us = us_of[id(source_ts)] = micros(source_ts)
            src.append(us)
            us = us_of.get(id(gateway_ts))
            if us is None:
                us = us_of[id(gateway_ts)] = micros(gateway_ts)
            gw.append(us)
            value = d.get("value")
            values.append(math.nan if value is None else value)
            quality.append(QUALITY_CODE[str(d.get("quality", "good"))])
            reason = d.get("reason")
            if reason:
                reasons[i] = reason

    def _add_points(self, new: dict[tuple[str, str], tuple[str, str]]) -> None:
        """Give points seen for the first time their dictionary ids, all in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                insert = "INSERT INTO points (device, point, unit, kind) VALUES (?, ?, ?, ?) RETURNING pid"
                added = [(key, meta, self._db.execute(insert, (*key, *meta)).fetchone()[0]) for key, meta in new.items()]
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            for key, (unit, kind), pid in added:
                self._points[key] = pid
                self._point_meta[pid] = (*key, unit, kind)
                self._point_table.add(pid, *key, unit, kind)

    def _meta(self, key: str) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])

    def _enforce_budget(self, payload_bytes: int) -> tuple[int, int]:
        """Drop whole oldest blocks until `payload_bytes` fits the budget (caller holds the transaction).

        Returns (readings, bytes) dropped; the caller applies them to its numbers after the commit.
        """
        readings = dropped_bytes = 0
        while payload_bytes - dropped_bytes > self.max_bytes:
            row = self._db.execute(
                "SELECT seq_first, seq_last, LENGTH(data) FROM blocks ORDER BY seq_first LIMIT 1"
            ).fetchone()
            if row is None:
                break
            first, last, size = row
            self._db.execute("DELETE FROM blocks WHERE seq_first = ?", (first,))
            self._db.execute("UPDATE meta SET value = value + ? WHERE key = 'dropped'", (last - first + 1,))
            readings += last - first + 1
            dropped_bytes += size
        return readings, dropped_bytes

    # reading -------------------------------------------------------------------------------
    def batches(self, *, after_seq: int, limit: int, before_seq: int | None = None) -> list[SpooledBatch]:
        """Whole blocks with seq_first > after_seq (and seq_last < before_seq), oldest first, up to ~limit readings."""
        with self._lock:
            picked = self._pick_blocks(after_seq, limit, before_seq)
            meta = dict(self._point_meta)
        return [SpooledBatch(first, last, self._readings(first, data, meta)) for first, last, data in picked]

    def device_readings(self, *, after_seq: int, limit: int, before_seq: int | None = None) -> SpooledColumns | None:
        """The blocks `batches` would give, as one column list per field per device (no `Reading` objects);
        None when there are none."""
        with self._lock:
            picked = self._pick_blocks(after_seq, limit, before_seq)
        return device_readings(picked, self._point_table)

    def _pick_blocks(self, after_seq: int, limit: int, before_seq: int | None) -> list[tuple[int, int, bytes]]:
        """(seq_first, seq_last, data) of the blocks to read, at least one if any (caller holds the lock)."""
        query = "SELECT seq_first, seq_last, data FROM blocks WHERE seq_first > ?"
        params: list[int] = [after_seq]
        if before_seq is not None:
            query += " AND seq_last < ?"
            params.append(before_seq)
        cursor = self._db.execute(query + " ORDER BY seq_first", params)
        picked: list[tuple[int, int, bytes]] = []
        total = 0
        for first, last, data in cursor:
            if picked and total + (last - first + 1) > limit:
                break
            picked.append((first, last, data))
            total += last - first + 1
        return picked

    @staticmethod
    def _readings(first: int, data: bytes, meta: dict[int, tuple[str, str, str, str]]) -> list[Reading]:
        block = decode_block(data)
        reasons = block.reasons
        times: dict[int, datetime] = {}  # µs -> datetime: a poll's readings share their time stamps
        rows = []
        for i, (pid, src_us, gw_us, value, code) in enumerate(
            zip(block.point_ids, block.source_us, block.gateway_us, block.values, block.quality)
        ):
            device, point, unit, kind = meta[pid]
            source_ts = times.get(src_us)
            if source_ts is None:
                source_ts = times[src_us] = EPOCH + timedelta(microseconds=src_us)
            gateway_ts = times.get(gw_us)
            if gateway_ts is None:
                gateway_ts = times[gw_us] = EPOCH + timedelta(microseconds=gw_us)
            rows.append({
                "seq": first + i, "device": device, "point": point, "value": None if math.isnan(value) else value,
                "unit": unit, "kind": kind, "quality": QUALITY[code], "reason": reasons.get(i),
                "source_ts": source_ts, "gateway_ts": gateway_ts,
            })
        step = _VALIDATE_SLICE
        return [r for i in range(0, len(rows), step) for r in _READINGS.validate_python(rows[i : i + step])]

    def peek(self, *, after_seq: int, limit: int) -> list[Reading]:
        """Oldest readings with seq > after_seq, whole blocks, at least one block."""
        return [r for b in self.batches(after_seq=after_seq, limit=limit) for r in b.readings]

    def acknowledge(self, seq_first: int, seq_last: int) -> int:
        """Delete the delivered blocks inside [seq_first, seq_last]; returns how many readings left."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq_first, seq_last, LENGTH(data) FROM blocks WHERE seq_first >= ? AND seq_last <= ?",
                (seq_first, seq_last),
            ).fetchall()
            if not rows:
                return 0
            self._db.execute("DELETE FROM blocks WHERE seq_first >= ? AND seq_last <= ?", (seq_first, seq_last))
            count = sum(last - first + 1 for first, last, _ in rows)
            self._bytes -= sum(size for _, _, size in rows)
            self._depth -= count
        return count

    def unreported_drops(self) -> tuple[int, int]:
        """(readings dropped in total, of which not yet reported upstream); marks nothing, reads no SQL."""
        dropped, reported = self._dropped, self._dropped_reported
        return dropped, dropped - reported

    def mark_drops_reported(self, dropped_total: int) -> None:
        """Record that drops up to `dropped_total` have been reported (never moves backwards)."""
        with self._lock:
            self._db.execute(
                "UPDATE meta SET value = MAX(value, ?) WHERE key = 'dropped_reported'", (dropped_total,)
            )
            self._dropped_reported = max(self._dropped_reported, dropped_total)

    def stats(self) -> SpoolStats:
        with self._lock:
            oldest = self._db.execute("SELECT MIN(oldest_gateway_ts) FROM blocks").fetchone()[0]
            return SpoolStats(self._depth, self._bytes, oldest, self._next_seq, self._dropped, self._staged_count)

    def file_bytes(self) -> int:
        """Bytes the spool occupies on disk (database pages plus WAL)."""
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


@dataclass(frozen=True)
class SpoolSnapshot:
    """What `inspect_spool` reads from a spool file without opening it for writing."""

    depth: int
    bytes: int
    oldest_gateway_ts: float | None
    next_seq: int
    dropped: int
    dropped_reported: int
    file_bytes: int


def inspect_spool(path: Path) -> SpoolSnapshot:
    """Read a spool's numbers read-only (safe while an agent writes it); raises sqlite3.Error or OSError."""
    if not path.exists():
        raise FileNotFoundError(f"no spool at {path}")
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        size, depth = db.execute(
            "SELECT COALESCE(SUM(LENGTH(data)), 0), COALESCE(SUM(seq_last - seq_first + 1), 0) FROM blocks"
        ).fetchone()
        # blocks are written in time order, so the first block holds (about) the oldest reading
        first = db.execute("SELECT oldest_gateway_ts FROM blocks ORDER BY seq_first LIMIT 1").fetchone()
    finally:
        db.close()
    wal = path.with_name(path.name + "-wal")
    return SpoolSnapshot(
        depth=int(depth), bytes=int(size), oldest_gateway_ts=first[0] if first else None,
        next_seq=int(meta.get("next_seq", 0)), dropped=int(meta.get("dropped", 0)),
        dropped_reported=int(meta.get("dropped_reported", 0)),
        file_bytes=path.stat().st_size + (wal.stat().st_size if wal.exists() else 0),
    )
