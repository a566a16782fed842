"""Single sign-on state in PostgreSQL: authorization requests in flight and links from OIDC identities to users.

Keyword-only arguments and a connection, no HTTP. Secrets that only need comparing (state, browser binding,
handoff code) are stored as SHA-256; the nonce and the PKCE verifier are stored as they are because the
callback needs them back, and their row lives for minutes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.errors import Conflict, NotFound

__all__ = [
    "bind_email_link",
    "complete_request",
    "create_link",
    "create_request",
    "delete_link",
    "find_link",
    "list_links",
    "take_handoff",
    "take_request",
    "touch_link",
]

_LINK_COLUMNS = ("l.link_id, l.issuer, l.subject, l.email, l.created_by, l.created_at, l.bound_at, l.last_login_at,"
                 " u.user_id, u.username, u.role, u.disabled")


async def create_request(conn: psycopg.AsyncConnection, *, state_hash: bytes, binding_hash: bytes, nonce: str,
                         code_verifier: str, ttl: timedelta) -> None:
    """Remember one authorization request; requests older than a day are swept on the way."""
    await conn.execute("DELETE FROM sso_requests WHERE expires_at < now() - interval '1 day'")
    await conn.execute(
        "INSERT INTO sso_requests (state_hash, binding_hash, nonce, code_verifier, expires_at)"
        " VALUES (%s, %s, %s, %s, now() + %s)",
        (state_hash, binding_hash, nonce, code_verifier, ttl),
    )


async def take_request(conn: psycopg.AsyncConnection, *, state_hash: bytes) -> dict[str, Any] | None:
    """Mark the request with this state used and return it (with `expired`); None when it is unknown or was
    already used, so that a callback URL works once."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "UPDATE sso_requests SET used_at = now() WHERE state_hash = %s AND used_at IS NULL"
            " RETURNING binding_hash, nonce, code_verifier, expires_at, expires_at <= now() AS expired",
            (state_hash,),
        )
        return await cur.fetchone()


async def complete_request(conn: psycopg.AsyncConnection, *, state_hash: bytes, user_id: int, issuer: str,
                           subject: str, handoff_hash: bytes, ttl: timedelta) -> None:
    """Record who the provider vouched for, and the one-time code the page trades for a session."""
    await conn.execute(
        "UPDATE sso_requests SET user_id = %s, issuer = %s, subject = %s, handoff_hash = %s,"
        " handoff_expires_at = now() + %s WHERE state_hash = %s",
        (user_id, issuer, subject, handoff_hash, ttl, state_hash),
    )


async def take_handoff(conn: psycopg.AsyncConnection, *, handoff_hash: bytes) -> dict[str, Any] | None:
    """Spend a handoff code: its user, identity and browser binding; None when unknown, used or expired."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "UPDATE sso_requests SET handoff_used_at = now() WHERE handoff_hash = %s AND handoff_used_at IS NULL"
            " AND handoff_expires_at > now() RETURNING user_id, issuer, subject, binding_hash",
            (handoff_hash,),
        )
        return await cur.fetchone()


async def find_link(conn: psycopg.AsyncConnection, *, issuer: str, subject: str) -> dict[str, Any] | None:
    """The link of an (issuer, subject) with its user."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_LINK_COLUMNS} FROM sso_links l JOIN users u USING (user_id)"
            " WHERE l.issuer = %s AND l.subject = %s",
            (issuer, subject),
        )
        return await cur.fetchone()


async def bind_email_link(conn: psycopg.AsyncConnection, *, issuer: str, email: str,
                          subject: str) -> dict[str, Any] | None:
    """Bind an administrator's email pre-link to the subject now presenting that (verified) email; None when
    there is no unbound pre-link for it. Call inside a transaction."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "UPDATE sso_links SET subject = %s, bound_at = now() WHERE issuer = %s AND subject IS NULL"
            " AND lower(email) = lower(%s) RETURNING link_id",
            (subject, issuer, email),
        )
        row = await cur.fetchone()
    return None if row is None else await find_link(conn, issuer=issuer, subject=subject)


async def touch_link(conn: psycopg.AsyncConnection, *, link_id: int) -> None:
    await conn.execute("UPDATE sso_links SET last_login_at = now() WHERE link_id = %s", (link_id,))


async def list_links(conn: psycopg.AsyncConnection, *, username: str | None = None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_LINK_COLUMNS} FROM sso_links l JOIN users u USING (user_id)"
            " WHERE %(u)s::text IS NULL OR u.username = %(u)s ORDER BY l.link_id",
            {"u": username},
        )
        return list(await cur.fetchall())


async def create_link(conn: psycopg.AsyncConnection, *, user_id: int, issuer: str, subject: str | None,
                      email: str | None, created_by: str) -> dict[str, Any]:
    """Link a subject (or pre-link a verified email) of `issuer` to a user; Conflict when it is linked already."""
    try:
        async with conn.transaction():
            cur = await conn.execute(
                "INSERT INTO sso_links (user_id, issuer, subject, email, created_by, bound_at)"
                " VALUES (%s, %s, %s, %s, %s, CASE WHEN %s::text IS NULL THEN NULL ELSE now() END) RETURNING link_id",
                (user_id, issuer, subject, email, created_by, subject),
            )
    except psycopg.errors.UniqueViolation as exc:
        what = f"subject {subject!r}" if subject else f"email {email!r}"
        raise Conflict(f"{what} of {issuer} is linked already; delete that link first") from exc
    link_id = (await cur.fetchone())[0]  # type: ignore[index]
    async with conn.cursor(row_factory=dict_row) as dcur:
        await dcur.execute(f"SELECT {_LINK_COLUMNS} FROM sso_links l JOIN users u USING (user_id)"
                           " WHERE l.link_id = %s", (link_id,))
        return await dcur.fetchone()  # type: ignore[return-value]


async def delete_link(conn: psycopg.AsyncConnection, *, link_id: int) -> dict[str, Any]:
    """Remove a link; NotFound when there is none with this id."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "DELETE FROM sso_links WHERE link_id = %s RETURNING link_id, user_id, issuer, subject, email",
            (link_id,),
        )
        row = await cur.fetchone()
    if row is None:
        raise NotFound(f"no SSO link {link_id}")
    return row
