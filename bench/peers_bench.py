"""Peers side by side: carbonflow's edge agent and ThingsBoard IoT Gateway on the same Modbus devices and broker.

Writes bench/results/peers.json. Run with `make bench` (or `python bench/peers_bench.py`).

Both gateways poll the same simulated Modbus TCP devices (carbonflow's simulator, N devices of P float32 input
registers each, every --poll-interval seconds) and publish to the same local MQTT broker (a private Mosquitto on a
loopback port, or the embedded amqtt broker without Mosquitto). One at a time, each is measured for:
- points/s delivered: distinct readings the collector (a subscriber on the broker) received per second;
- CPU (cores) and resident memory of the gateway process over that window;
- store and forward: the broker is stopped for --outage seconds, started again, and the readings whose source
  time stamps fall inside the outage are compared with those of an equal window just before it (loss), and
  readings received twice are counted (duplicates).

ThingsBoard IoT Gateway is pip-installed from PyPI into its own venv under .carbonflow/peers/ (gitignored) with the
machine's python; nothing of it is in this repository. It is configured with its documented Modbus connector (one
wide register range per device, the same registers the agent reads) and its MQTT client pointed at the local broker,
which speaks the ThingsBoard device API for it: the collector answers its `getSessionLimits` RPC with the empty
limits of a server that sets none. Its update check goes to a dead proxy on loopback; its SQLite storage is used,
as the agent spools to SQLite. When the package cannot be installed or run, the result says why and has no numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_seconds, free_port, wait_port, write_result

from carbon_domain.wire import envelope_text

ROOT = Path(__file__).resolve().parent.parent
PEERS_DIR = ROOT / ".carbonflow" / "peers"
TB_VERSION = "3.8.5"
TB_EXTRA = ["pymodbus==3.9.2", "pyserial", "pyserial-asyncio"]  # what its Modbus connector pip-installs at first load
CLI = [sys.executable, "-m", "carbonflow.cli"]
AGENT_TOPIC_ROOT = "carbonflow/v1"
TB_TELEMETRY = "v1/gateway/telemetry"
TB_RPC_REQUEST = "v1/devices/me/rpc/request/"
TB_RPC_RESPONSE = "v1/devices/me/rpc/response/"


# ---------------------------------------------------------------- the peer's venv


def ensure_tb_venv(version: str) -> tuple[Path | None, str]:
    """(python of a venv holding thingsboard-gateway==version, "") or (None, why it cannot be had)."""
    venv = PEERS_DIR / "tb-venv"
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import thingsboard_gateway.version as v, pymodbus; print(v.VERSION)"]
    if python.exists():
        done = subprocess.run(probe, check=False, capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip() == version:
            return python, ""
    base = shutil.which("python3") or sys.executable
    steps = [[base, "-m", "venv", "--clear", str(venv)],
             [str(python), "-m", "pip", "install", "-q", f"thingsboard-gateway=={version}", *TB_EXTRA]]
    for step in steps:
        print("peers: " + " ".join(step[:6]))
        done = subprocess.run(step, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            tail = [ln for ln in (done.stderr + done.stdout).splitlines() if not ln.startswith("WARNING: Location")]
            return None, f"`{' '.join(step[:6])}` failed: {' | '.join(tail[-3:]) or 'no output'}"
    done = subprocess.run(probe, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        return None, f"thingsboard-gateway installed but does not import: {done.stderr.strip().splitlines()[-1:]}"
    return python, ""


# ---------------------------------------------------------------- broker


class Broker:
    """A private MQTT broker on a loopback port that the bench may stop and start (plain TCP, anonymous)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        mosquitto = shutil.which("mosquitto") or next(
            (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None)
        if mosquitto:
            conf = directory / "mosquitto.conf"
            conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                            f"persistence_location {directory}/\nautosave_interval 1\nmax_queued_messages 0\n"
                            "max_inflight_messages 0\nlog_type error\n"
                            # as root it would drop to user mosquitto and could not save the sessions it must keep
                            + ("user root\n" if os.geteuid() == 0 else ""))
            self.name, self.argv = "mosquitto", [mosquitto, "-c", str(conf)]
        else:  # amqtt keeps no sessions across a restart: the collector may miss what arrives before it resubscribes
            conf = directory / "amqtt.yaml"
            conf.write_text(f"listeners:\n  default:\n    type: tcp\n    bind: 127.0.0.1:{self.port}\n"
                            "auth:\n  allow-anonymous: true\n")
            self.name, self.argv = "amqtt", [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(conf)]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


