"""The process supervisor behind `make run` and the end-to-end tests (carbonflow/supervisor.py)."""

from __future__ import annotations

import io
import sys
import time

from carbonflow.supervisor import Child, Supervisor

# prints a line when asked to stop, as faust and uvicorn do on SIGTERM
_SAYS_GOODBYE = ("import signal, sys, time\n"
                 "def stop(*_):\n    print('stopping now', flush=True)\n    sys.exit(0)\n"
                 "signal.signal(signal.SIGTERM, stop)\nprint('ready', flush=True)\ntime.sleep(60)\n")


def _started(supervisor: Supervisor, out: io.StringIO) -> None:
    supervisor.start(Child("child", [sys.executable, "-c", _SAYS_GOODBYE]))
    deadline = time.monotonic() + 10
    while "ready" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_stop_all_returns_after_the_childrens_last_lines_are_written() -> None:
    out = io.StringIO()
    supervisor = Supervisor(out)
    _started(supervisor, out)
    supervisor.stop_all()
    assert out.getvalue().splitlines()[-2:] == ["child     | stopping now", "child     | exited with code 0"]


def test_lines_after_the_output_was_closed_are_dropped_without_an_error() -> None:
    out = io.StringIO()
    supervisor = Supervisor(out)
    _started(supervisor, out)
    out.close()
    supervisor.stop_all()  # the child's goodbye has nowhere to go: no ValueError in the log thread
    assert supervisor.failed() == supervisor.children
