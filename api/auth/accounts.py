"""Users, sessions and machine tokens in PostgreSQL: keyword-only arguments and a connection, no HTTP.

Password hashes and TOTP secrets stay in this module and `security`; what
leaves it for answers and audit entries is `user_view`, without secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.errors import Conflict, NotFound

__all__ = [
    "PASSWORD_HISTORY",
    "clear_totp",
    "create_api_token",
    "create_session",
    "create_user",
    "enable_totp",
    "find_api_token",
    "find_session",
    "get_user",
    "list_api_tokens",
    "list_users",
    "missing_enterprises",
    "recent_password_hashes",
    "record_login",
    "revoke_api_token",
    "revoke_session",
    "set_disabled",
    "set_password",
    "set_role",
    "set_scope",
    "set_totp_secret",
    "user_view",
]

PASSWORD_HISTORY = 5
_USER_COLUMNS = (
    "u.user_id, u.username, u.role, u.region, u.enterprise_id,"
    " ARRAY(SELECT ue.enterprise_id FROM user_enterprises ue WHERE ue.user_id = u.user_id ORDER BY 1) AS enterprises,"
    " u.password_hash, u.password_changed_at, u.must_change_password,"
    " u.disabled, u.totp_secret, u.totp_enabled, u.totp_last_step, u.created_at"
)
_VIEW_KEYS = ("user_id", "username", "role", "region", "enterprise_id", "enterprises", "disabled",
              "must_change_password", "password_changed_at", "totp_enabled", "created_at")


def user_view(row: dict[str, Any]) -> dict[str, Any]:
    """A user as answers and audit entries show it: no password hash, no TOTP secret."""
    return {key: row[key] for key in _VIEW_KEYS}


async def get_user(conn: psycopg.AsyncConnection, *, username: str | None = None,
                   user_id: int | None = None) -> dict[str, Any] | None:
    """The full row of one user, by name or id."""
    async with conn.cursor(row_factory=dict_row) as cur:
        if user_id is not None:
            await cur.execute(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.user_id = %s", (user_id,))
        else:
            await cur.execute(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.username = %s", (username,))
        return await cur.fetchone()


async def list_users(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_USER_COLUMNS} FROM users u ORDER BY u.username")
        return [user_view(row) for row in await cur.fetchall()]


async def missing_enterprises(conn: psycopg.AsyncConnection, *, ids: Sequence[str]) -> list[str]:
    """The ids in `ids` that name no enterprise."""
    cur = await conn.execute("SELECT enterprise_id FROM enterprises WHERE enterprise_id = ANY(%s)", (list(ids),))
    known = {r[0] for r in await cur.fetchall()}
    return sorted(set(ids) - known)


async def _write_scope(conn: psycopg.AsyncConnection, *, user_id: int, region: str | None,
                       enterprise_id: str | None, enterprises: Sequence[str]) -> None:
    missing = await missing_enterprises(conn, ids=[*enterprises, *([enterprise_id] if enterprise_id else [])])
    if missing:
        raise NotFound(f"no enterprise {', '.join(map(repr, missing))}")
    await conn.execute("UPDATE users SET region = %s, enterprise_id = %s WHERE user_id = %s",
                       (region, enterprise_id, user_id))
    await conn.execute("DELETE FROM user_enterprises WHERE user_id = %s", (user_id,))
    async with conn.cursor() as cur:
        await cur.executemany("INSERT INTO user_enterprises (user_id, enterprise_id) VALUES (%s, %s)",
                              [(user_id, e) for e in sorted(set(enterprises))])


async def create_user(
    conn: psycopg.AsyncConnection, *, username: str, role: str, password_hash: str, must_change_password: bool,
    region: str | None = None, enterprise_id: str | None = None, enterprises: Sequence[str] = (),
) -> dict[str, Any]:
    """Insert a user with its scope and first password; call inside a transaction."""
    try:
        cur = await conn.execute(
            "INSERT INTO users (username, role, password_hash, must_change_password) VALUES (%s, %s, %s, %s)"
            " RETURNING user_id",
            (username, role, password_hash, must_change_password),
        )
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(f"user {username!r} already exists") from exc
    user_id = (await cur.fetchone())[0]  # type: ignore[index]
    await conn.execute("INSERT INTO password_history (user_id, password_hash) VALUES (%s, %s)", (user_id, password_hash))
    await _write_scope(conn, user_id=user_id, region=region, enterprise_id=enterprise_id, enterprises=enterprises)
    return user_view(await get_user(conn, user_id=user_id))  # type: ignore[arg-type]


async def set_scope(conn: psycopg.AsyncConnection, *, user_id: int, region: str | None, enterprise_id: str | None,
                    enterprises: Sequence[str]) -> dict[str, Any]:
    """Replace the data scope of a user; call inside a transaction."""
    await _write_scope(conn, user_id=user_id, region=region, enterprise_id=enterprise_id, enterprises=enterprises)
    return user_view(await get_user(conn, user_id=user_id))  # type: ignore[arg-type]


async def set_role(conn: psycopg.AsyncConnection, *, user_id: int, role: str, region: str | None,
                   enterprise_id: str | None, enterprises: Sequence[str], revoke: bool) -> dict[str, Any]:
    """Give a user another role with the scope that fits it; `revoke` ends its sessions and machine tokens (their
    privileges dropped). Refuses (Conflict) to leave no enabled administrator. Call inside a transaction."""
    cur = await conn.execute("SELECT user_id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY user_id"
                             " FOR UPDATE")
    admins = {r[0] for r in await cur.fetchall()}
    if role != "admin" and admins == {user_id}:
        raise Conflict("this is the last enabled administrator: make another user an administrator first")
    await conn.execute("UPDATE users SET role = %s WHERE user_id = %s", (role, user_id))
    await _write_scope(conn, user_id=user_id, region=region, enterprise_id=enterprise_id, enterprises=enterprises)
    if revoke:
        await conn.execute("UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
                           (user_id,))
        await conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
                           (user_id,))
    return user_view(await get_user(conn, user_id=user_id))  # type: ignore[arg-type]


async def set_disabled(conn: psycopg.AsyncConnection, *, user_id: int, disabled: bool) -> dict[str, Any]:
    """Disable (ending every session) or enable a user."""
    await conn.execute("UPDATE users SET disabled = %s WHERE user_id = %s", (disabled, user_id))
    if disabled:
        await conn.execute("UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
                           (user_id,))
    return user_view(await get_user(conn, user_id=user_id))  # type: ignore[arg-type]


async def recent_password_hashes(conn: psycopg.AsyncConnection, *, user_id: int,
                                 count: int = PASSWORD_HISTORY) -> list[str]:
    """The hashes of the user's last `count` passwords, the current one first."""
    cur = await conn.execute(
        "SELECT password_hash FROM password_history WHERE user_id = %s ORDER BY set_at DESC LIMIT %s",
        (user_id, count),
    )
    return [r[0] for r in await cur.fetchall()]


