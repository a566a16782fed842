"""Scheduled sync of monitoring figures from an intermediate database (api/monitoring/sync.py), against this
machine's MariaDB (127.0.0.1:3306, root, no password) and PostgreSQL, each in a scratch database of its own.
Where MariaDB is not running the MariaDB tests skip and say so; the PostgreSQL source still runs."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.monitoring.sync import run_due
from tests.api.test_monitoring import credit_code, csv_file, stored, upload

MARIADB = ("127.0.0.1", 3306)
QUERY = ("SELECT credit_code, month, item, quantity, unit, updated_at AS watermark FROM figures"
         " WHERE %(watermark)s IS NULL OR updated_at > %(watermark)s ORDER BY updated_at")


def _mariadb_running() -> bool:
    try:
        with socket.create_connection(MARIADB, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def mariadb_source(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, object]]:
    """A scratch MariaDB database with a `figures` table; the env var name of its URL and a connection."""
    if not _mariadb_running():
        pytest.skip("MariaDB is not running on 127.0.0.1:3306: the MySQL/MariaDB sync source is not tested here "
                    "(the PostgreSQL source test still runs)")
    import pymysql

    name = f"cf_sync_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host=MARIADB[0], port=MARIADB[1], user="root", password="", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
        cur.execute(f"CREATE TABLE {name}.figures (credit_code char(18), month char(7), item varchar(32),"
                    " quantity double, unit varchar(32), updated_at datetime(6))")
    conn.select_db(name)
    env = f"CF_SYNC_{name.upper()}"
    monkeypatch.setenv(env, f"mysql://root@127.0.0.1:3306/{name}")
    try:
        yield env, conn
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE {name}")
        conn.close()


@pytest.fixture
def postgres_source(owner_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A scratch PostgreSQL database with a `figures` table: the env var name of its URL and the URL."""
    name = f"cf_sync_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(owner_database_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = psycopg.conninfo.make_conninfo(owner_database_url, dbname=name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE figures (credit_code text, month text, item text, quantity double precision,"
                     " unit text, updated_at timestamptz)")
    env = f"CF_SYNC_{name.upper()}"
    monkeypatch.setenv(env, url)
    try:
        yield env, url
    finally:
        with psycopg.connect(owner_database_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _create_source(client: TestClient, headers: dict[str, str], *, dialect: str, env: str, query: str) -> str:
    name = f"src-{uuid.uuid4().hex[:8]}"
    r = client.post("/api/v1/monitoring/sync-sources", headers=headers,
                    json={"name": name, "dialect": dialect, "url_env": env, "query": query})
    assert r.status_code == 201, r.text
    return name


def _run(client: TestClient, headers: dict[str, str], name: str) -> dict[str, object]:
    r = client.post(f"/api/v1/monitoring/sync-sources/{name}/run", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _registered(client: TestClient, headers: dict[str, str]) -> str:
    code = credit_code()
    assert upload(client, headers, csv_file(f"{code},Sync Co,330502,261,2024-12,coal,1,t")).status_code == 200
    return code


def test_mariadb_source_syncs_incrementally_by_its_watermark(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection,
        mariadb_source: tuple[str, object]) -> None:
    env, conn = mariadb_source
    code = _registered(api_app_client, admin_headers)
    with conn.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("INSERT INTO figures VALUES (%s, '2025-01', 'coal', 10, 't', '2025-02-03 10:00:00'),"
                    " (%s, '2025-02', 'coal', 12, 't', '2025-03-03 10:00:00')", (code, code))
    name = _create_source(api_app_client, admin_headers, dialect="mysql", env=env, query=QUERY)
    first = _run(api_app_client, admin_headers, name)
    with conn.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("INSERT INTO figures VALUES (%s, '2025-03', 'coal', 14, 't', '2025-04-03 10:00:00')", (code,))
    second = _run(api_app_client, admin_headers, name)
    assert ((first["rows"], first["stored"], first["watermark"]), (second["rows"], second["stored"]),
            [row[:3] for row in stored(db, code)]) == (
        (2, 2, "2025-03-03 10:00:00"), (1, 1),
        [("2024-12", "coal", 1.0), ("2025-01", "coal", 10.0), ("2025-02", "coal", 12.0), ("2025-03", "coal", 14.0)])


def test_failing_query_keeps_the_watermark_and_raises_the_alarm_until_a_run_succeeds(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection,
        postgres_source: tuple[str, str]) -> None:
    env, url = postgres_source
    code = _registered(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-01', 'heat', 100, 'GJ', '2025-02-01T00:00:00Z')", (code,))
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env=env,
                          query=QUERY.replace("%(watermark)s IS NULL", "%(watermark)s::timestamptz IS NULL")
                          .replace("> %(watermark)s", "> %(watermark)s::timestamptz"))
    ok = _run(api_app_client, admin_headers, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE figures RENAME TO figures_gone")
    failed = _run(api_app_client, admin_headers, name)
    alarm = db.execute("SELECT watermark, alarm_since IS NOT NULL, last_error FROM monitoring_sync_sources"
                       " WHERE name = %s", (name,)).fetchone()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE figures_gone RENAME TO figures")
    recovered = _run(api_app_client, admin_headers, name)
    cleared = db.execute("SELECT alarm_since FROM monitoring_sync_sources WHERE name = %s", (name,)).fetchone()
    assert ((ok["stored"], ok["watermark"]), failed["watermark"], alarm[:2], "figures" in alarm[2],  # type: ignore[index]
            (recovered["rows"], recovered["error"]), cleared) == (
        (1, "2025-02-01 00:00:00+00:00"), "2025-02-01 00:00:00+00:00", ("2025-02-01 00:00:00+00:00", True), True,
        (0, None), (None,))


def test_source_rows_are_checked_like_a_file_and_a_refused_row_stores_nothing_of_the_pull(
        api_app_client: TestClient, admin_headers: dict[str, str], postgres_source: tuple[str, str]) -> None:
    env, url = postgres_source
    code = _registered(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-01', 'coal', -4, 't', '2025-02-01T00:00:00Z'),"
                     " (%s, '2025-02', 'coal', 4, 't', '2025-03-01T00:00:00Z')", (code, code))
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env=env,
                          query=QUERY.replace("%(watermark)s IS NULL", "%(watermark)s::timestamptz IS NULL")
                          .replace("> %(watermark)s", "> %(watermark)s::timestamptz"))
    run = _run(api_app_client, admin_headers, name)
    assert (run["stored"], run["refused"], [e["field"] for e in run["errors"]], run["watermark"]) == (
        0, 1, ["quantity"], None)


def test_only_administrators_configure_sync_sources(api_app_client: TestClient,
                                                    role_headers: dict[str, dict[str, str]]) -> None:
    r = api_app_client.post("/api/v1/monitoring/sync-sources", headers=role_headers["government"],
                            json={"name": "gov", "dialect": "mysql", "url_env": "X", "query": QUERY})
    assert r.status_code == 403


def test_scheduler_runs_a_due_source_once_and_then_waits_for_its_interval(
        api_app_client: TestClient, admin_headers: dict[str, str], database_url: str,
        postgres_source: tuple[str, str]) -> None:
    env, url = postgres_source
    code = _registered(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-04', 'oil', 3, 't', '2025-05-01T00:00:00Z')", (code,))
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env=env,
                          query=QUERY.replace("%(watermark)s IS NULL", "%(watermark)s::timestamptz IS NULL")
                          .replace("> %(watermark)s", "> %(watermark)s::timestamptz"))
    first = [run for run in asyncio.run(run_due(database_url, once=True)) if run.source == name]
    again = [run for run in asyncio.run(run_due(database_url, once=True)) if run.source == name]
    assert ([(run.rows, run.stored) for run in first], again) == ([(1, 1)], [])


def test_failed_sync_raises_a_platform_alarm_in_the_alarms_list_and_a_good_run_clears_it(
        api_app_client: TestClient, admin_headers: dict[str, str], postgres_source: tuple[str, str]) -> None:
    env, url = postgres_source
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env=env,
                          query=QUERY.replace("%(watermark)s IS NULL", "%(watermark)s::timestamptz IS NULL")
                          .replace("> %(watermark)s", "> %(watermark)s::timestamptz"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE figures RENAME TO figures_gone")
    _run(api_app_client, admin_headers, name)
    _run(api_app_client, admin_headers, name)  # a second failure keeps the one alarm

    def alarms(state: str) -> list[tuple[str, str, str]]:
        listed = api_app_client.get("/api/v1/alarms", headers=admin_headers, params={"state": state, "limit": 1000})
        return [(a["rule"], a["source"], a["state"]) for a in listed.json()["alarms"]
                if a["device_id"] == f"monitoring_sync:{name}"]

    raised = alarms("active")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE figures_gone RENAME TO figures")
    _run(api_app_client, admin_headers, name)
    assert (raised, alarms("active"), alarms("all")) == (
        [("monitoring_sync_failed", "platform", "active")], [], [("monitoring_sync_failed", "platform", "cleared")])


PG_QUERY = (QUERY.replace("%(watermark)s IS NULL", "%(watermark)s::timestamptz IS NULL")
            .replace("> %(watermark)s", "> %(watermark)s::timestamptz"))


def _create_taking_valid(client: TestClient, headers: dict[str, str], *, dialect: str, env: str, query: str) -> str:
    name = f"src-{uuid.uuid4().hex[:8]}"
    r = client.post("/api/v1/monitoring/sync-sources", headers=headers,
                    json={"name": name, "dialect": dialect, "url_env": env, "query": query, "take_valid": True})
    assert r.status_code == 201, r.text
    return name


def test_duplicate_rows_of_one_pull_are_refused_by_row_and_nothing_of_the_pull_is_stored(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection,
        postgres_source: tuple[str, str]) -> None:
    env, url = postgres_source
    code = _registered(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-01', 'coal', 10, 't', '2025-02-01T00:00:00Z'),"
                     " (%s, '2025-02', 'coal', 12, 't', '2025-03-01T00:00:00Z'),"
                     " (%s, '2025-01', 'coal', 11, 't', '2025-03-02T00:00:00Z')", (code, code, code))
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env=env, query=PG_QUERY)
    refused = _run(api_app_client, admin_headers, name)
    record = db.execute("SELECT watermark, last_error, alarm_since IS NOT NULL, last_refused FROM"
                        " monitoring_sync_sources WHERE name = %s", (name,)).fetchone()
    assert record is not None
    figures_after_refusal = [row[:3] for row in stored(db, code)]
    with psycopg.connect(url, autocommit=True) as conn:  # the source's owner removes the repeated row
        conn.execute("DELETE FROM figures WHERE quantity = 11")
    corrected = _run(api_app_client, admin_headers, name)
    assert (refused["stored"], refused["refused"], refused["watermark"]) == (0, 1, None)
    assert [(e["line"], e["field"], "duplicate of line 1" in e["reason"]) for e in refused["errors"]] == [
        (3, "item", True)]
    assert (record[0], "1 row(s) refused" in record[1], record[2]) == (None, True, True)
    assert [(r["line"], r["credit_code"], r["month"], r["item"]) for r in record[3]] == [(3, code, "2025-01", "coal")]
    assert figures_after_refusal == [("2024-12", "coal", 1.0)]
    assert (corrected["stored"], corrected["refused"], corrected["watermark"], corrected["error"]) == (
        2, 0, "2025-03-01 00:00:00+00:00", None)
    assert db.execute("SELECT last_refused, alarm_since FROM monitoring_sync_sources WHERE name = %s",
                      (name,)).fetchone() == (None, None)


def test_a_source_taking_valid_rows_stores_them_but_keeps_its_watermark_before_a_refused_row(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection,
        mariadb_source: tuple[str, object]) -> None:
    env, conn = mariadb_source
    code = _registered(api_app_client, admin_headers)
    with conn.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("INSERT INTO figures VALUES (%s, '2025-01', 'coal', 10, 't', '2025-02-03 10:00:00'),"
                    " (%s, '2025-01', 'coal', 11, 't', '2025-02-04 10:00:00'),"
                    " (%s, '2025-02', 'coal', 12, 't', '2025-03-03 10:00:00')", (code, code, code))
    name = _create_taking_valid(api_app_client, admin_headers, dialect="mysql", env=env, query=QUERY)
    first = _run(api_app_client, admin_headers, name)
    after_first = [row[:3] for row in stored(db, code)]
    second = _run(api_app_client, admin_headers, name)  # reads the refused row again, now alone in its pull
    assert (first["stored"], first["refused"], [e["line"] for e in first["errors"]], first["watermark"]) == (
        2, 1, [2], "2025-02-03 10:00:00")
    assert after_first == [("2024-12", "coal", 1.0), ("2025-01", "coal", 10.0), ("2025-02", "coal", 12.0)]
    assert (second["rows"], second["stored"], second["refused"], second["watermark"]) == (
        2, 1, 0, "2025-03-03 10:00:00")
    assert [row[:3] for row in stored(db, code)] == [
        ("2024-12", "coal", 1.0), ("2025-01", "coal", 11.0), ("2025-02", "coal", 12.0)]


def test_the_postgresql_duplicate_rows_of_a_source_taking_valid_rows_are_refused_the_same_way(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection,
        postgres_source: tuple[str, str]) -> None:
    env, url = postgres_source
    code = _registered(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-05', 'heat', 5, 'GJ', '2025-06-01T00:00:00Z'),"
                     " (%s, '2025-05', 'heat', 6, 'GJ', '2025-06-02T00:00:00Z')", (code, code))
    name = _create_taking_valid(api_app_client, admin_headers, dialect="postgresql", env=env, query=PG_QUERY)
    run = _run(api_app_client, admin_headers, name)
    assert (run["stored"], run["refused"], [e["line"] for e in run["errors"]], run["watermark"]) == (
        1, 1, [2], "2025-06-01 00:00:00+00:00")


def test_a_pull_whose_figures_cannot_be_computed_keeps_the_watermark_and_raises_the_alarm(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection,
        postgres_source: tuple[str, str]) -> None:
    env, url = postgres_source
    code = _registered(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:  # no coal factor was valid in 2005
        conn.execute("INSERT INTO figures VALUES (%s, '2005-01', 'coal', 7, 't', '2025-02-01T00:00:00Z')", (code,))
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env=env, query=PG_QUERY)
    run = _run(api_app_client, admin_headers, name)
    state = db.execute("SELECT watermark, alarm_since IS NOT NULL FROM monitoring_sync_sources WHERE name = %s",
                       (name,)).fetchone()
    assert (run["stored"], run["watermark"], "cannot compute" in str(run["error"]), state) == (
        0, None, True, (None, True))
    assert [row[:2] for row in stored(db, code)] == [("2024-12", "coal")]


def test_a_pull_with_nothing_new_leaves_no_empty_batch_and_its_watermark_where_it_was(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection,
        postgres_source: tuple[str, str]) -> None:
    env, url = postgres_source
    code = _registered(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-07', 'heat', 5, 'GJ', '2025-08-01T00:00:00Z')", (code,))
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env=env, query=PG_QUERY)
    runs = [_run(api_app_client, admin_headers, name) for _ in range(3)]  # the 2nd and 3rd pulls find no new row
    batches = db.execute("SELECT count(*) FROM monitoring_batches WHERE origin = %s", (f"sync:{name}",)).fetchone()
    assert ([(r["rows"], r["stored"], r["error"]) for r in runs], batches) == (
        [(1, 1, None), (0, 0, None), (0, 0, None)], (1,))
    assert {r["watermark"] for r in runs} == {"2025-08-01 00:00:00+00:00"}


def test_a_file_with_no_figure_line_stores_nothing_and_makes_no_batch(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    before = db.execute("SELECT count(*) FROM monitoring_batches").fetchone()
    answer = upload(api_app_client, admin_headers, csv_file())
    after = db.execute("SELECT count(*) FROM monitoring_batches").fetchone()
    assert (answer.status_code, answer.json()["batch_id"], answer.json()["stored"], after) == (200, None, 0, before)


def _audited(db: psycopg.Connection, name: str, action: str) -> list[tuple[object, ...]]:
    return db.execute("SELECT before, after, detail FROM audit_log WHERE action = %s AND target = %s ORDER BY audit_id",
                      (action, f"monitoring_sync_source:{name}")).fetchall()


def test_an_administrator_changes_a_sources_settings_and_the_change_is_audited_with_before_and_after(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env="CF_SYNC_UNSET", query=PG_QUERY)
    query = PG_QUERY.replace("FROM figures", "FROM figures_v2")
    r = api_app_client.patch(f"/api/v1/monitoring/sync-sources/{name}", headers=admin_headers,
                             json={"interval_s": 900, "query": query, "enabled": False, "take_valid": True,
                                   "url_env": "CF_SYNC_OTHER"})
    listed = {s["name"]: s for s in api_app_client.get("/api/v1/monitoring/sync-sources",
                                                        headers=admin_headers).json()["sources"]}
    [(before, after, _)] = _audited(db, name, "monitoring.sync_source.change")
    fields = ("interval_s", "query", "enabled", "take_valid", "url_env")
    assert r.status_code == 200, r.text
    assert [listed[name][f] for f in fields] == [900, query, False, True, "CF_SYNC_OTHER"]
    assert ([before[f] for f in fields], [after[f] for f in fields]) == (  # type: ignore[index]
        [3600, PG_QUERY, True, False, "CF_SYNC_UNSET"], [900, query, False, True, "CF_SYNC_OTHER"])


@pytest.mark.parametrize(("body", "says"), [
    ({"query": "SELECT credit_code, month, item, quantity, unit, updated_at AS watermark FROM figures"},
     "%(watermark)s"),
    ({"interval_s": 59}, "interval_s"),
    ({"interval_s": None}, "cannot be null"),
    ({}, "nothing to change"),
    ({"dialect": "mysql"}, "dialect"),
    ({"url_env": "lower_case"}, "url_env"),
])
def test_a_change_is_refused_with_what_is_wrong_and_the_source_stays_as_it_was(
        api_app_client: TestClient, admin_headers: dict[str, str], body: dict[str, object], says: str) -> None:
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env="CF_SYNC_UNSET", query=PG_QUERY)
    r = api_app_client.patch(f"/api/v1/monitoring/sync-sources/{name}", headers=admin_headers, json=body)
    kept = next(s for s in api_app_client.get("/api/v1/monitoring/sync-sources", headers=admin_headers).json()["sources"]
                if s["name"] == name)
    assert (r.status_code, says in r.text, kept["interval_s"], kept["query"]) == (422, True, 3600, PG_QUERY)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("PATCH", "", {"interval_s": 600}),
    ("POST", "/watermark", {"watermark": None, "reason": "re-pull"}),
    ("POST", "/run", None),
])
def test_an_unknown_source_is_404_naming_it(api_app_client: TestClient, admin_headers: dict[str, str],
                                            method: str, path: str, body: dict[str, object] | None) -> None:
    r = api_app_client.request(method, f"/api/v1/monitoring/sync-sources/no-such-source{path}",
                               headers=admin_headers, json=body)
    assert (r.status_code, "no-such-source" in r.json()["detail"]) == (404, True)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "", None),
    ("PATCH", "/gov", {"interval_s": 600}),
    ("POST", "/gov/watermark", {"watermark": None, "reason": "re-pull"}),
    ("POST", "/gov/run", None),
])
def test_only_administrators_list_change_rewind_and_run_sync_sources(
        api_app_client: TestClient, role_headers: dict[str, dict[str, str]], method: str, path: str,
        body: dict[str, object] | None) -> None:
    r = api_app_client.request(method, f"/api/v1/monitoring/sync-sources{path}", headers=role_headers["government"],
                               json=body)
    assert (r.status_code, "monitoring_sync" in r.json()["detail"]) == (403, True)


