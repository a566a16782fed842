"""Start child processes with a log prefix each, and stop every one of them on request."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

__all__ = ["Child", "Supervisor"]

_STOP_GRACE_S = 6.0
# terminal control sequences (faust's spinner hides and shows the cursor): meaningless in a prefixed log
_TERMINAL_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# exit codes of a child that ended because stop_all asked it to: cleanly, or by the SIGTERM / SIGINT itself
_STOPPED_BY_US = frozenset({0, -signal.SIGTERM, -signal.SIGINT, 128 + signal.SIGTERM, 128 + signal.SIGINT})


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    on_line: Callable[[str], None] | None = None


class Supervisor:
    """Owns child processes: each in its own process group so nothing is left behind."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self._children: list[Child] = []
        self._pumps: list[threading.Thread] = []
        self._out = out
        self._lock = threading.Lock()
        self._stopping = False  # set by stop_all: from then on a child ending by our signal is no news
        width = 10
        self._width = width

    def log(self, name: str, line: str) -> None:
        with self._lock:
            if self._out.closed:  # the owner is gone (a test's captured output): the line has nowhere to go
                return
            self._out.write(f"{name:<{self._width}}| {line}\n")
            self._out.flush()

    def start(self, child: Child) -> Child:
        """Spawn a child with its output prefixed by its name."""
        env = {**os.environ, **child.env, "PYTHONUNBUFFERED": "1"}
        child.process = subprocess.Popen(
            child.argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._children.append(child)
        pump = threading.Thread(target=self._pump, args=(child,), daemon=True, name=f"log-{child.name}")
        pump.start()
        self._pumps.append(pump)
        return child

    def _pump(self, child: Child) -> None:
        assert child.process is not None and child.process.stdout is not None
        for raw in child.process.stdout:
            line = _TERMINAL_CONTROL.sub("", raw.decode("utf-8", "replace")).rstrip()
            if not line:
                continue  # blank, or nothing but control sequences: nothing to read in a prefixed log
            if child.on_line is not None:
                child.on_line(line)
            self.log(child.name, line)
        code = child.process.wait()
        if not (self._stopping and code in _STOPPED_BY_US):
            self.log(child.name, f"exited with code {code}")

    @property
    def children(self) -> list[Child]:
        return list(self._children)

    def failed(self) -> list[Child]:
        """Children that have exited."""
        return [c for c in self._children if c.process is not None and c.process.poll() is not None]

    def stop_all(self, grace_s: float = _STOP_GRACE_S) -> None:
        """Stop the children newest first, each before the next (a client before the server it talks to, so the
        edge agent never sees its OPC-UA server vanish): SIGTERM its process group, wait up to `grace_s`, then
        SIGKILL what is left. An exit caused by the stop is not reported; any other exit code is."""
        self._stopping = True
        for child in reversed(self._children):
            assert child.process is not None
            _signal_group(child, signal.SIGTERM)
            try:
                child.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.log(child.name, "did not stop in time: killing")
            _signal_group(child, signal.SIGKILL)
            try:
                child.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        for pump in self._pumps:  # a child's last lines are written before this returns, not after
            pump.join(timeout=2)


def _signal_group(child: Child, sig: signal.Signals) -> None:
    if child.process is None:
        return
    try:
        os.killpg(child.process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
