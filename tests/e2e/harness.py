"""Starting the cloud half and an edge agent for end-to-end tests, and reading back what they stored."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import yaml

from carbonflow.device_bindings import AUTO_REGISTER_VARIABLE
from carbonflow.embedded.mqtt import INGEST_IDENTITY, plan_mqtt_broker
from carbonflow.supervisor import Child, Supervisor
from carbonflow.topics import MQTT_ROOT
from tests.conftest import free_port, wait_port

__all__ = ["CLI", "RestartableBroker", "wait_for", "write_plant_files", "start_cloud", "restart_cloud_worker",
           "spool_state", "stored_seqs", "register_meter_site", "start_plant", "stop_agent_and_settle"]

CLI = [sys.executable, "-m", "carbonflow.cli"]


class RestartableBroker:
    """The generated Mosquitto configuration on its own port and data directory, stopped and started at will."""

    def __init__(self, directory: Path, server_cert: object) -> None:
        self.port = free_port()
        self.plan = plan_mqtt_broker(directory, "127.0.0.1", self.port, server_cert, MQTT_ROOT)  # type: ignore[arg-type]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.plan.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # Mosquitto saves its persistence file on a clean stop
            self.proc.wait(timeout=10)
            self.proc = None


def wait_for(
    what: str, check: Callable[[], bool], timeout_s: float, log: Path, explain: Callable[[], str] = lambda: ""
) -> None:
    """Poll `check` until true; fail with the pipeline's last log lines otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    tail = log.read_text(errors="replace").splitlines()[-60:]
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}; {explain()}\nlast log lines:\n" + "\n".join(tail))


def write_plant_files(
    directory: Path, *, gateway: str, device: str, modbus_port: int, mqtt_url: str, cert: object, static: bool,
    initial_kwh: float = 1000.0,
) -> dict[str, Path]:
    """A one-meter scenario and an edge-agent config polling it every 0.5 s as `device`."""
    scenario = {
        "name": "e2e",
        "base_port": modbus_port,
        "static": static,
        "speed": 60.0,
        "devices": [{"id": "elec-main", "profile": "cf-demo/pm3-meter", "protocol": "modbus", "port_offset": 0,
                     "unit_id": 1, "initial": {"energy_import_kwh": initial_kwh}}],
    }
    if not static:
        scenario["physics"] = [
            {"kind": "curve", "target": "elec-main.active_power_kw", "period_s": 600,
             "points": [[0, 1800], [200, 3200], [400, 900]]},
            {"kind": "integrate", "source": "elec-main.active_power_kw", "target": "elec-main.energy_import_kwh",
             "per": "h"},
        ]
    edge = {
        "gateway_id": gateway,
        "spool_path": str(directory / "spool.sqlite"),
        "flush_interval_s": 0.1,
        "mqtt": {"url": mqtt_url, "ca": str(cert.ca), "cert": str(cert.cert), "key": str(cert.key)},  # type: ignore[attr-defined]
        "devices": [{"id": device, "profile": "cf-demo/pm3-meter", "protocol": "modbus",
                     "port": modbus_port, "unit_id": 1, "poll_interval_s": 0.5}],
    }
    (directory / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    (directory / "edge.yaml").write_text(yaml.safe_dump(edge))
    return {"scenario": directory / "scenario.yaml", "edge": directory / "edge.yaml",
            "spool": directory / "spool.sqlite", "log": directory / "pipeline.log"}


def start_cloud(sup: Supervisor, *, database_url: str, kafka: str, mqtt_url: str, pki: dict,
                ingest_env: dict[str, str] | None = None, stream_env: dict[str, str] | None = None) -> str:
    """Start ingest and the stream worker with their own topic prefix; returns the run id.

    Ingest registers unknown devices under their gateway (as in the demo) unless `ingest_env` says otherwise."""
    from carbonflow.gateways import register_gateway

    with psycopg.connect(database_url, autocommit=True) as conn:
        for gateway in pki:
            if gateway.startswith("gw-"):  # rogue-gw stays unregistered
                register_gateway(conn, gateway)
    run_id = uuid.uuid4().hex[:8]
    for name in ("ingest", "stream"):
        restart_cloud_worker(sup, name, run_id=run_id, database_url=database_url, kafka=kafka, mqtt_url=mqtt_url,
                             pki=pki, ingest_env=ingest_env, stream_env=stream_env)
    return run_id


def restart_cloud_worker(
    sup: Supervisor, name: str, *, run_id: str, database_url: str, kafka: str, mqtt_url: str, pki: dict,
    ingest_env: dict[str, str] | None = None, stream_env: dict[str, str] | None = None,
) -> None:
    """(Re)start the ingest or stream worker of a run, with the same identity as before."""
    common = {"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP": kafka, "MQTT_URL": mqtt_url,
              "CARBONFLOW_TOPIC_PREFIX": f"e2e{run_id}"}
    if name == "ingest":
        cert = pki[INGEST_IDENTITY]
        sup.start(Child("ingest", CLI + ["ingest"], {
            **common, "INGEST_CLIENT_ID": f"ingest-{run_id}", "MQTT_CA": str(cert.ca), "MQTT_CERT": str(cert.cert),
            "MQTT_KEY": str(cert.key), AUTO_REGISTER_VARIABLE: "on", **(ingest_env or {})}))
    else:
        sup.start(Child("stream", CLI + ["stream"], {**common, "CARBONFLOW_STREAM_APP_ID": f"e2e-{run_id}",
                                                     **(stream_env or {})}))


def spool_state(path: Path) -> tuple[int, set[int]]:
    """(next sequence number, sequence numbers still in the spool)."""
    db = sqlite3.connect(path)
    try:
        next_seq = db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0]
        left = {s for first, last in db.execute("SELECT seq_first, seq_last FROM blocks") for s in range(first, last + 1)}
    finally:
        db.close()
    return next_seq, left