def test_resetting_the_watermark_reads_the_source_again_and_is_audited_with_its_reason(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection,
        postgres_source: tuple[str, str]) -> None:
    env, url = postgres_source
    code = _registered(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-09', 'heat', 8, 'GJ', '2025-10-01T00:00:00Z')", (code,))
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env=env, query=PG_QUERY)
    first = _run(api_app_client, admin_headers, name)
    with psycopg.connect(url, autocommit=True) as conn:  # corrected in the source without touching updated_at
        conn.execute("UPDATE figures SET quantity = 9")
    unseen = _run(api_app_client, admin_headers, name)
    reset = api_app_client.post(f"/api/v1/monitoring/sync-sources/{name}/watermark", headers=admin_headers,
                                json={"watermark": None, "reason": "heat of 2025-09 corrected in the source"})
    again = _run(api_app_client, admin_headers, name)
    assert reset.status_code == 200, reset.text
    assert ((first["stored"], first["watermark"]), unseen["rows"], reset.json()["watermark"],
            (again["rows"], again["stored"], again["watermark"])) == (
        (1, "2025-10-01 00:00:00+00:00"), 0, None, (1, 1, "2025-10-01 00:00:00+00:00"))
    assert [row[:3] for row in stored(db, code) if row[0] == "2025-09"] == [("2025-09", "heat", 9.0)]
    assert _audited(db, name, "monitoring.sync_source.watermark") == [
        ({"watermark": "2025-10-01 00:00:00+00:00"}, {"watermark": None},
         {"reason": "heat of 2025-09 corrected in the source"})]


