"""Peers side by side: carbonflow's edge agent and ThingsBoard IoT Gateway on the same Modbus devices and broker.

Writes bench/results/peers.json. Run with `make bench` (or `python bench/peers_bench.py`; `--help` for the flags).

Both gateways poll the same simulated Modbus TCP devices (bench/register_server.py: P float32 input registers per
device, each device on its own loopback port, every --poll-interval seconds) and publish to the same local MQTT
broker (a private Mosquitto on a loopback port, or the embedded amqtt broker without Mosquitto), QoS 1. Measured,
one gateway at a time:
- saturation: load is raised by adding devices (--sweep, since the agent's poll interval floor is 0.1 s); at each
  step a fresh gateway process runs for --seconds and the collector (a subscriber on the broker) counts the
  readings delivered per second; the sweep stops at the first step below --target of the offered rate. Each step
  records the gateway's CPU (cores, and cores per 1,000 points/s), its peak resident memory, the whole machine's
  busy cores and the load average (the machine may be shared: CPU per point is the figure that survives that);
- store and forward: at --outage-devices, the broker is stopped for --outage seconds (default 180) and started
  again; the readings whose source time stamps fall inside the outage are compared with those of an equal span
  just before it (loss), and readings received twice are counted (duplicates);
- kill -9: the gateway is SIGKILLed while publishing and started again on the same storage; readings received
  twice from then on are its duplicates.

ThingsBoard IoT Gateway is pip-installed from PyPI into its own venv under .carbonflow/peers/ (gitignored) with the
machine's python, with the pymodbus its Modbus connector would otherwise pip-install at first load; nothing of it
is in this repository. It is configured with its documented Modbus connector (one wide register range per device,
the same registers the agent reads) and its MQTT client pointed at the local broker, which speaks the ThingsBoard
device API for it: the collector answers its `getSessionLimits` RPC with the empty limits of a server that sets
none. Its update check and usage report go to a dead proxy on loopback; pymodbus's per-value deprecation warning is
silenced (logger at ERROR). Its SQLite storage is used for everything (the agent fsyncs its spool); its memory
storage is swept as well (--tb-storages). When the package cannot be installed or run, the result says why and
has no numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, cpu_seconds, free_port, machine_busy_s, wait_port, write_result
from register_server import start_register_server

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
    """What one gateway delivered: a count of readings per arrival, and (while `keys` is on) each reading's key."""

    arrivals: list[tuple[float, int]] = field(default_factory=list)  # (monotonic arrival, readings in the message)
    keys: set[tuple[str, str, int]] = field(default_factory=set)  # (device, point, source time in ms)
    keep_keys: bool = True  # off during the sweep: millions of keys would cost the bench memory and CPU
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, keys: list[tuple[str, str, int]]) -> None:
        with self.lock:
            if self.keep_keys:
                before = len(self.keys)
                self.keys.update(keys)
                self.duplicates += len(keys) - (len(self.keys) - before)
            self.arrivals.append((time.monotonic(), len(keys)))

    def count(self, n: int) -> None:
        with self.lock:
            self.arrivals.append((time.monotonic(), n))

    def between(self, t0: float, t1: float) -> int:
        with self.lock:
            return sum(n for t, n in self.arrivals if t0 <= t < t1)

    def stamped_between(self, ms0: int, ms1: int) -> int:
        with self.lock:
            return sum(1 for _, _, ms in self.keys if ms0 <= ms < ms1)

    def reset(self, keep_keys: bool) -> None:
        with self.lock:
            self.arrivals.clear()
            self.keys.clear()
            self.duplicates = 0
            self.keep_keys = keep_keys


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
                payload = json.loads(message.payload)
                if self.tb.keep_keys:
                    self.tb.add(_tb_keys(payload))
                else:
                    self.tb.count(_tb_count(payload))
            elif message.topic.startswith(TB_RPC_REQUEST):
                request = json.loads(message.payload)
                if request.get("method") == "getSessionLimits":  # a ThingsBoard server that sets no limits
                    limits = {"rateLimits": {"messages": "", "telemetryMessages": "", "telemetryDataPoints": ""},
                              "maxInflightMessages": 100, "maxPayloadSize": 65536}
                    client.publish(TB_RPC_RESPONSE + message.topic[len(TB_RPC_REQUEST):], json.dumps(limits), qos=1)
                    self.limits_answered += 1
            else:
                envelope = json.loads(envelope_text(message.payload))
                if self.agent.keep_keys:
                    self.agent.add(_agent_keys(envelope))
                else:
                    self.agent.count(sum(len(d["point"]) for d in envelope["devices"]))
        except (ValueError, KeyError, TypeError) as exc:
            print(f"collector: skipped a message on {message.topic}: {exc}")

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def _agent_keys(envelope: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(d["device"], point, us // 1000)
            for d in envelope["devices"] for point, us in zip(d["point"], d["source_us"], strict=True)]


def _tb_entries(payload: dict[str, Any]) -> Any:
    for device, entries in payload.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            yield device, entry


def _tb_keys(payload: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(device, name, int(entry["ts"])) for device, entry in _tb_entries(payload) for name in entry["values"]]


def _tb_count(payload: dict[str, Any]) -> int:
    return sum(len(entry["values"]) for _, entry in _tb_entries(payload))


# ---------------------------------------------------------------- devices and gateways


def _flat_profile(directory: Path, points: int) -> Path:
    profile = {"name": "bench/flat", "version": 1, "description": f"{points} float32 input registers",
               "follows": "synthetic benchmark map", "protocol": "modbus", "address_base": 0, "unit_id": 1,
               "points": [{"name": f"p{i:03d}", "table": "input_register", "address": 2 * i, "data_type": "float32",
                           "unit": "kW", "example": 100.0 + i} for i in range(points)]}
    path = directory / "flat.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def _port_of(modbus_port: int | list[int], i: int) -> int:
    return modbus_port if isinstance(modbus_port, int) else modbus_port[i]


def _agent_config(work: Path, profile: Path, args: argparse.Namespace, modbus_port: int | list[int],
                  broker_port: int, *, name: str = "agent") -> Path:
    config = {"gateway_id": "bench-gw", "spool_path": str(work / f"{name}-spool.sqlite"),
              "spool_max_bytes": 2 * 1024**3, "batch_max_readings": 5000,
              "mqtt": {"url": f"mqtt://127.0.0.1:{broker_port}", "reconnect_min_s": 0.2, "reconnect_max_s": 1.0},
              "devices": [{"id": f"dev{i:02d}", "profile": str(profile), "protocol": "modbus",
                           "port": _port_of(modbus_port, i), "unit_id": i + 1, "poll_interval_s": args.poll_interval}
                          for i in range(args.devices)]}
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def tb_configuration(args: argparse.Namespace, modbus_port: int | list[int], broker_port: int, data: Path,
                     storage: str = "sqlite") -> dict[str, Any]:
    """tb_gateway.json, modbus.json and logs.json for the run, written from the gateway's documented keys."""
    stores = {
        "sqlite": {"type": "sqlite", "data_file_path": f"{data}/", "messages_ttl_check_in_hours": 1,
                   "messages_ttl_in_days": 7, "max_read_records_count": 1000, "writing_batch_size": 1000},
        "memory": {"type": "memory", "read_records_count": 1000, "max_records_count": 10_000_000},
    }
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
        "storage": stores[storage],
        "grpc": {"enabled": False},
        "connectors": [{"type": "modbus", "name": "bench modbus", "configuration": "modbus.json"}],
    }
    registers = 2 * args.points
    slaves = [{"host": "127.0.0.1", "port": _port_of(modbus_port, i), "type": "tcp", "method": "socket",
               "unitId": i + 1, "deviceName": f"dev{i:02d}", "deviceType": "meter", "timeout": 5, "byteOrder": "BIG",
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
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Gateway:
    """How to start one of the two gateways for a number of devices, on a storage that survives restarts."""

    name: str
    received: Received
    start: Callable[[int, str], subprocess.Popen[bytes]]  # (devices, run name) -> the process
    # (run name) -> (readings the gateway stored, of which still stored unsent), read after it stopped; None if
    # the gateway keeps no such count
    ledger: Callable[[str], tuple[int, int]] | None = None


def _wait_first(name: str, proc: subprocess.Popen[bytes], received: Received, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not received.arrivals:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode} before publishing anything")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} published nothing within {timeout_s:.0f} s")
        time.sleep(0.5)


def _window(proc: subprocess.Popen[bytes], received: Received, seconds: float) -> dict[str, Any]:
    """Delivered rate, CPU, memory and the machine's load over one window."""
    cpu0, t0, busy0, load0 = cpu_seconds(proc.pid), time.monotonic(), machine_busy_s(), os.getloadavg()[0]
    rss = []
    while time.monotonic() - t0 < seconds:
        time.sleep(1)
        rss.append(_rss_mib(proc.pid))
    cpu1, t1, busy1 = cpu_seconds(proc.pid), time.monotonic(), machine_busy_s()
    delivered = received.between(t0, t1) / (t1 - t0)
    cores = (cpu1 - cpu0) / (t1 - t0)
    return {"points_per_s": round(delivered), "cpu_cores": round(cores, 3),
            "cpu_cores_per_1000_points_per_s": round(cores / (delivered / 1000), 4) if delivered else None,
            "rss_mib_max": round(max(rss), 1), "machine_busy_cores": round((busy1 - busy0) / (t1 - t0), 2),
            "load_average_1m": [round(load0, 2), round(os.getloadavg()[0], 2)]}


def sweep(gateway: Gateway, args: argparse.Namespace) -> dict[str, Any]:
    """Raise the devices step by step until the delivered rate is below the target share of the offered and stops
    growing (a step below target whose rate is under 1.05 times the best before it)."""
    steps = []
    for devices in args.sweep:
        offered = devices * args.points / args.poll_interval
        gateway.received.reset(keep_keys=False)
        proc = gateway.start(devices, f"sweep-{devices}")
        try:
            _wait_first(gateway.name, proc, gateway.received)
            time.sleep(args.settle)
            step = {"devices": devices, "offered_points_per_s": round(offered),
                    **_window(proc, gateway.received, args.seconds)}
        finally:
            _stop(proc)
        step["keeps_up"] = step["points_per_s"] >= args.target * offered
        steps.append(step)
        print(f"{gateway.name}: {devices} devices, {offered:,.0f} offered: {step['points_per_s']:,} delivered on"
              f" {step['cpu_cores']:.2f} cores, RSS {step['rss_mib_max']:.0f} MiB, machine busy"
              f" {step['machine_busy_cores']} cores{'' if step['keeps_up'] else ' -- below target'}")
        earlier = [x["points_per_s"] for x in steps[:-1]]
        growing = not earlier or step["points_per_s"] >= 1.05 * max(earlier)
        if not step["keeps_up"] and not growing:
            break  # saturated: below target and no longer growing
    best = max(steps, key=lambda s: s["points_per_s"])
    kept = [s for s in steps if s["keeps_up"]]
    return {"steps": steps, "saturation_points_per_s": best["points_per_s"],
            "saturation_at_devices": best["devices"],
            "cpu_cores_at_saturation": best["cpu_cores"],
            "cpu_cores_per_1000_points_per_s_at_saturation": best["cpu_cores_per_1000_points_per_s"],
            "rss_mib_max": max(s["rss_mib_max"] for s in steps),
            "highest_rate_kept_up": kept[-1]["points_per_s"] if kept else None,
            "first_below_target_at_offered": next((s["offered_points_per_s"] for s in steps if not s["keeps_up"]),
                                                  None)}


def outage(gateway: Gateway, broker: Broker, args: argparse.Namespace) -> dict[str, Any]:
    """Readings lost and duplicated across a broker outage of --outage seconds, at --outage-devices."""
    received = gateway.received
    received.reset(keep_keys=True)
    proc = gateway.start(args.outage_devices, "outage")
    try:
        _wait_first(gateway.name, proc, received)
        first_ms = int(time.time() * 1000)
        time.sleep(max(args.settle, args.baseline))
        down_ms = int(time.time() * 1000)
        broker.stop()
        time.sleep(args.outage)
        up_ms = int(time.time() * 1000)
        broker.start()
        span = up_ms - down_ms
        # the rate before the outage, over as much of an equal span as the gateway ran for (a few seconds spare)
        base = min(span, down_ms - first_ms - 2000)
        deadline = time.monotonic() + args.recover
        while time.monotonic() < deadline:  # until the outage's readings have come in (or the wait is over)
            time.sleep(1)
            expected = received.stamped_between(down_ms - base, down_ms) * span / base
            if received.stamped_between(down_ms, up_ms) >= expected:
                break
        time.sleep(3)  # anything still in flight, e.g. duplicates of the last unacknowledged batch
        rss = _rss_mib(proc.pid)
    finally:
        _stop(proc)
    # both counted now: a gateway that batches may still have been sending readings stamped before the outage
    counted = received.stamped_between(down_ms - base, down_ms)
    before = round(counted * span / base)  # as many readings as the same rate gives over the outage's span
    during = received.stamped_between(down_ms, up_ms)
    lost = max(0, before - during)
    print(f"{gateway.name}: outage of {span / 1000:.0f} s: {during:,} readings stamped inside it vs {before:,} at the"
          f" rate of the {base / 1000:.0f} s before ({lost:,} short), {received.duplicates:,} duplicates,"
          f" RSS {rss:.0f} MiB")
    exact: dict[str, Any] = {}
    if gateway.ledger is not None:  # every reading the gateway stored is either received or still stored
        stored, unsent = gateway.ledger("outage")
        exact = {"readings_stored": stored, "readings_still_stored_unsent": unsent,
                 "readings_received_distinct": len(received.keys),
                 "readings_lost": max(0, stored - unsent - len(received.keys))}
        print(f"{gateway.name}: stored {stored:,}, received {len(received.keys):,} distinct, {unsent:,} still in"
              f" the spool: {exact['readings_lost']:,} lost")
    return {**exact, "devices": args.outage_devices, "outage_s": round(span / 1000, 1), "readings_stamped_in_outage": during,
            "readings_stamped_before": counted, "before_window_s": round(base / 1000, 1),
            "readings_expected_in_outage_at_that_rate": before, "outage_shortfall": lost,
            "outage_shortfall_fraction": round(lost / before, 4) if before else None,
            "duplicates": received.duplicates, "rss_mib_after_backlog": round(rss, 1)}


def kill9(gateway: Gateway, args: argparse.Namespace) -> dict[str, Any]:
    """Readings received twice after the gateway is SIGKILLed while publishing and started again on its storage."""
    received = gateway.received
    received.reset(keep_keys=True)
    proc = gateway.start(args.outage_devices, "kill9")
    try:
        _wait_first(gateway.name, proc, received)
        time.sleep(args.settle)
        before = len(received.keys)
        proc.kill()  # SIGKILL: no chance to flush or to say goodbye
        proc.wait()
        time.sleep(1)
        proc = gateway.start(args.outage_devices, "kill9")
        _wait_first(gateway.name, proc, received)
        time.sleep(args.settle + 5)
    finally:
        _stop(proc)
    time.sleep(2)
    print(f"{gateway.name}: kill -9 after {before:,} readings and restart: {received.duplicates:,} duplicates")
    return {"devices": args.outage_devices, "readings_before_kill": before, "duplicates": received.duplicates}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sweep", type=_ints, default=_ints("1,2,5,10,20,40,60,80,100,120,160"),
                        help="device counts to step through (comma separated) until a gateway saturates (see sweep())")
    parser.add_argument("--target", type=float, default=0.95, help="share of the offered rate that counts as keeping up")
    parser.add_argument("--points", type=int, default=100, help="float32 points per device")
    parser.add_argument("--poll-interval", type=float, default=0.1, help="seconds, both gateways")
    parser.add_argument("--seconds", type=float, default=15.0, help="measuring window per sweep step")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the first delivery before measuring")
    parser.add_argument("--outage", type=float, default=180.0, help="seconds the broker is down (default 180)")
    parser.add_argument("--baseline", type=float, default=30.0,
                        help="seconds of delivery before the outage whose rate says how many readings the outage holds")
    parser.add_argument("--outage-devices", type=int, default=5, help="devices during the outage and kill -9 tests")
    parser.add_argument("--recover", type=float, default=240.0, help="at most this long to wait for the backlog")
    parser.add_argument("--gateways", default="agent,tb", help="which to run: agent, tb or both (comma separated)")
    parser.add_argument("--tb-storages", default="sqlite,memory",
                        help="ThingsBoard storages to sweep (the outage and kill -9 tests use sqlite)")
    parser.add_argument("--tb-version", default=TB_VERSION)
    parser.add_argument("--phases", default="sweep,outage,kill9", help="which measurements to run (comma separated)")
    parser.add_argument("--update", action="store_true",
                        help="replace only this run's gateways and phases in bench/results/peers.json, keep the rest")
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    args.devices = max(max(args.sweep), args.outage_devices)
    gateways = set(args.gateways.split(","))
    work = Path(tempfile.mkdtemp(prefix="cf-peers-bench-"))
    broker = Broker(work / "broker")
    setup = {"points_per_device": args.points, "poll_interval_s": args.poll_interval, "sweep_devices": args.sweep,
             "target_share_of_offered": args.target, "window_s": args.seconds, "broker": broker.name,
             "devices_served_by": "bench/register_server.py, one loopback port per device",
             "transport": "plain MQTT on loopback, QoS 1 (both gateways; the agent's TLS is off for parity)",
             "command": " ".join(["python bench/peers_bench.py", *sys.argv[1:]]),
             "load_average_1m_at_start": round(os.getloadavg()[0], 2)}  # the machine may be shared: read with care
    procs: list[subprocess.Popen[bytes]] = []
    collector: Collector | None = None
    results: dict[str, Any] = {}
    try:
        broker.start()
        collector = Collector(broker.port)
        server, ports = start_register_server(args.devices)
        procs.append(server)  # type: ignore[arg-type]
        profile = _flat_profile(work, args.points)

        def start_agent(devices: int, name: str) -> subprocess.Popen[bytes]:
            run = argparse.Namespace(**{**vars(args), "devices": devices})
            config = _agent_config(work, profile, run, ports, broker.port, name=name)
            log = (work / f"{name}.log").open("ab")
            return subprocess.Popen(CLI + ["edge", "run", "--config", str(config)], stdout=log,
                                    stderr=subprocess.STDOUT)

        def agent_ledger(name: str) -> tuple[int, int]:
            db = sqlite3.connect(work / f"{name}-spool.sqlite")
            try:
                stored = db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0]
                unsent = db.execute("SELECT COALESCE(SUM(seq_last - seq_first + 1), 0) FROM blocks").fetchone()[0]
            finally:
                db.close()
            return int(stored), int(unsent)

        if "agent" in gateways:
            agent = Gateway("edge agent", collector.agent, start_agent, agent_ledger)
            results["carbonflow_edge_agent"] = {
                **({"sweep": sweep(agent, args)} if "sweep" in phases else {}),
                **({"outage": outage(agent, broker, args)} if "outage" in phases else {}),
                **({"kill9": kill9(agent, args)} if "kill9" in phases else {}),
                "configuration": "one agent process, one Modbus TCP connection per device, SQLite spool"
                                 " (WAL, synchronous=FULL, group commit every 0.2 s), batches of up to 5,000"}
        if "tb" in gateways:
            results["thingsboard_gateway"] = _run_tb(args, work, ports, broker, collector, phases)
        setup["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
        if args.update:  # this run's phases replace those of the recorded run; the rest is kept, with its command
            recorded = json.loads((RESULTS / "peers.json").read_text())
            runs = recorded.get("runs") or [{k: recorded[k] for k in ("command", "measured_at") if k in recorded}]
            if phases & {"sweep", "outage", "kill9"}:  # `--phases none --update` only recomputes the ratios
                runs.append({"command": setup["command"],
                             "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                             "phases": sorted(phases), "gateways": sorted(gateways),
                             "load_average_1m": [setup["load_average_1m_at_start"], setup["load_average_1m_at_end"]]})
            for key, value in results.items():
                recorded[key] = {**recorded.get(key, {}), **value}
            results = {k: v for k, v in recorded.items() if k not in ("machine", "measured_at")}
            results["runs"] = runs
            setup = {}
        agent_r, tb_r = results.get("carbonflow_edge_agent"), results.get("thingsboard_gateway")
        if agent_r and tb_r and not tb_r.get("skipped") and "sweep" in agent_r:
            results["ratios_agent_over_tb"] = _ratios(agent_r, tb_r)
        path = write_result("peers", {**setup, **results})
        print(f"wrote {path}")
        return 0
    finally:
        if collector is not None:
            collector.close()
        for proc in reversed(procs):
            _stop(proc)
        broker.stop()


def _run_tb(args: argparse.Namespace, work: Path, ports: list[int], broker: Broker,
            collector: Collector, phases: set[str]) -> dict[str, Any]:
    python, why = ensure_tb_venv(args.tb_version)
    if python is None:
        print(f"thingsboard-gateway skipped: {why}")
        return {"skipped": True, "reason": why, "version": args.tb_version}
    dead = free_port()  # nothing listens: the update check and usage report fail at once on loopback
    env = {**os.environ, "HTTPS_PROXY": f"http://127.0.0.1:{dead}", "HTTP_PROXY": f"http://127.0.0.1:{dead}",
           "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": ""}
    files: dict[str, Any] = {}

    def starter(storage: str) -> Callable[[int, str], subprocess.Popen[bytes]]:
        def start(devices: int, name: str) -> subprocess.Popen[bytes]:
            tb_dir = work / f"tb-{storage}-{name}"
            (tb_dir / "config").mkdir(parents=True, exist_ok=True)
            run = argparse.Namespace(**{**vars(args), "devices": devices})
            written = tb_configuration(run, ports, broker.port, tb_dir, storage)
            files.setdefault(storage, written)
            for filename, content in written.items():
                (tb_dir / "config" / filename).write_text(json.dumps(content, indent=2))
            return subprocess.Popen([str(python), "-c", "from thingsboard_gateway.tb_gateway import main; main()"],
                                    cwd=tb_dir, env={**env, "TB_GW_CONFIG_DIR": str(tb_dir / "config") + "/"},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return start

    out: dict[str, Any] = {"version": args.tb_version,
                           "installed_with": f"pip install thingsboard-gateway=={args.tb_version} {' '.join(TB_EXTRA)}"}
    try:
        for storage in args.tb_storages.split(",") if "sweep" in phases else []:
            tb = Gateway(f"thingsboard-gateway ({storage})", collector.tb, starter(storage))
            out[f"sweep_{storage}_storage"] = sweep(tb, args)
        tb = Gateway("thingsboard-gateway (sqlite)", collector.tb, starter("sqlite"))
        if "outage" in phases:
            out["outage"] = outage(tb, broker, args)
        if "kill9" in phases:
            out["kill9"] = kill9(tb, args)
    except RuntimeError as exc:
        logs = sorted(work.glob("tb-*/tb-gateway.log"))
        tail = logs[-1].read_text().splitlines()[-3:] if logs else []
        print(f"thingsboard-gateway did not run: {exc}")
        return {**out, "skipped": True, "reason": f"{exc}; log: {' | '.join(tail)}"}
    out["limits_rpc_answered"] = collector.limits_answered
    # the files of the first sweep step, with the device list cut to one device (the others differ only in port,
    # unitId and deviceName)
    out["configuration"] = {storage: {"tb_gateway.json": f["tb_gateway.json"],
                                      "modbus.json (first device; one such entry per device)":
                                          f["modbus.json"]["master"]["slaves"][0]}
                            for storage, f in files.items()}
    return out


def _ratios(agent: dict[str, Any], tb: dict[str, Any]) -> dict[str, Any]:
    a, t = agent["sweep"], tb.get("sweep_sqlite_storage") or next(v for k, v in tb.items() if k.startswith("sweep_"))

    def ratio(x: float | None, y: float | None) -> float | None:
        return round(x / y, 2) if x and y else None

    agent_steps = {s["devices"]: s for s in a["steps"]}
    both = [s for s in t["steps"] if s["devices"] in agent_steps]
    return {"against": "thingsboard-gateway with SQLite storage",
            "saturation_points_per_s": ratio(a["saturation_points_per_s"], t["saturation_points_per_s"]),
            # how many times the CPU the peer spends on a point (= points per CPU second, agent over peer)
            "cpu_per_point_at_saturation_tb_over_agent": ratio(
                t["cpu_cores_per_1000_points_per_s_at_saturation"], a["cpu_cores_per_1000_points_per_s_at_saturation"]),
            # the same at each load both ran (devices: ratio), and resident memory there
            "cpu_per_point_at_equal_devices_tb_over_agent": {
                s["devices"]: ratio(s["cpu_cores_per_1000_points_per_s"],
                                    agent_steps[s["devices"]]["cpu_cores_per_1000_points_per_s"]) for s in both},
            "rss_agent_over_tb_at_equal_devices": {
                s["devices"]: ratio(agent_steps[s["devices"]]["rss_mib_max"], s["rss_mib_max"]) for s in both}}


if __name__ == "__main__":
    sys.exit(main())
