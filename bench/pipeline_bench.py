"""Cloud pipeline benchmark: MQTT publish -> ingest -> Kafka -> faust -> PostgreSQL, all on loopback.

Writes bench/results/pipeline.json:
- readings_per_s: pre-built envelopes published as fast as the broker takes them,
  until every reading is stored in PostgreSQL;
- p50/p99_latency_s: at a paced 10,000 readings/s, publish to queryable for sampled envelopes;
- bytes_per_raw_reading: at rest, after the throughput run's hours (stamped in last month, so closed) were compacted
  into blocks as `carbonflow db compact` does: readings and reading_blocks with their indexes and TOAST / readings;
  bytes_per_hot_reading: the hot batches table (reading_batches, heap + indexes) / readings it holds, before compaction;
- lost, duplicated: from the stored (gateway, seq) pairs.
PostgreSQL: $DATABASE_URL's server, else 127.0.0.1:5432, else embedded; a scratch database is created and dropped.
"""

from __future__ import annotations

import argparse
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CpuMonitor, create_scratch_database, free_port, table_bytes, wait_port, write_result

from carbon_domain.schemas import ColumnEnvelope, Envelope, PointKind, Quality, Reading, column_envelope, epoch_us
from carbon_domain.wire import decode_envelope, encode_envelope
from carbonflow.certs import ensure_dev_pki
from carbonflow.db.compaction import CompactionSettings, compact_readings
from carbonflow.embedded.kafka import tansu_command
from carbonflow.embedded.mqtt import INGEST_IDENTITY, plan_mqtt_broker
from carbonflow.gateways import register_gateway
from carbonflow.topics import MQTT_ROOT
from ingest.partition import gateway_partition

CLI = [sys.executable, "-m", "carbonflow.cli"]
PER_ENVELOPE = 1000
DEVICES_PER_GATEWAY = 20
POINTS_PER_DEVICE = 50


