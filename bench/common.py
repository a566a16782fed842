"""Helpers shared by the benchmarks: machine description, CPU accounting, result files."""

from __future__ import annotations

import json
import os
import platform
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["machine", "cpu_seconds", "machine_busy_s", "write_result", "free_port", "wait_port",
           "create_scratch_database", "table_bytes", "RESULTS", "CpuMonitor"]

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"hostname": socket.gethostname(), "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_gib, 1),
            "python": platform.python_version(), "os": platform.platform()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMonitor:
    """CPU time used by named processes over a run, including processes that start or end during it.

    `groups()` is called about once a second and names the pids to account (e.g. the PostgreSQL
    backends serving the benchmark's database, found through pg_stat_activity); a pid first seen
    after `start()` counts from zero, one that ended counts up to its last sample.
    """

    def __init__(self, groups: Callable[[], dict[str, list[int]]], interval_s: float = 1.0) -> None:
        import threading

        self._groups = groups
        self._interval = interval_s
        self._base: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._group_of: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = 0.0
        self._busy0 = 0.0
        self.timeline: list[tuple[float, dict[str, float]]] = []  # (seconds since start, cores per group)

    def _sample(self, first: bool) -> None:
        try:
            groups = self._groups()
        except Exception:  # noqa: BLE001 - a failed lookup loses one sample, not the run
            return
        for name, pids in groups.items():
            for pid in pids:
                try:
                    used = cpu_seconds(pid)
                except (OSError, IndexError, ValueError):
                    continue
                if pid not in self._base:
                    self._base[pid] = used if first else 0.0
                    self._group_of[pid] = name
                self._last[pid] = used

    def _run(self) -> None:
        previous = self._used()
        while not self._stop.wait(self._interval):
            self._sample(first=False)
            used = self._used()
            self.timeline.append((round(time.monotonic() - self._t0, 1), {
                n: round((v - previous.get(n, 0.0)) / self._interval, 2) for n, v in used.items()}))
            previous = used

    def _used(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for pid, base in self._base.items():
            used[self._group_of[pid]] = used.get(self._group_of[pid], 0.0) + self._last[pid] - base
        return used

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._busy0 = machine_busy_s()
        self._sample(first=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        """Cores used per group (CPU seconds / wall seconds), plus `machine_busy` for every process on the host."""
        self._stop.set()
        self._thread.join()
        self._sample(first=False)
        wall = max(time.monotonic() - self._t0, 1e-9)
        cores: dict[str, float] = {}
        for pid, base in self._base.items():
            name = self._group_of[pid]
            cores[name] = cores.get(name, 0.0) + (self._last[pid] - base) / wall
        out = {name: round(v, 2) for name, v in sorted(cores.items())}
        out["machine_busy"] = round((machine_busy_s() - self._busy0) / wall, 2)
        return out


def machine_busy_s() -> float:
    """Non-idle CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def write_result(name: str, values: dict[str, object]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {**values, "machine": machine(), "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def create_scratch_database(prefix: str) -> tuple[str, Callable[[], None]]:
    """A new, migrated database for one benchmark run, and the function that drops it.

    The server: $DATABASE_URL's, else 127.0.0.1:5432, else an embedded pgserver.
    """
    import uuid

    import psycopg

    from carbonflow.db.migrate import migrate

    server, embedded = _server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(server)
    info["dbname"] = name
    url = psycopg.conninfo.make_conninfo(**info)
    with psycopg.connect(url) as conn:
        migrate(conn)

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if embedded is not None:
            embedded.stop()

    return url, drop


def table_bytes(conn: Any, table: str) -> int:
    """On-disk bytes of a partitioned table's partitions with their indexes and TOAST (a plain table's own)."""
    size = conn.execute("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c"
                        " ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass", (table,)).fetchone()[0]
    return int(size if size is not None else conn.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()[0])


def _server_url() -> tuple[str, Any]:
    import psycopg

    for url in (os.environ.get("DATABASE_URL"), "postgresql://postgres@127.0.0.1:5432/test"):
        if not url:
            continue
        try:
            with psycopg.connect(url, connect_timeout=2):
                return url, None
        except psycopg.OperationalError:
            continue
    import tempfile

    from carbonflow.embedded.postgres import EmbeddedPostgres

    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="cf-bench-pg-")) / "data")
    return pg.start(), pg
