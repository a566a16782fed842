"""The readings of one device's poll, column by column: what a Modbus poller hands to the spool.

A poll of a 100-point meter used to become 100 dicts, which the spool then took apart again into its block
columns; at tens of thousands of points a second those objects were a large part of the agent's CPU. A
`PolledReadings` keeps one list per field (point keys, values, quality codes, time stamps in µs) that the spool
appends to its block columns with a few list operations. Iterating it still yields the familiar reading drafts
(dicts), for tests and for any consumer that wants one object per reading.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from edge_agent.spool_codec import EPOCH, QUALITY, QUALITY_CODE

__all__ = ["PointKeys", "PolledReadings", "now_us"]

_GOOD, _UNCERTAIN, _BAD = (QUALITY_CODE[q] for q in ("good", "uncertain", "bad"))


def now_us() -> int:
    """Wall-clock time in microseconds since the Unix epoch."""
    return time.time_ns() // 1000


class PointKeys:
    """The fixed part of a run of readings: (device, point) keys, units and kinds, built once per register block."""

    __slots__ = ("keys", "units", "kinds")

    def __init__(self, device: str, points: Sequence[Any]) -> None:
        self.keys = [(device, p.name) for p in points]
        self.units = [getattr(p, "unit", "") or "" for p in points]
        self.kinds = [str(getattr(p, "kind", "gauge")) for p in points]

    def __len__(self) -> int:
        return len(self.keys)


class PolledReadings:
    """One device's readings of one poll; values are floats, NaN where there is none."""

    __slots__ = ("device", "keys", "units", "kinds", "values", "quality", "reasons", "source_us", "gateway_us")

    def __init__(self, device: str) -> None:
        self.device = device
        self.keys: list[tuple[str, str]] = []
        self.units: list[str] = []
        self.kinds: list[str] = []
        self.values: list[float] = []
        self.quality: list[int] = []
        self.reasons: dict[int, str] = {}
        self.source_us: list[int] = []
        self.gateway_us: list[int] = []

    def __len__(self) -> int:
        return len(self.keys)

    def add_good(self, points: PointKeys, values: list[float], source_us: int, gateway_us: int) -> None:
        """Append finite values, all of good quality, read together."""
        n = len(points)
        self._fixed(points)
        self.values += values
        self.quality += [_GOOD] * n
        self.source_us += [source_us] * n
        self.gateway_us += [gateway_us] * n

    def add(self, points: PointKeys, values: Sequence[float | None], quality: Sequence[str],
            reasons: Sequence[str | None], source_us: int, gateway_us: int) -> None:
        """Append readings one quality and reason each (None: no value)."""
        base = len(self.keys)
        n = len(points)
        self._fixed(points)
        self.values += [math.nan if v is None else v for v in values]
        self.quality += [QUALITY_CODE[q] for q in quality]
        for i, reason in enumerate(reasons):
            if reason:
                self.reasons[base + i] = reason
        self.source_us += [source_us] * n
        self.gateway_us += [gateway_us] * n

    def add_bad(self, points: PointKeys, reason: str, source_us: int, gateway_us: int) -> None:
        """Append readings without a value, all `bad` for the same reason."""
        base = len(self.keys)
        n = len(points)
        self._fixed(points)
        self.values += [math.nan] * n
        self.quality += [_BAD] * n
        for i in range(n):
            self.reasons[base + i] = reason
        self.source_us += [source_us] * n
        self.gateway_us += [gateway_us] * n

    def _fixed(self, points: PointKeys) -> None:
        self.keys += points.keys
        self.units += points.units
        self.kinds += points.kinds

    def mark_uncertain(self, why: str) -> None:
        """Good readings become `uncertain` and every reading that is not `bad` gets `why` added to its reason."""
        quality, reasons = self.quality, self.reasons
        for i, code in enumerate(quality):
            if code == _BAD:
                continue
            quality[i] = _UNCERTAIN
            before = reasons.get(i)
            reasons[i] = why if not before else f"{before}; {why}"[:200]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """The readings as drafts (one dict each, with aware datetimes), as the other pollers emit them."""
        times: dict[int, Any] = {}
        for i, ((device, point), unit, kind, value, code, src, gw) in enumerate(zip(
                self.keys, self.units, self.kinds, self.values, self.quality, self.source_us, self.gateway_us)):
            for us in (src, gw):
                if us not in times:
                    times[us] = EPOCH + timedelta(microseconds=us)
            yield {"device": device, "point": point, "value": None if math.isnan(value) else value, "unit": unit,
                   "kind": kind, "quality": QUALITY[code], "reason": self.reasons.get(i),
                   "source_ts": times[src], "gateway_ts": times[gw]}
