"""What the installed Mosquitto does with `$share/...` subscriptions: why partitioned ingest exists.

Measured, not assumed (Mosquitto 2.0.11 when written): a persistent shared
subscription (MQTT v5, session expiry 1 h) does queue while every member is
offline, but round-robins over offline members too, and the broker forgets it
when it restarts, so batches published before the workers resubscribe are
acknowledged and lost. A plain persistent subscription survives the restart.
If a Mosquitto upgrade makes the restart test fail, shared subscriptions may
be safe again: see docs/ingest.md "Scaling out".
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from carbonflow.embedded.mqtt import INGEST_IDENTITY
from carbonflow.topics import MQTT_ROOT
from tests.e2e.harness import RestartableBroker

GATEWAY = "gw-test"
TOPIC = f"{MQTT_ROOT}/{GATEWAY}/data"
BURST = 40


class _Broker(RestartableBroker):
    """The restartable broker, with clients of the test PKI's identities."""

    def __init__(self, directory: Path, pki: dict) -> None:
        super().__init__(directory, pki["server"])
        self.pki = pki

    def client(self, client_id: str, identity: str, *, v5: bool) -> tuple[mqtt.Client, list[bytes]]:
        """A connected client (v5 with a 1 h session expiry and clean start off) and what it receives."""
        cert = self.pki[identity]
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311)
        client.tls_set(ca_certs=str(cert.ca), certfile=str(cert.cert), keyfile=str(cert.key),
                       tls_version=ssl.PROTOCOL_TLS_CLIENT)
        received: list[bytes] = []
        connected = threading.Event()
        client.on_message = lambda c, u, m: received.append(m.payload)
        client.on_connect = lambda *args: connected.set()
        if v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600
            client.connect("127.0.0.1", self.port, clean_start=False, properties=props)
        else:
            client.connect("127.0.0.1", self.port)
        client.loop_start()
        assert connected.wait(10)
        return client, received


def _close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def broker(tmp_path: Path, pki: dict) -> Iterator[_Broker]:
    b = _Broker(tmp_path / "broker", pki)
    if b.plan.name != "mosquitto":
        pytest.skip("these tests pin Mosquitto's behaviour; the broker here is " + b.plan.name)
    b.start()
    try:
        yield b
    finally:
        b.stop()


def _subscribe_then_leave(broker: _Broker, client_id: str, topic_filter: str) -> None:
    client, _ = broker.client(client_id, INGEST_IDENTITY, v5=True)
    done = threading.Event()
    client.on_subscribe = lambda *args: done.set()
    client.subscribe(topic_filter, qos=1)
    assert done.wait(10)
    _close(client)


def _publish_burst(broker: _Broker, tag: str) -> None:
    publisher, _ = broker.client(f"pub-{tag}", GATEWAY, v5=False)
    infos = [publisher.publish(TOPIC, f"{tag}-{i}".encode(), qos=1) for i in range(BURST)]
    for info in infos:
        info.wait_for_publish(10)
    assert all(info.is_published() for info in infos)  # the broker acknowledged every one
    _close(publisher)


def _collect(broker: _Broker, client_id: str) -> int:
    client, received = broker.client(client_id, INGEST_IDENTITY, v5=True)
    time.sleep(1.5)
    _close(client)
    return len(received)


def test_offline_shared_members_each_keep_their_round_robin_share(broker: _Broker) -> None:
    for member in ("m0", "m1"):
        _subscribe_then_leave(broker, f"share-{member}", f"$share/g/{MQTT_ROOT}/+/data")
    _publish_burst(broker, "offline")
    # the first member back gets only its half; the rest waits for the other member, however long it is away
    assert (_collect(broker, "share-m0"), _collect(broker, "share-m1")) == (BURST // 2, BURST // 2)


def test_restart_forgets_shared_subscriptions_but_keeps_plain_ones(broker: _Broker) -> None:
    _subscribe_then_leave(broker, "shared-member", f"$share/g/{MQTT_ROOT}/+/data")
    _subscribe_then_leave(broker, "plain-member", TOPIC)
    broker.stop()
    broker.start()
    _publish_burst(broker, "after-restart")
    assert (_collect(broker, "shared-member"), _collect(broker, "plain-member")) == (0, BURST)
