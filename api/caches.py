"""Short-lived, in-process caches of the API's hot paths: shared answers and session lookups.

Both are per worker process and forget everything when `clear` is called, which the app does after every
write request it serves (see `api.main`). What may be stale, and for how long:

- `SharedCache`: an answer computed for one caller is given to every caller asking for the same key within
  `ttl_s`. The key must hold everything the answer depends on (the site, the caller's data scope, the
  parameters); the caller's right to see it is checked before the cache is asked.
- `SessionCache`: the database row behind a session token, for `ttl_s`. A session revoked by a request this
  worker serves (logout, password change, disabled account) is refused at once, because that request clears
  the cache; one revoked through another worker or directly in the database as soon as the database's
  revocation signal reaches this worker (`api.auth.revocations` clears the cache), and within `ttl_s` while it
  cannot listen.
  Expiry is checked on every request against the cached expiry time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["SessionCache", "SharedCache"]

T = TypeVar("T")


class SharedCache(Generic[T]):
    """Answers kept for `ttl_s` seconds by key; callers that miss the same key at once share one computation."""

    def __init__(self, ttl_s: float, *, max_keys: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_s
        self._max_keys = max_keys
        self._clock = clock
        self._answers: dict[Hashable, tuple[float, T]] = {}
        self._running: dict[Hashable, asyncio.Future[T]] = {}
        self._generation = 0

    @property
    def ttl_s(self) -> float:
        return self._ttl

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """The answer for `key`: a fresh cached one, the one being computed, or a new computation."""
        if self._ttl <= 0:
            return await compute()
        now = self._clock()
        found = self._answers.get(key)
        if found is not None and found[0] > now:
            return found[1]
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(self._compute(key, compute, self._generation))
            self._running[key] = running
        # a caller that goes away must not cancel the computation the others wait for
        return await asyncio.shield(running)

    async def _compute(self, key: Hashable, compute: Callable[[], Awaitable[T]], generation: int) -> T:
        try:
            answer = await compute()
        finally:
            if self._running.get(key) is asyncio.current_task():
                del self._running[key]
        # an answer computed across a write (clear) may predate it: give it to its waiters, keep it for no one else
        if generation == self._generation:
            if len(self._answers) >= self._max_keys:
                self._forget_expired()
            self._answers[key] = (self._clock() + self._ttl, answer)
        return answer

    def _forget_expired(self) -> None:
        now = self._clock()
        for key in [k for k, (expires, _) in self._answers.items() if expires <= now]:
            del self._answers[key]
        if len(self._answers) >= self._max_keys:
            self._answers.clear()

    def clear(self) -> None:
        """Forget every answer, and let no computation that is under way store its answer."""
        self._generation += 1
        self._answers.clear()
        self._running.clear()


class SessionCache:
    """Session rows by token digest, each for `ttl_s` seconds after it was read from the database."""

    def __init__(self, ttl_s: float, *, max_keys: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_s
        self._max_keys = max_keys
        self._clock = clock
        self._rows: dict[bytes, tuple[float, dict[str, Any]]] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """Take it before reading a row from the database and hand it to `put`."""
        return self._generation

    def get(self, digest: bytes) -> tuple[dict[str, Any], float] | None:
        """(row, seconds since it was read), or None when not cached or older than `ttl_s`."""
        found = self._rows.get(digest)
        if found is None:
            return None
        age = self._clock() - found[0]
        if age >= self._ttl:
            del self._rows[digest]
            return None
        return found[1], age

    def put(self, digest: bytes, row: dict[str, Any], *, generation: int) -> None:
        """Keep a row read while the cache was at `generation`; dropped if a clear came in between."""
        if self._ttl <= 0 or generation != self._generation:
            return
        if len(self._rows) >= self._max_keys:
            now = self._clock()
            for key in [k for k, (at, _) in self._rows.items() if now - at >= self._ttl]:
                del self._rows[key]
            if len(self._rows) >= self._max_keys:
                self._rows.clear()
        self._rows[digest] = (self._clock(), row)

    def clear(self) -> None:
        self._generation += 1
        self._rows.clear()
