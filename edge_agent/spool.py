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

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carbon_domain.schemas import Reading
from edge_agent.spool_codec import BlockRow, decode_block, encode_block

__all__ = ["Spool", "SpoolSnapshot", "SpoolStats", "SpooledBatch", "inspect_spool"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    pid INTEGER PRIMARY KEY, device TEXT NOT NULL, point TEXT NOT NULL, unit TEXT NOT NULL, kind TEXT NOT NULL,
    UNIQUE (device, point));
CREATE TABLE IF NOT EXISTS blocks (
    seq_first INTEGER PRIMARY KEY, seq_last INTEGER NOT NULL, oldest_gateway_ts REAL NOT NULL, data BLOB NOT NULL);
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


class Spool:
    """A bounded, durable FIFO of readings keyed by per-gateway sequence number."""

    def __init__(self, path: Path, *, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._staged: list[dict[str, Any]] = []
        self._staged_lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._points: dict[tuple[str, str], int] = {}
        self._point_meta: dict[int, tuple[str, str, str, str]] = {}
        for pid, device, point, unit, kind in self._db.execute("SELECT pid, device, point, unit, kind FROM points"):
            self._points[(device, point)] = pid
            self._point_meta[pid] = (device, point, unit, kind)
        self._bytes, self._depth = self._db.execute(
            "SELECT COALESCE(SUM(LENGTH(data)), 0), COALESCE(SUM(seq_last - seq_first + 1), 0) FROM blocks"
        ).fetchone()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # writing -------------------------------------------------------------------------------
    def stage(self, drafts: list[dict[str, Any]]) -> None:
        """Queue drafts in memory; `flush` makes them durable and gives them sequence numbers."""
        with self._staged_lock:
            self._staged.extend(drafts)

    @property
    def staged(self) -> int:
        return len(self._staged)

    def flush(self) -> int:
        """Commit staged drafts as one block; returns how many readings were stored."""
        with self._staged_lock:
            drafts, self._staged = self._staged, []
        if not drafts:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                first = self._meta("next_seq")
                rows = [self._row(d) for d in drafts]
                data = encode_block(rows)
                oldest = min(r.gateway_ts for r in rows).timestamp()
                self._db.execute(
                    "INSERT INTO blocks (seq_first, seq_last, oldest_gateway_ts, data) VALUES (?, ?, ?, ?)",
                    (first, first + len(rows) - 1, oldest, data),
                )
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (first + len(rows),))
                self._bytes += len(data)
                self._depth += len(rows)
                self._enforce_budget()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(drafts)

    def append(self, drafts: list[dict[str, Any]]) -> list[Reading]:
        """Stage and flush at once; returns the stored readings (used by tests and tools)."""
        with self._lock:
            first = self._meta("next_seq")
        self.stage(drafts)
        count = self.flush()
        return [r for b in self.batches(after_seq=first - 1, limit=count) for r in b.readings][:count]

    def _row(self, draft: dict[str, Any]) -> BlockRow:
        key = (str(draft["device"]), str(draft["point"]))
        pid = self._points.get(key)
        if pid is None:
            unit, kind = str(draft.get("unit", "")), str(draft.get("kind", "gauge"))
            pid = self._db.execute(
                "INSERT INTO points (device, point, unit, kind) VALUES (?, ?, ?, ?) RETURNING pid", (*key, unit, kind)
            ).fetchone()[0]
            self._points[key] = pid
            self._point_meta[pid] = (*key, unit, kind)
        return BlockRow(pid, draft.get("value"), str(draft.get("quality", "good")), draft.get("reason"),
                        draft["source_ts"], draft["gateway_ts"])

    def _meta(self, key: str) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])

    def _enforce_budget(self) -> None:
        """Drop whole oldest blocks until the payload fits the budget (caller holds the transaction)."""
        while self._bytes > self.max_bytes:
            row = self._db.execute(
                "SELECT seq_first, seq_last, LENGTH(data) FROM blocks ORDER BY seq_first LIMIT 1"
            ).fetchone()
            if row is None:
                return
            first, last, size = row
            self._db.execute("DELETE FROM blocks WHERE seq_first = ?", (first,))
            self._db.execute("UPDATE meta SET value = value + ? WHERE key = 'dropped'", (last - first + 1,))
            self._bytes -= size
            self._depth -= last - first + 1

    # reading -------------------------------------------------------------------------------
    def batches(self, *, after_seq: int, limit: int, before_seq: int | None = None) -> list[SpooledBatch]:
        """Whole blocks with seq_first > after_seq (and seq_last < before_seq), oldest first, up to ~limit readings."""
        with self._lock:
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
            meta = dict(self._point_meta)
        return [SpooledBatch(first, last, self._readings(first, data, meta)) for first, last, data in picked]

    @staticmethod
    def _readings(first: int, data: bytes, meta: dict[int, tuple[str, str, str, str]]) -> list[Reading]:
        out = []
        for i, row in enumerate(decode_block(data)):
            device, point, unit, kind = meta[row.point_id]
            out.append(Reading.model_validate({
                "seq": first + i, "device": device, "point": point, "value": row.value, "unit": unit, "kind": kind,
                "quality": row.quality, "reason": row.reason, "source_ts": row.source_ts,
                "gateway_ts": row.gateway_ts,
            }))
        return out

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
        """(readings dropped in total, of which not yet reported upstream); marks nothing."""
        with self._lock:
            dropped, reported = self._meta("dropped"), self._meta("dropped_reported")
        return dropped, dropped - reported

    def mark_drops_reported(self, dropped_total: int) -> None:
        """Record that drops up to `dropped_total` have been reported (never moves backwards)."""
        with self._lock:
            self._db.execute(
                "UPDATE meta SET value = MAX(value, ?) WHERE key = 'dropped_reported'", (dropped_total,)
            )

    def stats(self) -> SpoolStats:
        with self._lock:
            oldest = self._db.execute("SELECT MIN(oldest_gateway_ts) FROM blocks").fetchone()[0]
            return SpoolStats(self._depth, self._bytes, oldest, self._meta("next_seq"), self._meta("dropped"),
                              len(self._staged))

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
