"""Device pollers: read a device through its profile and turn values into reading drafts.

A failed poll is data: every point of the failed read gets a `bad` reading with
the reason, and the device is backed off so it cannot stall the others.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Protocol

from edge_agent.config import DeviceEndpoint

__all__ = ["DraftSink", "Poller", "ModbusPoller", "OpcUaPoller", "make_poller", "quality_for"]

log = logging.getLogger("edge_agent.sources")
DraftSink = Callable[[list[dict[str, Any]]], Awaitable[None]]
_MAX_BACKOFF_S = 30.0


class Poller(Protocol):
    device_id: str
    degraded: bool
    errors: int

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
    return datetime.now(timezone.utc)


def _draft(device: str, point: Any, value: Any, quality: str, reason: str | None, source_ts: datetime) -> dict[str, Any]:
    numeric = float(value) if isinstance(value, (int, float, bool)) else None
    if numeric is not None and not math.isfinite(numeric):
        numeric = None
    return {
        "device": device,
        "point": point.name,
        "value": numeric,
        "unit": getattr(point, "unit", "") or "",
        "kind": getattr(point, "kind", "gauge"),
        "quality": quality if numeric is not None or quality != "good" else "bad",
        "reason": reason if numeric is not None or reason else "no numeric value",
        "source_ts": source_ts,
        "gateway_ts": _now(),
    }


class _Backoff:
    """Capped exponential backoff with 'log once' for repeated errors."""

    def __init__(self) -> None:
        self.failures = 0
        self._last_logged = 0.0

    def failed(self, device: str, reason: str) -> float:
        self.failures += 1
        if time.monotonic() - self._last_logged > 60:
            log.warning("device %s: %s (failure %d, backing off)", device, reason, self.failures)
            self._last_logged = time.monotonic()
        return min(_MAX_BACKOFF_S, 0.5 * 2 ** min(self.failures, 6))

    def succeeded(self, device: str) -> None:
        if self.failures:
            log.info("device %s: recovered after %d failures", device, self.failures)
        self.failures = 0


class ModbusPoller:
    """Polls one Modbus TCP device: contiguous points are read as blocks, one request at a time."""

    def __init__(self, endpoint: DeviceEndpoint, profile: Any) -> None:
        from device_profiles.blocks import plan_blocks

        self.device_id = endpoint.id
        self.degraded = False
        self.errors = 0
        self._endpoint = endpoint
        self._profile = profile
        by_interval: dict[float, list[Any]] = defaultdict(list)
        for point in profile.points:
            by_interval[endpoint.poll_interval_s or point.poll_interval_s].append(point)
        self._groups = {
            interval: plan_blocks(points, address_base=profile.address_base) for interval, points in by_interval.items()
        }
        self._client: Any = None
        self._lock = asyncio.Lock()
        self._backoff = _Backoff()

    async def _ensure_client(self) -> Any:
        from pymodbus.client import AsyncModbusTcpClient

        if self._client is None:
            self._client = AsyncModbusTcpClient(
                self._endpoint.host,
                port=self._endpoint.port,
                timeout=self._endpoint.timeout_s,
                retries=0,
                reconnect_delay=0,
            )
        if not self._client.connected:
            await self._client.connect()
        if not self._client.connected:
            raise ConnectionError(f"cannot connect to {self._endpoint.host}:{self._endpoint.port}")
        return self._client

    async def _read_block(self, block: Any) -> list[Any]:
        client = await self._ensure_client()
        unit = self._endpoint.unit_id if self._endpoint.unit_id is not None else block.unit_id
        readers = {
            "holding_register": client.read_holding_registers,
            "input_register": client.read_input_registers,
            "coil": client.read_coils,
            "discrete_input": client.read_discrete_inputs,
        }
        response = await readers[block.table](block.start, count=block.count, device_id=unit)
        if response.isError():
            raise IOError(f"modbus exception code {getattr(response, 'exception_code', '?')}")
        if block.table in ("coil", "discrete_input"):
            return list(response.bits[: block.count])
        return list(response.registers)

    async def poll(self, blocks: list[Any]) -> list[dict[str, Any]]:
        """Read every block once; a failed block yields bad readings for its points."""
        from device_profiles.blocks import decode_block

        drafts: list[dict[str, Any]] = []
        async with self._lock:
            for block in blocks:
                ts = _now()
                try:
                    values = decode_block(block, await self._read_block(block))
                except (asyncio.TimeoutError, ConnectionError, IOError, OSError) as exc:
                    reason = "timeout" if isinstance(exc, asyncio.TimeoutError) else str(exc) or type(exc).__name__
                    drafts.extend(_draft(self.device_id, p, None, "bad", reason, ts) for p in block.points)
                    raise _PollFailed(reason, drafts) from exc
                except Exception as exc:  # pymodbus raises its own exception types
                    reason = f"{type(exc).__name__}: {exc}"
                    drafts.extend(_draft(self.device_id, p, None, "bad", reason, ts) for p in block.points)
                    if self._client is not None:
                        self._client.close()
                    raise _PollFailed(reason, drafts) from exc
                for point in block.points:
                    value = values[point.name]
                    if isinstance(value, str):  # nameplate text, not telemetry
                        continue
                    quality, reason = quality_for(value, getattr(point, "valid_range", None))
                    drafts.append(_draft(self.device_id, point, value, quality, reason, ts))
        return drafts

    async def run(self, emit: DraftSink, stop: asyncio.Event) -> None:
        tasks = [asyncio.create_task(self._run_group(i, b, emit, stop)) for i, b in self._groups.items()]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            if self._client is not None:
                self._client.close()

    async def _run_group(self, interval: float, blocks: list[Any], emit: DraftSink, stop: asyncio.Event) -> None:
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                await emit(await self.poll(blocks))
                self._backoff.succeeded(self.device_id)
                self.degraded = False
                next_at += interval
            except _PollFailed as failure:
                self.errors += 1
                self.degraded = True
                await emit(failure.drafts)
                next_at = time.monotonic() + self._backoff.failed(self.device_id, failure.reason)
            delay = next_at - time.monotonic()
            if delay < -interval:  # fell behind: skip missed ticks instead of bursting
                next_at = time.monotonic() + interval
                delay = interval
            await _sleep_or_stop(stop, max(0.0, delay))


class OpcUaPoller:
    """Polls OPC-UA nodes, keeping the server's source timestamps and status codes."""

    def __init__(self, endpoint: DeviceEndpoint, profile: Any) -> None:
        self.device_id = endpoint.id
        self.degraded = False
        self.errors = 0
        self._endpoint = endpoint
        self._profile = profile
        self._interval = endpoint.poll_interval_s or min(
            getattr(p, "sampling_interval_s", 1.0) for p in profile.points
        )
        self._backoff = _Backoff()

    async def run(self, emit: DraftSink, stop: asyncio.Event) -> None:
        from asyncua import Client, ua

        url = f"opc.tcp://{self._endpoint.host}:{self._endpoint.port}/"
        while not stop.is_set():
            client = Client(url, timeout=self._endpoint.timeout_s)
            try:
                async with client:
                    nodes = [client.get_node(p.node_id) for p in self._profile.points]
                    self._backoff.succeeded(self.device_id)
                    while not stop.is_set():
                        started = time.monotonic()
                        values = await client.read_attributes(nodes, ua.AttributeIds.Value)
                        await emit([self._to_draft(p, dv) for p, dv in zip(self._profile.points, values)])
                        self.degraded = False
                        await _sleep_or_stop(stop, max(0.0, self._interval - (time.monotonic() - started)))
            except (OSError, asyncio.TimeoutError, ConnectionError, ua.UaError) as exc:
                self.errors += 1
                self.degraded = True
                reason = "timeout" if isinstance(exc, asyncio.TimeoutError) else f"{type(exc).__name__}: {exc}"
                await emit([_draft(self.device_id, p, None, "bad", reason, _now()) for p in self._profile.points])
                await _sleep_or_stop(stop, self._backoff.failed(self.device_id, reason))

    def _to_draft(self, point: Any, data_value: Any) -> dict[str, Any]:
        source_ts = data_value.SourceTimestamp or data_value.ServerTimestamp or _now()
        if source_ts.tzinfo is None:
            source_ts = source_ts.replace(tzinfo=timezone.utc)
        status = data_value.StatusCode
        value = data_value.Value.Value if data_value.Value is not None else None
        if status is not None and not status.is_good():
            quality = "uncertain" if status.is_uncertain() else "bad"
            return _draft(self.device_id, point, value, quality, f"opc-ua status {status.name}", source_ts)
        quality, reason = quality_for(value, getattr(point, "valid_range", None))
        return _draft(self.device_id, point, value, quality, reason, source_ts)


class _PollFailed(Exception):
    def __init__(self, reason: str, drafts: list[dict[str, Any]]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.drafts = drafts


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass


def make_poller(endpoint: DeviceEndpoint) -> Poller:
    """The poller for a device endpoint, with its profile loaded and validated."""
    from device_profiles.loader import load_profile

    profile = load_profile(endpoint.profile)
    if endpoint.protocol == "modbus":
        return ModbusPoller(endpoint, profile)
    return OpcUaPoller(endpoint, profile)
