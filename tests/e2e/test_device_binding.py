"""Over MQTT, a gateway writes only its own devices: another enterprise's device and an unknown one (auto-registration
off) are dead-lettered with their reason while the gateway's own device is stored; the owner's readings, emissions
and binding do not change; after `carbonflow gateways bind` the new gateway is accepted at once and the old one
is dead-lettered within the registry refresh."""

from __future__ import annotations

import getpass
import os
import ssl
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from carbon_domain.schemas import Envelope, Reading
from carbon_domain.wire import encode_envelope
from carbonflow.certs import ensure_dev_pki
from carbonflow.embedded.mqtt import INGEST_IDENTITY
from carbonflow.gateways import register_gateway
from carbonflow.registry import SiteRegistry, apply_registry
from carbonflow.supervisor import Supervisor
from carbonflow.topics import MQTT_ROOT
from tests.e2e.harness import CLI, start_cloud, wait_for

GW_A, GW_C, GW_C2 = "gw-bind-a", "gw-bind-c", "gw-bind-c2"
DEV_A, DEV_C = "bind-dev-a1", "bind-dev-c1"
REFRESH_S = 1.0


def _register(conn: psycopg.Connection, enterprise: str, site: str, gateways: list[str], device: str) -> None:
    """An enterprise with one site, its gateways, and one meter bound to the first gateway."""
    apply_registry(conn, SiteRegistry.model_validate({
        "enterprise_id": enterprise, "enterprise_name": enterprise, "sites": [{"id": site, "name": site}],
        "devices": [{"id": device, "site": site, "process": "steelmaking", "profile": "cf-demo/pm3-meter",
                     "bindings": {"energy_import_kwh": "electricity"}, "gateway": gateways[0]}]}))
    for gateway in gateways:
        register_gateway(conn, gateway, site_id=site)


def _envelope(gateway: str, first: int, devices: dict[str, list[float]]) -> bytes:
    """Counter readings of each device, a second apart, ending a minute ago."""
    end = datetime.now(UTC) - timedelta(minutes=1)
    readings = []
    for device, values in devices.items():
        for i, value in enumerate(values):
            ts = end - timedelta(seconds=len(values) - i)
            readings.append(Reading(seq=first + len(readings), device=device, point="energy_import_kwh", value=value,
                                    unit="kWh", kind="counter", source_ts=ts, gateway_ts=ts))
    return encode_envelope(Envelope(gateway=gateway, seq_first=first, seq_last=first + len(readings) - 1,
                                    sent_at=end, readings=readings))


