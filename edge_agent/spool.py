"""SQLite store-and-forward spool: every reading waits here until the broker acknowledges it.

Durability: WAL journal with synchronous=FULL, so a committed append survives
power loss. Sequence numbers are allocated in the same transaction as the rows
that use them, so a number is never issued twice, across restarts too.
When the spool is over its byte budget, the oldest rows are dropped and counted.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from carbon_domain.schemas import Reading

__all__ = ["Spool", "SpoolStats"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY, gateway_ts REAL NOT NULL, payload BLOB NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('next_seq', 0), ('dropped', 0), ('dropped_reported', 0);
"""


@dataclass(frozen=True)
class SpoolStats:
    depth: int
    bytes: int
    oldest_gateway_ts: float | None
    next_seq: int
    dropped: int


class Spool:
    """A bounded, durable FIFO of readings keyed by per-gateway sequence number."""

    def __init__(self, path: Path, *, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._payload_bytes = self._db.execute("SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM spool").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _meta(self, key: str) -> int:
        return int(self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])

    def append(self, drafts: list[dict[str, object]]) -> list[Reading]:
        """Give each draft the next sequence number, store them durably, return the readings."""
        if not drafts:
            return []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                first = self._meta("next_seq")
                readings = [Reading.model_validate({**d, "seq": first + i}) for i, d in enumerate(drafts)]
                rows = [(r.seq, r.gateway_ts.timestamp(), r.model_dump_json().encode()) for r in readings]
                self._db.executemany("INSERT INTO spool (seq, gateway_ts, payload) VALUES (?, ?, ?)", rows)
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (first + len(rows),))
                self._payload_bytes += sum(len(r[2]) for r in rows)
                self._enforce_budget()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return readings

    def _enforce_budget(self) -> None:
        """Drop oldest rows until the payload bytes fit the budget (caller holds the transaction)."""
        if self._payload_bytes <= self.max_bytes:
            return
        excess = self._payload_bytes - self.max_bytes
        cut = self._db.execute(
            "SELECT seq, SUM(LENGTH(payload)) OVER (ORDER BY seq) AS run FROM spool ORDER BY seq"
        )
        last_seq, freed = None, 0
        for seq, running in cut:
            last_seq, freed = seq, running
            if running >= excess:
                break
        if last_seq is None:
            return
        count = self._db.execute("DELETE FROM spool WHERE seq <= ?", (last_seq,)).rowcount
        self._db.execute("UPDATE meta SET value = value + ? WHERE key = 'dropped'", (count,))
        self._payload_bytes -= freed

    def peek(self, *, after_seq: int, limit: int) -> list[Reading]:
        """Oldest readings with seq > after_seq, at most `limit`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT payload FROM spool WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)
            ).fetchall()
        return [Reading.model_validate_json(r[0]) for r in rows]

    def acknowledge(self, seq_first: int, seq_last: int) -> int:
        """Delete a delivered range; returns how many rows left the spool."""
        with self._lock:
            freed = self._db.execute(
                "SELECT COALESCE(SUM(LENGTH(payload)), 0) FROM spool WHERE seq BETWEEN ? AND ?", (seq_first, seq_last)
            ).fetchone()[0]
            count = self._db.execute("DELETE FROM spool WHERE seq BETWEEN ? AND ?", (seq_first, seq_last)).rowcount
            self._payload_bytes -= freed
        return count

    def take_unreported_drops(self) -> int:
        """Drops not yet reported upstream; marks them reported."""
        with self._lock:
            dropped, reported = self._meta("dropped"), self._meta("dropped_reported")
            if dropped != reported:
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'dropped_reported'", (dropped,))
        return dropped - reported

    def stats(self) -> SpoolStats:
        with self._lock:
            depth, oldest = self._db.execute("SELECT COUNT(*), MIN(gateway_ts) FROM spool").fetchone()
            return SpoolStats(depth, self._payload_bytes, oldest, self._meta("next_seq"), self._meta("dropped"))
