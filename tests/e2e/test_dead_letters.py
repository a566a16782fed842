"""Bad payloads end in the dead-letter store with their reason while good traffic keeps flowing."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg

from carbon_domain.schemas import Envelope, Reading
from carbon_domain.wire import encode_envelope
from carbonflow.supervisor import Supervisor
from carbonflow.topics import MQTT_ROOT
from tests.conftest import free_port
from tests.e2e.harness import start_cloud, start_plant, stored_seqs, wait_for, write_plant_files

GATEWAY = "gw-dead"
DEVICE = "dead-meter"


def _envelope(gateway: str, first: int, ts: datetime, n: int = 3) -> Envelope:
    readings = [Reading(seq=first + i, device="dl-probe", point="p", value=float(i), unit="kW", source_ts=ts,
                        gateway_ts=ts) for i in range(n)]
    return Envelope(gateway=gateway, seq_first=first, seq_last=first + n - 1, sent_at=ts, readings=readings)


def _publisher(mqtt_url: str, cert: object, client_id: str) -> mqtt.Client:
    port = int(mqtt_url.rsplit(":", 1)[1])
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.tls_set(ca_certs=str(cert.ca), certfile=str(cert.cert), keyfile=str(cert.key),  # type: ignore[attr-defined]
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def test_each_bad_payload_is_dead_lettered_with_its_reason(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict
) -> None:
    now = datetime.now(UTC)
    good = encode_envelope(_envelope(GATEWAY, 10**9, now))
    raw_json = _envelope(GATEWAY, 10**9 + 100, now).model_dump_json()
    cases = {
        "truncated": (GATEWAY, good[:25], "malformed JSON"),
        "wrong-type": (GATEWAY, raw_json.replace('"value":1.0', '"value":"high"').encode(), "invalid envelope"),
        "wrong-gateway": (GATEWAY, encode_envelope(_envelope("gw-other", 10**9 + 200, now)), "does not match topic"),
        "non-utf8": (GATEWAY, b"\xff\xfe\xfa" + b"x" * 40, "not UTF-8"),
        "year-2099": (GATEWAY, encode_envelope(_envelope(GATEWAY, 10**9 + 300, datetime(2099, 1, 1, tzinfo=UTC))),
                      "in the future"),
        "huge": (GATEWAY, b"{" + b" " * (5 * 1024 * 1024) + b"}", "exceeds"),
        "unregistered": ("rogue-gw", encode_envelope(_envelope("rogue-gw", 0, now)), "not registered"),
        "replay": (GATEWAY, good, "replayed sequence range"),
        # refused at the door with a reason the dead-letter store can hold (a NUL in it would not be)
        "nul-point": (GATEWAY, _envelope(GATEWAY, 10**9 + 400, now).model_dump_json().replace(
            '"point":"p"', '"point":"bad\\u0000point"', 1).encode(), '"bad\\u0000point" is not an identifier'),
        "nan-value": (GATEWAY, _envelope(GATEWAY, 10**9 + 500, now).model_dump_json().replace(
            '"value":1.0', '"value":NaN').encode(), "NaN is not a finite number"),
    }
    modbus_port = free_port()
    files = write_plant_files(tmp_path, gateway=GATEWAY, device=DEVICE, modbus_port=modbus_port,
                              mqtt_url=mqtt_broker, cert=pki[GATEWAY], static=False)
    log_path = files["log"]
    with open(log_path, "w") as log, psycopg.connect(database_url, autocommit=True) as conn:
        sup = Supervisor(out=log)
        publishers = {g: _publisher(mqtt_broker, pki[g], f"probe-{g}") for g in (GATEWAY, "rogue-gw")}
        try:
            start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker, pki=pki)
            start_plant(sup, files, modbus_port)
            wait_for("live data", lambda: len(stored_seqs(conn, GATEWAY)[0]) > 50, 90, log_path)

            topic = f"{MQTT_ROOT}/{{}}/data"
            publishers[GATEWAY].publish(topic.format(GATEWAY), good, qos=1).wait_for_publish(10)
            wait_for("the probe envelope", lambda: 10**9 in set(stored_seqs(conn, GATEWAY)[0]), 30, log_path)
            for gateway, payload, _ in cases.values():
                publishers[gateway].publish(topic.format(gateway), payload, qos=1).wait_for_publish(10)
            before = len(stored_seqs(conn, GATEWAY)[0])

            def reasons() -> list[str]:
                return [r[0] for r in conn.execute("SELECT reason FROM dead_letters WHERE stage = 'ingest'").fetchall()]

            wait_for("every dead letter", lambda: all(any(w in r for r in reasons()) for _, _, w in cases.values()),
                     60, log_path, lambda: f"dead letters so far: {reasons()}")
            wait_for("good traffic after the bad", lambda: len(stored_seqs(conn, GATEWAY)[0]) > before + 20, 30,
                     log_path)
            probe = conn.execute("SELECT count(*) FROM all_readings r JOIN points p USING (point_key)"
                                 " WHERE p.device_id = 'dl-probe'").fetchone()[0]
            payload_kept = conn.execute("SELECT octet_length(payload) FROM dead_letters WHERE reason LIKE %s",
                                        ("%exceeds%",)).fetchone()[0]
        finally:
            for p in publishers.values():
                p.loop_stop()
                p.disconnect()
            sup.stop_all()
    assert (probe, payload_kept) == (3, len(cases["huge"][1]))
