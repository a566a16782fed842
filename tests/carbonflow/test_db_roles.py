"""The two database roles: the services' role owns nothing and cannot switch off the append-only triggers;
migrations run as the owner and grant it what the services do (carbonflow/db/roles.py, docs/database.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from carbonflow.cli import main
from carbonflow.db import DatabaseRoleError, ensure_login_role, migrate, with_role
from carbonflow.embedded.postgres import EmbeddedPostgres
from carbonflow.settings import load_settings
from tests.conftest import _with_dbname, migrated_database, owner_url

# every way the tester switched the audit log's append-only trigger off, or got around it, and the answer
_OWNER_ONLY = "must be owner of table audit_log"
_NO_PRIVILEGE = "permission denied for table audit_log"
_DISARMING = {
    "ALTER TABLE audit_log DISABLE TRIGGER ALL": _OWNER_ONLY,
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only": _OWNER_ONLY,
    "DROP TRIGGER audit_log_append_only ON audit_log": "must be owner of relation audit_log",
    "SET session_replication_role = replica": 'permission denied to set parameter "session_replication_role"',
    "ALTER TABLE audit_log OWNER TO CURRENT_USER": _OWNER_ONLY,
    "DROP TABLE audit_log": _OWNER_ONLY,
    "TRUNCATE audit_log": _NO_PRIVILEGE,
    "UPDATE audit_log SET action = 'tampered'": _NO_PRIVILEGE,
    "DELETE FROM audit_log": _NO_PRIVILEGE,
}
_DISARMING_IDS = ["disable-all", "disable-named", "drop-trigger", "replication-role", "take-ownership", "drop-table",
                  "truncate", "update", "delete"]


def _refused(url: str, statement: str) -> str:
    """The error PostgreSQL answers `statement` with, as `url`'s role; fails the test when it is carried out."""
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege) as err:
        conn.execute(statement)  # type: ignore[arg-type]
    return str(err.value)


@pytest.mark.parametrize(("statement", "answer"), _DISARMING.items(), ids=_DISARMING_IDS)
def test_the_services_role_cannot_switch_off_or_get_around_the_audit_logs_trigger(database_url: str, statement: str,
                                                                                 answer: str) -> None:
    assert answer in _refused(database_url, statement)


