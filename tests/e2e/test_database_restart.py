"""PostgreSQL restarted mid-stream: the stream worker waits and retries; nothing is lost once it is back."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from carbonflow.db.migrate import migrate
from carbonflow.embedded.postgres import EmbeddedPostgres
from carbonflow.supervisor import Child, Supervisor
from tests.conftest import free_port, wait_port
from tests.e2e.harness import CLI, spool_state, start_cloud, stored_seqs, wait_for, write_plant_files

GATEWAY, DEVICE = "gw-test", "pgrestart-meter"


@pytest.mark.timeout(240)
def test_readings_survive_a_database_restart(tmp_path: Path, kafka_bootstrap: str, mqtt_broker: str, pki: dict) -> None:
    pg = EmbeddedPostgres(tmp_path / "pgdata")
    url = pg.start()
    try:
        with psycopg.connect(url) as conn:
            migrate(conn)
        modbus_port = free_port()
        files = write_plant_files(tmp_path, gateway=GATEWAY, device=DEVICE, modbus_port=modbus_port,
                                  mqtt_url=mqtt_broker, cert=pki[GATEWAY], static=False)
        log_path = files["log"]
        with open(log_path, "w") as log:
            sup = Supervisor(out=log)
            try:
                sim = sup.start(Child("simulator", CLI + ["simulate", "plant", "--scenario", str(files["scenario"])]))
                wait_port(modbus_port, proc=sim.process)
                start_cloud(sup, database_url=url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker, pki=pki)
                edge = sup.start(Child("edge", CLI + ["edge", "run", "--config", str(files["edge"])]))

                def stored() -> set[int]:
                    with psycopg.connect(url, connect_timeout=2) as conn:
                        return set(stored_seqs(conn, GATEWAY)[0])

                wait_for("live data", lambda: len(stored()) > 50, 90, log_path)
                pg.stop()
                time.sleep(4)
                assert pg.start() == url
                before = len(stored())
                wait_for("data after the restart", lambda: len(stored()) > before + 20, 90, log_path)
                assert edge.process is not None
                edge.process.terminate()
                edge.process.wait(timeout=15)
                next_seq, unacked = spool_state(files["spool"])
                acked = set(range(next_seq)) - unacked
                wait_for("every acknowledged reading", lambda: acked <= stored(), 60, log_path)
                with psycopg.connect(url) as conn:
                    seqs, distinct = stored_seqs(conn, GATEWAY)
            finally:
                sup.stop_all()
    finally:
        pg.stop()
    assert (len(seqs) == distinct, acked <= set(seqs)) == (True, True)