def stored_seqs(conn: psycopg.Connection, gateway: str) -> tuple[list[int], int]:
    """Every stored sequence number of a gateway, and how many distinct ones there are."""
    rows = conn.execute(
        "SELECT r.seq FROM all_readings r JOIN gateways g USING (gateway_key) WHERE g.gateway_id = %s", (gateway,)
    ).fetchall()
    seqs = [r[0] for r in rows]
    return seqs, len(set(seqs))


def register_meter_site(database_url: str, *, enterprise: str, site: str, device: str, gateway: str) -> None:
    """A site whose one meter, behind `gateway`, has its energy counter feed the electricity activity."""
    from carbonflow.registry import SiteRegistry, apply_registry

    with psycopg.connect(database_url, autocommit=True) as conn:
        apply_registry(conn, SiteRegistry.model_validate({
            "enterprise_id": enterprise, "enterprise_name": enterprise, "sites": [{"id": site, "name": site}],
            "devices": [{"id": device, "site": site, "process": "steelmaking", "profile": "cf-demo/pm3-meter",
                         "bindings": {"energy_import_kwh": "electricity"}, "gateway": gateway}],
        }))


def start_plant(sup: Supervisor, files: dict[str, Path], modbus_port: int) -> Child:
    """Start the simulator of `write_plant_files` and wait for its port; then the edge agent. Returns the agent."""
    from tests.conftest import wait_port

    sim = sup.start(Child("simulator", CLI + ["simulate", "plant", "--scenario", str(files["scenario"])]))
    wait_port(modbus_port, proc=sim.process)
    return sup.start(Child("edge", CLI + ["edge", "run", "--config", str(files["edge"])]))


def stop_agent_and_settle(
    edge: Child, files: dict[str, Path], stored: Callable[[], list[int]]
) -> tuple[set[int], list[int]]:
    """Stop the agent, then wait until every reading it had acknowledged is stored.

    Returns (acknowledged sequence numbers, every stored sequence number). What is
    still in the spool was never acknowledged and may or may not have arrived.
    """
    assert edge.process is not None
    edge.process.terminate()
    edge.process.wait(timeout=15)
    next_seq, unacked = spool_state(files["spool"])
    acked = set(range(next_seq)) - unacked
    wait_for("every acknowledged reading", lambda: acked <= set(stored()), 60, files["log"])
    time.sleep(1)  # anything still in flight lands before the final count
    return acked, stored()
