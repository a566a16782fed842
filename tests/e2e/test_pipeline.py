"""End to end on loopback: simulator -> edge agent -> TLS MQTT -> ingest -> Kafka -> faust -> PostgreSQL -> API."""

from __future__ import annotations

import sqlite3
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import psycopg
import pytest
import yaml
from fastapi.testclient import TestClient
from pymodbus.client import ModbusTcpClient

from api.main import create_app
from carbon_domain.factors import FactorLibrary
from carbonflow.embedded.mqtt import INGEST_IDENTITY
from carbonflow.registry import SiteRegistry, apply_registry
from carbonflow.supervisor import Child, Supervisor

from tests.conftest import free_port, wait_port  # noqa: E402

CLI = [sys.executable, "-m", "carbonflow.cli"]
GATEWAY = "gw-test"
SITE = "e2e-site"
ENERGY_REGISTER = 0x0100  # cf-demo/pm3-meter: energy_import_kwh, uint32 x 0.01 kWh, ABCD
INITIAL_KWH = 1000.0
STEPS_KWH = [100.25, 234.5, 0.13, 665.19]  # multiples of the register resolution, 0.01 kWh


def _wait_for(
    what: str, check: Callable[[], bool], timeout_s: float, log: Path, explain: Callable[[], str] = lambda: ""
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    tail = log.read_text(errors="replace").splitlines()[-60:]
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}; {explain()}\nlast log lines:\n" + "\n".join(tail))


def _write_energy(port: int, kwh: float) -> None:
    raw = round(kwh * 100)
    with ModbusTcpClient("127.0.0.1", port=port) as client:
        response = client.write_registers(ENERGY_REGISTER, [raw >> 16, raw & 0xFFFF], device_id=1)
        assert not response.isError()


def _counter_value(conn: psycopg.Connection) -> float | None:
    row = conn.execute(
        "SELECT s.value FROM point_state s JOIN points p USING (point_key)"
        " WHERE p.device_id = 'elec-main' AND p.point = 'energy_import_kwh'"
    ).fetchone()
    return None if row is None else row[0]


def _newest_energy_readings(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT r.ts, r.value, r.quality FROM readings r JOIN points p USING (point_key)"
        " WHERE p.device_id = 'elec-main' AND p.point = 'energy_import_kwh' ORDER BY r.ts DESC LIMIT 4"
    ).fetchall()


def _spool_state(path: Path) -> tuple[int, set[int]]:
    db = sqlite3.connect(path)
    try:
        next_seq = db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0]
        left = {s for first, last in db.execute("SELECT seq_first, seq_last FROM blocks") for s in range(first, last + 1)}
    finally:
        db.close()
    return next_seq, left


def _stored_seqs(conn: psycopg.Connection) -> tuple[list[int], int]:
    rows = conn.execute(
        "SELECT r.seq FROM readings r JOIN gateways g USING (gateway_key) WHERE g.gateway_id = %s", (GATEWAY,)
    ).fetchall()
    seqs = [r[0] for r in rows]
    return seqs, len(set(seqs))


@pytest.fixture
def plant_files(tmp_path: Path, mqtt_broker: str, pki: dict) -> dict:
    modbus_port = free_port()
    scenario = {
        "name": "e2e",
        "base_port": modbus_port,
        "static": True,
        "devices": [{"id": "elec-main", "profile": "cf-demo/pm3-meter", "protocol": "modbus", "port_offset": 0,
                     "unit_id": 1, "initial": {"energy_import_kwh": INITIAL_KWH}}],
    }
    cert = pki[GATEWAY]
    edge = {
        "gateway_id": GATEWAY,
        "spool_path": str(tmp_path / "spool.sqlite"),
        "flush_interval_s": 0.1,
        "mqtt": {"url": mqtt_broker, "ca": str(cert.ca), "cert": str(cert.cert), "key": str(cert.key)},
        "devices": [{"id": "elec-main", "profile": "cf-demo/pm3-meter", "protocol": "modbus",
                     "port": modbus_port, "unit_id": 1, "poll_interval_s": 0.5}],
    }
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    (tmp_path / "edge.yaml").write_text(yaml.safe_dump(edge))
    return {"modbus_port": modbus_port, "scenario": tmp_path / "scenario.yaml", "edge": tmp_path / "edge.yaml",
            "spool": tmp_path / "spool.sqlite", "log": tmp_path / "pipeline.log"}


