"""The SQLite spool: durable, ordered, bounded with counted drops, sequence never reused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from carbon_domain.schemas import QUALITY_CODE, ColumnEnvelope, Envelope, column_envelope
from edge_agent import spool_codec
from edge_agent.spool import Spool

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _drafts(n: int, start: float = 0.0) -> list[dict[str, object]]:
    return [
        {"device": f"m{i % 3}", "point": f"p{i % 7}", "value": start + i * 0.5, "unit": "kWh", "kind": "counter",
         "source_ts": T0 + timedelta(milliseconds=100 * i), "gateway_ts": T0 + timedelta(milliseconds=100 * i + 3)}
        for i in range(n)
    ]


def test_block_round_trip_keeps_every_field(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    drafts = _drafts(20)
    drafts[4] |= {"value": None, "quality": "bad", "reason": "timeout"}
    stored = spool.append(drafts)
    got = [(r.device, r.point, r.value, r.quality.value, r.reason, r.source_ts, r.gateway_ts) for r in stored]
    want = [(d["device"], d["point"], d["value"], d.get("quality", "good"), d.get("reason"), d["source_ts"],
             d["gateway_ts"]) for d in drafts]
    assert got == want


def test_sequence_numbers_continue_after_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    first = spool.append(_drafts(5))
    spool.acknowledge(0, 4)
    spool.close()
    reopened = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    second = reopened.append(_drafts(3))
    assert [r.seq for r in first + second] == list(range(8))


def test_staged_readings_get_no_sequence_until_flushed(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    spool.stage(_drafts(4))
    before = spool.stats().next_seq
    spool.flush()
    assert (before, spool.stats().next_seq) == (0, 4)


def test_batches_are_whole_blocks_oldest_first_after_cursor(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    for _ in range(4):
        spool.append(_drafts(10))
    batches = spool.batches(after_seq=9, limit=20)
    assert [(b.seq_first, b.seq_last) for b in batches] == [(10, 19), (20, 29)]


def test_batches_before_a_boundary_leave_out_newer_blocks(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    for _ in range(4):
        spool.append(_drafts(10))
    batches = spool.batches(after_seq=-1, limit=1000, before_seq=20)
    assert [(b.seq_first, b.seq_last) for b in batches] == [(0, 9), (10, 19)]


def test_acknowledged_blocks_leave_the_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    for _ in range(3):
        spool.append(_drafts(10))
    removed = spool.acknowledge(0, 19)
    assert (removed, [r.seq for r in spool.peek(after_seq=-1, limit=100)]) == (20, list(range(20, 30)))


def test_overflow_drops_oldest_and_counts_exactly_what_it_dropped(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=20_000)
    total = 0
    while spool.stats().dropped == 0:
        spool.append(_drafts(200, start=total))
        total += 200
    spool.append(_drafts(200, start=total))
    total += 200
    stats = spool.stats()
    kept = [r.seq for r in spool.peek(after_seq=-1, limit=10**6)]
    assert (stats.dropped, kept, stats.depth) == (total - len(kept), list(range(stats.dropped, total)), len(kept))


def test_drops_are_reported_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=20_000)
    while spool.stats().dropped == 0:
        spool.append(_drafts(200))
    dropped = spool.stats().dropped
    before = spool.unreported_drops()[1]
    spool.mark_drops_reported(dropped)
    assert (before, spool.unreported_drops()[1]) == (dropped, 0)


@pytest.mark.parametrize("n", [1, 1000])
def test_spool_stores_a_reading_in_few_bytes(tmp_path: Path, n: int) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    spool.append(_drafts(n))
    assert spool.stats().bytes / n < (200 if n == 1 else 20)


def test_oldest_unsent_time_follows_acknowledgements_and_survives_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    for block in range(3):  # block n polled n minutes after T0
        shift = timedelta(minutes=block)
        spool.append([d | {"source_ts": d["source_ts"] + shift, "gateway_ts": d["gateway_ts"] + shift}
                      for d in _drafts(10)])
    spool.acknowledge(0, 9)
    after_ack = spool.stats().oldest_gateway_ts
    spool.close()
    reopened = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    second_block = (T0 + timedelta(minutes=1, milliseconds=3)).timestamp()
    assert (after_ack, reopened.stats().oldest_gateway_ts) == (second_block, second_block)


def _as_columns(spool: Spool, *, after_seq: int, limit: int, before_seq: int | None = None) -> ColumnEnvelope:
    """What version 1 carries for these blocks, regrouped by carbon_domain's reference conversion."""
    batches = spool.batches(after_seq=after_seq, limit=limit, before_seq=before_seq)
    readings = [r for b in batches for r in b.readings]
    return column_envelope(Envelope(gateway="gw", seq_first=batches[0].seq_first, seq_last=batches[-1].seq_last,
                                    sent_at=T0, readings=readings))


