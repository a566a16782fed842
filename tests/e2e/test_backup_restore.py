"""The backup and restore drill: `carbonflow db backup` of a running pipeline's database, `carbonflow db restore`
into a fresh database, and every reading, emission, report snapshot and audit row found there."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from api.accounting.queries import create_snapshot
from api.auth.bootstrap import ensure_demo_users
from carbonflow.db.roles import ensure_login_role
from carbonflow.supervisor import Supervisor
from tests.conftest import free_port, owner_url
from tests.e2e.harness import (
    CLI,
    register_meter_site,
    start_cloud,
    start_plant,
    stored_seqs,
    wait_for,
    write_plant_files,
)

# its own gateway (one of the session's certificates): a gateway's sequence numbers start again at 0 with each
# new spool, so two tests sharing one would see each other's numbers as duplicates (tests/e2e/test_chaos.py did)
GATEWAY = "gw-backup"
DEVICE = "backup-meter"
ENTERPRISE = "backup-ent"
# what the drill must find again, each as a set of whole rows (md5 of the row's text)
KEPT = {
    "readings": "SELECT md5(r::text) FROM all_readings r",
    "emissions": "SELECT md5(e::text) FROM emissions e",
    "report snapshots": "SELECT md5(s::text) FROM report_snapshots s",
    "audit rows": "SELECT md5(a::text) FROM audit_log a",
}


def _url(conninfo: str, **change: str) -> str:
    """A postgresql:// URL (what DATABASE_URL takes) of a conninfo, with some parts changed."""
    info = {**psycopg.conninfo.conninfo_to_dict(conninfo), **change}
    return f"postgresql://{info['user']}@{info.get('host', '127.0.0.1')}:{info.get('port', 5432)}/{info['dbname']}"


def _rows(url: str) -> dict[str, set[str]]:
    with psycopg.connect(url) as conn:
        return {what: {r[0] for r in conn.execute(query)} for what, query in KEPT.items()}