def test_meter_energy_becomes_hourly_emission_stored_exactly_once(
    plant_files: dict, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict
) -> None:
    started = datetime.now(timezone.utc)
    with psycopg.connect(database_url, autocommit=True) as conn:
        apply_registry(conn, SiteRegistry.model_validate({
            "enterprise_id": "e2e-ent", "enterprise_name": "E2E", "sites": [{"id": SITE, "name": "E2E site"}],
            "devices": [{"id": "elec-main", "site": SITE, "process": "steelmaking", "profile": "cf-demo/pm3-meter",
                         "bindings": {"energy_import_kwh": "electricity"}}],
        }))
    run_id = uuid.uuid4().hex[:8]
    ingest_cert = pki[INGEST_IDENTITY]
    common = {"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP": kafka_bootstrap, "MQTT_URL": mqtt_broker,
              "CARBONFLOW_TOPIC_PREFIX": f"e2e{run_id}"}
    log_path: Path = plant_files["log"]
    with open(log_path, "w") as log:
        sup = Supervisor(out=log)
        try:
            sim = sup.start(Child("simulator", CLI + ["simulate", "plant", "--scenario", str(plant_files["scenario"])]))
            wait_port(plant_files["modbus_port"], proc=sim.process)
            sup.start(Child("ingest", CLI + ["ingest"], {
                **common, "INGEST_CLIENT_ID": f"ingest-{run_id}", "MQTT_CA": str(ingest_cert.ca),
                "MQTT_CERT": str(ingest_cert.cert), "MQTT_KEY": str(ingest_cert.key)}))
            sup.start(Child("stream", CLI + ["stream"], {**common, "CARBONFLOW_STREAM_APP_ID": f"e2e-{run_id}"}))
            edge = sup.start(Child("edge", CLI + ["edge", "run", "--config", str(plant_files["edge"])]))

            with psycopg.connect(database_url, autocommit=True) as conn:
                _wait_for("the first energy reading", lambda: _counter_value(conn) == INITIAL_KWH, 90, log_path)
                for step in STEPS_KWH:
                    _write_energy(plant_files["modbus_port"], INITIAL_KWH + sum(STEPS_KWH[: STEPS_KWH.index(step) + 1]))
                    time.sleep(1.2)
                final = INITIAL_KWH + sum(STEPS_KWH)
                _wait_for("the final counter value",
                          lambda: abs((_counter_value(conn) or 0) - final) < 1e-6, 60, log_path,
                          lambda: f"counter state {_counter_value(conn)}, newest energy readings "
                          f"{_newest_energy_readings(conn)}")

                # stop the agent; what it still holds in its spool may or may not have reached the cloud
                edge.process.terminate()
                edge.process.wait(timeout=15)
                next_seq, unacked = _spool_state(plant_files["spool"])
                acked = set(range(next_seq)) - unacked
                _wait_for("every acknowledged reading in PostgreSQL",
                          lambda: acked <= set(_stored_seqs(conn)[0]), 30, log_path)
                seqs, distinct = _stored_seqs(conn)
        finally:
            sup.stop_all()

    assert len(seqs) == distinct and set(seqs) <= set(range(next_seq)) and acked <= set(seqs)

    grid = FactorLibrary.default().resolve("grid.cn.national_average", started, series="mee-national-average")
    expected_t = sum(STEPS_KWH) / 1000.0 * grid.value
    with TestClient(create_app(database_url)) as client:
        response = client.get("/api/v1/emissions", params={
            "site": SITE, "start": (started - timedelta(hours=1)).isoformat(),
            "end": (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat(), "interval": "1h"})
    body = response.json()
    assert response.status_code == 200 and {r["source"] for r in body["rows"]} == {"electricity"}
    assert grid.factor_id in body["rows"][0]["factor_versions"]
    assert body["total_tco2"] == pytest.approx(expected_t, rel=1e-9, abs=0)
