"""Device pollers: read a device through its profile and turn values into reading drafts.

A failed poll is data: every point that could not be read gets a `bad`
reading with the reason. Two kinds of failure are kept apart:

- the device cannot be reached (connection refused, timeout, a gateway's
  exception 10 or 11): every point of the device is `bad`, and the device is
  backed off (capped exponential, with jitter) so it cannot stall the others;
- the device answers a block read with a Modbus exception (e.g. 2, illegal
  data address, for registers the meter lacks): only that block's points are
  `bad`, with the exception as the reason; the other blocks are read as usual.
  The refused block gets a backoff of its own: until its next retry it is not
  requested and its points are reported `bad` with the same reason each poll;
  once the device answers it again its readings come back.

A repeated failure is logged once a minute, and its recovery once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from carbon_domain.registers import DataType
from carbon_domain.schemas import clean_reason
from edge_agent.backoff import Backoff, ThrottledLog
from edge_agent.config import DeviceEndpoint
from edge_agent.errors import ModbusExceptionError
from edge_agent.metrics import PollStats
from edge_agent.modbus_links import ModbusLink, acquire_link, release_link
from edge_agent.polled import PointKeys, PolledReadings, now_us

__all__ = ["DraftSink", "ModbusPoller", "OpcUaPoller", "Poller", "make_poller", "quality_for"]

log = logging.getLogger("edge_agent.sources")
DraftSink = Callable[[PolledReadings | list[dict[str, Any]]], Awaitable[None]]
_MAX_BACKOFF_S = 30.0
_FIRST_BACKOFF_S = 1.0
# A refused block is usually a profile that does not fit the meter: asking again every few minutes is enough.
_MAX_BLOCK_BACKOFF_S = 300.0


class Poller(Protocol):
    device_id: str
    degraded: bool
    stats: PollStats

    @property
    def errors(self) -> int: ...

    async def run(self, emit: DraftSink, stop: asyncio.Event) -> None: ...


def quality_for(value: Any, valid_range: Any) -> tuple[str, str | None]:
    """Quality and reason for a value read successfully."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return "bad", "not a finite number"
    if valid_range is not None and isinstance(value, (int, float)):
        lo, hi = valid_range
        if not lo <= value <= hi:
            return "bad", f"out of range [{lo}, {hi}]"
    return "good", None


def _now() -> datetime:
    return datetime.now(UTC)


def _draft(
    device: str, point: Any, value: Any, quality: str, reason: str | None, source_ts: datetime,
    gateway_ts: datetime | None = None,
) -> dict[str, Any]:
    # a boolean point (coil, discrete input, OPC-UA boolean) leaves as 0.0 or 1.0: the wire takes numbers only
    numeric = float(value) if isinstance(value, (int, float, bool)) else None
    if numeric is not None and not math.isfinite(numeric):
        numeric = None
    if reason:  # often an exception's message: ingest refuses the whole envelope for a control character in it
        reason = clean_reason(reason)
    return {
        "device": device,
        "point": point.name,
        "value": numeric,
        "unit": getattr(point, "unit", "") or "",
        "kind": getattr(point, "kind", "gauge"),
        "quality": quality if numeric is not None or quality != "good" else "bad",
        "reason": reason if numeric is not None or reason else "no numeric value",
        "source_ts": source_ts,
        "gateway_ts": gateway_ts or _now(),
    }


class _Health:
    """Backoff and log-once bookkeeping of one device."""

    def __init__(self, device: str) -> None:
        self._device = device
        self._backoff = Backoff(_FIRST_BACKOFF_S, _MAX_BACKOFF_S)
        self._log = ThrottledLog(log)

    @property
    def failures(self) -> int:
        return self._backoff.failures

    def failed(self, reason: str) -> float:
        """Count a failure, log it unless logged recently, and return the delay before retrying."""
        delay = self._backoff.next_delay()
        self._log.problem(
            "poll", "device %s: %s (failure %d, retrying in %.1f s)", self._device, reason, self._backoff.failures,
            delay,
        )
        return delay

    def succeeded(self) -> None:
        failures = self._backoff.reset()
        if failures:
            self._log.resolved("poll", "device %s: recovered after %d failures", self._device, failures)