def _balanced_gateways(count: int, workers: int) -> list[str]:
    """`count` gateway ids of which each partitioned ingest worker owns the same number (as
    ingest/partition.py assigns them, crc32 mod N): with a handful of gateways the hash alone is lumpy (bgw0..bgw3 all
    land on worker 0 of 2), where a plant's hundreds even out."""
    per = -(-count // workers)
    chosen: list[str] = []
    owned = [0] * workers
    k = 0
    while len(chosen) < count:
        name = f"bgw{k}"
        worker = gateway_partition(name, workers)
        if owned[worker] < per:
            chosen.append(name)
            owned[worker] += 1
        k += 1
    return chosen


def _envelopes(gateway: str, count: int, start: datetime, version: int = 2) -> list[bytes]:
    """`count` envelopes of PER_ENVELOPE readings, one second apart, as an edge agent sends them (version 2,
    a column envelope) or as older agents did (version 1, an object per reading)."""
    out, seq = [], 0
    for e in range(count):
        ts = start + timedelta(seconds=e)
        readings = [
            Reading.model_construct(
                seq=seq + i, device=f"{gateway}-d{(i // POINTS_PER_DEVICE) % DEVICES_PER_GATEWAY:02d}",
                point=f"p{i % POINTS_PER_DEVICE:02d}", value=100.0 + (i % 37) * 0.731 + e * 0.01, unit="kW",
                kind=PointKind.GAUGE, quality=Quality.GOOD, reason=None, source_ts=ts + timedelta(microseconds=i),
                gateway_ts=ts + timedelta(microseconds=i))
            for i in range(PER_ENVELOPE)
        ]
        envelope = Envelope.model_construct(v=1, gateway=gateway, seq_first=seq, seq_last=seq + PER_ENVELOPE - 1,
                                            sent_at=ts, backlog=False, readings=readings)
        out.append(encode_envelope(column_envelope(envelope) if version == 2 else envelope))
        seq += PER_ENVELOPE
    return out


class _Publisher:
    """One gateway's MQTT connection, publishing QoS 1 with a bounded in-flight window."""

    def __init__(self, gateway: str, url_port: int, cert: object) -> None:
        self.gateway = gateway
        self.acked = threading.Semaphore(0)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{gateway}")
        self.client.tls_set(ca_certs=str(cert.ca), certfile=str(cert.cert), keyfile=str(cert.key),  # type: ignore[attr-defined]
                            tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.max_inflight_messages_set(64)
        self.client.max_queued_messages_set(0)
        self.client.on_publish = lambda *a: self.acked.release()
        self.client.connect("127.0.0.1", url_port)
        self.client.loop_start()

    def publish(self, payload: bytes) -> None:
        self.client.publish(f"{MQTT_ROOT}/{self.gateway}/data", payload, qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _stored(conn: psycopg.Connection) -> tuple[int, int]:
    """Readings stored and distinct (gateway, seq) among them, in rows and in compacted blocks."""
    return conn.execute(
        "SELECT count(*), count(DISTINCT (gateway_key, seq)) FROM (SELECT gateway_key, seq FROM readings"
        " UNION ALL SELECT b.gateway_key, u.seq FROM reading_batches b CROSS JOIN LATERAL unnest(b.seqs) AS u(seq)"
        " UNION ALL SELECT COALESCE(b.gateway_key, u.gk), u.seq FROM reading_blocks b"
        " CROSS JOIN LATERAL unnest(b.gateway_keys, b.seqs) AS u(gk, seq)) AS s").fetchone()


def _checkpoints(conn: psycopg.Connection) -> int:
    """Checkpoints the server has run since its statistics were reset (timed and requested): one during the
    throughput run makes each page written first after it go to the WAL whole."""
    view = "pg_stat_checkpointer" if conn.info.server_version >= 170000 else "pg_stat_bgwriter"
    columns = "num_timed + num_requested" if view == "pg_stat_checkpointer" else "checkpoints_timed + checkpoints_req"
    return int(conn.execute(f"SELECT {columns} FROM {view}").fetchone()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateways", type=int, default=4)
    parser.add_argument("--envelopes", type=int, default=900,
                        help="per gateway, for the throughput run (900: 3.6 million readings, about 30 s)")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--stream-workers", type=int, default=2, help="faust worker replicas (same app id)")
    parser.add_argument("--ingest-workers", type=int, default=2,
                        help="partitioned ingest workers (INGEST_PARTITION=i/N), each owning as many gateways")
    parser.add_argument("--envelope-version", type=int, choices=(1, 2), default=2,
                        help="publish column envelopes as edge agents do (2) or an object per reading (1)")
    parser.add_argument("--profile", type=Path, help="write py-spy profiles of ingest and the stream workers here")
    parser.add_argument("--no-write", action="store_true", help="print the result instead of writing pipeline.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cf-pipe-bench-"))
    gateways = _balanced_gateways(args.gateways, args.ingest_workers)
    certs = ensure_dev_pki(work / "certs", [*gateways, INGEST_IDENTITY])
    db_url, drop_database = create_scratch_database("cf_bench")
    with psycopg.connect(db_url) as conn:
        for gateway in gateways:
            register_gateway(conn, gateway)
            # each gateway's devices bound to it, as an administrator registers them: ingest refuses unknown ones
            conn.execute("INSERT INTO devices (device_id, gateway_id) SELECT %s || '-d' || lpad(i::text, 2, '0'), %s"
                         " FROM generate_series(0, %s) AS i", (gateway, gateway, DEVICES_PER_GATEWAY - 1))
    kafka_port, mqtt_port = free_port(), free_port()
    plan = plan_mqtt_broker(work / "mqtt", "127.0.0.1", mqtt_port, certs["server"], MQTT_ROOT)
    procs: list[subprocess.Popen[bytes]] = []
    log = open(work / "pipeline.log", "wb")  # noqa: SIM115 - closed in the finally, once its writers are stopped
    try:
        procs.append(subprocess.Popen(tansu_command("127.0.0.1", kafka_port), stdout=log, stderr=log))
        procs.append(subprocess.Popen(plan.argv, stdout=log, stderr=log))
        wait_port(kafka_port)
        wait_port(mqtt_port)
        ingest = certs[INGEST_IDENTITY]
        env = {**os.environ, "DATABASE_URL": db_url, "KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}",
               "MQTT_URL": plan.url, "MQTT_CA": str(ingest.ca), "MQTT_CERT": str(ingest.cert),
               "MQTT_KEY": str(ingest.key), "CARBONFLOW_STREAM_APP_ID": f"bench-{uuid.uuid4().hex[:8]}",
               # compaction is run below, at a known point, instead of by the worker's timer
               "CARBONFLOW_COMPACTION": "off"}
        ingests = [subprocess.Popen(CLI + ["ingest"], stdout=log, stderr=log,
                                    env={**env, "INGEST_PARTITION": f"{i}/{args.ingest_workers}"})
                   for i in range(args.ingest_workers)]
        streams = [subprocess.Popen(CLI + ["stream", "--loglevel", "info"], env=env, stdout=log, stderr=log)
                   for _ in range(args.stream_workers)]
        procs += ingests + streams
        named = {"kafka": procs[0], "broker": procs[1], **{f"ingest-{i}": p for i, p in enumerate(ingests)},
                 **{f"stream-{i}": p for i, p in enumerate(streams)}}
        print("building envelopes ...", flush=True)
        # in last month (two days before this one began): closed hours, compacted after the run like a month at rest
        start_ts = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
        payloads = {g: _envelopes(g, args.envelopes, start_ts, args.envelope_version) for g in gateways}
        publishers = {g: _Publisher(g, mqtt_port, certs[g]) for g in gateways}
        time.sleep(8)  # consumer group join
        conn = psycopg.connect(db_url, autocommit=True)

        # warm-up: each gateway's first envelope, so that the run measures the sustained rate and not the
        # one-off registration of 1,000 new points per gateway (and faust's first fetches)
        warm = len(gateways) * PER_ENVELOPE
        for g in gateways:
            publishers[g].publish(payloads[g][0])
        deadline = time.monotonic() + 120
        while _stored(conn)[0] < warm and time.monotonic() < deadline:
            time.sleep(0.1)
        total = args.envelopes * PER_ENVELOPE * len(gateways)  # stored in the end, warm-up included
        print(f"throughput run: {total - warm:,} readings ...", flush=True)
        checkpoints_before = _checkpoints(conn)
        monitor = CpuMonitor(_process_groups(db_url, named))
        monitor.start()
        profilers = _start_profilers(args.profile, named) if args.profile else []
        pg_sampler = _ActivitySampler(db_url) if args.profile else None
        t0 = time.monotonic()
        for i in range(1, args.envelopes):
            for g in gateways:
                publishers[g].publish(payloads[g][i])
        published_at = time.monotonic()
        deadline = time.monotonic() + 900
        progress: list[tuple[float, int]] = []
        while time.monotonic() < deadline:
            # the hourly rollups count every stored reading (they are written in the same transaction), and
            # summing their few thousand rows is cheap; count(*) over a million readings four times a second
            # (let alone count(DISTINCT ...)) took a good share of the server's CPU from the pipeline
            progress.append((round(time.monotonic() - t0, 2),
                             conn.execute("SELECT coalesce(sum(n), 0) FROM rollup_1h").fetchone()[0] - warm))
            if progress[-1][1] >= total - warm:
                break
            time.sleep(0.25)
        t1 = time.monotonic()
        cpu_cores = monitor.stop()
        checkpoints = _checkpoints(conn) - checkpoints_before
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=30)
        if args.profile:
            assert pg_sampler is not None
            (args.profile / "postgres_activity.txt").write_text(pg_sampler.stop())
            (args.profile / "cpu_timeline.txt").write_text("".join(f"{t} {cores}\n" for t, cores in monitor.timeline))
            (args.profile / "stored_timeline.txt").write_text("".join(f"{t} {n}\n" for t, n in progress))
        rows, _ = _stored(conn)
        readings_per_s = (rows - warm) / (t1 - t0)
        print(f"  CPU cores during the run: {cpu_cores}; PostgreSQL checkpoints meanwhile: {checkpoints}")
        print(f"  stored {rows - warm:,} in {t1 - t0:.1f} s ({readings_per_s:,.0f}/s; publishing took {published_at - t0:.1f} s)")
        hot_in_batches = conn.execute("SELECT coalesce(sum(cardinality(seqs)), 0) FROM reading_batches").fetchone()[0]
        bytes_per_hot = table_bytes(conn, "reading_batches") / max(hot_in_batches, 1)
        # the throughput run's hours closed a day ago: compact them as the worker's timer would, then vacuum as
        # autovacuum would (the heap's emptied pages go; the indexes keep their pages for the next hot rows)
        compacted = compact_readings(conn, CompactionSettings())
        conn.execute("VACUUM readings")
        conn.execute("VACUUM reading_batches")
        at_rest = {t: table_bytes(conn, t) for t in ("readings", "reading_batches", "reading_blocks")}
        at_rest["reclaimed_partitions"] = compacted["reclaimed"]
        bytes_per_row = (at_rest["readings"] + at_rest["reading_batches"] + at_rest["reading_blocks"]) / max(rows, 1)
        print(f"  {bytes_per_hot:.1f} bytes per reading in hot batches; {compacted['readings']:,} compacted in"
              f" {compacted['seconds']:.1f} s; at rest {bytes_per_row:.1f} bytes per reading ({at_rest})")

        # latency at a paced rate of 10,000 readings/s
        rate = 10_000
        lat_gw = gateways[0]
        lat_payloads = _envelopes(lat_gw, int(args.latency_seconds * rate / PER_ENVELOPE), datetime.now(UTC),
                                  args.envelope_version)
        gkey = conn.execute("SELECT gateway_key FROM gateways WHERE gateway_id = %s", (lat_gw,)).fetchone()[0]
        base_seq = args.envelopes * PER_ENVELOPE
        pending: dict[int, float] = {}
        latencies: list[float] = []
        interval = PER_ENVELOPE / rate
        next_at = time.monotonic()
        for i, payload in enumerate(lat_payloads):
            body = _renumber(payload, base_seq + i * PER_ENVELOPE)  # follows the throughput run's numbers
            while time.monotonic() < next_at:
                time.sleep(0.0005)
            publishers[lat_gw].publish(body)
            pending[base_seq + i * PER_ENVELOPE + PER_ENVELOPE - 1] = time.monotonic()
            next_at += interval
            _collect(conn, gkey, pending, latencies)
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            _collect(conn, gkey, pending, latencies)
            time.sleep(0.02)
        latencies.sort()
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        expected_all = total + len(lat_payloads) * PER_ENVELOPE
        # an envelope's last reading stored does not mean its other devices' records are (other partitions,
        # possibly another worker): give the rest time before counting what never arrived as lost
        deadline = time.monotonic() + 60
        while conn.execute("SELECT coalesce(sum(n), 0) FROM rollup_1h").fetchone()[0] < expected_all \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        rows_all, distinct_all = _stored(conn)
        lost = expected_all - distinct_all
        duplicated = rows_all - distinct_all
        print(f"latency at {rate}/s: p50 {p50:.3f} s, p99 {p99:.3f} s; lost {lost}, duplicated {duplicated}")
        for p in publishers.values():
            p.close()
        conn.close()
        result = {
            "readings_per_s": round(readings_per_s),
            "p50_latency_s": round(p50, 3),
            "p99_latency_s": round(p99, 3),
            "bytes_per_raw_reading": round(bytes_per_row, 1),
            "bytes_per_hot_reading": round(bytes_per_hot, 1),
            "bytes_at_rest": at_rest,
            "compacted_readings": compacted["readings"],
            "compaction_readings_per_s": round(compacted["readings"] / max(compacted["seconds"], 1e-9)),
            "lost": lost,
            "duplicated": duplicated,
            "readings_throughput_run": total - warm,
            "warm_up_readings": warm,
            "stream_workers": args.stream_workers,
            "ingest_workers": args.ingest_workers,
            "envelope_version": args.envelope_version,
            "bytes_per_published_reading": round(sum(map(len, payloads[gateways[0]])) / (args.envelopes * PER_ENVELOPE), 2),
            "cpu_cores_during_throughput_run": cpu_cores,
            "checkpoints_during_throughput_run": checkpoints,
            "latency_rate_per_s": rate,
            "latency_envelopes": len(lat_payloads),
            "storage": "plain PostgreSQL (monthly partitions)",
            "notes": ("throughput envelopes are stamped in last month, so their hours are closed: after the run they"
                      " are compacted with the default 2-hour horizon (compact_readings, as carbonflow db compact),"
                      " which also rebuilds the indexes of the month's partition it left empty, and readings is"
                      " vacuumed; bytes_per_raw_reading = (readings + reading_batches + reading_blocks, every index and TOAST table)"
                      " / readings stored, i.e. a compacted month at rest; the hot window's batches (the last"
                      " two to three hours) cost bytes_per_hot_reading each;"
                      " bench/results/storage.json has dense and sparse points over 12 simulated hours, hot"
                      " window included"),
            "broker": plan.name,
            "command": "make bench (python bench/pipeline_bench.py)",
        }
        if args.no_write:
            print(result)
        else:
            print(f"wrote {write_result('pipeline', result)}")
        return 0
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        drop_database()


def _process_groups(db_url: str, named: dict[str, subprocess.Popen[bytes]]) -> Callable[[], dict[str, list[int]]]:
    """Pids to account: the pipeline's processes, this process (the publisher), and PostgreSQL's
    backends serving the benchmark database plus the server's own background processes."""
    own = {n: [p.pid] for n, p in named.items() if not n.startswith("ingest-")}
    own["ingest"] = [p.pid for n, p in named.items() if n.startswith("ingest-")]  # the workers together
    own["publisher"] = [os.getpid()]
    lookup = psycopg.connect(db_url, autocommit=True)

    def groups() -> dict[str, list[int]]:
        rows = lookup.execute(
            "SELECT pid, backend_type, datname = current_database(), pid = pg_backend_pid() FROM pg_stat_activity"
        ).fetchall()
        backends = [pid for pid, kind, ours, me in rows if kind == "client backend" and ours and not me]
        background = [pid for pid, kind, _ours, _me in rows if kind not in ("client backend", "autovacuum worker")]
        autovacuum = [pid for pid, kind, ours, _me in rows if kind == "autovacuum worker" and ours]
        return {**own, "postgres-backends": backends, "postgres-background": background,
                "postgres-autovacuum": autovacuum}

    return groups


class _ActivitySampler:
    """What the benchmark database's backends are doing, sampled every 50 ms from pg_stat_activity: a poor
    man's pg_stat_statements (which needs shared_preload_libraries, i.e. a server restart)."""

    def __init__(self, db_url: str) -> None:
        self._conn = psycopg.connect(db_url, autocommit=True)
        self._counts: dict[tuple[str, str], int] = {}
        self._samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self._samples += 1
            for query, state, wait in self._conn.execute(
                    "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 70), state,"
                    " coalesce(wait_event_type || ':' || wait_event, 'cpu') FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND state <> 'idle'").fetchall():
                key = (f"{state} {wait}", query)
                self._counts[key] = self._counts.get(key, 0) + 1

    def stop(self) -> str:
        self._stop.set()
        self._thread.join()
        self._conn.close()
        lines = [f"{self._samples} samples (50 ms); share of samples a backend was in each state/statement"]
        for (state, query), n in sorted(self._counts.items(), key=lambda kv: -kv[1]):
            lines.append(f"{100 * n / max(self._samples, 1):6.1f}%  {state:40s} {query}")
        return "\n".join(lines) + "\n"


def _start_profilers(directory: Path, named: dict[str, subprocess.Popen[bytes]]) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling ingest and the stream workers (collapsed stacks, one file each), until SIGINT."""
    directory.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    return [subprocess.Popen([str(spy), "record", "--pid", str(p.pid), "--rate", "50", "--nonblocking",
                              "--format", "raw", "--output", str(directory / f"{n}.txt")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for n, p in named.items() if n.startswith(("ingest", "stream"))]


def _renumber(payload: bytes, first: int) -> bytes:
    """The same envelope with sequence numbers starting at `first` and current timestamps."""
    envelope = decode_envelope(payload)
    now = datetime.now(UTC)
    if isinstance(envelope, ColumnEnvelope):
        now_us, offset = epoch_us(now), first - envelope.seq_first
        devices = [d.model_copy(update={"seq": [s + offset for s in d.seq], "source_us": [now_us] * len(d.seq),
                                        "gateway_us": [now_us] * len(d.seq)}) for d in envelope.devices]
        return encode_envelope(envelope.model_copy(update={
            "seq_first": first, "seq_last": first + envelope.reading_count - 1, "devices": devices, "sent_at": now}))
    readings = [r.model_copy(update={"seq": first + i, "source_ts": now, "gateway_ts": now})
                for i, r in enumerate(envelope.readings)]
    return encode_envelope(envelope.model_copy(update={
        "seq_first": first, "seq_last": first + len(readings) - 1, "readings": readings, "sent_at": now}))


def _collect(conn: psycopg.Connection, gkey: int, pending: dict[int, float], latencies: list[float]) -> None:
    if not pending:
        return
    # an envelope is queryable once the batch holding its last reading is (the sink stores a write at once)
    found = conn.execute("SELECT seq_hi FROM reading_batches WHERE gateway_key = %s AND seq_hi = ANY(%s)",
                         (gkey, list(pending))).fetchall()
    now = time.monotonic()
    for (seq,) in found:
        latencies.append(now - pending.pop(seq))


if __name__ == "__main__":
    sys.exit(main())
