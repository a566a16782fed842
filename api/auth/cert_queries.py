"""Certificate login state in PostgreSQL: one-time challenges and the CNs allowed to log in (the tokens a
certificate login issues carry their CN in api_tokens.cert_common_name, see `accounts.create_api_token`).

Keyword-only arguments and a connection, no HTTP. Challenges are stored as SHA-256 of the nonce.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.errors import Conflict, NotFound

__all__ = ["create_challenge", "create_identity", "delete_identity", "find_identity", "list_identities",
           "take_challenge", "touch_identity"]

_IDENTITY_COLUMNS = ("c.common_name, c.scopes, c.created_by, c.created_at, c.last_login_at, u.user_id, u.username,"
                     " u.role, u.disabled")


async def create_challenge(conn: psycopg.AsyncConnection, *, nonce_hash: bytes, ttl: timedelta) -> Any:
    """Store a challenge and return when it expires; challenges older than a day are swept on the way."""
    await conn.execute("DELETE FROM cert_challenges WHERE expires_at < now() - interval '1 day'")
    cur = await conn.execute("INSERT INTO cert_challenges (nonce_hash, expires_at) VALUES (%s, now() + %s)"
                             " RETURNING expires_at", (nonce_hash, ttl))
    return (await cur.fetchone())[0]  # type: ignore[index]


async def take_challenge(conn: psycopg.AsyncConnection, *, nonce_hash: bytes) -> bool:
    """Spend a challenge: True when it existed, was unused and had not expired; it cannot be used again."""
    cur = await conn.execute(
        "UPDATE cert_challenges SET used_at = now() WHERE nonce_hash = %s AND used_at IS NULL"
        " RETURNING expires_at > now()",
        (nonce_hash,),
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def find_identity(conn: psycopg.AsyncConnection, *, common_name: str) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_IDENTITY_COLUMNS} FROM cert_identities c JOIN users u USING (user_id)"
                          " WHERE c.common_name = %s", (common_name,))
        return await cur.fetchone()


async def touch_identity(conn: psycopg.AsyncConnection, *, common_name: str) -> None:
    await conn.execute("UPDATE cert_identities SET last_login_at = now() WHERE common_name = %s", (common_name,))


async def list_identities(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_IDENTITY_COLUMNS} FROM cert_identities c JOIN users u USING (user_id)"
                          " ORDER BY c.common_name")
        return list(await cur.fetchall())


async def create_identity(conn: psycopg.AsyncConnection, *, common_name: str, user_id: int, scopes: Sequence[str],
                          created_by: str) -> dict[str, Any]:
    """Allow certificates with this CN to log in as the user with these scopes; Conflict when it exists."""
    try:
        async with conn.transaction():
            await conn.execute("INSERT INTO cert_identities (common_name, user_id, scopes, created_by)"
                               " VALUES (%s, %s, %s, %s)", (common_name, user_id, sorted(set(scopes)), created_by))
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(f"certificate CN {common_name!r} is registered already; delete it first") from exc
    return await find_identity(conn, common_name=common_name)  # type: ignore[return-value]


async def delete_identity(conn: psycopg.AsyncConnection, *, common_name: str) -> dict[str, Any]:
    """Stop certificates with this CN from logging in and revoke the tokens they got; NotFound when it is not
    registered. Call inside a transaction."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("DELETE FROM cert_identities WHERE common_name = %s"
                          " RETURNING common_name, user_id, scopes", (common_name,))
        row = await cur.fetchone()
    if row is None:
        raise NotFound(f"no certificate identity {common_name!r}")
    cur = await conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE cert_common_name = %s"
                             " AND revoked_at IS NULL", (common_name,))
    return {**row, "tokens_revoked": cur.rowcount}

