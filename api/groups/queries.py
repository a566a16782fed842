"""Storage of the groups service (migration 142): enterprise groups and their members.

Every function takes a connection and keyword-only arguments.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

__all__ = ["create_group", "existing_enterprises", "get_group", "list_groups"]

_GROUP = ("g.group_id, g.name, g.created_by, g.created_at,"
          " COALESCE((SELECT array_agg(m.enterprise_id ORDER BY m.enterprise_id) FROM enterprise_group_members m"
          " WHERE m.group_id = g.group_id), '{}') AS members,"
          " COALESCE((SELECT jsonb_object_agg(e.enterprise_id, e.name) FROM enterprise_group_members m"
          " JOIN enterprises e USING (enterprise_id) WHERE m.group_id = g.group_id), '{}') AS member_names")


async def list_groups(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
    """Every group with its members (enterprise ids, sorted) and their names, by name."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_GROUP} FROM enterprise_groups g ORDER BY g.name")
        return list(await cur.fetchall())


async def get_group(conn: psycopg.AsyncConnection, *, group_id: int) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_GROUP} FROM enterprise_groups g WHERE g.group_id = %s", (group_id,))
        return await cur.fetchone()


async def existing_enterprises(conn: psycopg.AsyncConnection, *, enterprise_ids: list[str]) -> dict[str, str]:
    """enterprise id -> name of those of `enterprise_ids` that are registered."""
    cur = await conn.execute("SELECT enterprise_id, name FROM enterprises WHERE enterprise_id = ANY(%s)",
                             (enterprise_ids,))
    return {eid: name for eid, name in await cur.fetchall()}


async def create_group(conn: psycopg.AsyncConnection, *, name: str, members: list[str],
                       by: str) -> dict[str, Any] | None:
    """Stores a group with its members; None when the name is taken."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("INSERT INTO enterprise_groups (name, created_by) VALUES (%s, %s)"
                          " ON CONFLICT (name) DO NOTHING RETURNING group_id", (name, by))
        row = await cur.fetchone()
        if row is None:
            return None
        await cur.executemany("INSERT INTO enterprise_group_members (group_id, enterprise_id) VALUES (%s, %s)",
                              [(row["group_id"], m) for m in members])
    return await get_group(conn, group_id=row["group_id"])
