"""Ordered plain-SQL migrations, with a TimescaleDB or plain-PostgreSQL variant where they differ.

A migration is `NNN_name.sql`, or the pair `NNN_name.timescale.sql` /
`NNN_name.plain.sql`; the first is chosen when the timescaledb extension is
available on the server. Applied versions are recorded in `schema_migrations`.

Migrations run as the owner of the tables (MIGRATION_DATABASE_URL's role); given the application role
(DATABASE_URL's), `migrate` then grants it what the services need on every table, those of this run's
migrations included (carbonflow/db/roles.py).
"""

from __future__ import annotations

from importlib import resources

import psycopg

from carbon_domain.factors import FactorLibrary
from carbon_domain.monitoring import IndustryTable, RegionTree
from carbonflow.db.roles import grant_app_role

__all__ = ["migrate", "timescale_available", "seed_factors", "seed_monitoring_classes"]

_LOCK_ID = 0x0CF0_0001


def timescale_available(conn: psycopg.Connection) -> bool:
    """True when the server can load the timescaledb extension."""
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    return row is not None


def _migration_files(timescale: bool) -> list[tuple[str, str]]:
    folder = resources.files("carbonflow.db").joinpath("migrations")
    chosen: dict[str, tuple[str, str]] = {}
    variant = "timescale" if timescale else "plain"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        name = entry.name
        if not name.endswith(".sql"):
            continue
        parts = name[:-4].split(".")
        version = parts[0]
        if len(parts) == 2 and parts[1] != variant:
            continue
        chosen[version] = (name, entry.read_text(encoding="utf-8"))
    return [chosen[v] for v in sorted(chosen)]


def migrate(conn: psycopg.Connection, *, app_role: str | None = None) -> list[str]:
    """Apply pending migrations and seed the factor library as the connection's role, the owner; then grant
    `app_role`, when given, the application's privileges (raises DatabaseRoleError if that role is missing,
    is the owner or could act as one). Returns the names applied."""
    conn.autocommit = True
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
        applied = []
        for name, sql in _migration_files(timescale_available(conn)):
            version = name.split("_", 1)[0]
            if version in done:
                continue
            with conn.transaction():
                conn.execute(sql)  # type: ignore[arg-type]
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            applied.append(name)
        seed_factors(conn)
        seed_monitoring_classes(conn)
        if app_role is not None:
            grant_app_role(conn, app_role)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))


def seed_factors(conn: psycopg.Connection) -> int:
    """Insert the packaged default factor rows that the database does not have yet."""
    rows = FactorLibrary.default().rows()
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO factors (factor_id, key, value, unit, scope, scope_id, valid_from, valid_to, series, source)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (factor_id) DO NOTHING",
            [
                (r.factor_id, r.key, r.value, r.unit, r.scope, r.scope_id or "", r.valid_from, r.valid_to,
                 r.series, r.source)
                for r in rows
            ],
        )
    return len(rows)


def seed_monitoring_classes(conn: psycopg.Connection, regions: RegionTree | None = None) -> int:
    """Insert or rename the monitoring regions (the packaged demo ones, or `regions`) and the packaged industry
    classes; parents first, so that their references hold. Returns the number of regions written."""
    tree = regions if regions is not None else RegionTree.default()
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO monitoring_regions (code, name, name_en, level, parent_code, label)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,"
            " name_en = EXCLUDED.name_en, label = COALESCE(EXCLUDED.label, monitoring_regions.label)",
            [(r.code, r.name, r.name_en, r.level, r.parent, r.label)
             for r in sorted(tree, key=lambda r: (r.level, r.code))],
        )
        cur.executemany(
            "INSERT INTO monitoring_industries (code, level, parent_code, name, name_en, high_energy)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,"
            " name_en = EXCLUDED.name_en, high_energy = EXCLUDED.high_energy",
            [(c.code, c.level, c.parent, c.name, c.name_en, c.high_energy) for c in IndustryTable.default()],
        )
    return len(tree)
