"""`carbonflow import`: accepted rows go through Kafka and the stream job; importing twice stores once."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import psycopg

from carbonflow.supervisor import Supervisor
from tests.e2e.harness import CLI, start_cloud, wait_for

ROWS = [
    ("import-meter", "energy_import_kwh", f"2026-10-{d:02d}T00:00:00+08:00", f"{1000 + 250.5 * d}", "kWh", "counter")
    for d in range(1, 11)
]


def _stored(conn: psycopg.Connection) -> tuple[int, int]:
    return conn.execute(
        "SELECT count(*), count(DISTINCT r.ts) FROM all_readings r JOIN points p USING (point_key)"
        " WHERE p.device_id = 'import-meter'").fetchone()


def test_imported_file_is_stored_once_even_when_imported_twice(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict
) -> None:
    path = tmp_path / "manual.csv"
    lines = ["device,point,timestamp,value,unit,kind", *(",".join(r) for r in ROWS), "import-meter,x,bad,1,kWh,gauge"]
    path.write_text("\n".join(lines) + "\n")
    log_path = tmp_path / "pipeline.log"
    with open(log_path, "w") as log, psycopg.connect(database_url, autocommit=True) as conn:
        sup = Supervisor(out=log)
        try:
            run_id = start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker, pki=pki)
            env = {**os.environ, "KAFKA_BOOTSTRAP": kafka_bootstrap, "CARBONFLOW_TOPIC_PREFIX": f"e2e{run_id}"}
            runs = [subprocess.run(CLI + ["import", str(path)], env=env, capture_output=True, text=True, timeout=60,
                                   check=False)  # both imports exit 1: the return codes are asserted below
                    for _ in range(2)]
            wait_for("the imported rows", lambda: _stored(conn)[0] >= len(ROWS), 60, log_path)
            time.sleep(3)  # let the second import's records through as well
            stored = _stored(conn)
        finally:
            sup.stop_all()
    assert [(r.returncode, f"{len(ROWS) + 2}: rejected" in r.stderr) for r in runs] == [(1, True), (1, True)]
    assert stored == (len(ROWS), len(ROWS))
