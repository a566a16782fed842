"""First administrator and demo users, on a synchronous connection (API start-up and the demo supervisor).

At start-up the API calls `ensure_admin`: when no admin exists it creates one
named $CARBONFLOW_ADMIN_USER (default ``admin``) with $CARBONFLOW_ADMIN_PASSWORD,
or, without it, with a generated one-time password that is logged once and
must be changed at first login. Placeholder or weak passwords are refused
unless CARBONFLOW_ENV=development.

The demo calls `ensure_demo_users` and prints what it returns::

    with connect_with_retry(url) as conn:
        for creds in ensure_demo_users(conn).values():
            print(creds.role, creds.username, creds.password)
"""

from __future__ import annotations

import json
import logging
from typing import NamedTuple

import psycopg

from api.auth import security
from api.errors import BootstrapError
from api.settings import ApiSettings, load_api_settings

__all__ = ["DEMO_USERS", "DemoCredentials", "ensure_admin", "ensure_demo_users"]

log = logging.getLogger("carbonflow.api")
_LOCK_ID = 0x0CF0_0A11
DEMO_USERS = {
    "admin": "demo-admin",
    "government": "demo-government",
    "enterprise": "demo-enterprise",
    "auditor": "demo-auditor",
    "technician": "demo-technician",
}


class DemoCredentials(NamedTuple):
    role: str
    username: str
    password: str
    scope: str


def _audit(conn: psycopg.Connection, *, action: str, target: str, after: dict[str, object]) -> None:
    conn.execute(
        "INSERT INTO audit_log (actor_kind, action, target, after) VALUES ('system', %s, %s, %s::jsonb)",
        (action, target, json.dumps(after)),
    )


def ensure_admin(conn: psycopg.Connection, *, settings: ApiSettings | None = None) -> str | None:
    """Create the first administrator when none exists; return its generated one-time password, else None."""
    settings = settings or load_api_settings()
    username = settings.admin_username
    password = settings.admin_password
    generated = password is None
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            if conn.execute("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1").fetchone():
                return None
            if password is None:
                password = security.generate_password()
            else:
                problems = security.password_problems(password, username=username)
                if problems and settings.environment != "development":
                    raise BootstrapError(
                        "CARBONFLOW_ADMIN_PASSWORD rejected: " + "; ".join(problems)
                        + ". Set a strong password, or unset it to get a generated one-time password"
                        " (CARBONFLOW_ENV=development accepts weak ones)")
                if problems:
                    log.warning("api: weak administrator password accepted because CARBONFLOW_ENV=development")
            row = conn.execute(
                "INSERT INTO users (username, role, password_hash, must_change_password) VALUES (%s, 'admin', %s, %s)"
                " ON CONFLICT (username) DO NOTHING RETURNING user_id",
                (username, security.hash_password(password, n=settings.scrypt_n), generated),
            ).fetchone()
            if row is None:
                raise BootstrapError(f"no administrator exists but user {username!r} does (another role);"
                                     " set CARBONFLOW_ADMIN_USER to a free name")
            conn.execute("INSERT INTO password_history (user_id, password_hash) SELECT user_id, password_hash"
                         " FROM users WHERE user_id = %s", (row[0],))
            _audit(conn, action="bootstrap.admin", target=username,
                   after={"username": username, "role": "admin", "generated_password": generated})
    except psycopg.errors.UndefinedTable as exc:
        raise BootstrapError("the users table is missing: run `carbonflow db migrate` first") from exc
    if not generated:
        log.warning("api: created administrator %r from CARBONFLOW_ADMIN_PASSWORD", username)
        return None
    # the only time this password is shown: it is stored hashed and must be changed at first login
    log.warning("api: created administrator %r with one-time password %s (change it at first login)",
                username, password)
    return password


def ensure_demo_users(conn: psycopg.Connection, *, enterprise_id: str | None = None,
                      scrypt_n: int = 2**15) -> dict[str, DemoCredentials]:
    """Create (or reset) one demo user per role with a fresh random password each call, keyed by role.

    Scoped users get `enterprise_id` (default: the first enterprise) or its region. Their sessions and
    password tokens end, failed logins are forgotten, their second factor is removed, and they need no password change, so the credentials work at once.
    For demonstrations only.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        found = conn.execute(
            "SELECT enterprise_id, region FROM enterprises WHERE %s::text IS NULL OR enterprise_id = %s"
            " ORDER BY enterprise_id LIMIT 1", (enterprise_id, enterprise_id),
        ).fetchone()
        if found is None:
            if enterprise_id is not None:
                raise BootstrapError(f"no enterprise {enterprise_id!r} for the demo users")
            log.warning("api: no enterprise yet: demo government, enterprise and auditor users see nothing")
        ent, region = found if found else (None, None)
        scopes: dict[str, tuple[str | None, str | None, str]] = {
            "admin": (None, None, "every site"),
            "government": (region, None, f"region {region}"),
            "enterprise": (None, ent, f"enterprise {ent}"),
            "auditor": (None, None, f"enterprises [{ent}]"),
            "technician": (None, None, "every device and gateway"),
        }
        result = {}
        for role, username in DEMO_USERS.items():
            user_region, user_enterprise, scope = scopes[role]
            password = security.generate_password()
            password_hash = security.hash_password(password, n=scrypt_n)
            user_id = conn.execute(
                "INSERT INTO users (username, role, region, enterprise_id, password_hash, must_change_password)"
                " VALUES (%s, %s, %s, %s, %s, false) ON CONFLICT (username) DO UPDATE SET role = EXCLUDED.role,"
                " region = EXCLUDED.region, enterprise_id = EXCLUDED.enterprise_id,"
                " password_hash = EXCLUDED.password_hash, password_changed_at = now(), must_change_password = false,"
                " disabled = false, totp_secret = NULL,"
                " totp_enabled = false, totp_last_step = NULL RETURNING user_id",
                (username, role, user_region, user_enterprise, password_hash),
            ).fetchone()[0]  # type: ignore[index]
            conn.execute("INSERT INTO password_history (user_id, password_hash) VALUES (%s, %s)", (user_id, password_hash))
            conn.execute("DELETE FROM user_enterprises WHERE user_id = %s", (user_id,))
            if role == "auditor" and ent is not None:
                conn.execute("INSERT INTO user_enterprises (user_id, enterprise_id) VALUES (%s, %s)", (user_id, ent))
            conn.execute("UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL", (user_id,))
            conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL"
                         " AND auth_method = 'password'", (user_id,))
            conn.execute("DELETE FROM login_throttle WHERE username = %s", (username,))
            _audit(conn, action="bootstrap.demo_user", target=username, after={"username": username, "role": role,
                                                                                "scope": scope})
            result[role] = DemoCredentials(role, username, password, scope)
    return result
