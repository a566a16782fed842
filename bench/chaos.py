"""`make chaos`: a long loss-and-duplication check of the edge-to-cloud path.

Defaults: about 1,000 readings/s (10 devices x 100 points at 1 Hz) for 10
minutes; from minute 2 the broker is down for 3 minutes, the agent is killed
(SIGKILL) in the middle of the outage and restarted, and the spool is sized so
it is close to full by the end of the outage. Prints readings sent, received,
duplicated and lost. Dropped readings (spool overflow) are counted by the
agent and reported separately: they are not 'lost' silently.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import create_scratch_database, free_port, wait_port, write_result

from carbonflow.certs import ensure_dev_pki
from carbonflow.embedded.kafka import tansu_command
from carbonflow.embedded.mqtt import INGEST_IDENTITY, plan_mqtt_broker
from carbonflow.gateways import register_gateway
from carbonflow.topics import MQTT_ROOT

CLI = [sys.executable, "-m", "carbonflow.cli"]
GATEWAY = "chaos-gw"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _spool(path: Path) -> tuple[int, set[int], int]:
    db = sqlite3.connect(path, timeout=10)
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        left = {s for a, b in db.execute("SELECT seq_first, seq_last FROM blocks") for s in range(a, b + 1)}
    finally:
        db.close()
    return meta["next_seq"], left, meta["dropped"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--outage-start", type=float, default=2.0, help="minutes")
    parser.add_argument("--outage", type=float, default=3.0, help="minutes")
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--spool-mb", type=float, default=2.0, help="spool budget (>= 1); near full by the end of the outage")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cf-chaos-"))
    certs = ensure_dev_pki(work / "certs", [GATEWAY, INGEST_IDENTITY])
    db_url, drop_database = create_scratch_database("cf_chaos")
    with psycopg.connect(db_url, autocommit=True) as conn:
        register_gateway(conn, GATEWAY)
        # the plant's devices bound to its gateway, as an administrator registers them: ingest refuses unknown ones
        conn.execute("INSERT INTO devices (device_id, gateway_id) SELECT 'd' || i, %s FROM generate_series(0, %s) AS i",
                     (GATEWAY, args.devices - 1))
    kafka_port, mqtt_port, modbus_port = free_port(), free_port(), free_port()
    plan = plan_mqtt_broker(work / "mqtt", "127.0.0.1", mqtt_port, certs["server"], MQTT_ROOT)
    with open(work / "chaos.log", "wb") as log:
        procs: dict[str, subprocess.Popen[bytes]] = {}

        def start(name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
            procs[name] = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=log, stderr=log)

        try:
            start("kafka", tansu_command("127.0.0.1", kafka_port))
            start("broker", plan.argv)
            wait_port(kafka_port)
            wait_port(mqtt_port)
            points = [{"name": f"p{i:03d}", "table": "input_register", "address": 2 * i, "data_type": "float32",
                       "unit": "kW", "example": 10.0 + i, "poll_interval_s": 1.0} for i in range(100)]
            (work / "p.yaml").write_text(yaml.safe_dump({
                "name": "chaos/flat100", "version": 1, "description": "chaos", "follows": "synthetic",
                "protocol": "modbus", "address_base": 0, "points": points}))
            scenario = {"name": "chaos", "base_port": modbus_port, "devices": [
                {"id": f"d{i}", "profile": str(work / "p.yaml"), "protocol": "modbus", "port_offset": 0,
                 "unit_id": i + 1} for i in range(args.devices)]}
            (work / "scenario.yaml").write_text(yaml.safe_dump(scenario))
            start("simulator", CLI + ["simulate", "plant", "--scenario", str(work / "scenario.yaml")])
            wait_port(modbus_port, 60)
            ingest = certs[INGEST_IDENTITY]
            cloud_env = {"DATABASE_URL": db_url, "KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}", "MQTT_URL": plan.url,
                         "MQTT_CA": str(ingest.ca), "MQTT_CERT": str(ingest.cert), "MQTT_KEY": str(ingest.key),
                         "CARBONFLOW_STREAM_APP_ID": f"chaos-{uuid.uuid4().hex[:8]}"}
            start("ingest", CLI + ["ingest"], cloud_env)
            start("stream", CLI + ["stream"], cloud_env)
            cert = certs[GATEWAY]
            spool = work / "spool.sqlite"
            (work / "edge.yaml").write_text(yaml.safe_dump({
                "gateway_id": GATEWAY, "spool_path": str(spool), "spool_max_bytes": int(args.spool_mb * 1024 * 1024),
                "mqtt": {"url": plan.url, "ca": str(cert.ca), "cert": str(cert.cert), "key": str(cert.key)},
                "devices": [{"id": f"d{i}", "profile": str(work / "p.yaml"), "protocol": "modbus", "port": modbus_port,
                             "unit_id": i + 1} for i in range(args.devices)]}))
            start("edge", CLI + ["edge", "run", "--config", str(work / "edge.yaml")])
            t0 = time.monotonic()
            _log(f"running for {args.minutes} min; work dir {work}")

            def at(minutes: float) -> None:
                while time.monotonic() - t0 < minutes * 60:
                    for name, proc in procs.items():
                        if name != "broker" and proc.poll() is not None:
                            raise RuntimeError(f"{name} exited with code {proc.returncode}; see {work / 'chaos.log'}")
                    time.sleep(0.5)

            at(args.outage_start)
            _log("broker down")
            procs["broker"].terminate()
            procs["broker"].wait(timeout=10)
            at(args.outage_start + args.outage / 2)
            _log("agent killed (SIGKILL) and restarted")
            os.kill(procs["edge"].pid, signal.SIGKILL)
            procs["edge"].wait(timeout=10)
            start("edge", CLI + ["edge", "run", "--config", str(work / "edge.yaml")])
            at(args.outage_start + args.outage)
            _log("broker up")
            start("broker", plan.argv)
            at(args.minutes)
            _log("stopping the agent and waiting for the cloud to catch up")
            procs["edge"].terminate()
            procs["edge"].wait(timeout=30)
            next_seq, unacked, dropped = _spool(spool)
            with psycopg.connect(db_url) as conn:
                deadline = time.monotonic() + 300
                while True:
                    # one statement for the counts and the set: two let readings arrive in between, and the
                    # result then said fewer received than sent with none lost
                    copies = dict(conn.execute(
                        "SELECT seq, count(*) FROM all_readings r JOIN gateways g USING (gateway_key)"
                        " WHERE g.gateway_id = %s GROUP BY seq", (GATEWAY,)).fetchall())
                    seqs, rows, distinct = set(copies), sum(copies.values()), len(copies)
                    dropped_range = set(range(next_seq)) - seqs - unacked
                    if len(dropped_range) <= dropped or time.monotonic() > deadline:
                        break
                    time.sleep(2)
            sent = next_seq - len(unacked)
            missing = set(range(next_seq)) - seqs - unacked
            lost = max(0, len(missing) - dropped)
            result = {"readings_sent": sent, "received": distinct, "duplicated": rows - distinct,
                      "dropped_by_spool_policy": dropped, "lost": lost, "minutes": args.minutes,
                      "outage_minutes": args.outage, "command": "make chaos (python bench/chaos.py)"}
            _log(" ".join(f"{k}={v}" for k, v in result.items() if k != "command"))
            write_result("chaos", result)
            return 0 if lost == 0 and rows == distinct else 1
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
        drop_database()


if __name__ == "__main__":
    sys.exit(main())
