"""Faust agents: readings -> PostgreSQL (raw, counter deltas, emissions); dead letters -> PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from pydantic import ValidationError

from carbon_domain.schemas import DeviceColumns, GatewayHealthRecord
from carbon_domain.wire import decode_device_record
from carbonflow.db.compaction import compact_readings, compaction_settings
from carbonflow.db.connect import async_connect_with_retry, connect_with_retry
from carbonflow.db.retention import apply_retention, retention_settings
from carbonflow.metrics import DEAD_LETTERS, HEARTBEAT, reason_class
from stream_jobs.alarms import alarm_settings_from_env, evaluate_alarms
from stream_jobs.app import app, database_url
from stream_jobs.cems import compute_cems_hours
from stream_jobs.gateway_health import store_health_record
from stream_jobs.isolation import backoff_delays, is_transient, printable, store_failure_reason, store_isolating
from stream_jobs.metrics import ALARMS, READINGS_IN, READINGS_OUT, STORE_SECONDS, sample_consumer_lag
from stream_jobs.plausibility import recompute_accepted
from stream_jobs.point_ranges import fill_ranges_from_profiles
from stream_jobs.sink import ReadingSink
from stream_jobs.topics import dead_letters_topic, gateway_health_topic, readings_topic

__all__ = ["store_readings", "store_dead_letters", "evaluate_alarm_rules", "compute_cems_mass", "apply_retention_daily", "store_gateway_health", "compact_closed_hours", "sample_lag_and_heartbeat"]

log = logging.getLogger("stream_jobs")
_BATCH = 4000  # Kafka records (device batches) per take; the app's stream buffer holds four takes
_CHUNK = 800  # records decoded before they go to the lanes: about 40,000 readings from 50-point devices


def _lane_count() -> int:
    """Connections storing readings side by side (CARBONFLOW_STREAM_LANES, default 2; 1 stores on one)."""
    raw = os.environ.get("CARBONFLOW_STREAM_LANES", "2")
    if not raw.isdigit() or not 1 <= int(raw) <= 16:
        raise SystemExit(f"stream worker: CARBONFLOW_STREAM_LANES must be a whole number from 1 to 16, got {raw!r}")
    return int(raw)


_LANES = _lane_count()
_YIELD_EVERY = 25
_WITHIN_S = 0.2
_ALARM_INTERVAL_S = 15.0
_LAG_INTERVAL_S = 5.0
_ALARM_SETTINGS = alarm_settings_from_env()  # read at import: a bad CARBONFLOW_ALARM_* stops the worker
_RETENTION_INTERVAL_S = 86_400.0
_COMPACTION_INTERVAL_S = 600.0
_RECLAIM_ANNOUNCED: set[str] = set()  # emptied partitions the worker's role may not rebuild, already logged
_COMPACTION = compaction_settings()  # read at import: a bad CARBONFLOW_COMPACT_AFTER_MINUTES stops the worker


class _Database:
    """The worker's connections, reopened after PostgreSQL restarts."""

    def __init__(self) -> None:
        self.sink: ReadingSink | None = None
        self.conn: psycopg.AsyncConnection | None = None

    async def get_sink(self) -> ReadingSink:
        if self.conn is None or self.conn.closed:
            self.sink = None
            self.conn = await async_connect_with_retry(database_url(), attempts=120, autocommit=True)
        if self.sink is None:
            self.sink = ReadingSink(self.conn)  # the database's factor library, read again as it changes
        return self.sink

    def discard_sink(self) -> None:
        """Make a new sink on next use, on the same connection (after a write that failed and rolled back)."""
        self.sink = None

    async def reset(self) -> None:
        """Close the connection (a deadlock or a failed statement leaves the backend up) and reopen on next use."""
        conn, self.sink, self.conn = self.conn, None, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await conn.close()


_lanes = [_Database() for _ in range(_LANES)]


async def _dead_letter(conn: psycopg.AsyncConnection, stage: str, reason: str, payload: bytes, **extra: Any) -> None:
    await conn.execute(
        "INSERT INTO dead_letters (stage, gateway_id, topic, reason, payload) VALUES (%s, %s, %s, %s, %s)",
        (stage, extra.get("gateway"), extra.get("topic"), reason, payload),
    )


