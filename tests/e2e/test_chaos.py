"""Chaos on loopback: the broker goes away, the agent is SIGKILLed during the outage, nothing is lost or doubled."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psycopg
import pytest

from carbonflow.supervisor import Child, Supervisor
from tests.conftest import free_port
from tests.e2e.harness import (
    CLI,
    RestartableBroker,
    register_meter_site,
    restart_cloud_worker,
    spool_state,
    start_cloud,
    start_plant,
    stop_agent_and_settle,
    stored_seqs,
    wait_for,
    write_plant_files,
)

GATEWAY = "gw-chaos"  # its own gateway: sequence numbers must not mix with other tests
DEVICE = "chaos-meter"
SITE = "chaos-site"


def _per_point_order_violations(conn: psycopg.Connection) -> int:
    """Stored readings of a point whose time goes backwards when ordered by sequence number."""
    row = conn.execute(
        "SELECT count(*) FROM (SELECT ts < lag(ts) OVER (PARTITION BY point_key ORDER BY seq) AS back"
        " FROM all_readings r JOIN gateways g USING (gateway_key) WHERE g.gateway_id = %s) x WHERE back",
        (GATEWAY,),
    ).fetchone()
    return int(row[0])


def _duplicates(conn: psycopg.Connection) -> list[tuple]:
    """Each stored reading of the gateway whose sequence number is stored more than once: (seq, ts, point, value,
    where it is stored), so that a failure says which readings were doubled and how."""
    return conn.execute(
        "WITH r AS (SELECT r.seq, r.ts, r.point_key, r.value, 'row' AS store FROM readings r"
        "  JOIN gateways g USING (gateway_key) WHERE g.gateway_id = %(gw)s"
        " UNION ALL SELECT u.seq, u.ts, u.pk, u.value, 'batch ' || b.seq_lo || '-' || b.seq_hi FROM reading_batches b"
        "  JOIN gateways g USING (gateway_key) CROSS JOIN LATERAL unnest(b.point_keys, b.seqs, b.times, b.vals)"
        "  AS u(pk, seq, ts, value) WHERE g.gateway_id = %(gw)s"
        " UNION ALL SELECT u.seq, u.ts, b.point_key, u.value, 'block' FROM reading_blocks b"
        "  CROSS JOIN LATERAL unnest(b.gateway_keys, b.seqs, b.times, b.vals) AS u(gk, seq, ts, value)"
        "  JOIN gateways g ON g.gateway_key = COALESCE(b.gateway_key, u.gk) WHERE g.gateway_id = %(gw)s)"
        " SELECT seq, ts, point_key, value, store FROM r WHERE seq IN (SELECT seq FROM r GROUP BY seq HAVING count(*) > 1)"
        " ORDER BY seq, ts LIMIT 20", {"gw": GATEWAY}).fetchall()


def _energy_check(conn: psycopg.Connection) -> tuple[float, float]:
    """(sum of emission interval energy, counter increase between first and last stored reading), kWh."""
    emitted = conn.execute("SELECT COALESCE(sum(quantity), 0) * 1000 FROM emissions WHERE site_id = %s",
                           (SITE,)).fetchone()[0]
    first, last = conn.execute(
        "SELECT (array_agg(value ORDER BY ts))[1], (array_agg(value ORDER BY ts DESC))[1] FROM all_readings r"
        " JOIN points p USING (point_key) WHERE p.device_id = %s AND p.point = 'energy_import_kwh'"
        " AND quality < 2", (DEVICE,)
    ).fetchone()
    return emitted, last - first


@pytest.mark.timeout(240)
def test_broker_outage_and_agent_kill_lose_and_double_nothing(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, pki: dict
) -> None:
    broker = RestartableBroker(tmp_path / "broker", pki["server"])
    broker.start()
    mqtt_url = f"mqtts://127.0.0.1:{broker.port}"
    modbus_port = free_port()
    files = write_plant_files(tmp_path, gateway=GATEWAY, device=DEVICE, modbus_port=modbus_port, mqtt_url=mqtt_url,
                              cert=pki[GATEWAY], static=False)
    register_meter_site(database_url, enterprise="chaos-ent", site=SITE, device=DEVICE, gateway=GATEWAY)
    log_path = files["log"]
    edge_argv = CLI + ["edge", "run", "--config", str(files["edge"])]
    with open(log_path, "w") as log, psycopg.connect(database_url, autocommit=True) as conn:
        sup = Supervisor(out=log)
        try:
            start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=mqtt_url, pki=pki)
            edge = start_plant(sup, files, modbus_port)
            wait_for("live data", lambda: len(stored_seqs(conn, GATEWAY)[0]) > 200, 90, log_path)

            broker.stop()
            time.sleep(4)
            assert edge.process is not None
            os.kill(edge.process.pid, signal.SIGKILL)  # power cut during the outage
            edge.process.wait(timeout=5)
            outage_seq, _ = spool_state(files["spool"])
            edge = sup.start(Child("edge-2", edge_argv))
            time.sleep(3)
            broker.start()
            wait_for("the outage backlog", lambda: set(range(outage_seq)) <= set(stored_seqs(conn, GATEWAY)[0]),
                     90, log_path)
            time.sleep(2)
            acked, seqs = stop_agent_and_settle(edge, files, lambda: stored_seqs(conn, GATEWAY)[0])
            next_seq, _ = spool_state(files["spool"])
            distinct = len(set(seqs))
            violations = _per_point_order_violations(conn)
            emitted, increase = _energy_check(conn)
            doubled = _duplicates(conn) if len(seqs) != distinct else []
        finally:
            sup.stop_all()
            broker.stop()

    assert (len(seqs) == distinct, set(seqs) <= set(range(next_seq)), acked <= set(seqs), violations) == (
        True, True, True, 0), f"doubled readings (seq, ts, point, value, store): {doubled}"
    assert emitted == pytest.approx(increase, rel=1e-9)


@pytest.mark.timeout(240)
def test_killed_ingest_and_stream_workers_resume_without_loss_or_double_counting(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict
) -> None:
    gateway, device, site = "gw-kill", "kill-meter", "kill-site"
    modbus_port = free_port()
    files = write_plant_files(tmp_path, gateway=gateway, device=device, modbus_port=modbus_port,
                              mqtt_url=mqtt_broker, cert=pki[gateway], static=False)
    register_meter_site(database_url, enterprise="chaos-ent", site=site, device=device, gateway=gateway)
    log_path = files["log"]
    with open(log_path, "w") as log, psycopg.connect(database_url, autocommit=True) as conn:
        sup = Supervisor(out=log)
        try:
            run_id = start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker, pki=pki)
            edge = start_plant(sup, files, modbus_port)
            wait_for("live data", lambda: len(stored_seqs(conn, gateway)[0]) > 100, 90, log_path)
            for name in ("ingest", "stream"):
                victim = next(c for c in sup.children if c.name == name and c.process.poll() is None)
                os.kill(victim.process.pid, signal.SIGKILL)
                victim.process.wait(timeout=5)
                time.sleep(2)
                restart_cloud_worker(sup, name, run_id=run_id, database_url=database_url, kafka=kafka_bootstrap,
                                     mqtt_url=mqtt_broker, pki=pki)
                count = len(stored_seqs(conn, gateway)[0])
                wait_for(f"data after restarting {name}",
                         lambda before=count: len(stored_seqs(conn, gateway)[0]) > before + 20, 90, log_path)
            acked, seqs = stop_agent_and_settle(edge, files, lambda: stored_seqs(conn, gateway)[0])
            distinct = len(set(seqs))
            emitted = conn.execute("SELECT sum(quantity) * 1000 FROM emissions WHERE site_id = %s", (site,)).fetchone()[0]
            first, last = conn.execute(
                "SELECT (array_agg(value ORDER BY ts))[1], (array_agg(value ORDER BY ts DESC))[1] FROM all_readings r"
                " JOIN points p USING (point_key) WHERE p.device_id = %s AND p.point = 'energy_import_kwh'"
                " AND quality < 2", (device,)).fetchone()
        finally:
            sup.stop_all()
    assert (len(seqs) == distinct, acked <= set(seqs)) == (True, True)
    assert emitted == pytest.approx(last - first, rel=1e-9)
