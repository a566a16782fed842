"""A gateway's status reports travel agent -> MQTT -> ingest -> Kafka -> stream worker into `gateway_health`;
status from an unregistered gateway or a malformed one ends in the dead-letter store."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg

from carbonflow.supervisor import Supervisor
from carbonflow.topics import MQTT_ROOT
from tests.conftest import free_port
from tests.e2e.harness import start_cloud, start_plant, wait_for, write_plant_files

GATEWAY = "gw-health"


def _probe(mqtt_url: str, cert: object, client_id: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.tls_set(ca_certs=str(cert.ca), certfile=str(cert.cert), keyfile=str(cert.key),  # type: ignore[attr-defined]
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.connect("127.0.0.1", int(mqtt_url.rsplit(":", 1)[1]))
    client.loop_start()
    return client


def test_gateway_status_reaches_the_health_table_and_bad_status_is_dead_lettered(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict
) -> None:
    modbus_port = free_port()
    files = write_plant_files(tmp_path, gateway=GATEWAY, device="health-meter", modbus_port=modbus_port,
                              mqtt_url=mqtt_broker, cert=pki[GATEWAY], static=True)
    log_path = files["log"]
    with open(log_path, "w") as log, psycopg.connect(database_url, autocommit=True) as conn:
        sup = Supervisor(out=log)
        probes = [_probe(mqtt_broker, pki[g], f"health-probe-{g}") for g in (GATEWAY, "rogue-gw")]

        def health() -> tuple | None:
            return conn.execute("SELECT state, spool_depth IS NOT NULL, agent_version, interval_s, last_seen"
                                " FROM gateway_health WHERE gateway_id = %s", (GATEWAY,)).fetchone()

        def reasons() -> list[str]:
            return [r[0] for r in conn.execute("SELECT reason FROM dead_letters WHERE topic LIKE %s",
                                               ("%/status",)).fetchall()]

        try:
            start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker, pki=pki)
            edge = start_plant(sup, files, modbus_port)
            wait_for("the agent's online status", lambda: (health() or ("",))[0] == "online", 90, log_path)
            online = health()
            rogue = json.dumps({"state": "online", "at": "2026-11-24T08:00:00+00:00"}).encode()
            probes[1].publish(f"{MQTT_ROOT}/rogue-gw/status", rogue, qos=1).wait_for_publish(10)
            probes[0].publish(f"{MQTT_ROOT}/{GATEWAY}/status", b'{"state": "online", "at": "yesterday"}',
                              qos=1).wait_for_publish(10)  # not retained: the agent's status stays
            wait_for("both dead letters", lambda: any("not registered" in r for r in reasons())
                     and any("invalid status: at" in r for r in reasons()), 60, log_path, lambda: str(reasons()))
            assert edge.process is not None
            edge.process.terminate()
            edge.process.wait(timeout=15)
            wait_for("the offline status after a clean stop", lambda: (health() or ("",))[0] == "offline", 60,
                     log_path)
        finally:
            for probe in probes:
                probe.loop_stop()
                probe.disconnect()
            sup.stop_all()
    assert online is not None and online[:4] == ("online", True, online[2], 30.0) and online[2]