class _BlockState:
    """One register block of a device, with its own backoff while the device refuses it (a Modbus exception)."""

    def __init__(self, device: str, block: Any, log: ThrottledLog) -> None:
        self.block = block
        self.refusal: str | None = None  # the exception, while the device refuses this block
        self._device = device
        self._log = log
        self._backoff = Backoff(_FIRST_BACKOFF_S, _MAX_BLOCK_BACKOFF_S)
        self._retry_at = 0.0
        names = ", ".join(p.name for p in block.points)
        self._name = f"{block.table} {block.start}..{block.start + block.count - 1} ({names})"
        self.every_point = PointKeys(device, block.points)  # what a failed read reports bad
        telemetry = [p for p in block.points if p.data_type is not DataType.STRING]  # not nameplate text
        self.telemetry = PointKeys(device, telemetry)
        self.telemetry_at = [i for i, p in enumerate(block.points) if p.data_type is not DataType.STRING]
        self.valid_ranges = [getattr(p, "valid_range", None) for p in telemetry]
        # all numbers, none with a valid range: a read whose values are all finite is all good, checked at once
        self.plain = not block.table.is_bit and len(telemetry) == len(block.points) and not any(self.valid_ranges)

    def due(self, now: float) -> bool:
        """True unless the block was refused and its next retry is still ahead."""
        return self.refusal is None or now >= self._retry_at

    def refused(self, reason: str, now: float) -> None:
        self.refusal = reason
        delay = self._backoff.next_delay()
        self._retry_at = now + delay
        self._log.problem(
            self._name, "device %s: %s refused: %s (failure %d, retrying in %.1f s; its points are reported bad)",
            self._device, self._name, reason, self._backoff.failures, delay,
        )

    def answered(self) -> None:
        failures = self._backoff.reset()
        if self.refusal is not None:
            self.refusal = None
            self._log.resolved(self._name, "device %s: %s answers again after %d refusals", self._device, self._name,
                               failures)


