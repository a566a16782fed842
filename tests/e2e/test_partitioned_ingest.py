"""Partitioned ingest (INGEST_PARTITION=i/N): workers split the gateways, and a worker down means waiting, not loss."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from carbon_domain.schemas import Envelope, Reading
from carbon_domain.wire import encode_envelope
from carbonflow.certs import ensure_dev_pki
from carbonflow.embedded.mqtt import INGEST_IDENTITY
from carbonflow.gateways import register_gateway, revoke_gateway
from carbonflow.supervisor import Child, Supervisor
from carbonflow.topics import MQTT_ROOT
from ingest.partition import gateway_partition
from tests.e2e.harness import CLI, restart_cloud_worker, stored_seqs, wait_for

PER_MESSAGE = 10
WORKERS = 2


def _owned_names(prefix: str, per_worker: int) -> dict[int, list[str]]:
    """The first `per_worker` gateway ids `<prefix>-<k>` that each of the two workers owns."""
    owned: dict[int, list[str]] = {i: [] for i in range(WORKERS)}
    k = 0
    while any(len(v) < per_worker for v in owned.values()):
        name = f"{prefix}-{k}"
        if len(owned[gateway_partition(name, WORKERS)]) < per_worker:
            owned[gateway_partition(name, WORKERS)].append(name)
        k += 1
    return owned


class _Run:
    """Two partitioned ingest workers and a stream worker on their own topic prefix, and gateway publishers."""

    def __init__(self, tmp_path: Path, database_url: str, kafka: str, mqtt_url: str, pki: dict,
                 gateways: list[str]) -> None:
        self.log_path = tmp_path / "pipeline.log"
        self.run_id = uuid.uuid4().hex[:8]
        self.database_url, self.kafka, self.mqtt_url, self.pki = database_url, kafka, mqtt_url, pki
        self.certs = ensure_dev_pki(pki["server"].ca.parent, gateways)  # same CA as the broker's
        self.publishers: dict[str, mqtt.Client] = {}
        self.sup: Supervisor
        self.start = datetime.now(UTC) - timedelta(minutes=30)

    def start_ingest(self, index: int) -> Child:
        cert = self.pki[INGEST_IDENTITY]
        child = Child(f"ingest-{index}", CLI + ["ingest"], {
            "DATABASE_URL": self.database_url, "KAFKA_BOOTSTRAP": self.kafka, "MQTT_URL": self.mqtt_url,
            "CARBONFLOW_TOPIC_PREFIX": f"e2e{self.run_id}", "INGEST_CLIENT_ID": f"ingest-{self.run_id}",
            "INGEST_PARTITION": f"{index}/{WORKERS}", "INGEST_REGISTRY_REFRESH_S": "1",
            "CARBONFLOW_AUTO_REGISTER_DEVICES": "on",
            "MQTT_CA": str(cert.ca), "MQTT_CERT": str(cert.cert), "MQTT_KEY": str(cert.key)})
        return self.sup.start(child)

    def log_lines(self, worker: int, text: str) -> int:
        prefix = f"ingest-{worker}"
        return sum(1 for line in self.log_path.read_text(errors="replace").splitlines()
                   if line.startswith(prefix) and text in line)

    def wait_subscribed(self, worker: int, times: int = 1) -> None:
        wait_for(f"worker {worker}'s subscriptions",
                 lambda: self.log_lines(worker, f"partition {worker}/{WORKERS}: subscribed to") >= times,
                 60, self.log_path)

    def publisher(self, gateway: str) -> mqtt.Client:
        if gateway not in self.publishers:
            cert = self.certs[gateway]
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{gateway}-{self.run_id}")
            client.tls_set(ca_certs=str(cert.ca), certfile=str(cert.cert), keyfile=str(cert.key),
                           tls_version=ssl.PROTOCOL_TLS_CLIENT)
            client.max_inflight_messages_set(100)
            client.connect("127.0.0.1", int(self.mqtt_url.rsplit(":", 1)[1]))
            client.loop_start()
            self.publishers[gateway] = client
        return self.publishers[gateway]

    def publish(self, gateways: list[str], messages: range) -> list[mqtt.MQTTMessageInfo]:
        """Messages `messages` of every gateway, interleaved; returns the publish handles."""
        infos = []
        for m in messages:
            ts = self.start + timedelta(milliseconds=m)
            for gateway in gateways:
                first = m * PER_MESSAGE
                readings = [Reading(seq=first + i, device=f"{gateway}-dev", point=f"p{i}", value=float(m), unit="kW",
                                    source_ts=ts, gateway_ts=ts) for i in range(PER_MESSAGE)]
                envelope = Envelope(gateway=gateway, seq_first=first, seq_last=first + PER_MESSAGE - 1, sent_at=ts,
                                    readings=readings)
                infos.append(self.publisher(gateway).publish(f"{MQTT_ROOT}/{gateway}/data",
                                                             encode_envelope(envelope), qos=1))
        return infos

    def close(self) -> None:
        for client in self.publishers.values():
            client.loop_stop()
            client.disconnect()


@pytest.fixture
def run(tmp_path: Path, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict,
        request: pytest.FixtureRequest) -> Iterator[_Run]:
    registered, later = request.param  # gateway ids registered now, and ones the test registers itself
    r = _Run(tmp_path, database_url, kafka_bootstrap, mqtt_broker, pki, registered + later)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for gateway in registered:
            register_gateway(conn, gateway)
    with open(r.log_path, "w") as log:
        r.sup = Supervisor(out=log)
        try:
            restart_cloud_worker(r.sup, "stream", run_id=r.run_id, database_url=database_url, kafka=kafka_bootstrap,
                                 mqtt_url=mqtt_broker, pki=pki)
            yield r
        finally:
            r.close()
            r.sup.stop_all()


def _complete(conn: psycopg.Connection, gateways: list[str], messages: int) -> bool:
    return all(stored_seqs(conn, g)[1] >= messages * PER_MESSAGE for g in gateways)


def _counts(conn: psycopg.Connection, gateways: list[str]) -> dict[str, tuple[int, int]]:
    """Per gateway: (stored readings, distinct sequence numbers)."""
    return {g: (len(seqs), distinct) for g in gateways for seqs, distinct in [stored_seqs(conn, g)]}


SPLIT = _owned_names("gw-split", 2)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("run", [(SPLIT[0] + SPLIT[1], [])], indirect=True)
def test_two_workers_split_the_gateways_and_store_every_reading_once(run: _Run, database_url: str) -> None:
    gateways = SPLIT[0] + SPLIT[1]
    for worker in range(WORKERS):
        run.start_ingest(worker)
    for worker in range(WORKERS):
        run.wait_subscribed(worker)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for info in run.publish(gateways, range(150)):
            info.wait_for_publish(20)
        wait_for("the first burst", lambda: _complete(conn, gateways, 150), 30, run.log_path)

        # worker 1 stops: its gateways' batches wait in its session, worker 0's keep flowing
        worker_1 = next(c for c in run.sup.children if c.name == "ingest-1")
        assert worker_1.process is not None
        worker_1.process.terminate()
        worker_1.process.wait(timeout=15)
        for info in run.publish(gateways, range(150, 300)):
            info.wait_for_publish(20)
        wait_for("worker 0's gateways", lambda: _complete(conn, SPLIT[0], 300), 20, run.log_path)
        time.sleep(1)
        while_down = {g: stored_seqs(conn, g)[1] for g in SPLIT[1]}

        run.start_ingest(1)
        wait_for("worker 1's queued batches", lambda: _complete(conn, gateways, 300), 30, run.log_path)
        time.sleep(1)  # anything still in flight lands before the final count
        counts = _counts(conn, gateways)
    assert while_down == {g: 150 * PER_MESSAGE for g in SPLIT[1]}
    assert counts == {g: (300 * PER_MESSAGE, 300 * PER_MESSAGE) for g in gateways}


KILL = _owned_names("gw-pkill", 2)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("run", [(KILL[0] + KILL[1], [])], indirect=True)
def test_worker_killed_during_a_burst_to_its_gateways_loses_nothing_once_restarted(
    run: _Run, database_url: str
) -> None:
    gateways, victims, messages = KILL[0] + KILL[1], KILL[1], 4000  # the burst must outlast the kill
    for worker in range(WORKERS):
        run.start_ingest(worker)
    for worker in range(WORKERS):
        run.wait_subscribed(worker)
    with psycopg.connect(database_url, autocommit=True) as conn:
        infos = run.publish(gateways, range(messages))
        wait_for("the burst under way", lambda: sum(stored_seqs(conn, g)[1] for g in victims) > 1000, 30,
                 run.log_path)
        worker_1 = next(c for c in run.sup.children if c.name == "ingest-1")
        assert worker_1.process is not None
        os.kill(worker_1.process.pid, signal.SIGKILL)
        worker_1.process.wait(timeout=5)
        at_kill = sum(stored_seqs(conn, g)[1] for g in victims)
        for info in infos:
            info.wait_for_publish(30)  # the broker acknowledges the rest while worker 1 is dead
        run.start_ingest(1)
        wait_for("the whole burst", lambda: _complete(conn, gateways, messages), 40, run.log_path,
                 lambda: f"stored: {_counts(conn, gateways)}")
        time.sleep(1)
        counts = _counts(conn, gateways)
    assert at_kill < len(victims) * messages * PER_MESSAGE  # the kill really was mid-burst
    assert counts == {g: (messages * PER_MESSAGE, messages * PER_MESSAGE) for g in gateways}


RELOAD = _owned_names("gw-reload", 1)
LATE = next(g for g in _owned_names("gw-late", 2)[1] if g not in RELOAD[1])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("run", [(RELOAD[0] + RELOAD[1], [LATE])], indirect=True)
def test_registry_reload_subscribes_new_gateways_and_drops_revoked_ones(run: _Run, database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        for worker in range(WORKERS):
            run.start_ingest(worker)
        for worker in range(WORKERS):
            run.wait_subscribed(worker)

        register_gateway(conn, LATE)
        wait_for("the new gateway's subscription", lambda: run.log_lines(1, f"subscribed to 1 gateways: {LATE}") == 1,
                 20, run.log_path)
        for info in run.publish([LATE, *RELOAD[1]], range(20)):
            info.wait_for_publish(20)
        wait_for("the new gateway's data", lambda: _complete(conn, [LATE, *RELOAD[1]], 20), 20, run.log_path)

        revoke_gateway(conn, LATE)
        wait_for("the revoked gateway's unsubscription", lambda: run.log_lines(1, f"no longer active: {LATE}") == 1,
                 20, run.log_path)
        for info in run.publish([LATE, *RELOAD[1]], range(20, 40)):
            info.wait_for_publish(20)
        wait_for("the still active gateway's data", lambda: _complete(conn, RELOAD[1], 40), 20, run.log_path)
        time.sleep(2)  # a delivered message of the revoked gateway would be a dead letter by now
        dead = conn.execute("SELECT count(*) FROM dead_letters WHERE gateway_id = %s", (LATE,)).fetchone()[0]
        late = stored_seqs(conn, LATE)[1]
    assert (late, dead) == (20 * PER_MESSAGE, 0)


def _session_client(mqtt_url: str, cert: object, client_id: str) -> tuple[mqtt.Client, list[bytes]]:
    """A connected MQTT 3.1.1 client with a persistent session, and the payloads it receives."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.tls_set(ca_certs=str(cert.ca), certfile=str(cert.cert), keyfile=str(cert.key),  # type: ignore[attr-defined]
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)
    received: list[bytes] = []
    client.on_message = lambda c, u, m: received.append(m.payload)
    client.connect("127.0.0.1", int(mqtt_url.rsplit(":", 1)[1]))
    client.loop_start()
    wait_for(f"{client_id} connected", client.is_connected, 10, Path(os.devnull))
    return client, received


