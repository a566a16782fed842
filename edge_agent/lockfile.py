"""One agent per spool: a lock file next to the spool, held (flock) while the agent runs.

The kernel releases the lock when the process dies, even by SIGKILL, so a
stale file never blocks a restart. The file also tells `carbonflow edge
status` the running agent's pid and metrics address.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from edge_agent.errors import AgentRunningError

__all__ = ["SpoolLock", "lock_path", "running_agent"]

_ACQUIRE_WAIT_S = 2.0  # `edge status` holds the lock for a moment while probing


def lock_path(spool_path: Path) -> Path:
    return spool_path.with_name(spool_path.name + ".lock")


class SpoolLock:
    """Exclusive lock on `<spool>.lock`; raises AgentRunningError when another agent holds it."""

    def __init__(self, spool_path: Path) -> None:
        self.path = lock_path(spool_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + _ACQUIRE_WAIT_S
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    holder = _read(self.path)
                    os.close(self._fd)
                    self._fd = None
                    raise AgentRunningError(
                        f"another edge agent (pid {holder.get('pid', '?')}) runs on spool {spool_path}"
                    ) from None
                time.sleep(0.05)

    def describe(self, **info: Any) -> None:
        """Write who holds the lock (pid plus `info`) into the lock file."""
        if self._fd is None:
            return
        data = json.dumps({"pid": os.getpid(), "since": time.time(), **info}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def running_agent(spool_path: Path) -> dict[str, Any] | None:
    """What the lock file says about the agent running on this spool, or None when none runs."""
    path = lock_path(spool_path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
