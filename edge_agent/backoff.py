"""Retry pacing and log throttling shared by the pollers and the publisher.

`Backoff` is capped exponential backoff with "equal jitter": after the n-th
consecutive failure the base delay is ``min(max_s, initial_s * 2**(n-1))`` and
the delay actually used is drawn uniformly from ``[base * (1 - jitter), base]``.
Jitter keeps a fleet of gateways that lost the same broker from reconnecting
in lock-step when it comes back.

`ThrottledLog` logs a repeated problem once per interval and says how many
repeats it held back, so a dead device or broker does not flood the log.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["LOG_REPEAT_INTERVAL_S", "Backoff", "ThrottledLog"]

LOG_REPEAT_INTERVAL_S = 60.0


class Backoff:
    """Capped exponential delays with jitter; `reset` after a success."""

    def __init__(
        self,
        initial_s: float = 0.5,
        max_s: float = 30.0,
        *,
        jitter: float = 0.5,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not 0 < initial_s <= max_s:
            raise ValueError(f"backoff needs 0 < initial_s <= max_s, got {initial_s} and {max_s}")
        if not 0 <= jitter <= 1:
            raise ValueError(f"jitter is a fraction between 0 and 1, got {jitter}")
        self.initial_s = initial_s
        self.max_s = max_s
        self.jitter = jitter
        self.failures = 0
        self._rng = rng

    def base_delay(self, failures: int) -> float:
        """The delay before jitter after `failures` consecutive failures (0 for none)."""
        if failures <= 0:
            return 0.0
        # the exponent is capped so huge failure counts cannot overflow the float
        return min(self.max_s, self.initial_s * 2 ** min(failures - 1, 62))

    def next_delay(self) -> float:
        """Count one more failure and return how long to wait before the next attempt."""
        self.failures += 1
        base = self.base_delay(self.failures)
        return base * (1.0 - self.jitter * self._rng())

    def reset(self) -> int:
        """Forget the failures (after a success); returns how many there were."""
        failures, self.failures = self.failures, 0
        return failures


@dataclass
class _Entry:
    last_logged: float
    suppressed: int = 0


@dataclass
class ThrottledLog:
    """Log each problem (by key) at most once per `interval_s`; `resolved` says when it went away."""

    logger: logging.Logger
    interval_s: float = LOG_REPEAT_INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    _active: dict[str, _Entry] = field(default_factory=dict)

    def problem(self, key: str, message: str, *args: object, level: int = logging.WARNING) -> bool:
        """Log `message` unless the same key was logged less than `interval_s` ago; True if logged."""
        now = self.clock()
        entry = self._active.get(key)
        if entry is not None and now - entry.last_logged < self.interval_s:
            entry.suppressed += 1
            return False
        if entry is not None and entry.suppressed:
            message += " (repeated %d times since last logged)"
            args = (*args, entry.suppressed)
        self._active[key] = _Entry(now)
        self.logger.log(level, message, *args)
        return True

    def resolved(self, key: str, message: str, *args: object) -> bool:
        """Log `message` at INFO if the key had a logged problem, and forget it; True if logged."""
        if self._active.pop(key, None) is None:
            return False
        self.logger.info(message, *args)
        return True

    def active(self, key: str) -> bool:
        return key in self._active