@app.agent(readings_topic)
async def store_readings(stream: Any) -> None:
    """Write readings in batches; retry the same batch until PostgreSQL takes it.

    A batch taken from Kafka is split by device into lanes, each with its own connection, so that
    PostgreSQL stores on several backends at once while this process decodes the next chunk. A lane
    stores its chunks in order, one transaction each, and a device always goes to the same lane, so a
    device's counter readings stay ordered. Faust commits the batch's offsets only when this loop asks
    for the next batch, after every lane has stored everything, so a crash replays the batch and the
    sink's ON CONFLICT keeps it exactly-once.

    A record the sink cannot store (stream_jobs/isolation.py) goes to the dead letters with its reason and
    the rest of the take is stored. The loop's body never ends before the take is stored: faust's `take`
    acknowledges every record of a take when the loop leaves it, also when the body raised (it acks in a
    `finally`), and the consumer then commits those offsets, so a take that failed was lost (issue 14).
    """
    async for values in stream.take(_BATCH, within=_WITHIN_S):
        await _store_take_fully(values)


async def _store_take_fully(values: list[bytes]) -> None:
    """Store a take, retrying it until it is stored, even when the worker is stopped meanwhile."""
    task = asyncio.ensure_future(_store_take_until_done(values))
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            # a stop (SIGTERM) cancels this agent; leaving now would ack the take's records unstored, and the
            # consumer commits acked offsets when it stops
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    task.result()


async def _store_take_until_done(values: list[bytes]) -> None:
    delays = backoff_delays()
    while True:
        try:
            await _store_take(values)
            return
        except Exception:
            # a failure the lanes do not handle (a dead letter the database refuses, a bug): storing the take
            # again is safe (the sink stores a reading once), skipping it would lose it
            delay = next(delays)
            log.exception("a take of %d records was not stored; storing it again in %.1f s", len(values), delay)
            await asyncio.sleep(delay)


@dataclass
class _Chunk:
    """A lane's share of a chunk of the take: the decoded records and, for the dead letters, their bytes."""

    records: list[DeviceColumns] = field(default_factory=list)
    raws: list[bytes] = field(default_factory=list)
    readings: int = 0  # counted once, for the metrics, when the chunk is handed to its lane


async def _store_take(values: list[bytes]) -> None:
    bad: list[tuple[bytes, str]] = []
    queues: list[asyncio.Queue[_Chunk | None]] = [asyncio.Queue() for _ in _lanes]
    writers = [asyncio.create_task(_lane_writer(lane, queue)) for lane, queue in zip(_lanes, queues)]
    try:
        for start in range(0, len(values), _CHUNK):
            chunks = [_Chunk() for _ in _lanes]
            for i, raw in enumerate(values[start:start + _CHUNK], 1):
                try:
                    batch = decode_device_record(raw)
                except ValueError as exc:
                    bad.append((raw, str(exc)))
                    continue
                chunk = chunks[zlib.crc32(batch.device.encode(errors="surrogatepass")) % len(_lanes)]
                chunk.records.append(batch)
                chunk.raws.append(raw)
                if i % _YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # lets the lanes' statements go out and their results come back
            for queue, chunk in zip(queues, chunks):
                if chunk.records:
                    chunk.readings = sum(len(r.seq) for r in chunk.records)
                    READINGS_IN.inc(chunk.readings)
                    queue.put_nowait(chunk)
        for queue in queues:
            queue.put_nowait(None)
        await asyncio.gather(*writers)
    finally:
        for writer in writers:
            writer.cancel()  # only matters when decoding or another lane failed
    for raw, reason in bad:
        await _dead_letter_record(_lanes[0], raw, reason)


async def _lane_writer(lane: _Database, queue: asyncio.Queue[_Chunk | None]) -> None:
    while (chunk := await queue.get()) is not None:
        await _store_chunk(lane, chunk)


async def _store_chunk(lane: _Database, chunk: _Chunk) -> None:
    """Store a chunk on one lane's connection (one transaction unless a record in it cannot be stored)."""

    async def write(part: Sequence[tuple[DeviceColumns, bytes]]) -> None:
        if len(part) == len(chunk.records):
            await _write_records(lane, chunk.records)
            READINGS_OUT.inc(chunk.readings)
        else:  # a part, while a record that cannot be stored is isolated
            records = [r for r, _ in part]
            await _write_records(lane, records)
            READINGS_OUT.inc(sum(len(r.seq) for r in records))

    async def reject(item: tuple[DeviceColumns, bytes], exc: BaseException) -> None:
        record, raw = item
        reason = store_failure_reason(record, exc)
        log.error("a record of gateway %s, device %s was dead-lettered: %s", printable(record.gateway),
                  printable(record.device), reason)
        await _dead_letter_record(lane, raw, reason, gateway=printable(record.gateway))

    await store_isolating(list(zip(chunk.records, chunk.raws)), write, reject)


