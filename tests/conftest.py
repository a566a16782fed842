"""Shared fixtures: real servers on loopback (PostgreSQL, Kafka-protocol broker, MQTT broker with TLS).

PostgreSQL: $CARBONFLOW_TEST_DATABASE_URL, else the machine's server on
127.0.0.1:5432 (database `test`), else an embedded pgserver. Each test session
gets its own fresh database, dropped at the end. Its role (which needs CREATEDB
and CREATEROLE) migrates, and so owns the tables; services and tests log in as an
application role of the database's own, as in production (docs/database.md).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from carbonflow import webbuild
from carbonflow.certs import ensure_dev_pki
from carbonflow.embedded.kafka import tansu_command
from carbonflow.embedded.mqtt import INGEST_IDENTITY, plan_mqtt_broker
from carbonflow.topics import MQTT_ROOT

_LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout_s: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before opening port {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def stop_process(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """Stop a server a fixture started: SIGTERM for a clean exit, SIGKILL if it has not exited within
    `timeout_s`, and reap it either way so no zombie outlives the fixture."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout_s)


def _server_url() -> tuple[str, object | None]:
    explicit = os.environ.get("CARBONFLOW_TEST_DATABASE_URL")
    if explicit:
        return explicit, None
    try:
        with psycopg.connect(_LOCAL_PG, connect_timeout=2):
            return _LOCAL_PG, None
    except psycopg.OperationalError:
        pass
    from carbonflow.embedded.postgres import EmbeddedPostgres

    embedded = EmbeddedPostgres(Path(os.environ.get("TMPDIR", "/tmp")) / f"cf-test-pg-{os.getpid()}")
    return embedded.start(), embedded


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    url, embedded = _server_url()
    yield url
    if embedded is not None:
        embedded.stop()  # type: ignore[attr-defined]


def _with_dbname(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


_OWNER_URLS: dict[str, str] = {}


def owner_url(app_url: str) -> str:
    """The owner's URL of a database that migrated_database made, from its application role's URL: for what
    the services may not do (the append-only triggers' hold on the owner itself, rebuilding indexes)."""
    return _OWNER_URLS[app_url]


@contextlib.contextmanager
def migrated_database(server: str, prefix: str) -> Iterator[str]:
    """A new database on `server`, migrated by the server's role, dropped on exit; yields the URL of the
    database's own application role, `<database>_app`, which owns nothing (carbonflow/db/roles.py).

    Roles belong to the whole server and sessions run in parallel: one role per database keeps them apart,
    and it is dropped with its database.
    """
    from carbonflow.db.migrate import migrate
    from carbonflow.db.roles import ensure_login_role, with_role

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    role = f"{name}_app"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        ensure_login_role(admin, role)
    url = None
    try:
        owner = _with_dbname(server, name)
        with psycopg.connect(owner) as conn:
            migrate(conn, app_role=role)
        url = with_role(owner, role)
        _OWNER_URLS[url] = owner
        yield url
    finally:
        _OWNER_URLS.pop(url or "", None)
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture(scope="session")
def database_url(postgres_server: str) -> Iterator[str]:
    """A fresh, migrated database for this test session."""
    with migrated_database(postgres_server, "cf_test") as url:
        yield url


@pytest.fixture(scope="session")
def owner_database_url(database_url: str) -> str:
    """The session database's URL for its owner, the role that migrated it."""
    return owner_url(database_url)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """An in-memory tansu broker on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen(tansu_command("127.0.0.1", port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc=proc)
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict:
    # one gateway per test that counts sequence numbers: they are per gateway and start at 0 with each spool
    gateways = ["gw-test", "gw-chaos", "gw-dead", "gw-kill", "gw-burst", "gw-health", "gw-fallback", "gw-metrics",
                "gw-backup", "gw-pgrestart"]
    return ensure_dev_pki(tmp_path_factory.mktemp("certs"), [*gateways, "rogue-gw", INGEST_IDENTITY])


@pytest.fixture(scope="session")
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory, pki: dict) -> Iterator[str]:
    """A TLS MQTT broker (Mosquitto if installed, else amqtt) requiring client certificates."""
    port = free_port()
    plan = plan_mqtt_broker(tmp_path_factory.mktemp("mqtt"), "127.0.0.1", port, pki["server"], MQTT_ROOT)
    log = tmp_path_factory.mktemp("mqtt-log") / "broker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(plan.argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc=proc)
        yield plan.url
    finally:
        stop_process(proc)


@pytest.fixture(scope="session")
def web_app() -> Path:
    """The built web app (api/web_dist), built now when its inputs changed; a failure says how to get Node."""
    try:
        webbuild.build()
    except (webbuild.NodeMissing, webbuild.BuildFailed) as exc:
        pytest.fail(f"the web app could not be built: {exc}", pytrace=False)
    return webbuild.DIST
