"""The monitoring bench's import batches are made of whole lock ranges, so its workers never wait for each other's
figure locks, and every unit is imported exactly once."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import monitoring_bench

from api.monitoring.queries import LOCK_RANGE


def test_batches_cover_every_unit_once_and_share_no_lock_range() -> None:
    unit_ids = list(range(1, 30_001))
    chunks = monitoring_bench._chunks(unit_ids, 7_500)
    assert [u for chunk in chunks for u in chunk] == unit_ids
    ranges = [{u // LOCK_RANGE for u in chunk} for chunk in chunks]
    assert all(a.isdisjoint(b) for i, a in enumerate(ranges) for b in ranges[i + 1:])
    assert len(chunks) == 4 and all(abs(len(chunk) - 7_500) < LOCK_RANGE for chunk in chunks[:-1])


def test_a_batch_smaller_than_a_lock_range_still_takes_the_whole_range() -> None:
    chunks = monitoring_bench._chunks(list(range(3 * LOCK_RANGE)), 10)
    assert [len(chunk) for chunk in chunks] == [LOCK_RANGE] * 3
