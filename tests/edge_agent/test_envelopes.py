"""What the publisher sends: column envelopes (version 2) by default, version-1 envelopes when configured."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from carbon_domain.schemas import QUALITY_CODE, ColumnEnvelope, Envelope, Reading, epoch_us
from carbon_domain.wire import decode_envelope
from edge_agent.config import AgentConfig, ConfigError, load_agent_config
from edge_agent.publisher import Publisher
from edge_agent.spool import Spool

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
BLOCK = 30  # readings per spool block
BLOCKS = 7
BATCH = 70  # batch_max_readings: two whole blocks per envelope (a third would pass 70)


def _drafts(block: int) -> list[dict[str, Any]]:
    """One block of readings of three devices, some with no value, bad or uncertain, with reasons."""
    polled = T0 + timedelta(seconds=block)
    drafts: list[dict[str, Any]] = [
        {"device": f"m{i % 3}", "point": f"p{i % 10}", "value": block * 100 + i * 0.25, "unit": "kWh",
         "kind": "counter" if i % 10 == 0 else "gauge", "source_ts": polled + timedelta(milliseconds=i),
         "gateway_ts": polled + timedelta(milliseconds=i, microseconds=7)}
        for i in range(BLOCK)]
    drafts[2] |= {"value": None, "quality": "bad", "reason": "timeout after 0.5 s"}
    drafts[4] |= {"quality": "uncertain", "reason": "clock unsynchronised"}
    drafts[8] |= {"value": None, "quality": "uncertain"}
    return drafts


def _fill(path: Path) -> list[Reading]:
    """A spool of BLOCKS blocks; returns its readings as version 1 carries them."""
    spool = Spool(path, max_bytes=10_000_000)
    for block in range(BLOCKS):
        spool.append(_drafts(block))
    readings = spool.peek(after_seq=-1, limit=10**6)
    spool.close()
    return readings


def _config(tmp_path: Path, link: dict[str, Any], **mqtt: Any) -> AgentConfig:
    return AgentConfig.model_validate({
        "gateway_id": "gw-test", "spool_path": str(tmp_path / "spool.sqlite"), "batch_max_readings": BATCH,
        "mqtt": {**link, **mqtt},
        "devices": [{"id": "unused", "profile": "cf-demo/pm3-meter", "protocol": "modbus", "port": 1}]})


async def _publish_spool(config: AgentConfig, listen: Callable[[str], Any], eventually: Any) -> tuple[list[Any], int]:
    """Run a publisher until the broker acknowledged the whole spool: (decoded envelopes, readings acknowledged)."""
    listener = listen("carbonflow/v1/gw-test/data")
    spool = Spool(config.spool_path, max_bytes=config.spool_max_bytes)
    publisher = Publisher(config, spool)
    stop = asyncio.Event()
    task = asyncio.create_task(publisher.run(stop))
    try:
        await eventually(lambda: spool.stats().depth == 0, 10, "every reading acknowledged")
        await eventually(lambda: sum(1 for _ in listener.on("/data")) >= BLOCKS // 2 + 1, 5, "every message")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        spool.close()
    return [decode_envelope(p) for p in listener.on("/data")], publisher.acknowledged


def _rows_of_readings(readings: list[Reading]) -> list[tuple[Any, ...]]:
    return [(r.seq, r.device, r.point, r.value, r.unit, r.kind, QUALITY_CODE[r.quality], r.reason,
             epoch_us(r.source_ts), epoch_us(r.gateway_ts)) for r in readings]


def _rows_of_columns(envelope: ColumnEnvelope) -> list[tuple[Any, ...]]:
    return [(d.seq[i], d.device, d.point[i], d.value[i], d.unit[i], d.kind[i], d.quality[i], d.reasons.get(i),
             d.source_us[i], d.gateway_us[i]) for d in envelope.devices for i in range(len(d.seq))]


async def test_column_envelopes_carry_every_field_of_every_reading_version_1_carries(
    tls_link: dict[str, Any], tmp_path: Path, listen: Callable[[str], Any], eventually: Any,
) -> None:
    spooled = _fill(tmp_path / "spool.sqlite")
    envelopes, _ = await _publish_spool(_config(tmp_path, tls_link), listen, eventually)
    assert all(isinstance(e, ColumnEnvelope) for e in envelopes)
    sent = sorted(row for e in envelopes for row in _rows_of_columns(e))
    assert sent == _rows_of_readings(spooled)


async def test_readings_without_a_value_bad_or_with_a_reason_survive_the_column_envelope(
    tls_link: dict[str, Any], tmp_path: Path, listen: Callable[[str], Any], eventually: Any,
) -> None:
    _fill(tmp_path / "spool.sqlite")
    envelopes, _ = await _publish_spool(_config(tmp_path, tls_link), listen, eventually)
    first = next(e for e in envelopes if e.seq_first == 0)
    m2 = next(d for d in first.devices if d.device == "m2")  # rows 2, 5, 8, ... of each block
    assert (m2.value[0], m2.quality[0], m2.reasons[0]) == (None, QUALITY_CODE["bad"], "timeout after 0.5 s")
    assert (m2.value[2], m2.quality[2], m2.reasons.get(2)) == (None, QUALITY_CODE["uncertain"], None)
    m1 = next(d for d in first.devices if d.device == "m1")  # rows 1, 4, 7, ...
    assert (m1.value[1], m1.quality[1], m1.reasons[1]) == (1.0, QUALITY_CODE["uncertain"], "clock unsynchronised")


async def test_envelope_version_1_still_sends_one_object_per_reading(
    tls_link: dict[str, Any], tmp_path: Path, listen: Callable[[str], Any], eventually: Any,
) -> None:
    spooled = _fill(tmp_path / "spool.sqlite")
    envelopes, _ = await _publish_spool(_config(tmp_path, tls_link, envelope_version=1), listen, eventually)
    assert all(isinstance(e, Envelope) for e in envelopes)
    assert sorted((r for e in envelopes for r in e.readings), key=lambda r: r.seq) == spooled


@pytest.mark.parametrize("version", [1, 2])
async def test_both_versions_send_whole_blocks_in_the_same_sequence_ranges_and_empty_the_spool(
    version: int, tls_link: dict[str, Any], tmp_path: Path, listen: Callable[[str], Any], eventually: Any,
) -> None:
    _fill(tmp_path / "spool.sqlite")
    config = _config(tmp_path, tls_link, envelope_version=version)
    envelopes, acknowledged = await _publish_spool(config, listen, eventually)
    ranges = sorted({(e.seq_first, e.seq_last) for e in envelopes})  # a resend after a reconnect repeats a range
    two_blocks = 2 * BLOCK
    assert ranges == [(s, min(s + two_blocks, BLOCK * BLOCKS) - 1) for s in range(0, BLOCK * BLOCKS, two_blocks)]
    assert all(e.backlog for e in envelopes)  # spooled before the link came up
    assert acknowledged == BLOCK * BLOCKS


def test_an_envelope_version_the_agent_cannot_send_is_refused_at_start(tmp_path: Path) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(f"gateway_id: gw-test\nspool_path: {tmp_path / 'spool.sqlite'}\n"
                    "mqtt: {url: 'mqtt://127.0.0.1:1883', envelope_version: 3}\n"
                    "devices: [{id: m, profile: cf-demo/pm3-meter, protocol: modbus, port: 502}]\n")
    with pytest.raises(ConfigError, match=r"mqtt\.envelope_version: Input should be 1 or 2"):
        load_agent_config(path)