def test_a_watermark_reset_needs_a_reason(api_app_client: TestClient, admin_headers: dict[str, str]) -> None:
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env="CF_SYNC_UNSET", query=PG_QUERY)
    r = api_app_client.post(f"/api/v1/monitoring/sync-sources/{name}/watermark", headers=admin_headers,
                            json={"watermark": "2025-01-01"})
    assert (r.status_code, "reason" in r.text) == (422, True)


def test_a_watermark_reset_while_a_pull_runs_is_kept_and_the_next_run_pulls_again_from_it(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection,
        postgres_source: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from api.monitoring import sync

    env, url = postgres_source
    code = _registered(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-09', 'heat', 5, 'GJ', '2025-10-01T00:00:00Z')", (code,))
    name = _create_source(api_app_client, admin_headers, dialect="postgresql", env=env, query=PG_QUERY)
    pulled = sync.fetch_rows

    def reset_meanwhile(dialect: str, source_url: str, query: str, watermark: str | None) -> list[dict[str, object]]:
        rows = pulled(dialect, source_url, query, watermark)
        db.execute("UPDATE monitoring_sync_sources SET watermark = '2025-01-01 00:00:00+00' WHERE name = %s",
                   (name,))  # an administrator's reset, committed while the pull is in hand
        return rows

    monkeypatch.setattr(sync, "fetch_rows", reset_meanwhile)
    during = _run(api_app_client, admin_headers, name)
    monkeypatch.setattr(sync, "fetch_rows", pulled)
    after = _run(api_app_client, admin_headers, name)  # pulls the row again from the reset watermark
    assert ((during["stored"], during["watermark"]), (after["rows"], after["unchanged"], after["watermark"])) == (
        (1, "2025-01-01 00:00:00+00"), (1, 1, "2025-10-01 00:00:00+00:00"))