async def _write_records(lane: _Database, records: list[DeviceColumns]) -> None:
    """Store records in one transaction, retrying while the database is unavailable; raise what the records
    caused (stream_jobs/isolation.py tells the two apart)."""
    delays = backoff_delays()
    while True:
        sink = await _lane_sink(lane, delays)
        started = time.perf_counter()
        try:
            await sink.write(records)
            STORE_SECONDS.observe(time.perf_counter() - started)
            return
        except Exception as exc:
            if not is_transient(exc):
                # the transaction rolled back, but the sink's caches may hold gateway and point keys it made
                lane.discard_sink()
                raise
            delay = next(delays)
            log.warning("database unavailable (%s); retrying the batch in %.1f s", exc, delay)
            await lane.reset()
            await asyncio.sleep(delay)


async def _lane_sink(lane: _Database, delays: Iterator[float]) -> ReadingSink:
    """The lane's sink, waiting for the database as long as it takes (no record is to blame for its absence)."""
    while True:
        try:
            return await lane.get_sink()
        except (psycopg.Error, RuntimeError, OSError) as exc:
            delay = next(delays)
            log.warning("database unavailable (%s); connecting again in %.1f s", exc, delay)
            await lane.reset()
            await asyncio.sleep(delay)


# A record replayed after a crash (dead-lettered, offset not yet committed) fails again: its dead letter is
# written once (094_stream_dead_letters.sql indexes the stream stage's payloads for this look-up).
_STREAM_DEAD_LETTER = (
    "INSERT INTO dead_letters (stage, gateway_id, reason, payload) SELECT 'stream', %(gateway)s, %(reason)s,"
    " %(payload)s WHERE NOT EXISTS (SELECT 1 FROM dead_letters WHERE stage = 'stream'"
    " AND md5(payload) = md5(%(payload)s) AND payload = %(payload)s)"
)


async def _dead_letter_record(lane: _Database, raw: bytes, reason: str, gateway: str | None = None) -> None:
    """Store a dead letter of the stream stage once, retrying while the database is unavailable."""
    delays = backoff_delays()
    while True:
        await _lane_sink(lane, delays)
        assert lane.conn is not None
        try:
            stored = await lane.conn.execute(_STREAM_DEAD_LETTER, {"gateway": gateway, "reason": reason,
                                                                   "payload": raw})
            if stored.rowcount:  # a replayed take's letter is already there, and counted
                DEAD_LETTERS.labels("stream", reason_class(reason)).inc()
            return
        except Exception as exc:
            if not is_transient(exc):
                raise
            delay = next(delays)
            log.warning("database unavailable (%s); storing the dead letter again in %.1f s", exc, delay)
            await lane.reset()
            await asyncio.sleep(delay)


@app.timer(interval=_LAG_INTERVAL_S)
async def sample_lag_and_heartbeat() -> None:
    """Refresh the consumer-lag gauges and the heartbeat the API's health looks at."""
    HEARTBEAT.labels("stream").set_to_current_time()
    try:
        await sample_consumer_lag(app.consumer)
    except Exception as exc:  # noqa: BLE001 - a rebalance in progress; the next run samples again
        log.debug("consumer lag not sampled: %s", exc)


@app.timer(interval=_ALARM_INTERVAL_S)
async def evaluate_alarm_rules() -> None:
    """Raise and clear alarms from the stored data."""
    try:
        conn = await async_connect_with_retry(database_url(), attempts=1, autocommit=True)
    except RuntimeError as exc:
        log.warning("alarms not evaluated: %s", exc)
        return
    try:
        await fill_ranges_from_profiles(conn)  # new points get their profile's range before out_of_range looks
        if accepted := await recompute_accepted(conn):  # rises a person accepted: accounting includes them
            log.info("recomputed the hours of %d accepted implausible readings", accepted)
        result = await evaluate_alarms(conn, datetime.now(UTC), _ALARM_SETTINGS)
        ALARMS.labels("raised").inc(result["raised"])
        ALARMS.labels("cleared").inc(result["cleared"])
        if result["raised"] or result["cleared"]:
            log.info("alarms: %(raised)d raised, %(cleared)d cleared", result)
    finally:
        await conn.close()


