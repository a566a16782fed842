"""MQTT -> Kafka bridge: an MQTT message is acknowledged only after Kafka has acknowledged its records.

Rejected payloads go to the dead-letter topic with the reason and the raw bytes;
no input can crash the worker.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import psycopg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client import Counter

from carbon_domain.schemas import DeviceColumns
from carbon_domain.wire import encode_device_record
from carbonflow.device_bindings import (
    Bound,
    Registry,
    auto_register_setting,
    bindings_of,
    claim_devices,
    gateway_site,
    load_registry,
)
from carbonflow.metrics import DEAD_LETTERS, HEARTBEAT, metrics_listen_from_env, reason_class, serve_metrics
from carbonflow.topics import (
    HEALTH_KINDS,
    MQTT_ROOT,
    READINGS_PARTITIONS,
    kafka_dead_letters,
    kafka_gateway_health,
    kafka_readings,
    mqtt_data_filter,
    mqtt_health_filters,
    split_gateway_topic,
)
from ingest.admission import GatewayAdmission, SequenceLedger
from ingest.binding import DeviceBindings, Verdict, after_claim, judge
from ingest.health import validate_health_payload
from ingest.kafka_out import make_producer, send_records
from ingest.partition import Partition, PartitionError, PartitionSubscriptions, parse_partition
from ingest.peer_keys import load_peer_keyring
from ingest.validation import Rejected, split_by_device, validate_payload

__all__ = ["BridgeConfig", "Bridge", "run_bridge", "bridge_config_from_env", "retire_session"]

log = logging.getLogger("ingest")
_MAX_PENDING_MESSAGES = 256
_GATEWAYS_PER_SUBSCRIBE = 100  # 300 topic filters: keeps each SUBSCRIBE packet small however many a worker owns
_REGISTRY_WAIT_S = 60.0
# counted once per MQTT message (a batch of readings), never per reading
_READINGS_IN = Counter("carbonflow_ingest_readings_received_total", "Readings in data messages that passed validation.")
_READINGS_OUT = Counter("carbonflow_ingest_readings_forwarded_total", "Readings handed to Kafka.")
_MESSAGES = Counter("carbonflow_ingest_messages_total", "MQTT messages handled, by kind (data, status, events).",
                    ["kind"])
_DATA_MESSAGES = _MESSAGES.labels("data")  # the hot path's child, looked up once  # a partitioned worker needs the registry before it knows what to subscribe to


@dataclass(frozen=True)
class BridgeConfig:
    mqtt_url: str
    kafka_bootstrap: str
    client_id: str = "carbonflow-ingest"
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    shared_group: str | None = None
    topic_root: str = MQTT_ROOT
    kafka_prefix: str = "carbonflow"
    database_url: str | None = None  # the gateway registry; without it every gateway the broker lets in is accepted
    peer_keys: str | None = None  # keyring of gateways that sign/encrypt payloads end to end (CFP1)
    partition: Partition | None = None  # subscribe only to the registered gateways this worker owns
    registry_refresh_s: float = 10.0
    # register unknown devices under their gateway's site (ingest/binding.py); off outside the demo
    auto_register: bool = False


def _partition_from_env(e: dict[str, str]) -> Partition | None:
    text = e.get("INGEST_PARTITION", "")
    if not text:
        return None
    try:
        partition = parse_partition(text)
    except PartitionError as exc:
        raise SystemExit(f"ingest: INGEST_PARTITION={text!r}: {exc}") from exc
    if e.get("INGEST_SHARED_GROUP"):
        raise SystemExit("ingest: INGEST_PARTITION and INGEST_SHARED_GROUP exclude each other;"
                         " a partitioned worker holds plain subscriptions to its own gateways")
    if not e.get("DATABASE_URL"):
        raise SystemExit("ingest: INGEST_PARTITION needs DATABASE_URL: a worker subscribes to the registered"
                         " gateways of its partition, read from the gateway registry")
    return partition


def _refresh_from_env(e: dict[str, str]) -> float:
    text = e.get("INGEST_REGISTRY_REFRESH_S", "10")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.5 <= value <= 3600:
        raise SystemExit(f"ingest: INGEST_REGISTRY_REFRESH_S must be seconds between 0.5 and 3600, got {text!r}")
    return value


def bridge_config_from_env(env: dict[str, str] | None = None) -> BridgeConfig:
    """Configuration from MQTT_URL, MQTT_CA, MQTT_CERT, MQTT_KEY, KAFKA_BOOTSTRAP, INGEST_*, DATABASE_URL and
    CARBONFLOW_AUTO_REGISTER_DEVICES (on/off, default off).

    INGEST_PARTITION=i/N makes this worker i of N (see docs/ingest.md "Scaling out");
    its client id becomes `<INGEST_CLIENT_ID>-p<i>of<N>`. The metrics listener's
    CARBONFLOW_INGEST_METRICS_PORT/_HOST are read by `run_bridge` (docs/metrics.md).
    """
    e = dict(os.environ if env is None else env)
    missing = [k for k in ("MQTT_URL", "KAFKA_BOOTSTRAP") if not e.get(k)]
    if missing:
        raise SystemExit(f"ingest: set {', '.join(missing)} (e.g. MQTT_URL=mqtts://broker:8883)")
    partition = _partition_from_env(e)
    client_id = e.get("INGEST_CLIENT_ID", "carbonflow-ingest")
    return BridgeConfig(
        mqtt_url=e["MQTT_URL"],
        kafka_bootstrap=e["KAFKA_BOOTSTRAP"],
        client_id=partition.client_id(client_id) if partition else client_id,
        ca=e.get("MQTT_CA"),
        cert=e.get("MQTT_CERT"),
        key=e.get("MQTT_KEY"),
        # Off by default: Mosquitto 2.0 does not restore `$share/...` subscriptions when it restarts, so
        # batches published before the workers resubscribe are acknowledged and lost; partitions do not have that.
        shared_group=e.get("INGEST_SHARED_GROUP") or None,
        kafka_prefix=e.get("CARBONFLOW_TOPIC_PREFIX", "carbonflow"),
        database_url=e.get("DATABASE_URL") or None,
        peer_keys=e.get("INGEST_PEER_KEYS") or None,
        partition=partition,
        registry_refresh_s=_refresh_from_env(e),
        auto_register=auto_register_setting(e, "ingest"),
    )


async def ensure_topics(bootstrap: str, prefix: str) -> None:
    """Create the readings, dead-letter and gateway-health topics if they do not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(kafka_readings(prefix), num_partitions=READINGS_PARTITIONS, replication_factor=1),
            NewTopic(kafka_dead_letters(prefix), num_partitions=1, replication_factor=1),
            NewTopic(kafka_gateway_health(prefix), num_partitions=1, replication_factor=1),
        ]
        new = [t for t in wanted if t.name not in existing]
        if new:
            await admin.create_topics(new)
    finally:
        await admin.close()