class ModbusPoller:
    """Polls one Modbus device (TCP or RTU): contiguous points are read as blocks over the endpoint's shared link."""

    def __init__(self, endpoint: DeviceEndpoint, profile: Any, stats: PollStats | None = None) -> None:
        from device_profiles.blocks import plan_blocks

        self.device_id = endpoint.id
        self.degraded = False
        self.stats = stats or PollStats()
        self._endpoint = endpoint
        self._profile = profile
        by_interval: dict[float, list[Any]] = defaultdict(list)
        for point in profile.points:
            by_interval[endpoint.poll_interval_s or point.poll_interval_s].append(point)
        block_log = ThrottledLog(log)
        self._groups = {
            interval: [_BlockState(endpoint.id, block, block_log)
                       for block in plan_blocks(points, address_base=profile.address_base)]
            for interval, points in by_interval.items()
        }
        self._link: ModbusLink | None = None
        self._lock = asyncio.Lock()
        self._health = _Health(endpoint.id)

    @property
    def errors(self) -> int:
        return self.stats.errors

    async def _read_block(self, block: Any) -> list[Any]:
        if self._link is None:
            self._link = acquire_link(self._endpoint)
        unit = self._endpoint.unit_id if self._endpoint.unit_id is not None else block.unit_id
        return await self._link.read(block.table, block.start, block.count, unit)

    async def poll(self, blocks: list[_BlockState]) -> PolledReadings:
        """Read every block that is due; a refused block yields bad readings for its points, the others are read.

        Raises _PollFailed, with bad readings for every point, when the device cannot be reached.
        """
        async with self._lock:
            started = time.monotonic()
            try:
                drafts, refused = await self._poll_locked(blocks)
            except _PollFailed:
                self.stats.observe_poll(time.monotonic() - started, ok=False)
                raise
            self.stats.observe_poll(time.monotonic() - started, ok=not refused)
        return drafts

    @property
    def refused_blocks(self) -> int:
        """Blocks the device currently refuses (each waiting for its own retry)."""
        return sum(state.refusal is not None for states in self._groups.values() for state in states)

    async def _poll_locked(self, blocks: list[_BlockState]) -> tuple[PolledReadings, int]:
        from device_profiles.blocks import decode_values

        polled = PolledReadings(self.device_id)
        refused = 0
        for index, state in enumerate(blocks):
            block = state.block
            ts = now_us()
            if not state.due(time.monotonic()):  # refused before and backed off: not asked, still reported
                polled.add_bad(state.every_point, clean_reason(state.refusal or "refused"), ts, ts)
                continue
            try:
                values = decode_values(block, await self._read_block(block))
            except ModbusExceptionError as exc:
                if exc.device_unreachable:  # a gateway's word that the device behind it did not answer
                    raise self._device_failed(str(exc), blocks[index:], polled, ts) from exc
                refused += 1
                state.refused(str(exc), time.monotonic())
                polled.add_bad(state.every_point, clean_reason(str(exc)), ts, ts)
                continue
            except (TimeoutError, ConnectionError, OSError) as exc:
                reason = "timeout" if isinstance(exc, asyncio.TimeoutError) else str(exc) or type(exc).__name__
                raise self._device_failed(reason, blocks[index:], polled, ts) from exc
            except Exception as exc:  # pymodbus raises its own exception types
                if self._link is not None:
                    self._link.reset()
                raise self._device_failed(f"{type(exc).__name__}: {exc}", blocks[index:], polled, ts) from exc
            state.answered()
            received = now_us()  # the block's values arrived together: one gateway time stamp for all of them
            if state.plain and math.isfinite(sum(values)):  # type: ignore[arg-type]
                polled.add_good(state.telemetry, values, ts, received)  # type: ignore[arg-type]
            else:
                polled.add(state.telemetry, *_judged([values[i] for i in state.telemetry_at], state.valid_ranges),
                           ts, received)
        return polled, refused

    def _device_failed(
        self, reason: str, unread: list[_BlockState], polled: PolledReadings, ts: int,
    ) -> _PollFailed:
        """The device cannot be reached: every point not read in this poll gets a bad reading with the reason."""
        reason = clean_reason(reason)
        for state in unread:
            polled.add_bad(state.every_point, reason, ts, ts)
        return _PollFailed(reason, polled)

    async def run(self, emit: DraftSink, stop: asyncio.Event) -> None:
        tasks = [asyncio.create_task(self._run_group(i, b, emit, stop)) for i, b in self._groups.items()]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            self.close()

    def close(self) -> None:
        """Give the shared link back (the last device on an endpoint closes it)."""
        if self._link is not None:
            release_link(self._link)
            self._link = None

    async def _run_group(
        self, interval: float, blocks: list[_BlockState], emit: DraftSink, stop: asyncio.Event,
    ) -> None:
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                await emit(await self.poll(blocks))
                self._health.succeeded()
                self.degraded = self.refused_blocks > 0
                next_at += interval
            except _PollFailed as failure:
                self.degraded = True
                await emit(failure.drafts)
                next_at = time.monotonic() + self._health.failed(failure.reason)
            delay = next_at - time.monotonic()
            if delay < -interval:  # fell behind: skip missed ticks instead of bursting
                next_at = time.monotonic() + interval
                delay = interval
            await _sleep_or_stop(stop, max(0.0, delay))


