"""Edge agent benchmark: polling throughput and CPU, backlog drain with live polling, spool bytes per reading.

Devices poll every --poll-interval (0.02 s by default, below the profiles' 0.1 s floor, which device endpoints may
go under down to 10 ms), so the offered load is above what one agent can take and points_per_s is its ceiling.

Writes bench/results/edge.json. Run with `make bench` (or `python bench/edge_bench.py`).
Everything runs on loopback: a Modbus simulator process with N devices of 100
float32 points each, a TLS Mosquitto/amqtt broker, and one agent process.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_seconds, free_port, machine_busy_s, wait_port, write_result
from register_server import start_register_server

from carbonflow.certs import ensure_dev_pki
from carbonflow.embedded.mqtt import plan_mqtt_broker
from carbonflow.topics import MQTT_ROOT
from edge_agent.spool import Spool

CLI = [sys.executable, "-m", "carbonflow.cli"]
POINTS_PER_DEVICE = 100


def _bench_profile(directory: Path) -> Path:
    points = [{"name": f"p{i:03d}", "table": "input_register", "address": 2 * i, "data_type": "float32",
               "unit": "kW", "example": 100.0 + i, "poll_interval_s": 0.1} for i in range(POINTS_PER_DEVICE)]
    profile = {"name": "bench/flat100", "version": 1, "description": "100 float32 input registers",
               "follows": "synthetic benchmark map", "protocol": "modbus", "address_base": 0, "unit_id": 1,
               "points": points}
    path = directory / "flat100.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


DEVICE_SERVERS = ("registers", "simulator")


def start_devices(kind: str, devices: int, profile: Path, work: Path, procs: list[subprocess.Popen[bytes]]) -> list[int]:
    """Start the simulated Modbus devices; the TCP port of each device, in order."""
    if kind == "registers":
        server, ports = start_register_server(devices)
        procs.append(server)  # type: ignore[arg-type]
        return ports
    port = free_port()
    scenario = {"name": "bench", "base_port": port, "static": True, "devices": [
        {"id": f"dev{i:02d}", "profile": str(profile), "protocol": "modbus", "port_offset": 0, "unit_id": i + 1}
        for i in range(devices)]}
    (work / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    procs.append(subprocess.Popen(CLI + ["simulate", "plant", "--scenario", str(work / "scenario.yaml")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_port(port, 60)
    return [port] * devices


def _read_meta(spool: Path) -> tuple[int, int]:
    db = sqlite3.connect(spool, timeout=5)
    try:
        next_seq = db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0]
        depth = db.execute("SELECT COALESCE(SUM(seq_last - seq_first + 1), 0) FROM blocks").fetchone()[0]
    finally:
        db.close()
    return next_seq, depth


def _wait_for_spool(spool: Path, agent: subprocess.Popen[bytes], timeout_s: float = 90.0) -> None:
    """Wait until the agent has created its spool (it starts slowly on a busy machine)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            raise RuntimeError(f"the agent exited with code {agent.returncode}; run its config by hand to see why")
        try:
            _read_meta(spool)
            return
        except sqlite3.Error:
            time.sleep(0.5)
    raise RuntimeError(f"the agent created no spool at {spool} within {timeout_s:.0f} s")


