"""Is the gateway's clock trustworthy? Readings carry gateway time stamps, so it matters.

`ClockSource.check()` returns a `ClockState`. `SystemClock` asks the kernel
through `adjtimex(2)` (via ctypes, read-only: `modes = 0`), which every NTP
daemon (chrony, ntpd, systemd-timesyncd) keeps up to date:

- the `STA_UNSYNC` status bit or the `TIME_ERROR` return value means no daemon
  disciplines the clock;
- `maxerror` is the kernel's bound on the clock's offset; above
  `clock_check.max_offset_s` the clock counts as unsynchronised too.

Where `adjtimex` is unavailable (not Linux), the marker file
`/run/systemd/timesync/synchronized` that systemd-timesyncd touches on
synchronisation is used; with neither, the state is unknown and readings are
left alone. `FakeClock` is the in-memory stand-in for tests.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from edge_agent.config import ClockCheck

__all__ = ["ClockSource", "ClockState", "FakeClock", "SystemClock", "interpret_timex", "make_clock"]

log = logging.getLogger("edge_agent.clock")

_STA_UNSYNC = 0x0040
_TIME_ERROR = 5
_TIMESYNCD_MARKER = Path("/run/systemd/timesync/synchronized")


@dataclass(frozen=True)
class ClockState:
    """`synchronised` is None when the state cannot be determined."""

    synchronised: bool | None
    max_error_s: float | None = None
    detail: str = ""


class ClockSource(Protocol):
    def check(self) -> ClockState: ...


def interpret_timex(rc: int, status: int, maxerror_us: int, max_offset_s: float) -> ClockState:
    """Turn an adjtimex result into a ClockState (pure, for tests)."""
    max_error_s = maxerror_us / 1e6
    if rc == _TIME_ERROR or status & _STA_UNSYNC:
        return ClockState(False, max_error_s, "kernel reports the clock unsynchronised (STA_UNSYNC)")
    if max_error_s > max_offset_s:
        return ClockState(False, max_error_s, f"offset bound {max_error_s:.3f} s exceeds max_offset_s {max_offset_s}")
    return ClockState(True, max_error_s, "synchronised")


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """struct timex of <sys/timex.h> (glibc and musl share the layout)."""

    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
        ("time", _Timeval), ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int), ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


class SystemClock:
    """The host clock's synchronisation state, from adjtimex or the timesyncd marker."""

    def __init__(self, max_offset_s: float) -> None:
        self.max_offset_s = max_offset_s
        self._adjtimex = None
        name = ctypes.util.find_library("c")
        if name:
            try:
                self._adjtimex = getattr(ctypes.CDLL(name, use_errno=True), "adjtimex", None)
            except OSError:
                self._adjtimex = None

    def check(self) -> ClockState:
        if self._adjtimex is not None:
            timex = _Timex()  # modes = 0: read only, needs no privilege
            rc = self._adjtimex(ctypes.byref(timex))
            if rc >= 0:
                return interpret_timex(rc, timex.status, timex.maxerror, self.max_offset_s)
        if _TIMESYNCD_MARKER.exists():
            return ClockState(True, None, f"{_TIMESYNCD_MARKER} present")
        return ClockState(None, None, "no adjtimex and no timesyncd marker: clock state unknown")


class FakeClock:
    """A clock whose state a test sets."""

    def __init__(self, synchronised: bool | None = True, max_error_s: float | None = None) -> None:
        self.state = ClockState(synchronised, max_error_s, "fake")

    def set(self, synchronised: bool | None, max_error_s: float | None = None) -> None:
        self.state = ClockState(synchronised, max_error_s, "fake")

    def check(self) -> ClockState:
        return self.state


def make_clock(check: ClockCheck) -> ClockSource:
    """The clock source a `clock_check` section asks for."""
    return SystemClock(check.max_offset_s)
