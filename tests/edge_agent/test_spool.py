"""The SQLite spool: durable, ordered, bounded with counted drops, sequence never reused."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from edge_agent.spool import Spool


def _drafts(n: int, start: float = 0.0) -> list[dict[str, object]]:
    now = datetime.now(timezone.utc)
    return [
        {"device": "m1", "point": "p", "value": start + i, "unit": "kWh", "source_ts": now, "gateway_ts": now}
        for i in range(n)
    ]


def test_sequence_numbers_continue_after_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    first = spool.append(_drafts(5))
    spool.acknowledge(0, 4)
    spool.close()
    reopened = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    second = reopened.append(_drafts(3))
    assert [r.seq for r in first + second] == list(range(8))


def test_peek_returns_oldest_first_after_cursor(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    spool.append(_drafts(10))
    assert [r.seq for r in spool.peek(after_seq=3, limit=4)] == [4, 5, 6, 7]


def test_acknowledged_range_leaves_the_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    spool.append(_drafts(10))
    spool.acknowledge(0, 5)
    assert [r.seq for r in spool.peek(after_seq=-1, limit=100)] == [6, 7, 8, 9]


def test_overflow_drops_oldest_and_counts_exactly_what_it_dropped(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=1024 * 1024)
    total = 0
    while spool.stats().dropped == 0:
        spool.append(_drafts(500, start=total))
        total += 500
    stats = spool.stats()
    kept = [r.seq for r in spool.peek(after_seq=-1, limit=10**6)]
    assert (stats.dropped, kept) == (total - len(kept), list(range(stats.dropped, total)))


def test_drops_are_reported_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=1024 * 1024)
    while spool.stats().dropped == 0:
        spool.append(_drafts(500))
    dropped = spool.stats().dropped
    assert (spool.take_unreported_drops(), spool.take_unreported_drops()) == (dropped, 0)