# ---------------------------------------------------------------- collector


@dataclass
class Received:
    arrivals: list[tuple[float, int]] = field(default_factory=list)  # (monotonic arrival, new distinct readings)
    keys: set[tuple[str, str, int]] = field(default_factory=set)  # (device, point, source time in ms)
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, keys: list[tuple[str, str, int]]) -> None:
        with self.lock:
            before = len(self.keys)
            self.keys.update(keys)
            new = len(self.keys) - before
            self.duplicates += len(keys) - new
            self.arrivals.append((time.monotonic(), new))

    def between(self, t0: float, t1: float) -> int:
        with self.lock:
            return sum(n for t, n in self.arrivals if t0 <= t < t1)

    def stamped_between(self, ms0: int, ms1: int) -> int:
        with self.lock:
            return sum(1 for _, _, ms in self.keys if ms0 <= ms < ms1)


class Collector:
    """Subscribes to both gateways' telemetry (a persistent QoS 1 session) and answers ThingsBoard's limits RPC."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt

        self.agent, self.tb = Received(), Received()
        self.limits_answered = 0
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="peers-bench-collector",
                                   clean_session=False)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(0.2, 1.0)
        self._client.max_queued_messages_set(0)
        self._client.connect_async("127.0.0.1", port, keepalive=15)
        self._client.loop_start()

    def _on_connect(self, client: Any, _userdata: Any, _flags: Any, _rc: Any, _props: Any = None) -> None:
        client.subscribe([(f"{AGENT_TOPIC_ROOT}/+/data", 1), (TB_TELEMETRY, 1), (TB_RPC_REQUEST + "+", 1)])

    def _on_message(self, client: Any, _userdata: Any, message: Any) -> None:
        try:
            if message.topic == TB_TELEMETRY:
                self.tb.add(_tb_keys(json.loads(message.payload)))
            elif message.topic.startswith(TB_RPC_REQUEST):
                request = json.loads(message.payload)
                if request.get("method") == "getSessionLimits":  # a ThingsBoard server that sets no limits
                    limits = {"rateLimits": {"messages": "", "telemetryMessages": "", "telemetryDataPoints": ""},
                              "maxInflightMessages": 100, "maxPayloadSize": 65536}
                    client.publish(TB_RPC_RESPONSE + message.topic[len(TB_RPC_REQUEST):], json.dumps(limits), qos=1)
                    self.limits_answered += 1
            else:
                self.agent.add(_agent_keys(json.loads(envelope_text(message.payload))))
        except (ValueError, KeyError, TypeError) as exc:
            print(f"collector: skipped a message on {message.topic}: {exc}")

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def _agent_keys(envelope: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(d["device"], point, us // 1000)
            for d in envelope["devices"] for point, us in zip(d["point"], d["source_us"], strict=True)]


def _tb_keys(payload: dict[str, Any]) -> list[tuple[str, str, int]]:
    keys = []
    for device, entries in payload.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            keys.extend((device, name, int(entry["ts"])) for name in entry["values"])
    return keys


# ---------------------------------------------------------------- devices and gateways


def _flat_profile(directory: Path, points: int) -> Path:
    profile = {"name": "bench/flat", "version": 1, "description": f"{points} float32 input registers",
               "follows": "synthetic benchmark map", "protocol": "modbus", "address_base": 0, "unit_id": 1,
               "points": [{"name": f"p{i:03d}", "table": "input_register", "address": 2 * i, "data_type": "float32",
                           "unit": "kW", "example": 100.0 + i} for i in range(points)]}
    path = directory / "flat.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def _agent_config(work: Path, profile: Path, args: argparse.Namespace, modbus_port: int, broker_port: int) -> Path:
    config = {"gateway_id": "bench-gw", "spool_path": str(work / "agent-spool.sqlite"),
              "spool_max_bytes": 2 * 1024**3, "batch_max_readings": 5000,
              "mqtt": {"url": f"mqtt://127.0.0.1:{broker_port}", "reconnect_min_s": 0.2, "reconnect_max_s": 1.0},
              "devices": [{"id": f"dev{i:02d}", "profile": str(profile), "protocol": "modbus", "port": modbus_port,
                           "unit_id": i + 1, "poll_interval_s": args.poll_interval} for i in range(args.devices)]}
    path = work / "agent.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def tb_configuration(args: argparse.Namespace, modbus_port: int, broker_port: int, data: Path) -> dict[str, Any]:
    """tb_gateway.json and modbus.json for the run, written from the gateway's documented keys."""
    gateway = {
        "thingsboard": {
            "host": "127.0.0.1", "port": broker_port, "remoteShell": False, "remoteConfiguration": False,
            "latencyDebugMode": False,
            "statistics": {"enable": False, "statsSendPeriodInSeconds": 3600, "customStatsSendPeriodInSeconds": 3600},
            "deviceFiltering": {"enable": False},
            "maxPayloadSizeBytes": 65536, "minPackSendDelayMS": 50, "minPackSizeToSend": 500,
            "checkConnectorsConfigurationInSeconds": 3600, "handleDeviceRenaming": False,
            "security": {"type": "accessToken", "accessToken": "peers-bench"},
            "qos": 1, "reportStrategy": {"type": "ON_RECEIVED"},
            "checkingDeviceActivity": {"checkDeviceInactivity": False},
            # no limits on the gateway side either: the agent has none
            "rateLimits": "0:0,", "dpRateLimits": "0:0,", "messagesRateLimits": "0:0,",
            "deviceMessagesRateLimits": "0:0,", "deviceRateLimits": "0:0,", "deviceDpRateLimits": "0:0,",
        },
        "storage": {"type": "sqlite", "data_file_path": f"{data}/", "messages_ttl_check_in_hours": 1,
                    "messages_ttl_in_days": 7, "max_read_records_count": 1000, "writing_batch_size": 1000},
        "grpc": {"enabled": False},
        "connectors": [{"type": "modbus", "name": "bench modbus", "configuration": "modbus.json"}],
    }
    registers = 2 * args.points
    slaves = [{"host": "127.0.0.1", "port": modbus_port, "type": "tcp", "method": "socket", "unitId": i + 1,
               "deviceName": f"dev{i:02d}", "deviceType": "meter", "timeout": 5, "byteOrder": "BIG",
               "wordOrder": "BIG", "retries": 3, "retryOnEmpty": True, "retryOnInvalid": True,
               "pollPeriod": round(args.poll_interval * 1000), "connectAttemptTimeMs": 5000,
               "connectAttemptCount": 5, "waitAfterFailedAttemptsMs": 5000, "attributes": [],
               "timeseries": [{"tag": "p_${address}", "type": "32float", "functionCode": 4, "objectsCount": 2,
                               "address": f"0-{registers - 1}", "maxRegistersPerRequest": min(registers, 124)}],
               "attributeUpdates": [], "rpc": []} for i in range(args.devices)]
    logs = {"version": 1, "disable_existing_loggers": False,
            "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
            "handlers": {"file": {"class": "logging.FileHandler", "formatter": "plain",
                                  "filename": str(data / "tb-gateway.log")}},
            "loggers": {"pymodbus": {"level": "ERROR"}},  # 3.9.2 warns on every decoded value
            "root": {"level": "WARNING", "handlers": ["file"]}}
    return {"tb_gateway.json": gateway, "modbus.json": {"master": {"slaves": slaves}}, "logs.json": logs}


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(name: str, proc: subprocess.Popen[bytes], received: Received, broker: Broker,
            args: argparse.Namespace) -> dict[str, Any]:
    """Throughput, CPU and memory over the window, then loss and duplicates across a broker outage."""
    deadline = time.monotonic() + 90
    while not received.keys:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode} before publishing anything")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} published nothing within 90 s")
        time.sleep(0.5)
    time.sleep(args.settle)
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    rss = []
    while time.monotonic() - t0 < args.seconds:
        time.sleep(1)
        rss.append(_rss_mib(proc.pid))
    cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
    delivered = received.between(t0, t1) / (t1 - t0)
    cores = (cpu1 - cpu0) / (t1 - t0)
    print(f"{name}: {delivered:,.0f} points/s delivered on {cores:.2f} cores, RSS {max(rss):.0f} MiB")
    # store and forward: the same span of source time before and during the outage
    down_ms = int(time.time() * 1000)
    broker.stop()
    time.sleep(args.outage)
    up_ms = int(time.time() * 1000)
    broker.start()
    span = up_ms - down_ms
    deadline = time.monotonic() + args.recover
    while time.monotonic() < deadline:  # until the outage's readings have come in (or the wait is over)
        time.sleep(1)
        if received.stamped_between(down_ms, up_ms) >= received.stamped_between(down_ms - span, down_ms):
            break
    time.sleep(2)  # anything still in flight, e.g. duplicates of the last unacknowledged batch
    # both counted now: a gateway that batches may still have been sending readings stamped before the outage
    before = received.stamped_between(down_ms - span, down_ms)
    during = received.stamped_between(down_ms, up_ms)
    lost = max(0, before - during)
    print(f"{name}: outage of {span / 1000:.0f} s: {during:,} readings stamped inside it vs {before:,} in the"
          f" {span / 1000:.0f} s before ({lost:,} short), {received.duplicates:,} duplicates")
    return {"points_per_s": round(delivered), "cpu_cores": round(cores, 3),
            "cpu_cores_per_1000_points_per_s": round(cores / (delivered / 1000), 4) if delivered else None,
            "rss_mib_max": round(max(rss), 1), "outage_s": round(span / 1000, 1),
            "readings_stamped_in_outage": during, "readings_stamped_in_equal_span_before": before,
            "outage_shortfall": lost, "outage_shortfall_fraction": round(lost / before, 4) if before else None,
            "duplicates": received.duplicates}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=5)
    parser.add_argument("--points", type=int, default=100, help="float32 points per device")
    parser.add_argument("--poll-interval", type=float, default=0.1, help="seconds, both gateways")
    parser.add_argument("--seconds", type=float, default=20.0, help="throughput window per gateway")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--outage", type=float, default=10.0, help="seconds the broker is down")
    parser.add_argument("--recover", type=float, default=30.0, help="at most this long to wait for the backlog")
    parser.add_argument("--tb-version", default=TB_VERSION)
    args = parser.parse_args()
    offered = args.devices * args.points / args.poll_interval
    work = Path(tempfile.mkdtemp(prefix="cf-peers-bench-"))
    broker = Broker(work / "broker")
    setup = {"devices": args.devices, "points_per_device": args.points, "poll_interval_s": args.poll_interval,
             "offered_points_per_s": round(offered), "window_s": args.seconds, "broker": broker.name,
             "transport": "plain MQTT on loopback, QoS 1 (both gateways; the agent's TLS is off for parity)",
             "command": " ".join(["python bench/peers_bench.py", *sys.argv[1:]]),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2)}  # the machine may be shared: read with care
    procs: list[subprocess.Popen[bytes]] = []
    collector: Collector | None = None
    results: dict[str, Any] = {}
    try:
        broker.start()
        collector = Collector(broker.port)
        modbus_port = free_port()
        profile = _flat_profile(work, args.points)
        scenario = {"name": "peers", "base_port": modbus_port, "static": True, "devices": [
            {"id": f"dev{i:02d}", "profile": str(profile), "protocol": "modbus", "port_offset": 0, "unit_id": i + 1}
            for i in range(args.devices)]}
        (work / "scenario.yaml").write_text(yaml.safe_dump(scenario))
        procs.append(subprocess.Popen(CLI + ["simulate", "plant", "--scenario", str(work / "scenario.yaml")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(modbus_port, 60)

        agent_log = (work / "agent.log").open("wb")
        agent = subprocess.Popen(CLI + ["edge", "run", "--config",
                                        str(_agent_config(work, profile, args, modbus_port, broker.port))],
                                 stdout=agent_log, stderr=subprocess.STDOUT)
        procs.append(agent)
        results["carbonflow_edge_agent"] = {
            **measure("edge agent", agent, collector.agent, broker, args),
            "configuration": "one agent process, one Modbus TCP link shared by the devices, SQLite spool"}
        _stop(agent)

        python, why = ensure_tb_venv(args.tb_version)
        if python is None:
            print(f"thingsboard-gateway skipped: {why}")
            results["thingsboard_gateway"] = {"skipped": True, "reason": why, "version": args.tb_version}
        else:
            tb_dir = work / "tb"
            (tb_dir / "config").mkdir(parents=True)
            files = tb_configuration(args, modbus_port, broker.port, tb_dir)
            for filename, content in files.items():
                (tb_dir / "config" / filename).write_text(json.dumps(content, indent=2))
            dead = free_port()  # nothing listens: the update check fails at once on loopback
            env = {**os.environ, "TB_GW_CONFIG_DIR": str(tb_dir / "config") + "/",
                   "HTTPS_PROXY": f"http://127.0.0.1:{dead}", "HTTP_PROXY": f"http://127.0.0.1:{dead}",
                   "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": ""}
            tb = subprocess.Popen([str(python), "-c", "from thingsboard_gateway.tb_gateway import main; main()"],
                                  cwd=tb_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(tb)
            try:
                measured = measure("thingsboard-gateway", tb, collector.tb, broker, args)
            except RuntimeError as exc:
                log = tb_dir / "tb-gateway.log"
                tail = log.read_text().splitlines()[-3:] if log.exists() else []
                print(f"thingsboard-gateway did not run: {exc}")
                results["thingsboard_gateway"] = {"skipped": True, "reason": f"{exc}; log: {' | '.join(tail)}",
                                                  "version": args.tb_version}
            else:
                results["thingsboard_gateway"] = {
                    **measured, "version": args.tb_version, "limits_rpc_answered": collector.limits_answered,
                    "configuration": {name: files[name] for name in ("tb_gateway.json", "modbus.json")},
                    "installed_with": f"pip install thingsboard-gateway=={args.tb_version} {' '.join(TB_EXTRA)}"}
            _stop(tb)
        agent_r, tb_r = results["carbonflow_edge_agent"], results["thingsboard_gateway"]
        if not tb_r.get("skipped") and tb_r["points_per_s"]:
            results["ratios_agent_over_tb"] = {
                "points_per_s": round(agent_r["points_per_s"] / tb_r["points_per_s"], 2),
                "cpu_per_point": round(agent_r["cpu_cores_per_1000_points_per_s"]
                                       / tb_r["cpu_cores_per_1000_points_per_s"], 2)
                if tb_r["cpu_cores_per_1000_points_per_s"] else None,
                "rss": round(agent_r["rss_mib_max"] / tb_r["rss_mib_max"], 2)}
        setup["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
        path = write_result("peers", {**setup, **results})
        print(f"wrote {path}")
        return 0
    finally:
        if collector is not None:
            collector.close()
        for proc in reversed(procs):
            _stop(proc)
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
