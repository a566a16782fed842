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
    assert out.getvalue().splitlines()[-1] == "child     | stopping now"


def test_stop_all_stops_the_newest_child_first_and_reports_no_exit_it_caused() -> None:
    out = io.StringIO()
    supervisor = Supervisor(out)
    # the server ignores nothing (SIGTERM's default: exit code -15); the client takes a moment to finish
    server = ("import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    client = ("import signal, sys, time\n"
              "def stop(*_):\n    time.sleep(0.5)\n    print('client done', flush=True)\n    sys.exit(0)\n"
              "signal.signal(signal.SIGTERM, stop)\nprint('ready', flush=True)\ntime.sleep(60)\n")
    supervisor.start(Child("server", [sys.executable, "-c", server]))
    supervisor.start(Child("client", [sys.executable, "-c", client]))
    deadline = time.monotonic() + 10
    while out.getvalue().count("ready") < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    supervisor.stop_all()
    server_process = supervisor.children[0].process
    assert server_process is not None
    assert out.getvalue().splitlines()[-1] == "client    | client done"
    assert server_process.returncode == -15  # stopped, after the client, and not reported
    assert "exited with code" not in out.getvalue()


def test_a_child_that_fails_while_stopping_is_still_reported() -> None:
    out = io.StringIO()
    supervisor = Supervisor(out)
    failing = ("import signal, sys, time\n"
               "signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))\nprint('ready', flush=True)\ntime.sleep(60)\n")
    supervisor.start(Child("child", [sys.executable, "-c", failing]))
    deadline = time.monotonic() + 10
    while "ready" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    supervisor.stop_all()
    assert out.getvalue().splitlines()[-1] == "child     | exited with code 3"


def test_lines_after_the_output_was_closed_are_dropped_without_an_error() -> None:
    out = io.StringIO()
    supervisor = Supervisor(out)
    _started(supervisor, out)
    out.close()
    supervisor.stop_all()  # the child's goodbye has nowhere to go: no ValueError in the log thread
    assert supervisor.failed() == supervisor.children


def test_blank_lines_and_lines_of_nothing_but_terminal_control_sequences_are_not_logged() -> None:
    out = io.StringIO()
    supervisor = Supervisor(out)
    spinner = ("print('\\x1b[?25l\\x1b[?25h', flush=True); print(flush=True); print('\\x1b[?25h\\r', flush=True);"
               " print('\\x1b[1mready\\x1b[0m', flush=True)")
    supervisor.start(Child("child", [sys.executable, "-c", spinner]))
    deadline = time.monotonic() + 10
    while "exited" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert out.getvalue().splitlines() == ["child     | ready", "child     | exited with code 0"]
