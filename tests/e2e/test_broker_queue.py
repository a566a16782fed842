"""A burst far beyond Mosquitto's default 1,000-message queue, sent while ingest is down, arrives complete."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from carbon_domain.schemas import Envelope, Reading
from carbon_domain.wire import encode_envelope
from carbonflow.supervisor import Supervisor
from carbonflow.topics import MQTT_ROOT
from tests.e2e.harness import restart_cloud_worker, start_cloud, stored_seqs, wait_for

GATEWAY = "gw-burst"
MESSAGES = 3000
PER_MESSAGE = 10


@pytest.mark.timeout(240)
def test_burst_while_ingest_is_down_is_queued_not_dropped(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict
) -> None:
    log_path = tmp_path / "pipeline.log"
    cert = pki[GATEWAY]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="burst-probe")
    client.tls_set(ca_certs=str(cert.ca), certfile=str(cert.cert), keyfile=str(cert.key),
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", int(mqtt_broker.rsplit(":", 1)[1]))
    client.loop_start()
    start = datetime.now(UTC) - timedelta(minutes=30)
    with open(log_path, "w") as log, psycopg.connect(database_url, autocommit=True) as conn:
        sup = Supervisor(out=log)
        try:
            run_id = start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker, pki=pki)
            ingest = next(c for c in sup.children if c.name == "ingest")
            wait_for("the ingest session", lambda: "subscribed" in log_path.read_text(), 30, log_path)
            assert ingest.process is not None
            ingest.process.terminate()  # its persistent session stays on the broker
            ingest.process.wait(timeout=15)
            infos = []
            for m in range(MESSAGES):
                ts = start + timedelta(milliseconds=m)
                readings = [Reading(seq=m * PER_MESSAGE + i, device="burst-dev", point=f"p{i}", value=float(m),
                                    unit="kW", source_ts=ts, gateway_ts=ts) for i in range(PER_MESSAGE)]
                envelope = Envelope(gateway=GATEWAY, seq_first=m * PER_MESSAGE, seq_last=m * PER_MESSAGE + 9,
                                    sent_at=ts, readings=readings)
                infos.append(client.publish(f"{MQTT_ROOT}/{GATEWAY}/data", encode_envelope(envelope), qos=1))
            for info in infos:
                info.wait_for_publish(30)
            restart_cloud_worker(sup, "ingest", run_id=run_id, database_url=database_url, kafka=kafka_bootstrap,
                                 mqtt_url=mqtt_broker, pki=pki)
            expected = set(range(MESSAGES * PER_MESSAGE))
            wait_for("the whole burst", lambda: expected <= set(stored_seqs(conn, GATEWAY)[0]), 120, log_path,
                     lambda: f"{len(set(stored_seqs(conn, GATEWAY)[0]))} of {len(expected)} stored")
            seqs, distinct = stored_seqs(conn, GATEWAY)
        finally:
            client.loop_stop()
            client.disconnect()
            sup.stop_all()
    assert (len(seqs), distinct) == (MESSAGES * PER_MESSAGE, MESSAGES * PER_MESSAGE)