async def set_password(conn: psycopg.AsyncConnection, *, user_id: int, password_hash: str, must_change_password: bool,
                       keep_session: int | None = None) -> dict[str, Any]:
    """Store a new password and end what rested on the old one: every session of the user but `keep_session`
    (the one that made the change, which proved the old password) and its machine tokens got by password
    (SSO and certificate tokens do not rest on it). Call inside a transaction."""
    await conn.execute(
        "UPDATE users SET password_hash = %s, password_changed_at = now(), must_change_password = %s WHERE user_id = %s",
        (password_hash, must_change_password, user_id),
    )
    await conn.execute("INSERT INTO password_history (user_id, password_hash) VALUES (%s, %s)", (user_id, password_hash))
    await conn.execute(
        "DELETE FROM password_history WHERE user_id = %s AND ctid NOT IN (SELECT ctid FROM password_history"
        " WHERE user_id = %s ORDER BY set_at DESC LIMIT %s)",
        (user_id, user_id, PASSWORD_HISTORY),
    )
    await conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL"
        " AND session_id IS DISTINCT FROM %s",
        (user_id, keep_session),
    )
    await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL AND auth_method = 'password'",
        (user_id,),
    )
    return user_view(await get_user(conn, user_id=user_id))  # type: ignore[arg-type]


async def record_login(conn: psycopg.AsyncConnection, *, user_id: int, totp_step: int | None,
                       password_hash: str | None = None) -> None:
    """Remember the TOTP step used, and store a rehashed password if given."""
    await conn.execute(
        "UPDATE users SET totp_last_step = COALESCE(%s, totp_last_step), password_hash = COALESCE(%s, password_hash)"
        " WHERE user_id = %s",
        (totp_step, password_hash, user_id),
    )


async def set_totp_secret(conn: psycopg.AsyncConnection, *, user_id: int, secret: str) -> None:
    """Store a new, not yet confirmed secret; refused while one is enabled."""
    cur = await conn.execute(
        "UPDATE users SET totp_secret = %s, totp_last_step = NULL WHERE user_id = %s AND NOT totp_enabled",
        (secret, user_id),
    )
    if cur.rowcount == 0:
        raise Conflict("a TOTP second factor is already enabled; an administrator can reset it")


