"""The append-only audit log: write one entry, read entries by filter. The database refuses UPDATE and DELETE."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from api.auth.access import Principal

__all__ = ["COLUMNS", "count", "entries", "record"]

COLUMNS = ("audit_id", "at", "actor", "actor_kind", "token_id", "action", "target", "outcome", "client_ip",
           "before", "after", "detail")


def _default(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _json(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value, dumps=lambda v: json.dumps(v, default=_default))


async def record(
    conn: psycopg.AsyncConnection, *, action: str, client_ip: str | None, principal: Principal | None = None,
    actor: str | None = None, actor_kind: str | None = None, target: str | None = None, outcome: str = "ok",
    before: Any = None, after: Any = None, detail: Any = None,
) -> None:
    """Append one entry; the actor is `principal` when given, else `actor` / `actor_kind` (default anonymous)."""
    token_id = None
    if principal is not None:
        actor, actor_kind = principal.username, "user" if principal.via == "session" else "token"
        token_id = principal.credential_id if principal.via == "token" else None
    await conn.execute(
        "INSERT INTO audit_log (actor, actor_kind, token_id, action, target, outcome, client_ip, before, after, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (actor, actor_kind or "anonymous", token_id, action, target, outcome, client_ip, _json(before), _json(after),
         _json(detail)),
    )


def _filters(actor: str | None, action: str | None, since: datetime | None, until: datetime | None
             ) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if actor is not None:
        clauses.append("actor = %s")
        params.append(actor)
    if action is not None:
        if action.endswith(".*"):
            clauses.append("starts_with(action, %s)")
            params.append(action[:-1])
        else:
            clauses.append("action = %s")
            params.append(action)
    if since is not None:
        clauses.append("at >= %s")
        params.append(since)
    if until is not None:
        clauses.append("at < %s")
        params.append(until)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


async def entries(
    conn: psycopg.AsyncConnection, *, actor: str | None, action: str | None, since: datetime | None,
    until: datetime | None, limit: int, offset: int = 0, oldest_first: bool = False,
) -> list[dict[str, Any]]:
    """Entries newest first (or oldest first), skipping `offset` of them; `action` ending in '.*' matches a family
    (``auth.*``)."""
    where, params = _filters(actor, action, since, until)
    direction = "ASC" if oldest_first else "DESC"
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {', '.join(COLUMNS)} FROM audit_log{where} ORDER BY at {direction}, audit_id {direction}"
            " LIMIT %s OFFSET %s",
            (*params, limit, offset),
        )
        return list(await cur.fetchall())


async def count(conn: psycopg.AsyncConnection, *, actor: str | None, action: str | None, since: datetime | None,
                until: datetime | None) -> int:
    """How many entries the same filters as `entries` match."""
    where, params = _filters(actor, action, since, until)
    cur = await conn.execute(f"SELECT count(*) FROM audit_log{where}", params)
    return (await cur.fetchone())[0]  # type: ignore[index,no-any-return]
