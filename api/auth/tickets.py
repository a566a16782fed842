"""Stream tickets: short-lived, single-use stand-ins for a bearer credential, for server-sent event streams.

A browser's EventSource cannot send an Authorization header, and a bearer token
put in a URL ends up in proxy and server logs. So a logged-in page asks for a
ticket (POST /api/v1/live/ticket, with its bearer header) and opens
``/api/v1/live/stream?ticket=...``: the ticket is good for one stream, within
`TICKET_TTL`, and stands for the credential it was issued to, which the stream
keeps checking (logout or revocation ends it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from api.auth import security

__all__ = ["TICKET_PREFIX", "TICKET_TTL", "issue_ticket", "redeem_ticket"]

TICKET_PREFIX = "cfst_"
TICKET_TTL = timedelta(seconds=60)


async def issue_ticket(conn: psycopg.AsyncConnection, *, via: str, credential_hash: bytes,
                       ttl: timedelta = TICKET_TTL) -> tuple[str, datetime]:
    """A new ticket for the credential and when it expires; expired tickets are swept on the way."""
    ticket = security.new_token(TICKET_PREFIX)
    await conn.execute("DELETE FROM stream_tickets WHERE expires_at < now() - interval '1 hour'")
    cur = await conn.execute(
        "INSERT INTO stream_tickets (ticket_hash, via, credential_hash, expires_at) VALUES (%s, %s, %s, now() + %s)"
        " RETURNING expires_at",
        (security.token_digest(ticket), via, credential_hash, ttl),
    )
    row = await cur.fetchone()
    assert row is not None
    return ticket, row[0]


async def redeem_ticket(conn: psycopg.AsyncConnection, *, ticket: str) -> tuple[str, bytes] | None:
    """(via, credential digest) of a valid ticket, which is used up; None when unknown, used or expired."""
    if not ticket.startswith(TICKET_PREFIX):
        return None
    cur = await conn.execute(
        "DELETE FROM stream_tickets WHERE ticket_hash = %s RETURNING via, credential_hash, expires_at > now()",
        (security.token_digest(ticket),),
    )
    row = await cur.fetchone()
    if row is None or not row[2]:
        return None
    return row[0], bytes(row[1])