@app.timer(interval=_RETENTION_INTERVAL_S, on_leader=True)
async def apply_retention_daily() -> None:
    """Drop raw readings and hourly data older than their retention (carbonflow/db/retention.py); once a day, on
    one worker. CARBONFLOW_RETENTION=off turns it off."""
    if os.environ.get("CARBONFLOW_RETENTION", "").lower() == "off":
        return

    def run() -> dict[str, Any]:
        with connect_with_retry(database_url(), attempts=1, autocommit=True) as conn:
            return apply_retention(conn, retention_settings())

    try:
        result = await asyncio.to_thread(run)
    except (RuntimeError, ValueError, psycopg.Error) as exc:
        log.warning("retention not applied: %s", exc)
        return
    log.info("retention: raw before %s, hourly before %s, %d partitions dropped", result["raw_before"],
             result["hourly_before"], len(result["dropped"]))


@app.timer(interval=_COMPACTION_INTERVAL_S, on_leader=True)
async def compact_closed_hours() -> None:
    """Move raw readings of hours closed more than CARBONFLOW_COMPACT_AFTER_MINUTES ago into compressed blocks
    (carbonflow/db/compaction.py); every 10 minutes, on one worker (the advisory lock would serialise several).
    CARBONFLOW_COMPACTION=off turns it off."""
    if os.environ.get("CARBONFLOW_COMPACTION", "").lower() == "off":
        return

    def run() -> dict[str, Any]:
        with connect_with_retry(database_url(), attempts=1, autocommit=True) as conn:
            return compact_readings(conn, _COMPACTION)

    try:
        result = await asyncio.to_thread(run)
    except (RuntimeError, psycopg.Error) as exc:
        log.warning("readings not compacted: %s", exc)
        return
    if result["readings"]:
        log.info("compaction: %d readings of %d points before %s moved into %d blocks in %.1f s", result["readings"],
                 result["points"], result["before"], result["blocks"], result["seconds"])
    unannounced = [name for name in result["reclaim_skipped"] if name not in _RECLAIM_ANNOUNCED]
    if unannounced:  # once per partition: it stays so until the owner rebuilds it
        _RECLAIM_ANNOUNCED.update(unannounced)
        log.warning("compaction emptied %s, whose index space only the tables' owner can give back: run"
                    " `carbonflow db compact` with MIGRATION_DATABASE_URL set (docs/database.md)", ", ".join(unannounced))


@app.timer(interval=60.0)
async def compute_cems_mass() -> None:
    """Hourly CEMS CO2 mass for the last closed hours (recomputed so late data count)."""
    now = datetime.now(UTC)
    end = now.replace(minute=0, second=0, microsecond=0)
    try:
        conn = await async_connect_with_retry(database_url(), attempts=1, autocommit=True)
    except RuntimeError as exc:
        log.warning("CEMS hours not computed: %s", exc)
        return
    try:
        await compute_cems_hours(conn, start=end - timedelta(hours=3), end=end)
    finally:
        await conn.close()


@app.agent(dead_letters_topic)
async def store_dead_letters(stream: Any) -> None:
    """Persist dead letters published by ingest, with reason and raw bytes."""
    conn: psycopg.AsyncConnection | None = None
    async for raw in stream:
        try:
            record = json.loads(raw)
            payload = base64.b64decode(record.get("payload_b64", ""))
            stage, reason = record.get("stage", "ingest"), record.get("reason", "unknown")
        except (ValueError, TypeError):
            payload, stage, reason, record = raw, "ingest", "unparseable dead-letter record", {}
        while True:
            try:
                if conn is None or conn.closed:
                    conn = await async_connect_with_retry(database_url(), attempts=120, autocommit=True)
                await _dead_letter(conn, stage, reason, payload, gateway=record.get("gateway"), topic=record.get("topic"))
                break
            except (psycopg.OperationalError, psycopg.InterfaceError):
                conn = None
                await asyncio.sleep(1)


@app.agent(gateway_health_topic)
async def store_gateway_health(stream: Any) -> None:
    """Keep each gateway's latest status report and its spool-overflow events; bad records are dead-lettered."""
    conn: psycopg.AsyncConnection | None = None
    async for raw in stream:
        try:
            record: GatewayHealthRecord | None = GatewayHealthRecord.model_validate_json(raw)
            reason = ""
        except ValidationError as exc:
            record, reason = None, f"invalid gateway health record: {exc.errors()[0]['msg']}"
        while True:
            try:
                if conn is None or conn.closed:
                    conn = await async_connect_with_retry(database_url(), attempts=120, autocommit=True)
                if record is not None:
                    await store_health_record(conn, record)
                else:
                    await _dead_letter(conn, "stream", reason, raw)
                    DEAD_LETTERS.labels("stream", reason_class(reason)).inc()
                break
            except (psycopg.OperationalError, psycopg.InterfaceError):
                conn = None
                await asyncio.sleep(1)
