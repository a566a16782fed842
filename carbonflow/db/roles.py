"""The two database roles: the owner, which runs migrations, and the application role the services use.

The owner (MIGRATION_DATABASE_URL's user) creates and owns every table, function and sequence. The
application role (DATABASE_URL's user) owns nothing and gets only what the services do, re-granted by
`migrate` after every run so that tables of later migrations are covered too (and, for tables the owner
creates outside a migration, by its default privileges):

- SELECT, INSERT, UPDATE, DELETE on the tables and views;
- SELECT, INSERT only on the append-only tables (those with a `cf_refuse_change` trigger: the audit log,
  entered data, report snapshots) and SELECT only on `schema_migrations`;
- USAGE on the sequences (serial keys); TEMPORARY on the database (the stream sink's staging tables);
- EXECUTE on the few SECURITY DEFINER functions that do owner's work for it in a fixed way (`_DEFINER`:
  retention creating and dropping monthly partitions).

No TRUNCATE, TRIGGER, REFERENCES, DDL or ownership: as it owns no table it cannot `ALTER TABLE ... DISABLE
TRIGGER`, and as it is no superuser it cannot `SET session_replication_role`, so the append-only triggers
hold against it.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = ["DatabaseRoleError", "ensure_login_role", "grant_app_role", "role_of", "with_role"]

# SECURITY DEFINER functions the application role may call: each does one fixed piece of owner's work
# (retention's partitions) and checks its arguments itself. Re-asserted at every migrate, because a later
# migration's CREATE OR REPLACE FUNCTION would silently make one SECURITY INVOKER again.
_DEFINER = (
    "cf_ensure_month_partitions(timestamptz, int, int)",
    "cf_drop_month_partitions(text, timestamptz)",
    "cf_apply_timescale_retention(interval, interval, timestamptz, timestamptz)",
)
_APPEND_ONLY_TABLES = (
    "SELECT DISTINCT t.tgrelid::regclass::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
    " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE p.proname = 'cf_refuse_change' AND n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1"
)


class DatabaseRoleError(RuntimeError):
    """The application role is missing or could do an owner's work; the message says what to change."""


def role_of(url: str) -> str | None:
    """The user a connection URL (or key=value string) logs in as; None when it names none."""
    return conninfo_to_dict(url).get("user") or None  # type: ignore[return-value]


def with_role(url: str, role: str) -> str:
    """`url` logging in as `role`, without the old password (trust or a .pgpass entry supplies the new one)."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql"}:
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit(parts._replace(netloc=f"{quote(role, safe='')}@{host}"))
    info = conninfo_to_dict(url)
    info.pop("password", None)
    info["user"] = role
    return make_conninfo(**info)  # type: ignore[arg-type]


def ensure_login_role(conn: psycopg.Connection, role: str) -> None:
    """Create `role` as a plain login role (no superuser, no role or database creation) unless it exists.

    Roles belong to the whole server, and several databases on it may be set up at once: a concurrent
    creation of the same role is taken as success. For the embedded server and the tests; an operator
    creates the application role with a password (docs/database.md).
    """
    statement = sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
                        ).format(sql.Identifier(role))
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
        return
    try:
        with conn.transaction():
            conn.execute(statement)
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        pass  # another session created it between the check and here (UniqueViolation: the catalog's index)


def _check_app_role(conn: psycopg.Connection, role: str) -> None:
    row = conn.execute(
        "SELECT r.rolsuper, r.rolname = current_user, pg_has_role(r.oid, (SELECT oid FROM pg_roles"
        "  WHERE rolname = current_user), 'MEMBER')"
        " FROM pg_roles r WHERE r.rolname = %s", (role,)).fetchone()
    if row is None:
        raise DatabaseRoleError(
            f"the application role {role!r} (DATABASE_URL's user) does not exist: create it first, e.g."
            f" CREATE ROLE {role} LOGIN PASSWORD '...' (docs/database.md)")
    superuser, is_owner, member_of_owner = row
    if is_owner:
        raise DatabaseRoleError(
            f"DATABASE_URL and MIGRATION_DATABASE_URL both log in as {role!r}: the services would own the tables"
            " and could switch off the audit log's trigger; give DATABASE_URL a role of its own")
    if superuser:
        raise DatabaseRoleError(
            f"the application role {role!r} is a superuser, which may change any table and switch off"
            f" triggers: ALTER ROLE {role} NOSUPERUSER, or give DATABASE_URL another role")
    if member_of_owner:
        raise DatabaseRoleError(
            f"the application role {role!r} is a member of the owner role, whose rights it can use:"
            f" REVOKE the owner role from {role}")


def grant_app_role(conn: psycopg.Connection, role: str) -> list[str]:
    """Give `role` exactly the application's privileges on every table of the schema; return the
    append-only tables it may only read and insert into. Run by the owner, in one transaction, so that a
    running service never sees the grants half done."""
    _check_app_role(conn, role)
    app = sql.Identifier(role)
    with conn.transaction():
        append_only = [r[0] for r in conn.execute(_APPEND_ONLY_TABLES).fetchall()]
        statements = [
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(conn.info.dbname), app),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(app),
            # from nothing each time: a privilege granted by an older version must not linger
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(app),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(app),
            sql.SQL("REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM {}").format(app),
            sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}").format(app),
            sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(app),
            # tables the owner creates later (a partition, a table before the next migrate's grants)
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES"
                    " TO {}").format(app),
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {}").format(app),
        ]
        statements += [sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.SQL(table), app)
                       for table in append_only]  # regclass text: already quoted where needed
        for signature in _DEFINER:
            if conn.execute("SELECT to_regprocedure(%s)", (signature,)).fetchone()[0] is None:  # type: ignore[index]
                continue  # the other server variant's function
            function = sql.SQL(signature)  # a constant of this module
            statements += [
                # pg_catalog is searched first all the same; public first makes new partitions land there
                sql.SQL("ALTER FUNCTION {} SECURITY DEFINER SET search_path = public, pg_temp"
                        ).format(function),
                sql.SQL("REVOKE EXECUTE ON FUNCTION {} FROM PUBLIC").format(function),
                sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(function, app),
            ]
        for statement in statements:
            conn.execute(statement)
    return append_only