class Bridge:
    """Subscribes to every gateway's data, status and events topics and forwards what is valid to Kafka."""

    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        self.accepted = 0
        self.rejected = 0
        self.health_reports = 0  # status reports and events forwarded
        self.ledger = SequenceLedger()
        self.admission = (GatewayAdmission(self._load_registry, refresh_s=config.registry_refresh_s)
                          if config.database_url else None)
        # without the registry there are no bindings to check: every device is admitted (development only)
        self.bindings = (DeviceBindings(self._load_bindings, refresh_s=config.registry_refresh_s)
                         if config.database_url else None)
        self._bindings_conn: psycopg.Connection | None = None  # re-checks and claims, on one thread at a time
        self.subscriptions = (PartitionSubscriptions(config.partition, config.topic_root)
                              if config.partition else None)
        self._sync_lock = threading.Lock()  # on-connect (paho's thread) and registry reloads both (un)subscribe
        self._subscribe_requests: dict[int, list[str]] = {}
        self.keyring = load_peer_keyring(Path(config.peer_keys)) if config.peer_keys else None
        self._queue: asyncio.Queue[mqtt.MQTTMessage] = asyncio.Queue(maxsize=1000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._producer: AIOKafkaProducer | None = None
        self._client = _tls_client(config, clean_session=False)
        self._client.manual_ack_set(True)
        self._client.max_inflight_messages_set(200)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    def _load_registry(self) -> set[str]:
        from carbonflow.gateways import active_gateway_ids

        assert self.config.database_url is not None
        with psycopg.connect(self.config.database_url, connect_timeout=3) as conn:
            return active_gateway_ids(conn)

    def _load_bindings(self) -> Registry:
        assert self.config.database_url is not None
        with psycopg.connect(self.config.database_url, connect_timeout=3) as conn:
            return load_registry(conn)

    def _settle(self, gateway: str, doubtful: list[str]) -> tuple[dict[str, Verdict], dict[str, Bound]]:
        """Judge the devices the copy of the registry did not admit against the database, claiming what may be
        claimed; on this worker's own connection (called in a thread, one call at a time)."""
        assert self.config.database_url is not None
        if self._bindings_conn is None or self._bindings_conn.closed:
            self._bindings_conn = psycopg.connect(self.config.database_url, connect_timeout=3, autocommit=True)
        conn, auto = self._bindings_conn, self.config.auto_register
        try:
            found = bindings_of(conn, doubtful)
            site = gateway_site(conn, gateway)
            verdicts = {d: judge(gateway, d, found.get(d), gateway_site=site, auto_register=auto) for d in doubtful}
            claims = [d for d, v in verdicts.items() if v.claim]
            if claims:
                found |= claim_devices(conn, gateway, claims)
                verdicts |= {d: after_claim(gateway, d, found.get(d), gateway_site=site) for d in claims}
        except psycopg.Error:
            self._bindings_conn.close()  # reopened on the next call; the message is retried meanwhile
            raise
        return verdicts, found

    async def _admit_devices(self, gateway: str, records: list[DeviceColumns]
                             ) -> tuple[list[DeviceColumns], list[tuple[DeviceColumns, str]]]:
        """The records of devices the gateway may write, and the others with the reason each is refused."""
        if self.bindings is None:
            return records, []
        auto = self.config.auto_register
        verdicts = {r.device: self.bindings.judge(gateway, r.device, auto_register=auto) for r in records}
        doubtful = [d for d, v in verdicts.items() if not v.admit]
        if doubtful:
            settled, found = await asyncio.to_thread(self._settle, gateway, doubtful)
            verdicts |= settled
            self.bindings.learn(found)
        admitted = [r for r in records if verdicts[r.device].admit]
        return admitted, [(r, verdicts[r.device].reason) for r in records if not verdicts[r.device].admit]

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object = None) -> None:
        if getattr(rc, "is_failure", False):
            log.error("broker refused ingest connection: %s", rc)
            return
        if self.subscriptions is not None:
            self._sync_subscriptions(reconnected=True)
            return
        filters = [mqtt_data_filter(self.config.topic_root, self.config.shared_group),
                   *mqtt_health_filters(self.config.topic_root, self.config.shared_group)]
        client.subscribe([(f, 1) for f in filters])
        log.info("subscribed to %s", ", ".join(filters))

    def _sync_subscriptions(self, *, reconnected: bool = False) -> None:
        """Subscribe to the exact topics of newly owned gateways, unsubscribe from revoked ones."""
        assert self.subscriptions is not None
        with self._sync_lock:
            add, remove = self.subscriptions.changes(reconnected=reconnected)
            if not (add or remove) or not self._client.is_connected():
                return  # once connected, on-connect subscribes everything that is wanted
            for i in range(0, len(add), _GATEWAYS_PER_SUBSCRIBE):
                chunk = add[i:i + _GATEWAYS_PER_SUBSCRIBE]
                rc, mid = self._client.subscribe([(t, 1) for t in self.subscriptions.topics(chunk)])
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    return  # connection lost meanwhile: the next on-connect starts over
                self._subscribe_requests[mid] = chunk
                self.subscriptions.applied(chunk, [])
            if remove:
                rc, _ = self._client.unsubscribe(self.subscriptions.topics(remove))
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    return
                self.subscriptions.applied([], remove)
        partition = self.subscriptions.partition
        if add:
            log.info("partition %s: subscribed to %d gateways: %s", partition, len(add), ", ".join(add))
        if remove:
            log.info("partition %s: unsubscribed from %d gateways no longer active: %s", partition, len(remove),
                     ", ".join(remove))

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reason_codes: list, props: object = None
                      ) -> None:
        gateways = self._subscribe_requests.pop(mid, None)
        refused = [rc for rc in reason_codes if getattr(rc, "is_failure", False)]
        if refused:
            log.error("broker refused %d of %d subscriptions%s (ACL for %s?)", len(refused), len(reason_codes),
                      f" for gateways {', '.join(gateways)}" if gateways else "", self.config.client_id)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        assert self._loop is not None
        # blocks paho's thread when the queue is full: back-pressure instead of loss
        asyncio.run_coroutine_threadsafe(self._queue.put(message), self._loop).result()

    async def _dead_letter(self, message: mqtt.MQTTMessage, gateway: str | None, reason: str,
                           payload: bytes | None = None) -> None:
        """Send a dead letter: the message's payload, or `payload` (a refused device's record) instead."""
        assert self._producer is not None
        record = {
            "stage": "ingest",
            "topic": message.topic,
            "gateway": gateway,
            "reason": reason,
            "received_at": datetime.now(UTC).isoformat(),
            "payload_b64": base64.b64encode(message.payload if payload is None else payload).decode(),
        }
        await self._producer.send_and_wait(kafka_dead_letters(self.config.kafka_prefix), json.dumps(record).encode())
        DEAD_LETTERS.labels("ingest", reason_class(reason)).inc()

    async def handle(self, message: mqtt.MQTTMessage) -> tuple[list[asyncio.Future], tuple[str, int, int] | None]:
        """Validate and hand one MQTT message to the Kafka producer; returns the delivery futures.

        Records are appended to the producer in arrival order, so a device's
        readings stay ordered even with many messages awaiting Kafka at once.
        """
        assert self._producer is not None
        parts = split_gateway_topic(message.topic, self.config.topic_root)
        if parts is not None and parts[1] in HEALTH_KINDS:
            return await self._handle_health(message, *parts), None
        gateway = parts[0] if parts is not None else None
        _DATA_MESSAGES.inc()
        received = datetime.now(UTC)
        try:
            envelope = validate_payload(message.payload, gateway, received, self.keyring)
            self._admit(envelope.gateway, envelope.seq_first, envelope.seq_last)
        except Rejected as exc:
            self.rejected += 1
            log.warning("rejected payload from %s: %s", gateway or message.topic, exc)
            await self._dead_letter(message, gateway, str(exc))
            return [], None
        records = split_by_device(envelope, received)
        _READINGS_IN.inc(sum(len(r.seq) for r in records))
        admitted, refused = await self._admit_devices(envelope.gateway, records)
        for record, reason in refused:  # each device on its own: the gateway's other devices still go through
            self.rejected += 1
            log.warning("refused device %s from %s: %s", record.device, envelope.gateway, reason)
            await self._dead_letter(message, envelope.gateway, reason, encode_device_record(record))
        futures = await send_records(self._producer, admitted, self.config.kafka_prefix)
        forwarded = sum(len(r.seq) for r in admitted)
        self.accepted += forwarded
        _READINGS_OUT.inc(forwarded)
        return futures, (envelope.gateway, envelope.seq_first, envelope.seq_last)

    async def _handle_health(self, message: mqtt.MQTTMessage, gateway: str, kind: str) -> list[asyncio.Future]:
        """A status report or event: checked like data (registry, gateway in the payload), keyed by gateway."""
        assert self._producer is not None
        _MESSAGES.labels(kind).inc()
        try:
            self._admit_gateway(gateway)
            record = validate_health_payload(message.payload, gateway, kind, datetime.now(UTC), self.keyring)
        except Rejected as exc:
            self.rejected += 1
            log.warning("rejected %s payload from %s: %s", kind, gateway, exc)
            await self._dead_letter(message, gateway, str(exc))
            return []
        future = await self._producer.send(kafka_gateway_health(self.config.kafka_prefix),
                                           record.model_dump_json().encode(), key=gateway.encode())
        self.health_reports += 1
        return [future]

    def _admit_gateway(self, gateway: str) -> None:
        if self.admission is not None and not self.admission.allows(gateway):
            raise Rejected(f"gateway {gateway!r} is not registered or is revoked;"
                           f" register it with `carbonflow gateways add {gateway}`")

    def _admit(self, gateway: str, first: int, last: int) -> None:
        """Refuse unregistered or revoked gateways and replays of what was already accepted."""
        self._admit_gateway(gateway)
        if self.ledger.covers(gateway, first, last):
            raise Rejected(f"replayed sequence range {first}..{last}: already accepted")

    async def _keep_registry_fresh(self, stop: asyncio.Event) -> None:
        """Reload the gateway registry in the background, off the message path."""
        assert self.admission is not None
        while not stop.is_set():
            await asyncio.sleep(min(1.0, self.config.registry_refresh_s))
            reloaded = await asyncio.to_thread(self.admission.refresh_if_due)
            if self.bindings is not None:
                await asyncio.to_thread(self.bindings.refresh_if_due)
            if reloaded and self.subscriptions is not None:  # between reloads nothing changes what is wanted
                self.subscriptions.want(self.admission.active)
                await asyncio.to_thread(self._sync_subscriptions)

    async def _acknowledge_in_order(self, pending: asyncio.Queue) -> None:
        """Acknowledge each MQTT message once Kafka has every record made from it."""
        while True:
            message, futures, span = await pending.get()
            try:
                await asyncio.gather(*futures)
            except Exception:  # a record was not delivered: leave the message unacknowledged
                log.exception("Kafka did not take a batch from %s; it will be redelivered", message.topic)
                pending.task_done()
                continue
            if span is not None:
                self.ledger.record(*span)
            self._client.ack(message.mid, message.qos)
            pending.task_done()

    async def _wait_for_registry(self) -> None:
        """A partitioned worker must know its gateways before it connects: retry the registry, then give up."""
        assert self.admission is not None and self.config.partition is not None
        deadline = asyncio.get_running_loop().time() + _REGISTRY_WAIT_S
        while not self.admission.loaded:
            if asyncio.get_running_loop().time() > deadline:
                raise SystemExit(f"ingest: partition {self.config.partition}: the gateway registry did not answer"
                                 f" within {_REGISTRY_WAIT_S:.0f} s; check DATABASE_URL")
            await asyncio.sleep(min(2.0, self.config.registry_refresh_s))
            await asyncio.to_thread(self.admission.refresh_if_due)
        owned = sorted(g for g in self.admission.active if self.config.partition.owns(g))
        log.info("partition %s (client id %s): owns %d of %d registered gateways", self.config.partition,
                 self.config.client_id, len(owned), len(self.admission.active))

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        cfg = self.config
        await ensure_topics(cfg.kafka_bootstrap, cfg.kafka_prefix)
        self._producer = make_producer(cfg.kafka_bootstrap)
        await self._producer.start()
        pending: asyncio.Queue = asyncio.Queue(maxsize=_MAX_PENDING_MESSAGES)
        acker = asyncio.create_task(self._acknowledge_in_order(pending))
        background = [acker]
        if self.admission is not None:
            await asyncio.to_thread(self.admission.refresh_if_due)  # know the gateways before the first message
            if self.bindings is not None:
                await asyncio.to_thread(self.bindings.refresh_if_due)
            if self.subscriptions is not None:
                await self._wait_for_registry()
                self.subscriptions.want(self.admission.active)
            background.append(asyncio.create_task(self._keep_registry_fresh(stop)))
        url = urlsplit(cfg.mqtt_url)
        self._client.connect_async(url.hostname or "127.0.0.1", url.port or 8883, keepalive=15)
        self._client.loop_start()
        heartbeat = HEARTBEAT.labels("ingest")
        try:
            while not stop.is_set():
                heartbeat.set_to_current_time()
                try:
                    message = await asyncio.wait_for(self._queue.get(), timeout=0.5)
                except TimeoutError:
                    continue
                while True:
                    try:
                        futures, span = await self.handle(message)
                        break
                    except Exception:  # Kafka unavailable: keep the message, retry in order
                        log.exception("forwarding failed; retrying in 1 s")
                        await asyncio.sleep(1)
                await pending.put((message, futures, span))
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            for task in background:
                task.cancel()
            await self._producer.stop()
            if self._bindings_conn is not None:
                self._bindings_conn.close()


