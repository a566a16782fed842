"""The TimescaleDB tier: one PGlite TimescaleDB server per session (tests/timescale/server.py), migrated once.

The server is set up as docs/database.md asks of an operator: the superuser creates the owner and the
application roles and gives the owner the database; the owner runs `migrate`, whose
002_timeseries.timescale.sql creates the extension (trusted, so the database's owner may), and grants the
application role its privileges. Tests then act as either role with `SET ROLE`: every client shares the
server's one session, so the role is the session's, not the login's.

Tests share the database: each seeds its own devices and points (names from its own test) and asserts on
them only, and tests that drop chunks seed the chunks they drop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from carbonflow.db.migrate import migrate
from carbonflow.db.roles import ensure_login_role
from tests.timescale.server import connect, start_server

OWNER, APP = "cf_ts_owner", "cf_ts_app"


@dataclass(frozen=True)
class TimescaleServer:
    """The migrated server: its conninfo, and what the one run of `migrate` did."""

    url: str
    applied: list[str]
    warnings: list[str]  # WARNING messages the server sent while migrating
    jobs: list[tuple[str, str, dict]]  # (procedure, relation, config) of each policy just after migrating


_POLICIES = ("SELECT proc_name::text, hypertable_name::text, config FROM timescaledb_information.jobs"
             " WHERE hypertable_name IS NOT NULL ORDER BY 1, 2")


@pytest.fixture(scope="session")
def timescale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimescaleServer]:
    log = tmp_path_factory.mktemp("timescale") / "server.log"
    with start_server(log) as url:
        with connect(url) as conn:
            database = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
            ensure_login_role(conn, OWNER)
            ensure_login_role(conn, APP)
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database),
                                                                        sql.Identifier(OWNER)))
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(OWNER)))
            warnings: list[str] = []

            def keep_warnings(diagnostic: psycopg.errors.Diagnostic) -> None:
                if diagnostic.severity_nonlocalized == "WARNING":
                    warnings.append(diagnostic.message_primary or "")

            conn.add_notice_handler(keep_warnings)
            applied = migrate(conn, app_role=APP)
            jobs = [(p, r, c) for p, r, c in conn.execute(_POLICIES).fetchall()]
        yield TimescaleServer(url, applied, warnings, jobs)


@pytest.fixture
def conn(timescale: TimescaleServer) -> Iterator[psycopg.Connection]:
    """The test's connection, acting as the owner role (the role that migrated)."""
    with connect(timescale.url) as c:
        c.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(OWNER)))
        yield c


@contextmanager
def acting_as(conn: psycopg.Connection, role: str) -> Iterator[psycopg.Connection]:
    """`conn` acting as `role` for the block (the services' role: APP), then as the owner again."""
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    try:
        yield conn
    finally:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(OWNER)))