class OpcUaPoller:
    """Reads OPC-UA nodes by subscription or by polling, keeping the server's source timestamps and status codes.

    A point's `mode` in the profile decides (the endpoint's `opcua_mode` can
    force one for every point). Subscribed points use one subscription per
    sampling interval, with the publishing interval equal to it, and report
    changes only; polled points are read together every poll interval. The
    endpoint's `poll_interval_s`, when set, replaces both intervals.
    """

    def __init__(self, endpoint: DeviceEndpoint, profile: Any, stats: PollStats | None = None) -> None:
        self.device_id = endpoint.id
        self.degraded = False
        self.stats = stats or PollStats()
        self._endpoint = endpoint
        self._points = list(profile.points)
        forced = endpoint.opcua_mode if endpoint.opcua_mode != "profile" else None
        self._polled = [p for p in self._points if (forced or _mode(p)) == "poll"]
        self._subscribed = [p for p in self._points if (forced or _mode(p)) == "subscribe"]
        self._interval = endpoint.poll_interval_s or min(
            (getattr(p, "sampling_interval_s", 1.0) for p in self._polled), default=1.0
        )
        self._health = _Health(endpoint.id)
        self._pending: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._lost: str | None = None

    @property
    def errors(self) -> int:
        return self.stats.errors

    def _sampling_s(self, point: Any) -> float:
        return self._endpoint.poll_interval_s or float(getattr(point, "sampling_interval_s", 1.0))

    async def run(self, emit: DraftSink, stop: asyncio.Event) -> None:
        from asyncua import Client, ua

        url = f"opc.tcp://{self._endpoint.host}:{self._endpoint.port}/"
        while not stop.is_set():
            client = Client(url, timeout=self._endpoint.timeout_s)
            client.connection_lost_callback = self._on_connection_lost
            self._lost = None
            try:
                async with client:
                    await self._subscribe(client)
                    self._health.succeeded()
                    await self._session(client, emit, stop)
            except (TimeoutError, OSError, ConnectionError, ua.UaError) as exc:
                self.stats.errors += 1  # not a latency: the session may have lasted hours
                self.degraded = True
                reason = "timeout" if isinstance(exc, asyncio.TimeoutError) else f"{type(exc).__name__}: {exc}"
                if self._pending:  # changes that arrived before the loss are still good data
                    drafts, self._pending = self._pending, []
                    await emit(drafts)
                await emit([_draft(self.device_id, p, None, "bad", reason, _now()) for p in self._points])
                await _sleep_or_stop(stop, self._health.failed(reason))

    async def _subscribe(self, client: Any) -> None:
        from asyncua import ua

        by_interval: dict[float, list[Any]] = defaultdict(list)
        for point in self._subscribed:
            by_interval[self._sampling_s(point)].append(point)
        for interval_s, points in sorted(by_interval.items()):
            nodes = [client.get_node(p.node_id) for p in points]
            handler = _DataChangeHandler(self, {n.nodeid: p for n, p in zip(nodes, points, strict=True)})
            subscription = await client.create_subscription(interval_s * 1000, handler)
            results = await subscription.subscribe_data_change(nodes, sampling_interval=interval_s * 1000)
            for point, result in zip(points, results if isinstance(results, list) else [results], strict=True):
                if isinstance(result, ua.StatusCode):  # the server refused this monitored item
                    reason = f"opc-ua subscription refused: {result.name}"
                    self.notified(_draft(self.device_id, point, None, "bad", reason, _now()))

    async def _session(self, client: Any, emit: DraftSink, stop: asyncio.Event) -> None:
        from asyncua import ua

        nodes = [client.get_node(p.node_id) for p in self._polled]
        next_poll = time.monotonic()
        while not stop.is_set():
            self._wake.clear()  # before draining: a value arriving from here on wakes the wait below
            if self._lost is not None:
                raise ConnectionError(self._lost)
            if self._pending:
                drafts, self._pending = self._pending, []
                self.stats.notifications += len(drafts)
                await emit(drafts)
            if nodes and time.monotonic() >= next_poll:
                started = time.monotonic()
                values = await client.read_attributes(nodes, ua.AttributeIds.Value)
                self.stats.observe_poll(time.monotonic() - started, ok=True)
                await emit([self.to_draft(p, dv) for p, dv in zip(self._polled, values)])
                next_poll += self._interval
                if next_poll < time.monotonic() - self._interval:  # fell behind: skip missed ticks
                    next_poll = time.monotonic() + self._interval
            self.degraded = False
            wait = min(next_poll - time.monotonic(), 0.25) if nodes else 0.25
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, wait))
            except TimeoutError:
                pass
        if self._pending:  # values that arrived while stopping
            drafts, self._pending = self._pending, []
            await emit(drafts)

    async def _on_connection_lost(self, exc: Exception) -> None:
        self.connection_lost(f"connection lost: {type(exc).__name__}: {exc}")

    def connection_lost(self, reason: str) -> None:
        self._lost = self._lost or reason
        self._wake.set()

    def notified(self, draft: dict[str, Any]) -> None:
        """A subscription delivered a value: queue it for the session loop."""
        self._pending.append(draft)
        self._wake.set()

    def to_draft(self, point: Any, data_value: Any) -> dict[str, Any]:
        """A draft from an OPC-UA DataValue, with its source timestamp and status code."""
        source_ts = data_value.SourceTimestamp or data_value.ServerTimestamp or _now()
        if source_ts.tzinfo is None:
            source_ts = source_ts.replace(tzinfo=UTC)
        status = data_value.StatusCode
        value = data_value.Value.Value if data_value.Value is not None else None
        if status is not None and not status.is_good():
            quality = "uncertain" if status.is_uncertain() else "bad"
            return _draft(self.device_id, point, value, quality, f"opc-ua status {status.name}", source_ts)
        quality, reason = quality_for(value, getattr(point, "valid_range", None))
        return _draft(self.device_id, point, value, quality, reason, source_ts)