def _tls_client(config: BridgeConfig, *, clean_session: bool) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=config.client_id, clean_session=clean_session)
    if config.mqtt_url.startswith("mqtts://"):
        client.tls_set(ca_certs=config.ca, certfile=config.cert, keyfile=config.key,
                       cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    return client


def retire_session(config: BridgeConfig, timeout_s: float = 15.0) -> None:
    """Make the broker discard this worker's persistent session (its subscriptions and queued batches).

    For the old set after changing N: otherwise the broker keeps queuing for the
    old client ids until `persistent_client_expiration`. Connecting once with a
    clean session is how MQTT 3.1.1 ends a session.
    """
    client = _tls_client(config, clean_session=True)
    answered = threading.Event()
    outcome: list[object] = []

    def on_connect(c: mqtt.Client, userdata: object, flags: object, rc: object, props: object = None) -> None:
        outcome.append(rc)
        answered.set()

    client.on_connect = on_connect
    url = urlsplit(config.mqtt_url)
    client.connect(url.hostname or "127.0.0.1", url.port or 8883, keepalive=15)
    client.loop_start()
    try:
        if not answered.wait(timeout_s):
            raise SystemExit(f"ingest: the broker did not answer within {timeout_s:.0f} s; session"
                             f" {config.client_id} not retired")
        if getattr(outcome[0], "is_failure", False):
            raise SystemExit(f"ingest: the broker refused {config.client_id}: {outcome[0]}")
    finally:
        client.disconnect()
        client.loop_stop()
    log.info("retired session %s: the broker no longer queues batches for it", config.client_id)


def run_bridge(*, retire: bool = False) -> int:
    """Run the ingest bridge until SIGINT/SIGTERM; with `retire`, end its broker session instead."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = bridge_config_from_env()
    if retire:
        retire_session(config)
        return 0
    listen = metrics_listen_from_env(os.environ, "ingest")
    if listen is not None:
        serve_metrics(listen, "ingest")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        bridge = Bridge(config)
        await bridge.run(stop)

    asyncio.run(main())
    return 0
