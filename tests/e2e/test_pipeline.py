"""End to end on loopback: simulator -> edge agent -> TLS MQTT -> ingest -> Kafka -> faust -> PostgreSQL -> API."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from pymodbus.client import ModbusTcpClient

from api.auth.bootstrap import ensure_demo_users
from api.main import create_app
from carbon_domain.factors import FactorLibrary
from carbonflow.supervisor import Supervisor
from tests.conftest import free_port
from tests.e2e.harness import (
    register_meter_site,
    spool_state,
    start_cloud,
    start_plant,
    stop_agent_and_settle,
    stored_seqs,
    wait_for,
    write_plant_files,
)

GATEWAY = "gw-test"
DEVICE = "e2e-meter"
SITE = "e2e-site"
ENERGY_REGISTER = 0x0100  # cf-demo/pm3-meter: energy_import_kwh, uint32 x 0.01 kWh, ABCD
INITIAL_KWH = 1000.0
STEPS_KWH = [100.25, 234.5, 0.13, 665.19]  # multiples of the register resolution, 0.01 kWh


def _write_energy(port: int, kwh: float) -> None:
    raw = round(kwh * 100)
    with ModbusTcpClient("127.0.0.1", port=port) as client:
        response = client.write_registers(ENERGY_REGISTER, [raw >> 16, raw & 0xFFFF], device_id=1)
        assert not response.isError()


def _counter_value(conn: psycopg.Connection) -> float | None:
    row = conn.execute(
        "SELECT s.value FROM point_state s JOIN points p USING (point_key)"
        " WHERE p.device_id = %s AND p.point = 'energy_import_kwh'", (DEVICE,)
    ).fetchone()
    return None if row is None else row[0]


def _newest_energy_readings(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT r.ts, r.value, r.quality FROM all_readings r JOIN points p USING (point_key)"
        " WHERE p.device_id = %s AND p.point = 'energy_import_kwh' ORDER BY r.ts DESC LIMIT 4", (DEVICE,)
    ).fetchall()


def test_meter_energy_becomes_hourly_emission_stored_exactly_once(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict
) -> None:
    started = datetime.now(UTC)
    modbus_port = free_port()
    files = write_plant_files(tmp_path, gateway=GATEWAY, device=DEVICE, modbus_port=modbus_port, mqtt_url=mqtt_broker,
                              cert=pki[GATEWAY], static=True, initial_kwh=INITIAL_KWH)
    register_meter_site(database_url, enterprise="e2e-ent", site=SITE, device=DEVICE, gateway=GATEWAY)
    log_path = files["log"]
    with open(log_path, "w") as log:
        sup = Supervisor(out=log)
        try:
            start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker, pki=pki)
            edge = start_plant(sup, files, modbus_port)

            with psycopg.connect(database_url, autocommit=True) as conn:
                wait_for("the first energy reading", lambda: _counter_value(conn) == INITIAL_KWH, 90, log_path)
                for i in range(len(STEPS_KWH)):
                    _write_energy(modbus_port, INITIAL_KWH + sum(STEPS_KWH[: i + 1]))
                    time.sleep(1.2)
                final = INITIAL_KWH + sum(STEPS_KWH)
                wait_for("the final counter value", lambda: abs((_counter_value(conn) or 0) - final) < 1e-6, 60,
                         log_path, lambda: f"counter {_counter_value(conn)}, newest {_newest_energy_readings(conn)}")

                acked, seqs = stop_agent_and_settle(edge, files, lambda: stored_seqs(conn, GATEWAY)[0])
                next_seq, _ = spool_state(files["spool"])
        finally:
            sup.stop_all()

    assert len(seqs) == len(set(seqs)) and set(seqs) <= set(range(next_seq)) and acked <= set(seqs)

    grid = FactorLibrary.default().resolve("grid.cn.national_average", started, series="mee-national-average")
    expected_t = sum(STEPS_KWH) / 1000.0 * grid.value
    with psycopg.connect(database_url, autocommit=True) as conn:
        admin = ensure_demo_users(conn)["admin"]
    with TestClient(create_app(database_url)) as client:
        login = client.post("/api/v1/auth/login", json={"username": admin.username, "password": admin.password})
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['token']}"}
        response = client.get("/api/v1/emissions", headers=bearer, params={
            "site": SITE, "start": (started - timedelta(hours=1)).isoformat(),
            "end": (datetime.now(UTC) + timedelta(hours=1)).isoformat(), "interval": "1h"})
    body = response.json()
    assert response.status_code == 200 and {r["source"] for r in body["rows"]} == {"electricity"}
    assert grid.factor_id in body["rows"][0]["factor_versions"]
    assert body["total_tco2"] == pytest.approx(expected_t, rel=1e-9, abs=0)
