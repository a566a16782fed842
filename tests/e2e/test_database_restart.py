"""PostgreSQL restarted mid-stream: the stream worker waits and retries; nothing is lost once it is back."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from carbonflow.db.migrate import migrate
from carbonflow.embedded.postgres import EmbeddedPostgres
from carbonflow.supervisor import Supervisor
from tests.conftest import free_port
from tests.e2e.harness import start_cloud, start_plant, stop_agent_and_settle, stored_seqs, wait_for, write_plant_files

GATEWAY, DEVICE = "gw-pgrestart", "pgrestart-meter"  # its own gateway: sequence numbers are per gateway


@pytest.mark.timeout(240)
def test_readings_survive_a_database_restart(tmp_path: Path, kafka_bootstrap: str, mqtt_broker: str, pki: dict) -> None:
    pg = EmbeddedPostgres(tmp_path / "pgdata")
    owner = pg.start()
    try:
        url = pg.app_url()  # the services log in as the embedded server's application role, as in the demo
        with psycopg.connect(owner) as conn:
            migrate(conn, app_role=EmbeddedPostgres.APP_ROLE)
        modbus_port = free_port()
        files = write_plant_files(tmp_path, gateway=GATEWAY, device=DEVICE, modbus_port=modbus_port,
                                  mqtt_url=mqtt_broker, cert=pki[GATEWAY], static=False)
        log_path = files["log"]
        with open(log_path, "w") as log:
            sup = Supervisor(out=log)
            try:
                start_cloud(sup, database_url=url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker, pki=pki)
                edge = start_plant(sup, files, modbus_port)

                def stored() -> list[int]:
                    with psycopg.connect(url, connect_timeout=2) as conn:
                        return stored_seqs(conn, GATEWAY)[0]

                wait_for("live data", lambda: len(stored()) > 50, 90, log_path)
                pg.stop()
                time.sleep(4)
                assert pg.start() == owner
                before = len(stored())
                wait_for("data after the restart", lambda: len(stored()) > before + 20, 90, log_path)
                acked, seqs = stop_agent_and_settle(edge, files, stored)
            finally:
                sup.stop_all()
    finally:
        pg.stop()
    assert (len(seqs) == len(set(seqs)), acked <= set(seqs)) == (True, True)