def test_the_services_role_owns_nothing_and_may_not_truncate_or_make_triggers(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        owned = conn.execute("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                             " WHERE n.nspname = 'public' AND pg_has_role(c.relowner, 'USAGE')").fetchall()
        extra = conn.execute(
            "SELECT relname, p FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,"
            " unnest(ARRAY['TRUNCATE', 'TRIGGER', 'REFERENCES']) p WHERE n.nspname = 'public' AND c.relkind IN"
            " ('r', 'p') AND has_table_privilege(c.oid, p)").fetchall()
        schema = conn.execute("SELECT has_schema_privilege('public', 'CREATE'), rolsuper FROM pg_roles"
                              " WHERE rolname = current_user").fetchone()
    assert (owned, extra, schema) == ([], [], (False, False))


def test_the_services_role_may_only_read_and_add_to_the_append_only_tables(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rights = conn.execute(
            "SELECT DISTINCT array_agg(p ORDER BY p) FILTER (WHERE has_table_privilege(c.oid, p))"
            " FROM pg_trigger t JOIN pg_proc f ON f.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid,"
            " unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p"
            " WHERE f.proname = 'cf_refuse_change' GROUP BY c.oid").fetchall()
        tables = conn.execute("SELECT count(DISTINCT tgrelid) FROM pg_trigger t JOIN pg_proc f ON f.oid = t.tgfoid"
                              " WHERE f.proname = 'cf_refuse_change'").fetchone()[0]  # type: ignore[index]
    assert (rights, tables >= 6) == ([(["INSERT", "SELECT"],)], True)


@pytest.fixture
def scratch(postgres_server: str) -> Iterator[tuple[str, str]]:
    """A migrated database of the test's own (its schema is changed): (application URL, owner URL)."""
    with migrated_database(postgres_server, "cf_roles") as url:
        yield url, owner_url(url)


def test_a_later_migrations_tables_are_granted_and_its_append_only_ones_kept_so(scratch: tuple[str, str]) -> None:
    app, owner = scratch
    role = psycopg.conninfo.conninfo_to_dict(app)["user"]
    with psycopg.connect(owner) as conn:
        # what a migration of another number would do
        conn.execute("CREATE TABLE later_notes (id serial PRIMARY KEY, body text NOT NULL)")
        conn.execute("CREATE TABLE later_ledger (id serial PRIMARY KEY, body text NOT NULL)")
        conn.execute("SELECT cf_make_append_only('later_ledger', 'is append-only')")
        conn.commit()
        migrate(conn, app_role=role)  # type: ignore[arg-type]
    with psycopg.connect(app, autocommit=True) as conn:
        for table in ("later_notes", "later_ledger"):
            conn.execute(f"INSERT INTO {table} (body) VALUES ('x')")  # type: ignore[arg-type]
        conn.execute("UPDATE later_notes SET body = 'y'")
        conn.execute("DELETE FROM later_notes")
    assert "permission denied for table later_ledger" in _refused(app, "UPDATE later_ledger SET body = 'y'")
    assert "permission denied for table later_ledger" in _refused(app, "DELETE FROM later_ledger")


def test_retention_drops_and_creates_partitions_for_the_services_role(scratch: tuple[str, str]) -> None:
    app, _owner = scratch
    with psycopg.connect(app, autocommit=True) as conn:
        made = conn.execute("SELECT cf_ensure_month_partitions(now() + interval '2 years', 0, 0)").fetchone()[0]  # type: ignore[index]
        dropped = conn.execute("SELECT cf_drop_month_partitions('readings', now() + interval '3 years')").fetchall()
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="audit_log has no monthly partitions"):
            conn.execute("SELECT cf_drop_month_partitions('audit_log', now())")
    assert (made, any(name.startswith("readings_") for (name,) in dropped)) == (3, True)


@pytest.mark.parametrize("case", ["missing", "the-owner", "superuser", "member-of-owner"])
def test_migrate_refuses_a_services_role_that_could_act_as_the_owner(scratch: tuple[str, str],
                                                                     postgres_server: str, case: str) -> None:
    _app, owner = scratch
    owner_role = psycopg.conninfo.conninfo_to_dict(owner).get("user") or "postgres"
    role = f"cf_roles_{case.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        if case == "superuser":
            admin.execute(f'CREATE ROLE "{role}" LOGIN SUPERUSER')  # type: ignore[arg-type]
        elif case == "member-of-owner":
            admin.execute(f'CREATE ROLE "{role}" LOGIN IN ROLE "{owner_role}"')  # type: ignore[arg-type]
    expected = {"missing": "does not exist: create it first", "the-owner": "both log in as",
                "superuser": "is a superuser", "member-of-owner": "is a member of the owner role"}[case]
    try:
        with psycopg.connect(owner) as conn, pytest.raises(DatabaseRoleError, match=expected):
            migrate(conn, app_role=owner_role if case == "the-owner" else role)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')  # type: ignore[arg-type]


@pytest.mark.parametrize(("env", "message"), [
    ({"MIGRATION_DATABASE_URL": "postgresql://owner@db/cf"}, "MIGRATION_DATABASE_URL is set but DATABASE_URL is not"),
    ({"MIGRATION_DATABASE_URL": "mysql://owner@db/cf", "DATABASE_URL": "postgresql://app@db/cf"},
     "MIGRATION_DATABASE_URL must start with postgresql://"),
    ({"MIGRATION_DATABASE_URL": "postgresql://cf@db/cf", "DATABASE_URL": "postgresql://cf@db/cf"},
     "both log in as 'cf'"),
    ({"MIGRATION_DATABASE_URL": "postgresql://owner@db/cf", "DATABASE_URL": "postgresql://db/cf"},
     "DATABASE_URL names no user"),
    ({"MIGRATION_DATABASE_URL": "postgresql://owner@db/cf", "DATABASE_URL": "postgresql://app@db/other"},
     "must reach the same database; they differ in dbname ('other' and 'cf')"),
    ({"MIGRATION_DATABASE_URL": "postgresql://owner@db:5433/cf", "DATABASE_URL": "postgresql://app@db2/cf"},
     "they differ in host ('db2' and 'db'), port (None and '5433')"),
])
def test_the_two_database_urls_must_be_two_roles_of_one_database(
        env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("DATABASE_URL", "MIGRATION_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings()
    assert main(["db", "migrate"]) == 2
    assert message in capsys.readouterr().err


def test_db_migrate_as_the_owner_grants_the_services_role_from_database_url(
        postgres_server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    name = f"cf_roles_cli_{uuid.uuid4().hex[:10]}"
    role = f"{name}_app"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        ensure_login_role(admin, role)
    try:
        owner = _with_dbname(postgres_server, name)
        info = psycopg.conninfo.conninfo_to_dict(owner)
        url = f"postgresql://{{}}@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{name}"
        monkeypatch.setenv("MIGRATION_DATABASE_URL", url.format(info.get("user", "postgres")))
        monkeypatch.setenv("DATABASE_URL", url.format(role))
        assert main(["db", "migrate"]) == 0
        assert f"application role {role} granted its privileges" in capsys.readouterr().out
        with psycopg.connect(url.format(role), autocommit=True) as conn:
            conn.execute("INSERT INTO audit_log (actor_kind, action, target) VALUES ('system', 'probe', 'cli')")
        assert "must be owner of table audit_log" in _refused(url.format(role),
                                                              "ALTER TABLE audit_log DISABLE TRIGGER ALL")
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')  # type: ignore[arg-type]


def test_db_migrate_with_one_url_says_the_services_would_own_the_tables(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import carbonflow.db

    monkeypatch.delenv("MIGRATION_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/never")

    def _unreachable(*args: object, **kwargs: object) -> None:
        raise RuntimeError("PostgreSQL at postgresql://postgres@127.0.0.1:1/never not reachable")

    monkeypatch.setattr(carbonflow.db, "connect_with_retry", _unreachable)
    with pytest.raises(RuntimeError, match="not reachable"):
        main(["db", "migrate"])
    assert "MIGRATION_DATABASE_URL is not set, so DATABASE_URL's role runs the migrations" in capsys.readouterr().err


@pytest.mark.timeout(120)
def test_the_embedded_servers_services_role_cannot_switch_off_the_audit_logs_trigger(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pgdata")
    owner = pg.start()
    try:
        app = pg.app_url()
        with psycopg.connect(owner) as conn:
            migrate(conn, app_role=EmbeddedPostgres.APP_ROLE)
        with psycopg.connect(app, autocommit=True) as conn:
            conn.execute("INSERT INTO audit_log (actor_kind, action, target) VALUES ('system', 'probe', 'embedded')")
            who = conn.execute("SELECT current_user").fetchone()[0]  # type: ignore[index]
        answers = {statement: _refused(app, statement) for statement in _DISARMING}
        with psycopg.connect(owner) as conn:
            rows = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'probe'").fetchone()[0]  # type: ignore[index]
    finally:
        pg.stop()
    assert (who, rows, app == with_role(owner, EmbeddedPostgres.APP_ROLE)) == ("carbonflow_app", 1, True)
    assert [s for s, answer in _DISARMING.items() if answer not in answers[s]] == []
