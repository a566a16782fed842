"""Read queries of /health: how fresh the pipeline's data is. A connection, no HTTP concerns."""

from __future__ import annotations

from typing import Any

import psycopg

__all__ = ["pipeline_freshness"]


async def pipeline_freshness(conn: psycopg.AsyncConnection) -> dict[str, Any]:
    cur = await conn.execute("SELECT max(last_seen), count(*) FROM devices")
    last_seen, devices = await cur.fetchone() or (None, 0)
    return {"devices": devices, "last_reading_at": last_seen}
