"""Who changed the factor library and when: the audit trail's factor.* entries. Keyword-only arguments and a
connection, no HTTP concerns."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

__all__ = ["factor_changes", "publishers"]


async def factor_changes(conn: psycopg.AsyncConnection, *, key: str | None, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` factor.* audit entries (optionally of one key's rows, whose ids are `key@...`), newest
    first: when, who (user and how), what, on which row, the outcome and the row as published."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT audit_id, at, actor, actor_kind, token_id, action, target, outcome, after FROM audit_log"
            " WHERE starts_with(action, 'factor.')"
            " AND (%(key)s::text IS NULL OR starts_with(target, %(key)s || '@'))"
            " ORDER BY at DESC, audit_id DESC LIMIT %(limit)s",
            {"key": key, "limit": limit},
        )
        return list(await cur.fetchall())


async def publishers(conn: psycopg.AsyncConnection, *, factor_ids: list[str]) -> dict[str, str | None]:
    """factor_id -> the user who published it (its successful factor.create entry); rows shipped with the platform
    have no such entry and are left out."""
    cur = await conn.execute(
        "SELECT DISTINCT ON (target) target, actor FROM audit_log WHERE action = 'factor.create' AND outcome = 'ok'"
        " AND target = ANY(%s::text[]) ORDER BY target, at", (factor_ids,))
    return {target: actor for target, actor in await cur.fetchall()}