class _DataChangeHandler:
    """asyncua subscription callbacks of one OpcUaPoller subscription."""

    def __init__(self, poller: OpcUaPoller, points: dict[Any, Any]) -> None:
        self._poller = poller
        self._points = points

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        point = self._points.get(node.nodeid)
        if point is not None:
            self._poller.notified(self._poller.to_draft(point, data.monitored_item.Value))

    def status_change_notification(self, status: Any) -> None:
        code = getattr(status, "Status", status)
        if not getattr(code, "is_good", lambda: False)():
            self._poller.connection_lost(f"subscription status {getattr(code, 'name', code)}")


def _mode(point: Any) -> str:
    return str(getattr(point, "mode", "poll"))


def _judged(values: list[Any], valid_ranges: list[Any]) -> tuple[list[float | None], list[str], list[str | None]]:
    """(values, qualities, reasons) of values read successfully, as `_draft` judges one value."""
    numbers: list[float | None] = []
    qualities: list[str] = []
    reasons: list[str | None] = []
    for value, valid_range in zip(values, valid_ranges):
        quality, why = quality_for(value, valid_range)
        numeric = float(value) if isinstance(value, (int, float, bool)) else None
        if numeric is not None and not math.isfinite(numeric):
            numeric = None
        numbers.append(numeric)
        qualities.append(quality if numeric is not None or quality != "good" else "bad")
        reasons.append(clean_reason(why) if why else (None if numeric is not None else "no numeric value"))
    return numbers, qualities, reasons


class _PollFailed(Exception):
    def __init__(self, reason: str, drafts: PolledReadings | list[dict[str, Any]]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.drafts = drafts


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


def make_poller(endpoint: DeviceEndpoint, stats: PollStats | None = None) -> Poller:
    """The poller for a device endpoint, with its profile loaded and validated."""
    from device_profiles.loader import load_profile

    profile = load_profile(endpoint.profile)
    wire = "modbus" if endpoint.protocol == "modbus-rtu" else endpoint.protocol
    if wire != profile.protocol.value:
        raise ValueError(f"device {endpoint.id}: protocol {endpoint.protocol} but profile {profile.name} is "
                         f"{profile.protocol.value}")
    if wire == "modbus":
        return ModbusPoller(endpoint, profile, stats)
    return OpcUaPoller(endpoint, profile, stats)
