"""Who may publish and what was already accepted: the gateway registry view and the sequence ledger."""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["SequenceLedger", "GatewayAdmission", "RefreshedView"]

log = logging.getLogger("ingest.admission")
T = TypeVar("T")


class SequenceLedger:
    """Per gateway, the merged ranges of sequence numbers already forwarded to Kafka."""

    def __init__(self) -> None:
        self._ranges: dict[str, list[list[int]]] = {}

    def covers(self, gateway: str, first: int, last: int) -> bool:
        """True when every number in [first, last] was accepted before (a replay)."""
        ranges = self._ranges.get(gateway, [])
        i = bisect.bisect_right(ranges, [first, float("inf")]) - 1
        return i >= 0 and ranges[i][0] <= first and last <= ranges[i][1]

    def record(self, gateway: str, first: int, last: int) -> None:
        ranges = self._ranges.setdefault(gateway, [])
        i = bisect.bisect_left(ranges, [first, first])
        ranges.insert(i, [first, last])
        merged: list[list[int]] = []
        for lo, hi in ranges:
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self._ranges[gateway] = merged


class RefreshedView(Generic[T]):
    """A view of the registry, reloaded at most every `refresh_s` seconds; on failure the last one is kept."""

    def __init__(self, load: Callable[[], T], empty: T, refresh_s: float, what: str) -> None:
        self._load = load
        self._refresh_s = refresh_s
        self._what = what
        self._view = empty
        self._loaded_at = -float("inf")
        self.loaded = False  # True once the registry answered at least once

    def refresh_if_due(self) -> bool:
        """Reload when due; on failure keep the last known view and log a warning (once per refresh interval
        while the registry stays unavailable). True when the view was reloaded."""
        if time.monotonic() - self._loaded_at < self._refresh_s:
            return False
        reloaded = False
        try:
            self._view = self._load()
            self.loaded = reloaded = True
        # BLE001 does not fit: the loader is injected and may fail any way (driver, network, query); every failure
        # must keep the last known view (a crash here would stop admission altogether), and it is logged
        except Exception as exc:  # noqa: BLE001
            log.warning("registry unavailable (%s); using the last known %s", exc, self._what)
        self._loaded_at = time.monotonic()
        return reloaded


class GatewayAdmission(RefreshedView[set[str]]):
    """The set of active gateways, reloaded from the registry at most every `refresh_s` seconds."""

    def __init__(self, load: Callable[[], set[str]], refresh_s: float = 10.0) -> None:
        super().__init__(load, set(), refresh_s, "active gateways")

    def allows(self, gateway: str) -> bool:
        return gateway in self._view

    @property
    def active(self) -> frozenset[str]:
        """The last known active gateways."""
        return frozenset(self._view)