def _publisher(mqtt_url: str, cert: object, gateway: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{gateway}")
    client.tls_set(ca_certs=str(cert.ca), certfile=str(cert.cert), keyfile=str(cert.key),  # type: ignore[attr-defined]
                   tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.connect("127.0.0.1", int(mqtt_url.rsplit(":", 1)[1]))
    client.loop_start()
    return client


def _url(conninfo: str) -> str:
    """The test database as the postgresql:// URL the CLI takes."""
    info = psycopg.conninfo.conninfo_to_dict(conninfo)
    return (f"postgresql://{info.get('user') or getpass.getuser()}@{info.get('host') or '127.0.0.1'}:"
            f"{info.get('port') or 5432}/{info['dbname']}")


def _stored(conn: psycopg.Connection, device: str, gateway: str) -> int:
    return conn.execute("SELECT count(*) FROM all_readings r JOIN points p USING (point_key) JOIN gateways g"
                        " USING (gateway_key) WHERE p.device_id = %s AND g.gateway_id = %s",
                        (device, gateway)).fetchone()[0]


def _dead(conn: psycopg.Connection, gateway: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT reason FROM dead_letters WHERE stage = 'ingest' AND gateway_id = %s"
                                       " ORDER BY id", (gateway,)).fetchall()]


@pytest.mark.timeout(180)
def test_foreign_and_unknown_devices_are_dead_lettered_and_a_move_switches_gateways(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict
) -> None:
    certs = ensure_dev_pki(pki["server"].ca.parent, [GW_A, GW_C, GW_C2])  # the broker's CA
    log_path = tmp_path / "pipeline.log"
    topic = f"{MQTT_ROOT}/{{}}/data"
    with open(log_path, "w") as log, psycopg.connect(database_url, autocommit=True) as conn:
        _register(conn, "bind-ent-a", "bind-site-a", [GW_A], DEV_A)
        _register(conn, "bind-ent-c", "bind-site-c", [GW_C, GW_C2], DEV_C)
        sup = Supervisor(out=log)
        publishers = {g: _publisher(mqtt_broker, certs[g], g) for g in (GW_A, GW_C, GW_C2)}

        def publish(gateway: str, payload: bytes) -> None:
            publishers[gateway].publish(topic.format(gateway), payload, qos=1).wait_for_publish(10)

        try:
            start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker,
                        pki={**{g: certs[g] for g in (GW_A, GW_C, GW_C2)}, INGEST_IDENTITY: pki[INGEST_IDENTITY]},
                        ingest_env={"CARBONFLOW_AUTO_REGISTER_DEVICES": "off",
                                    "INGEST_REGISTRY_REFRESH_S": str(REFRESH_S)})
            # a message published before ingest subscribes is not queued for it
            wait_for("ingest's subscription", lambda: "ingest: subscribed to" in log_path.read_text(), 30, log_path)
            publish(GW_C, _envelope(GW_C, 0, {DEV_C: [1000.0, 1001.0]}))
            wait_for("the owner's readings", lambda: _stored(conn, DEV_C, GW_C) == 2, 90, log_path)
            emissions = conn.execute("SELECT count(*), sum(tco2) FROM emissions WHERE site_id = 'bind-site-c'"
                                     ).fetchone()

            # gw-bind-a: its own meter, enterprise C's meter with a huge jump, and a meter nobody registered
            publish(GW_A, _envelope(GW_A, 0, {DEV_A: [5.0, 6.0], DEV_C: [1002.0, 105_000.0], "bind-dev-new": [1.0]}))
            wait_for("gw-bind-a's own readings", lambda: _stored(conn, DEV_A, GW_A) == 2, 30, log_path)
            wait_for("two dead letters", lambda: len(_dead(conn, GW_A)) == 2, 30, log_path,
                     lambda: f"dead letters: {_dead(conn, GW_A)}")
            after_attack = (_stored(conn, DEV_C, GW_A), _stored(conn, DEV_C, GW_C),
                            conn.execute("SELECT count(*), sum(tco2) FROM emissions WHERE site_id = 'bind-site-c'"
                                         ).fetchone(),
                            conn.execute("SELECT gateway_id FROM devices WHERE device_id = %s", (DEV_C,)).fetchone(),
                            conn.execute("SELECT 1 FROM devices WHERE device_id = 'bind-dev-new'").fetchone())
            refusals = _dead(conn, GW_A)

            moved = subprocess.run(CLI + ["gateways", "bind", GW_C2, "--device", DEV_C], check=False,
                                   capture_output=True, text=True, timeout=60,
                                   env={**os.environ, "DATABASE_URL": _url(database_url)})
            assert moved.returncode == 0, moved.stderr
            publish(GW_C2, _envelope(GW_C2, 0, {DEV_C: [1003.0, 1004.0]}))  # at once: refusals are re-checked
            wait_for("the new gateway's readings", lambda: _stored(conn, DEV_C, GW_C2) == 2, 30, log_path)
            time.sleep(REFRESH_S + 1.5)  # the registry copy is reloaded within a refresh interval and a second
            publish(GW_C, _envelope(GW_C, 100, {DEV_C: [1005.0]}))
            wait_for("the old gateway refused", lambda: len(_dead(conn, GW_C)) == 1, 30, log_path)
            old_refused = (_dead(conn, GW_C), _stored(conn, DEV_C, GW_C))
            audit = conn.execute("SELECT actor, actor_kind, before ->> 'gateway_id', after ->> 'gateway_id'"
                                 " FROM audit_log WHERE action = 'device.move' AND target = %s",
                                 (f"device:{DEV_C}",)).fetchall()
        finally:
            for p in publishers.values():
                p.loop_stop()
                p.disconnect()
            sup.stop_all()
    assert after_attack == (0, 2, emissions, (GW_C,), None)
    assert refusals == [
        (f"device {DEV_C!r} is bound to gateway {GW_C!r}, not {GW_A!r}; an administrator moves a device with "
        f"`carbonflow gateways bind {GW_A} --device {DEV_C}` or PUT /api/v1/devices/{DEV_C}/gateway"),
        ("device 'bind-dev-new' is not registered; register it with gateway_id 'gw-bind-a' (POST /api/v1/devices, or "
        "`gateway: gw-bind-a` in the site registry), or turn on CARBONFLOW_AUTO_REGISTER_DEVICES to register unknown "
        "devices under their gateway's site"),
    ]
    assert old_refused == ([(f"device {DEV_C!r} is bound to gateway {GW_C2!r}, not {GW_C!r}; an administrator moves a "
                            f"device with `carbonflow gateways bind {GW_C} --device {DEV_C}` or PUT "
                            f"/api/v1/devices/{DEV_C}/gateway")], 2)
    assert audit == [(f"cli:{getpass.getuser()}", "system", GW_C, GW_C2)]
