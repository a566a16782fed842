"""The amqtt fallback broker (what `make run` starts without Mosquitto) authenticates gateways as Mosquitto does.

Mosquitto is hidden from plan_mqtt_broker for this module, so these tests run whatever machine they are on.
"""

from __future__ import annotations

import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

import carbonflow.embedded.mqtt as embedded_mqtt
from carbonflow.embedded.mqtt import INGEST_IDENTITY, plan_mqtt_broker
from carbonflow.supervisor import Supervisor
from carbonflow.topics import MQTT_ROOT
from tests.conftest import free_port, stop_process, wait_port
from tests.e2e.harness import start_cloud, start_plant, stop_agent_and_settle, stored_seqs, wait_for, write_plant_files

GATEWAY = "gw-fallback"
OTHER = "gw-test"
DEVICE = "fallback-meter"
SETTLE_S = 2.0  # how long a refused message is given to show up anyway


@contextmanager
def _amqtt(directory: Path, pki: dict, acl: Path | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The broker plan_mqtt_broker picks when no Mosquitto is installed, running: (URL, process)."""
    port = free_port()
    with pytest.MonkeyPatch.context() as hide:
        hide.setattr(embedded_mqtt, "_find_mosquitto", lambda: None)
        plan = plan_mqtt_broker(directory, "127.0.0.1", port, pki["server"], MQTT_ROOT, acl=acl)
    assert plan.name == "amqtt"
    with open(directory / "broker.log", "wb") as out:
        proc = subprocess.Popen(plan.argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc=proc)
        yield plan.url, proc
    finally:
        stop_process(proc)


@pytest.fixture(scope="module")
def fallback_broker(tmp_path_factory: pytest.TempPathFactory, pki: dict) -> Iterator[str]:
    with _amqtt(tmp_path_factory.mktemp("amqtt"), pki) as (url, _):
        yield url


class _Client:
    """A paho client that records whether it got connected, its SUBACK codes and what it received."""

    def __init__(self, url: str, cert: object, client_id: str, *, with_certificate: bool = True) -> None:
        self.connected, self.dropped = threading.Event(), threading.Event()
        self.received: list[tuple[str, bytes]] = []
        self.granted: list[list[int]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        own = {"certfile": str(cert.cert), "keyfile": str(cert.key)} if with_certificate else {}  # type: ignore[attr-defined]
        self.client.tls_set(ca_certs=str(cert.ca), tls_version=ssl.PROTOCOL_TLS_CLIENT, **own)  # type: ignore[attr-defined]
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.set() if not rc.is_failure else None
        self.client.on_disconnect = lambda c, u, f, rc, p: self.dropped.set()
        self.client.on_message = lambda c, u, msg: self.received.append((msg.topic, msg.payload))
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.granted.append([int(r.value) for r in rcs])
        self.client.connect("127.0.0.1", int(url.rsplit(":", 1)[1]))
        self.client.loop_start()

    def subscribe(self, *filters: str) -> list[int]:
        before = len(self.granted)
        self.client.subscribe([(f, 1) for f in filters])
        deadline = time.monotonic() + 10
        while len(self.granted) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.granted[-1]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_fallback_broker_refuses_a_client_without_a_certificate(fallback_broker: str, pki: dict) -> None:
    listener = _Client(fallback_broker, pki[INGEST_IDENTITY], "listener-nocert")
    anonymous = _Client(fallback_broker, pki[GATEWAY], "no-certificate", with_certificate=False)
    try:
        assert listener.connected.wait(10)
        listener.subscribe(f"{MQTT_ROOT}/+/data")
        assert not anonymous.connected.wait(SETTLE_S)
        anonymous.client.publish(f"{MQTT_ROOT}/demo-gw-1/data", b"unauthenticated", qos=1)
        time.sleep(SETTLE_S)
    finally:
        anonymous.close()
        listener.close()
    assert listener.received == []


def test_fallback_broker_refuses_a_gateway_writing_or_reading_another_gateways_topics(
    fallback_broker: str, pki: dict
) -> None:
    listener = _Client(fallback_broker, pki[INGEST_IDENTITY], "listener-acl")
    other = _Client(fallback_broker, pki[OTHER], "acl-other")
    spoofer = _Client(fallback_broker, pki[GATEWAY], "acl-spoofer")
    try:
        assert listener.connected.wait(10) and other.connected.wait(10) and spoofer.connected.wait(10)
        listener.subscribe(f"{MQTT_ROOT}/+/data")
        granted = spoofer.subscribe(f"{MQTT_ROOT}/{OTHER}/cmd/#", f"{MQTT_ROOT}/{OTHER}/data", f"{MQTT_ROOT}/#")
        other.client.publish(f"{MQTT_ROOT}/{OTHER}/data", b"genuine", qos=1).wait_for_publish(10)
        spoofer.client.publish(f"{MQTT_ROOT}/{OTHER}/data", b"spoofed", qos=1)
        wait_for_drop = spoofer.dropped.wait(10)
        time.sleep(SETTLE_S)
    finally:
        for c in (spoofer, other, listener):
            c.close()
    assert granted == [0x80, 0x80, 1]  # "everything" is granted, and delivers only what it may read (nothing here)
    assert listener.received == [(f"{MQTT_ROOT}/{OTHER}/data", b"genuine")]
    assert spoofer.received == [] and wait_for_drop  # as Mosquitto 2.0, the broker disconnects the spoofer


def test_readings_flow_exactly_once_through_the_fallback_broker(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, fallback_broker: str, pki: dict
) -> None:
    modbus_port = free_port()
    files = write_plant_files(tmp_path, gateway=GATEWAY, device=DEVICE, modbus_port=modbus_port,
                              mqtt_url=fallback_broker, cert=pki[GATEWAY], static=False)
    log_path = files["log"]
    with open(log_path, "w") as log, psycopg.connect(database_url, autocommit=True) as conn:
        sup = Supervisor(out=log)
        try:
            start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=fallback_broker, pki=pki)
            edge = start_plant(sup, files, modbus_port)
            wait_for("readings through amqtt", lambda: len(stored_seqs(conn, GATEWAY)[0]) > 50, 90, log_path)
            acked, seqs = stop_agent_and_settle(edge, files, lambda: stored_seqs(conn, GATEWAY)[0])
        finally:
            sup.stop_all()
    assert acked and acked <= set(seqs)
    assert len(seqs) == len(set(seqs)), "a reading was stored twice"


def test_fallback_broker_applies_a_rewritten_acl_on_sighup_as_mosquitto_does(tmp_path: Path, pki: dict) -> None:
    acl = tmp_path / "registry.acl"
    ingest_only = f"user {INGEST_IDENTITY}\ntopic read {MQTT_ROOT}/#\n"
    acl.write_text(ingest_only)  # the gateway is not registered yet
    topic = f"{MQTT_ROOT}/{GATEWAY}/data"
    with _amqtt(tmp_path, pki, acl) as (url, proc):
        listener = _Client(url, pki[INGEST_IDENTITY], "listener-reload")
        try:
            assert listener.connected.wait(10)
            listener.subscribe(f"{MQTT_ROOT}/+/data")
            before = _Client(url, pki[GATEWAY], "before-reload")
            assert before.connected.wait(10)
            before.client.publish(topic, b"unregistered", qos=1)
            assert before.dropped.wait(10)
            before.close()
            acl.write_text(ingest_only + f"user {GATEWAY}\ntopic write {MQTT_ROOT}/{GATEWAY}/#\n")
            proc.send_signal(signal.SIGHUP)
            time.sleep(1.0)
            after = _Client(url, pki[GATEWAY], "after-reload")
            assert after.connected.wait(10)
            after.client.publish(topic, b"registered", qos=1).wait_for_publish(10)
            time.sleep(SETTLE_S)
            after.close()
        finally:
            listener.close()
        assert proc.poll() is None, "SIGHUP stopped the broker"
    assert listener.received == [(topic, b"registered")]
