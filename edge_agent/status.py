"""`carbonflow edge status`: the agent's numbers as a table, from its spool file and metrics endpoint.

The spool file is opened read-only, so this is safe while the agent runs; the
lock file next to the spool says whether an agent runs at all; live numbers
(polls, link, rate) come from the metrics endpoint when `metrics_port` is set.
"""

from __future__ import annotations

import math
import sqlite3
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_agent.config import AgentConfig
from edge_agent.lockfile import running_agent
from edge_agent.metrics import Sample, parse
from edge_agent.spool import SpoolSnapshot, inspect_spool

__all__ = ["AgentStatus", "gather_status", "histogram_quantile", "metrics_url", "render_status"]


@dataclass(frozen=True)
class AgentStatus:
    gateway: str
    spool_path: Path
    holder: dict[str, Any] | None
    spool: SpoolSnapshot | None
    spool_error: str | None
    metrics_url: str | None
    metrics: list[Sample] | None
    metrics_error: str | None

    @property
    def running(self) -> bool:
        return self.holder is not None or self.metrics is not None


def metrics_url(config: AgentConfig) -> str | None:
    if config.metrics_port is None:
        return None
    host = config.metrics_host
    host = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{config.metrics_port}/metrics"


def gather_status(config: AgentConfig, *, timeout_s: float = 2.0) -> AgentStatus:
    """Collect what can be known about the agent of `config` without disturbing it."""
    holder = running_agent(config.spool_path)
    spool, spool_error = None, None
    try:
        spool = inspect_spool(config.spool_path)
    except (OSError, sqlite3.Error) as exc:
        spool_error = str(exc)
    url, samples, metrics_error = metrics_url(config), None, None
    if url is not None:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                samples = parse(response.read().decode("utf-8"))
        except (OSError, urllib.error.URLError, ValueError) as exc:
            metrics_error = str(getattr(exc, "reason", exc))
    return AgentStatus(config.gateway_id, config.spool_path, holder, spool, spool_error, url, samples, metrics_error)


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Estimate a quantile from cumulative (upper bound, count) buckets, as PromQL does."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return None


def _count(n: float) -> str:
    return f"{int(n):,}"


def _bytes(n: float) -> str:
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            break
    return f"{n:.1f} {unit}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h {minutes}m"
    return f"{hours}h {minutes}m {secs}s" if hours else f"{minutes}m {secs}s"


def _rows(rows: list[tuple[str, str]]) -> list[str]:
    width = max(len(k) for k, _ in rows)
    return [f"  {k:<{width}}  {v}" for k, v in rows]


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:  # first column left-aligned, numbers right-aligned
        return "  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    return [line(header), *(line(r) for r in rows)]


def render_status(status: AgentStatus, *, now: float | None = None) -> str:
    """The readable table `carbonflow edge status` prints."""
    now = time.time() if now is None else now
    m: dict[str, float] = {}
    per_device: dict[str, dict[str, Any]] = defaultdict(lambda: {"buckets": []})
    for s in status.metrics or []:
        device = s.labels.get("device")
        if device is None:
            if s.name == "edge_config_reloads_total":
                m[f"reloads_{s.labels.get('result')}"] = s.value
            else:
                m[s.name] = s.value
        elif s.name == "edge_poll_duration_seconds_bucket":
            per_device[device]["buckets"].append((float(s.labels["le"]), s.value))
        else:
            per_device[device][s.name] = s.value

    lines = []
    if status.running:
        pid = (status.holder or {}).get("pid", "?")
        since = (status.holder or {}).get("since") or m.get("edge_agent_start_time_seconds")
        up = f", up {_duration(now - since)}" if since else ""
        lines.append(f"edge agent {status.gateway}: running (pid {pid}{up})")
    else:
        lines.append(f"edge agent {status.gateway}: NOT RUNNING")
    if status.metrics_url is None:
        lines.append("metrics: not enabled (set metrics_port for live numbers)")
    elif status.metrics is None:
        lines.append(f"metrics: {status.metrics_url} unreachable ({status.metrics_error})")
    else:
        lines.append(f"metrics: {status.metrics_url}")

    lines += ["", f"SPOOL  {status.spool_path}"]
    if status.spool is None:
        lines.append(f"  cannot read: {status.spool_error}")
    else:
        sp = status.spool
        age = _duration(max(0.0, now - sp.oldest_gateway_ts)) if sp.oldest_gateway_ts is not None else "-"
        rows = [
            ("unsent readings", _count(sp.depth)),
            ("payload / on disk", f"{_bytes(sp.bytes)} / {_bytes(sp.file_bytes)}"),
            ("oldest unsent", age),
            ("next sequence", _count(sp.next_seq)),
            ("dropped (total)", _count(sp.dropped)),
            ("dropped, not yet reported", _count(sp.dropped - sp.dropped_reported)),
        ]
        if "edge_staged_readings" in m:
            rows.append(("staged (not yet durable)", _count(m["edge_staged_readings"])))
        lines += _rows(rows)

    if status.metrics is not None:
        connected = m.get("edge_mqtt_connected")
        rows = [
            ("connected", "yes" if connected == 1 else "NO"),
            ("reconnects", _count(m.get("edge_mqtt_reconnects_total", 0))),
            ("publish rate", f"{m.get('edge_publish_rate_readings_per_second', 0):.1f} readings/s"),
            ("acknowledged", _count(m.get("edge_acknowledged_readings_total", 0))),
            ("in flight", f"{_count(m.get('edge_inflight_batches', 0))} batches"),
            ("publish errors", _count(m.get("edge_publish_errors_total", 0))),
        ]
        if "edge_clock_synchronised" in m:
            clock = "synchronised" if m["edge_clock_synchronised"] == 1 else "UNSYNCHRONISED (readings uncertain)"
            rows.append(("clock", clock))
        reloads = f"{_count(m.get('reloads_applied', 0))} applied, {_count(m.get('reloads_rejected', 0))} rejected"
        rows.append(("config reloads", reloads))
        lines += ["", "LINK", *_rows(rows)]
        if per_device:
            table = []
            for device, d in sorted(per_device.items()):
                polls = d.get("edge_poll_duration_seconds_count", 0)
                mean = d.get("edge_poll_duration_seconds_sum", 0) / polls * 1000 if polls else None
                p95 = histogram_quantile(0.95, d["buckets"])
                table.append((
                    device, _count(polls), _count(d.get("edge_poll_errors_total", 0)),
                    _count(d.get("edge_subscription_values_total", 0)),
                    "-" if mean is None else f"{mean:.1f}", "-" if p95 is None else f"{p95 * 1000:.1f}",
                    "yes" if d.get("edge_device_degraded") == 1 else "no",
                ))
            lines += ["", "DEVICES", *_table(
                ("device", "polls", "errors", "pushed", "mean ms", "p95 ms", "degraded"), table)]
    return "\n".join(lines) + "\n"
