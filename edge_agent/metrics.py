"""Prometheus metrics of the agent, served by a small asyncio HTTP server (no extra dependency).

Values are collected when scraped: the agent hands the server a function
returning metric families, and `render` writes them in the Prometheus text
exposition format (version 0.0.4). `parse` reads that format back, for
`carbonflow edge status`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

__all__ = [
    "POLL_BUCKETS_S",
    "Family",
    "Histogram",
    "MetricsServer",
    "PollStats",
    "RateMeter",
    "Sample",
    "parse",
    "render",
]

log = logging.getLogger("edge_agent.metrics")

POLL_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Histogram:
    """Cumulative-bucket histogram as Prometheus defines it."""

    def __init__(self, buckets: tuple[float, ...] = POLL_BUCKETS_S) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)  # per bucket, not cumulative
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.sum += value
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
                return

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations <= bound) including +Inf."""
        out, running = [], 0
        for bound, n in zip(self.buckets, self.counts):
            running += n
            out.append((bound, running))
        out.append((math.inf, self.count))
        return out


@dataclass
class PollStats:
    """What a poller reports about one device; kept by the agent across reloads."""

    latency: Histogram = field(default_factory=Histogram)
    errors: int = 0
    notifications: int = 0  # values pushed by OPC-UA subscriptions

    def observe_poll(self, seconds: float, ok: bool) -> None:
        self.latency.observe(seconds)
        if not ok:
            self.errors += 1


class RateMeter:
    """Per-second rate of a growing total over a sliding window."""

    def __init__(self, window_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._window_s = window_s
        self._clock = clock
        self._samples: deque[tuple[float, float]] = deque()

    def update(self, total: float) -> None:
        now = self._clock()
        self._samples.append((now, total))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self._window_s:
            self._samples.popleft()

    @property
    def rate(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, v0), (t1, v1) = self._samples[0], self._samples[-1]
        return (v1 - v0) / (t1 - t0) if t1 > t0 else 0.0


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


@dataclass
class Family:
    """One metric: name, type (counter, gauge, histogram), help text and samples."""

    name: str
    kind: str
    help: str
    samples: list[Sample] = field(default_factory=list)

    def add(self, value: float, suffix: str = "", **labels: str) -> Family:
        self.samples.append(Sample(self.name + suffix, labels, float(value)))
        return self

    def add_histogram(self, histogram: Histogram, **labels: str) -> Family:
        for bound, n in histogram.cumulative():
            self.add(n, "_bucket", **labels, le=_number(bound))
        self.add(histogram.sum, "_sum", **labels)
        self.add(histogram.count, "_count", **labels)
        return self


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value)) if value != int(value) or abs(value) >= 1e15 else str(int(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(families: Iterable[Family]) -> str:
    """Prometheus text exposition of the families."""
    lines = []
    for fam in families:
        lines.append(f"# HELP {fam.name} {fam.help}")
        lines.append(f"# TYPE {fam.name} {fam.kind}")
        for s in fam.samples:
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in s.labels.items())
            lines.append(f"{s.name}{{{labels}}} {_number(s.value)}" if labels else f"{s.name} {_number(s.value)}")
    return "\n".join(lines) + "\n"


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*')


def parse(text: str) -> list[Sample]:
    """Samples of a text exposition (comments skipped); raises ValueError on a malformed line."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            raise ValueError(f"line {number} is not a metric sample: {line[:80]!r}")
        name, label_text, value = match.groups()
        labels = {}
        for k, v in _LABEL.findall(label_text or ""):
            labels[k] = v.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        out.append(Sample(name, labels, float(value)))
    return out


Collector = Callable[[], Awaitable[list[Family]]]


class MetricsServer:
    """Serves GET /metrics (and /healthz) on host:port; every scrape calls `collect`."""

    def __init__(self, collect: Collector, host: str, port: int) -> None:
        self._collect = collect
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Bind; raises OSError when the port is taken."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            status, body, ctype = await self._respond(reader)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, asyncio.CancelledError):
                pass

    async def _respond(self, reader: asyncio.StreamReader) -> tuple[str, bytes, str]:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
        parts = request.split(b"\r\n", 1)[0].split()
        if len(parts) != 3:
            return "400 Bad Request", b"bad request\n", "text/plain"
        method, target = parts[0], parts[1].split(b"?", 1)[0]
        if method not in (b"GET", b"HEAD"):
            return "405 Method Not Allowed", b"only GET\n", "text/plain"
        if target == b"/metrics":
            try:
                body = render(await self._collect()).encode()
            except Exception:  # a scrape must not take the agent down; say what broke
                log.exception("collecting metrics failed")
                return "500 Internal Server Error", b"collecting metrics failed, see the agent log\n", "text/plain"
            return "200 OK", body if method == b"GET" else b"", _CONTENT_TYPE
        if target == b"/healthz":
            return "200 OK", b"ok\n", "text/plain"
        return "404 Not Found", b"see /metrics\n", "text/plain"
