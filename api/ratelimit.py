"""In-process token buckets, one per key (a user, a machine token, or a client address).

One process holds its own buckets: behind several API workers the effective
limit is the sum of theirs. A shared store (Redis, PostgreSQL) would replace
this class behind the same `take` method.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TokenBuckets"]


class TokenBuckets:
    """`rate_per_s` tokens flow into each bucket up to `burst`; a request takes one."""

    def __init__(self, rate_per_s: float, burst: int, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 50_000) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0.0 when the request may go ahead, else the seconds until a token is available."""
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - then) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self._max_keys:
                    self._forget_full(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate

    def _forget_full(self, now: float) -> None:
        # a bucket that has refilled is the same as no bucket: drop those to bound memory
        full = [k for k, (t, then) in self._buckets.items() if t + (now - then) * self._rate >= self._burst]
        for key in full:
            del self._buckets[key]