@pytest.mark.timeout(60)
def test_retire_ends_an_old_workers_session_so_the_broker_stops_queuing_for_it(mqtt_broker: str, pki: dict) -> None:
    base = f"ingest-{uuid.uuid4().hex[:8]}"
    topic = f"{MQTT_ROOT}/gw-test/data"
    for client_id in (f"{base}-p0of2", f"{base}-p1of2"):  # an old set of two workers, both stopped
        client, _ = _session_client(mqtt_broker, pki[INGEST_IDENTITY], client_id)
        client.subscribe(topic, qos=1)
        time.sleep(0.5)
        client.disconnect()
        client.loop_stop()
    cert = pki[INGEST_IDENTITY]
    env = {**os.environ, "MQTT_URL": mqtt_broker, "KAFKA_BOOTSTRAP": "127.0.0.1:1", "DATABASE_URL": "postgresql://x",
           "INGEST_CLIENT_ID": base, "INGEST_PARTITION": "0/2", "MQTT_CA": str(cert.ca), "MQTT_CERT": str(cert.cert),
           "MQTT_KEY": str(cert.key)}
    retired = subprocess.run(CLI + ["ingest", "--retire"], env=env, capture_output=True, text=True, timeout=30,
                             check=False)
    publisher, _ = _session_client(mqtt_broker, pki["gw-test"], f"pub-{base}")
    for info in [publisher.publish(topic, f"m{i}".encode(), qos=1) for i in range(20)]:
        info.wait_for_publish(10)
    publisher.disconnect()
    publisher.loop_stop()
    received = {}
    for client_id in (f"{base}-p0of2", f"{base}-p1of2"):
        client, got = _session_client(mqtt_broker, pki[INGEST_IDENTITY], client_id)
        time.sleep(1.5)
        client.disconnect()
        client.loop_stop()
        received[client_id] = len(got)
    assert (retired.returncode, "retired session" in retired.stderr) == (0, True)
    assert received == {f"{base}-p0of2": 0, f"{base}-p1of2": 20}  # only the retired one stopped queuing