async def enable_totp(conn: psycopg.AsyncConnection, *, user_id: int, step: int) -> None:
    await conn.execute("UPDATE users SET totp_enabled = true, totp_last_step = %s WHERE user_id = %s",
                       (step, user_id))


async def clear_totp(conn: psycopg.AsyncConnection, *, user_id: int) -> dict[str, Any]:
    await conn.execute(
        "UPDATE users SET totp_secret = NULL, totp_enabled = false, totp_last_step = NULL WHERE user_id = %s",
        (user_id,),
    )
    return user_view(await get_user(conn, user_id=user_id))  # type: ignore[arg-type]


async def create_session(conn: psycopg.AsyncConnection, *, user_id: int, token_hash: bytes, expires_at: datetime,
                         client_ip: str | None, auth_method: str = "password") -> int:
    """A new session; `auth_method` 'sso' exempts it from the password rules (forced change, expiry)."""
    cur = await conn.execute(
        "INSERT INTO sessions (token_hash, user_id, expires_at, client_ip, auth_method) VALUES (%s, %s, %s, %s, %s)"
        " RETURNING session_id",
        (token_hash, user_id, expires_at, client_ip, auth_method),
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def revoke_session(conn: psycopg.AsyncConnection, *, session_id: int) -> None:
    await conn.execute("UPDATE sessions SET revoked_at = now() WHERE session_id = %s AND revoked_at IS NULL",
                       (session_id,))


async def find_session(conn: psycopg.AsyncConnection, *, token_hash: bytes) -> dict[str, Any] | None:
    """The session with this token hash joined with its user, whether valid or not."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_USER_COLUMNS}, s.session_id AS credential_id, s.expires_at, s.revoked_at, s.auth_method,"
            " now() AS db_now"
            " FROM sessions s JOIN users u USING (user_id) WHERE s.token_hash = %s",
            (token_hash,),
        )
        return await cur.fetchone()


async def create_api_token(conn: psycopg.AsyncConnection, *, user_id: int, name: str, token_hash: bytes,
                           scopes: Sequence[str], expires_at: datetime, auth_method: str = "password",
                           cert_common_name: str | None = None) -> dict[str, Any]:
    """A new machine token; `auth_method` is how its owner logged in to make it ('password' tokens end with
    the password); `cert_common_name` when a certificate login issues it (it then ingests only that
    gateway's envelopes, and its method is 'certificate')."""
    if cert_common_name is not None:
        auth_method = "certificate"
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO api_tokens (token_hash, user_id, name, scopes, expires_at, cert_common_name, auth_method)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " RETURNING token_id, name, scopes, created_at, expires_at, revoked_at, last_used_at",
            (token_hash, user_id, name, list(scopes), expires_at, cert_common_name, auth_method),
        )
        return await cur.fetchone()  # type: ignore[return-value]


async def list_api_tokens(conn: psycopg.AsyncConnection, *, user_id: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT token_id, name, scopes, created_at, expires_at, revoked_at, last_used_at FROM api_tokens"
            " WHERE user_id = %s ORDER BY token_id",
            (user_id,),
        )
        return list(await cur.fetchall())


async def revoke_api_token(conn: psycopg.AsyncConnection, *, user_id: int, token_id: int) -> dict[str, Any]:
    """Revoke one of the user's tokens; NotFound when the user has no such token."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE token_id = %s AND user_id = %s"
            " RETURNING token_id, name, scopes, created_at, expires_at, revoked_at, last_used_at",
            (token_id, user_id),
        )
        row = await cur.fetchone()
    if row is None:
        raise NotFound(f"no token {token_id} of yours")
    return row


async def find_api_token(conn: psycopg.AsyncConnection, *, token_hash: bytes) -> dict[str, Any] | None:
    """The machine token with this hash joined with its owner, whether valid or not; marks it used."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_USER_COLUMNS}, t.token_id AS credential_id, t.name AS token_name, t.scopes, t.expires_at,"
            " t.revoked_at, t.cert_common_name, t.auth_method, now() AS db_now"
            " FROM api_tokens t JOIN users u USING (user_id) WHERE t.token_hash = %s",
            (token_hash,),
        )
        row = await cur.fetchone()
    if row is not None:
        # at most one write a minute per token
        await conn.execute(
            "UPDATE api_tokens SET last_used_at = now() WHERE token_id = %s"
            " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
            (row["credential_id"],),
        )
    return row
