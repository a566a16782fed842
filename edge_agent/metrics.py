"""Prometheus metrics of the agent, served by a small asyncio HTTP server, written by prometheus_client.

Values are collected when scraped: the agent hands the server a function
returning metric families (prometheus_client's `*MetricFamily`), so the poll
and publish paths only bump plain integers per batch and pay nothing for the
exposition. `parse` reads the format back, for `carbonflow edge status`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from prometheus_client import generate_latest
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

__all__ = [
    "POLL_BUCKETS_S",
    "Histogram",
    "MetricsServer",
    "PollStats",
    "RateMeter",
    "Sample",
    "histogram_family",
    "parse",
    "render",
]

log = logging.getLogger("edge_agent.metrics")

POLL_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes


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


def parse(text: str) -> list[Sample]:
    """Samples of a text exposition (comments skipped); raises ValueError on a malformed line."""
    try:
        return [sample for family in text_string_to_metric_families(text) for sample in family.samples]
    except (ValueError, IndexError, KeyError) as exc:  # the parser raises all three on bad input
        raise ValueError(f"not a Prometheus text exposition: {exc}") from exc


class _Snapshot:
    """The families of one scrape, in the shape `generate_latest` reads (a registry's `collect`)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def histogram_family(name: str, help_text: str, label: str, histograms: Iterable[tuple[str, Histogram]]) -> Metric:
    """One histogram family with a sample set per (label value, Histogram)."""
    family = HistogramMetricFamily(name, help_text, labels=[label])
    for value, histogram in histograms:
        buckets = [(_bound(bound), float(count)) for bound, count in histogram.cumulative()]
        family.add_metric([value], buckets, histogram.sum)
    return family


def _bound(value: float) -> str:
    return "+Inf" if math.isinf(value) else floatToGoString(value)


def render(families: list[Metric]) -> bytes:
    """Prometheus text exposition (0.0.4) of the families, written by prometheus_client."""
    return generate_latest(_Snapshot(families))  # type: ignore[arg-type]


Collector = Callable[[], Awaitable[list[Metric]]]


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
                body = render(await self._collect())
            except Exception:  # a scrape must not take the agent down; say what broke
                log.exception("collecting metrics failed")
                return "500 Internal Server Error", b"collecting metrics failed, see the agent log\n", "text/plain"
            return "200 OK", body if method == b"GET" else b"", _CONTENT_TYPE
        if target == b"/healthz":
            return "200 OK", b"ok\n", "text/plain"
        return "404 Not Found", b"see /metrics\n", "text/plain"
