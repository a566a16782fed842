"""A Kafka record the stream worker cannot store (issue 14): it is dead-lettered with its reason, every other
record of its take is stored once, the consumer's offsets pass it only after that, and a worker killed and
restarted afterwards loses and repeats nothing.

The records go to Kafka directly, as a producer that skipped ingest's checks would write them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from carbon_domain.schemas import epoch_us
from carbonflow.supervisor import Child, Supervisor
from carbonflow.topics import kafka_readings
from ingest.bridge import ensure_topics
from tests.e2e.harness import restart_cloud_worker, stored_seqs, wait_for

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)


def _record(gateway: str, device: str, first: int, *, point: str = "kw") -> bytes:
    """Four gauge readings of a device from sequence number `first`, without ingest's checks."""
    seqs = list(range(first, first + 4))
    times = [epoch_us(T0 + timedelta(seconds=s - first)) for s in seqs]
    return json.dumps({
        "v": 2, "gateway": gateway, "device": device, "received_at": T0.isoformat(), "last_gateway_us": max(times),
        "seq": seqs, "point": [point] * 4, "value": [float(s) for s in seqs], "unit": ["kW"] * 4,
        "kind": ["gauge"] * 4, "quality": [0] * 4, "source_us": times,
    }).encode()


async def _produce(bootstrap: str, topic: str, records: list[tuple[str, bytes]], ends: dict[int, int]) -> None:
    """Send records keyed by device; `ends` gets each partition's offset after the last one sent."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key.encode()) for key, value in records]
        for meta in await asyncio.gather(*sent):
            ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
    finally:
        await producer.stop()


async def _uncommitted(bootstrap: str, topic: str, group: str, ends: dict[int, int]) -> int:
    """Records sent to the topic (up to `ends`) past the consumer group's committed offsets."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=[TopicPartition(topic, p) for p in ends])
    finally:
        await admin.close()
    return sum(end - max(0, committed[TopicPartition(topic, p)].offset) for p, end in ends.items())


@pytest.mark.timeout(240)
def test_a_poison_record_in_kafka_costs_no_other_reading_and_a_restart_loses_or_repeats_nothing(
        tmp_path: Path, database_url: str, kafka_bootstrap: str) -> None:
    run_id = uuid.uuid4().hex[:8]
    topic, group = kafka_readings(f"e2e{run_id}"), f"e2e-{run_id}"
    gwa, gwb = f"gwa-{run_id}", f"gwb-{run_id}"
    asyncio.run(ensure_topics(kafka_bootstrap, f"e2e{run_id}"))

    def take(first: int) -> tuple[list[tuple[str, bytes]], list[bytes]]:
        """Valid records of two gateways, with two poison records among them (a NUL in a point, in a device)."""
        good = [(f"a{d}", _record(gwa, f"a{d}-{run_id}", first + 100 * d + 4 * i)) for i in range(3) for d in (0, 1)]
        good += [(f"b{d}", _record(gwb, f"b{d}-{run_id}", first + 100 * d + 4 * i)) for i in range(3) for d in (0, 1)]
        poison = [_record(gwb, f"b0-{run_id}", first + 50, point="bad\x00point"),
                  _record(gwa, f"dev\x00{run_id}", first + 60)]
        records = good[:5] + [("b0", poison[0])] + good[5:9] + [("x", poison[1])] + good[9:]
        return records, poison

    first_take, first_poison = take(1000)
    second_take, second_poison = take(5000)
    expected = {gw: sorted(first + 100 * d + k for first in (1000, 5000) for d in (0, 1) for k in range(12))
                for gw in (gwa, gwb)}
    ends: dict[int, int] = {}  # partition -> offset after the last record sent
    log_path = tmp_path / "stream.log"
    with open(log_path, "w") as log, psycopg.connect(database_url, autocommit=True) as conn:
        def letters() -> list[tuple[bytes, str]]:
            rows = conn.execute("SELECT payload, reason FROM dead_letters WHERE stage = 'stream'"
                                " AND payload = ANY(%s)", (first_poison + second_poison,)).fetchall()
            return [(bytes(p), r) for p, r in rows]

        def settled(takes: int) -> bool:
            """Every valid reading of the first `takes` takes stored, their poison dead-lettered, offsets at the end."""
            stored = {gw: sorted(s for s in stored_seqs(conn, gw)[0] if s < 1000 + 4000 * takes) for gw in expected}
            wanted = {gw: [s for s in seqs if s < 1000 + 4000 * takes] for gw, seqs in expected.items()}
            return (stored == wanted and len(letters()) == 2 * takes
                    and asyncio.run(_uncommitted(kafka_bootstrap, topic, group, ends)) == 0)

        def explain(takes: int) -> str:
            stored = {gw: stored_seqs(conn, gw)[0] for gw in expected}
            return (f"stored {stored}, {len(letters())} dead letters,"
                    f" {asyncio.run(_uncommitted(kafka_bootstrap, topic, group, ends))} records past the committed offsets")

        sup = Supervisor(out=log)
        try:
            asyncio.run(_produce(kafka_bootstrap, topic, first_take, ends))
            env = {"run_id": run_id, "database_url": database_url, "kafka": kafka_bootstrap, "mqtt_url": "", "pki": {}}
            restart_cloud_worker(sup, "stream", **env)  # type: ignore[arg-type]
            wait_for("the first take stored, its poison dead-lettered, its offsets committed", lambda: settled(1), 90,
                     log_path, lambda: explain(1))
            worker: Child = sup.children[-1]
            assert worker.process is not None
            os.killpg(worker.process.pid, signal.SIGKILL)  # no chance to commit anything more
            worker.process.wait(10)

            asyncio.run(_produce(kafka_bootstrap, topic, second_take, ends))
            restart_cloud_worker(sup, "stream", **env)  # type: ignore[arg-type]
            wait_for("the second take after the restart", lambda: settled(2), 90, log_path, lambda: explain(2))
        finally:
            sup.stop_all()
        stored = {gw: sorted(stored_seqs(conn, gw)[0]) for gw in expected}
        dead = letters()
    reasons = dict(dead)
    assert stored == expected  # each valid reading once
    assert len(dead) == 4 and set(reasons) == set(first_poison + second_poison)  # each poison once
    # the record checks refuse a NUL in an identifier before the store (issue 14): the reason names field and value
    assert all(reasons[p].startswith("invalid Kafka record: ") for p in reasons)
    assert "point.0: " in reasons[first_poison[0]] and "got 'bad\\x00point'" in reasons[first_poison[0]]
    assert "device: " in reasons[first_poison[1]] and f"got 'dev\\x00{run_id}'" in reasons[first_poison[1]]