def _table_digests(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and the sha256 of its sorted rows' text."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1")]
        digests = {}
        for table in tables:
            query = sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(table))
            rows = sorted(r[0] for r in conn.execute(query))
            digests[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return digests


@pytest.fixture
def fresh_database(postgres_server: str) -> Iterator[tuple[str, str]]:
    """An empty database and its own application role: (owner URL, application URL)."""
    name = f"cf_restore_{uuid.uuid4().hex[:10]}"
    role = f"{name}_app"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        ensure_login_role(admin, role)
    try:
        yield _url(postgres_server, dbname=name), _url(postgres_server, dbname=name, user=role)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def _carbonflow_db(action: str, file: Path, *, app: str | None, owner: str | None,
                   home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MIGRATION_DATABASE_URL")}
    env.update({"DATABASE_URL": app or "", "MIGRATION_DATABASE_URL": owner or ""})
    if home is not None:
        env["CARBONFLOW_HOME"] = str(home)
    return subprocess.run([*CLI, "db", action, "--file", str(file)], env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def _snapshot(app_url: str) -> None:
    """A submitted report's frozen snapshot, written by the API's own query."""
    async def write() -> None:
        async with await psycopg.AsyncConnection.connect(app_url, autocommit=True) as conn:
            await create_snapshot(conn, enterprise=ENTERPRISE, year=2026, created_by="drill",
                                  document={"total_tco2": 12.5, "sources": []}, document_sha256="a" * 64,
                                  pdf_sha256="b" * 64, xlsx_sha256="c" * 64)
    asyncio.run(write())


def test_a_running_pipelines_backup_restores_every_reading_emission_snapshot_and_audit_row(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict,
    fresh_database: tuple[str, str],
) -> None:
    source_app, source_owner = _url(database_url), _url(owner_url(database_url))
    target_owner, target_app = fresh_database
    modbus_port = free_port()
    files = write_plant_files(tmp_path, gateway=GATEWAY, device=DEVICE, modbus_port=modbus_port,
                              mqtt_url=mqtt_broker, cert=pki[GATEWAY], static=False)
    register_meter_site(database_url, enterprise=ENTERPRISE, site="backup-site", device=DEVICE, gateway=GATEWAY)
    with psycopg.connect(database_url, autocommit=True) as conn:
        ensure_demo_users(conn)  # audit rows of the accounts it creates
    _snapshot(database_url)
    archive = tmp_path / "drill.dump"
    log_path = files["log"]
    with open(log_path, "w") as log, psycopg.connect(database_url, autocommit=True) as conn:
        sup = Supervisor(out=log)
        try:
            start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker, pki=pki)
            start_plant(sup, files, modbus_port)
            wait_for("readings and emissions", lambda: len(stored_seqs(conn, GATEWAY)[0]) > 50 and conn.execute(
                "SELECT count(*) FROM emissions").fetchone()[0] > 0, 120, log_path)
            before = _rows(source_owner)
            dumped = _carbonflow_db("backup", archive, app=source_app, owner=source_owner)
            after = _rows(source_owner)  # the pipeline kept writing while pg_dump ran
        finally:
            sup.stop_all()
    assert dumped.returncode == 0, dumped.stderr
    assert "/" in dumped.stderr and "tables" in dumped.stderr  # the progress display

    restored = _carbonflow_db("restore", archive, app=target_app, owner=target_owner)
    assert restored.returncode == 0, restored.stderr
    found = _rows(target_owner)
    for what in KEPT:
        assert before[what], f"the drill had no {what} to back up"
        missing = before[what] - found[what]
        assert not missing, f"{len(missing)} of {len(before[what])} {what} stored before the backup are not restored"
        assert found[what] <= after[what], f"the restore holds {what} the source never had"
    with psycopg.connect(target_app) as conn:  # the application role can work on the restored database
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == len(found["audit rows"])


def test_a_quiet_database_restores_with_every_tables_count_and_checksum_equal(
    tmp_path: Path, database_url: str, fresh_database: tuple[str, str]
) -> None:
    source_app, source_owner = _url(database_url), _url(owner_url(database_url))
    target_owner, target_app = fresh_database
    archive = tmp_path / "quiet.dump"
    assert _carbonflow_db("backup", archive, app=source_app, owner=source_owner).returncode == 0
    restored = _carbonflow_db("restore", archive, app=target_app, owner=target_owner)
    assert restored.returncode == 0, restored.stderr
    assert _table_digests(target_owner) == _table_digests(source_owner)


def test_restore_refuses_a_database_that_already_holds_carbonflow(tmp_path: Path, database_url: str) -> None:
    source_app, source_owner = _url(database_url), _url(owner_url(database_url))
    archive = tmp_path / "again.dump"
    assert _carbonflow_db("backup", archive, app=source_app, owner=source_owner).returncode == 0
    refused = _carbonflow_db("restore", archive, app=source_app, owner=source_owner)
    assert refused.returncode == 2 and "restore into a new, empty database" in refused.stderr


def _embedded_audit_rows(home: Path, *, write: bool) -> set[str]:
    from carbonflow.db.migrate import migrate
    from carbonflow.embedded.postgres import EmbeddedPostgres

    server = EmbeddedPostgres(home / "pgdata")
    try:
        url = server.start()
        if write:
            with psycopg.connect(url) as conn:
                migrate(conn)
            with psycopg.connect(url, autocommit=True) as conn:
                ensure_demo_users(conn)
        with psycopg.connect(url) as conn:
            return {r[0] for r in conn.execute(KEPT["audit rows"])}
    finally:
        server.stop()


def test_the_embedded_server_is_backed_up_and_restored_without_database_url(tmp_path: Path) -> None:
    source, target = tmp_path / "home", tmp_path / "restored-home"
    audit = _embedded_audit_rows(source, write=True)
    archive = tmp_path / "embedded.dump"
    dumped = _carbonflow_db("backup", archive, app=None, owner=None, home=source)
    assert dumped.returncode == 0, dumped.stderr
    restored = _carbonflow_db("restore", archive, app=None, owner=None, home=target)
    assert restored.returncode == 0, restored.stderr
    assert audit and _embedded_audit_rows(target, write=False) == audit