def _mixed_drafts(n: int, shift: timedelta = timedelta()) -> list[dict[str, object]]:
    """Readings of three devices, some with no value, bad or uncertain, with reasons."""
    drafts = [d | {"source_ts": d["source_ts"] + shift, "gateway_ts": d["gateway_ts"] + shift} for d in _drafts(n)]
    drafts[1] |= {"value": None, "quality": "bad", "reason": "timeout"}
    drafts[5] |= {"quality": "uncertain", "reason": "clock unsynchronised"}
    drafts[6] |= {"value": None, "quality": "uncertain"}
    drafts[7] |= {"kind": "gauge", "unit": "kW"}
    return drafts


def test_device_readings_hold_what_the_readings_of_the_same_blocks_hold(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    for block in range(4):
        spool.append(_mixed_drafts(10, timedelta(seconds=block)))
    columns = spool.device_readings(after_seq=9, limit=20)
    assert columns is not None
    want = _as_columns(spool, after_seq=9, limit=20)
    assert (columns.seq_first, columns.seq_last, columns.count) == (10, 29, 20)
    assert [d.model_dump() for d in columns.devices] == [d.model_dump() for d in want.devices]


def test_device_readings_keep_reasons_and_missing_values_at_their_positions_across_blocks(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    spool.append(_mixed_drafts(10))
    spool.append(_mixed_drafts(10, timedelta(seconds=1)))
    columns = spool.device_readings(after_seq=-1, limit=100)
    assert columns is not None
    m1 = next(d for d in columns.devices if d.device == "m1")  # rows 1, 4, 7 of each block: seq 1, 4, 7, 11, 14, 17
    assert (m1.seq, m1.value[0], m1.value[3], m1.quality, m1.reasons) == (
        [1, 4, 7, 11, 14, 17], None, None, [2, 0, 0, 2, 0, 0], {0: "timeout", 3: "timeout"})


def test_device_readings_stop_before_a_boundary_and_are_none_past_the_end(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    for _ in range(4):
        spool.append(_mixed_drafts(10))
    columns = spool.device_readings(after_seq=-1, limit=1000, before_seq=20)
    assert columns is not None
    assert (columns.seq_first, columns.seq_last, spool.device_readings(after_seq=39, limit=1000)) == (0, 19, None)


def test_device_readings_of_a_reopened_spool_know_its_points(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    spool.append(_mixed_drafts(10))
    spool.close()
    reopened = Spool(tmp_path / "s.db", max_bytes=10_000_000)
    columns = reopened.device_readings(after_seq=-1, limit=100)
    assert columns is not None
    want = _as_columns(reopened, after_seq=-1, limit=100)
    assert [d.model_dump() for d in columns.devices] == [d.model_dump() for d in want.devices]


def test_the_spool_stores_the_quality_codes_the_cloud_reads() -> None:
    # device_readings passes the spool's codes on unchanged
    assert spool_codec.QUALITY_CODE == QUALITY_CODE