def _prefill(spool_path: Path, readings: int) -> None:
    spool = Spool(spool_path, max_bytes=2 * 1024**3)
    start = datetime.now(UTC) - timedelta(hours=6)
    block = 1000
    for b in range(readings // block):
        ts0 = start + timedelta(seconds=b)
        spool.stage([{"device": f"dev{j % 20:02d}", "point": f"p{j % POINTS_PER_DEVICE:03d}",
                      "value": 100.0 + (j % 97) * 0.37 + b * 0.001, "unit": "kW", "kind": "gauge",
                      "source_ts": ts0 + timedelta(milliseconds=j), "gateway_ts": ts0 + timedelta(milliseconds=j)}
                     for j in range(block)])
        spool.flush()
    spool.close()


def _before(path: Path, cpu_per_1000: float) -> dict[str, object]:
    """The polling numbers of an earlier run (older code, same command) and how much CPU per point this run saves."""
    before = json.loads(path.read_text())
    keep = ("points_per_s", "agent_cpu_cores", "cpu_s_per_1000_points", "points_per_s_per_core", "machine_busy_cores",
            "load_average_1m", "code", "command", "measured_at")
    out: dict[str, object] = {k: before[k] for k in keep if k in before}
    if before.get("cpu_s_per_1000_points"):
        out["cpu_per_point_after_over_before"] = round(cpu_per_1000 / before["cpu_s_per_1000_points"], 3)
    return out


def _code() -> str:
    """The commit of the agent code the run imports (the checkout on PYTHONPATH), with + when it has changes."""
    import edge_agent

    root = Path(edge_agent.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "edge_agent", "device_profiles",
                                "carbon_domain"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+" if dirty else "")


def _setup(args: argparse.Namespace, offered: float, broker: str) -> dict[str, object]:
    return {"devices": args.devices, "points_per_device": POINTS_PER_DEVICE, "poll_interval_s": args.poll_interval,
            "offered_points_per_s": round(offered), "window_s": args.seconds, "broker": broker,
            "device_server": args.device_server, "code": _code(),
            "command": " ".join(["python bench/edge_bench.py", *sys.argv[1:]])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--backlog", type=int, default=1_000_000, help="readings prefilled for the drain part; 0 skips it")
    parser.add_argument("--device-server", choices=DEVICE_SERVERS, default="registers",
                        help="registers: bench/register_server.py, one port per device (cheap, so the agent is what"
                             " saturates); simulator: the plant simulator, every device behind one port")
    parser.add_argument("--py-spy", metavar="SVG", help="also record a py-spy profile of the agent over the window (.svg: flame graph, else"
                             " collapsed stacks); py-spy must be on PATH (pip install py-spy)")
    parser.add_argument("--no-write", action="store_true", help="print the numbers, leave bench/results alone")
    parser.add_argument("--result-name", default="edge", help="bench/results/<name>.json (default edge)")
    parser.add_argument("--before", metavar="JSON", type=Path,
                        help="a result of the same command on older agent code (e.g. run with PYTHONPATH pointing at"
                             " an older checkout and --result-name edge_before): its polling numbers are kept in this"
                             " result under `before`, with the CPU ratio")
    parser.add_argument("--poll-interval", type=float, default=0.02,
                        help="each device's poll_interval_s; the 0.02 s default offers 100,000 points/s with 20 devices"
                             " (5x the old 0.1 s cap), so the result is the agent's ceiling, not the schedule's")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cf-edge-bench-"))
    certs = ensure_dev_pki(work / "certs", ["bench-gw"])
    broker_port = free_port()
    plan = plan_mqtt_broker(work / "mqtt", "127.0.0.1", broker_port, certs["server"], MQTT_ROOT)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(subprocess.Popen(plan.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(broker_port)
        profile = _bench_profile(work)
        ports = start_devices(args.device_server, args.devices, profile, work, procs)
        cert = certs["bench-gw"]

        def agent_config(name: str, devices: int) -> Path:
            config = {"gateway_id": "bench-gw", "spool_path": str(work / f"{name}.sqlite"),
                      "spool_max_bytes": 2 * 1024**3, "batch_max_readings": 5000,
                      "mqtt": {"url": plan.url, "ca": str(cert.ca), "cert": str(cert.cert), "key": str(cert.key)},
                      "devices": [{"id": f"dev{i:02d}", "profile": str(profile), "protocol": "modbus",
                                   "port": ports[i], "unit_id": i + 1, "poll_interval_s": args.poll_interval}
                                  for i in range(devices)]}
            path = work / f"{name}.yaml"
            path.write_text(yaml.safe_dump(config))
            return path

        # 1. polling throughput and CPU of one agent process
        agent = subprocess.Popen(CLI + ["edge", "run", "--config", str(agent_config("live", args.devices))],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(agent)
        _wait_for_spool(work / "live.sqlite", agent)
        time.sleep(5)  # connect and settle
        spy = None
        if args.py_spy:
            spy = subprocess.Popen(["py-spy", "record", "--pid", str(agent.pid), "--duration", str(int(args.seconds)),
                                    "--rate", "200", "--output", args.py_spy, "--nonblocking",
                                    "--format", "flamegraph" if args.py_spy.endswith(".svg") else "raw"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seq0, _ = _read_meta(work / "live.sqlite")
        cpu0, t0, busy0 = cpu_seconds(agent.pid), time.monotonic(), machine_busy_s()
        load0 = os.getloadavg()[0]
        time.sleep(args.seconds)
        seq1, depth1 = _read_meta(work / "live.sqlite")
        cpu1, t1, busy1 = cpu_seconds(agent.pid), time.monotonic(), machine_busy_s()
        load1 = os.getloadavg()[0]
        points_per_s = (seq1 - seq0) / (t1 - t0)
        agent_cpu = (cpu1 - cpu0) / (t1 - t0)
        busy = (busy1 - busy0) / (t1 - t0)
        cpu_per_1000 = (cpu1 - cpu0) / max(seq1 - seq0, 1) * 1000
        if spy is not None:
            spy.wait(timeout=60)
        agent.terminate()
        agent.wait(timeout=20)
        offered = args.devices * POINTS_PER_DEVICE / args.poll_interval
        print(f"poll: {points_per_s:,.0f} of {offered:,.0f} offered points/s on {agent_cpu:.2f} cores"
              f" = {cpu_per_1000 * 1000:.1f} CPU ms per 1,000 points (spool depth at end {depth1};"
              f" machine busy {busy:.2f} of {os.cpu_count()} cores, load {load0:.1f}..{load1:.1f})")
        live = {"points_per_s": round(points_per_s), "agent_cpu_cores": round(agent_cpu, 3),
                "cpu_s_per_1000_points": round(cpu_per_1000, 5),
                "points_per_s_per_core": round(points_per_s / agent_cpu) if agent_cpu else None,
                "machine_busy_cores": round(busy, 2), "load_average_1m": [round(load0, 2), round(load1, 2)]}
        if args.before is not None:
            live["before"] = _before(args.before, cpu_per_1000)
        if not args.backlog:
            if not args.no_write:
                print(f"wrote {write_result(args.result_name, {**live, **_setup(args, offered, plan.name)})}")
            return 0

        # 2. backlog drain while live polling continues (a quarter of the devices)
        _prefill(work / "drain.sqlite", args.backlog)
        db = sqlite3.connect(work / "drain.sqlite")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        size = (work / "drain.sqlite").stat().st_size
        bytes_per_reading = size / args.backlog
        agent = subprocess.Popen(CLI + ["edge", "run", "--config", str(agent_config("drain", max(1, args.devices // 4)))],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(agent)
        start = time.monotonic()
        drained_at = None
        while time.monotonic() - start < 600:
            next_seq, _ = _read_meta(work / "drain.sqlite")
            db = sqlite3.connect(work / "drain.sqlite", timeout=5)
            backlog_left = db.execute(
                "SELECT COALESCE(SUM(seq_last - seq_first + 1), 0) FROM blocks WHERE seq_last < ?", (args.backlog,)
            ).fetchone()[0]
            db.close()
            if backlog_left == 0:
                drained_at = time.monotonic()
                break
            time.sleep(0.2)
        live_during_drain = next_seq - args.backlog
        agent.terminate()
        agent.wait(timeout=20)
        if drained_at is None:
            raise RuntimeError("backlog did not drain within 600 s")
        drain_rate = args.backlog / (drained_at - start)
        print(f"drain: {drain_rate:,.0f} readings/s with {live_during_drain} live readings polled meanwhile")
        print(f"spool: {bytes_per_reading:.1f} bytes per reading on disk")
        if not args.no_write:
            path = write_result(args.result_name, {
                **live,
                "drain_readings_per_s": round(drain_rate),
                "spool_bytes_per_reading": round(bytes_per_reading, 2),
                "backlog_readings": args.backlog, "live_readings_during_drain": live_during_drain,
                **_setup(args, offered, plan.name),
            })
            print(f"wrote {path}")
        return 0
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    sys.exit(main())
