"""Gateways' latest health reports (the `gateway_health` table the stream job keeps), as the API shows them.

A gateway is within `sites` when its own site is, or when it serves a device of those sites.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

__all__ = ["gateway_health"]


async def gateway_health(conn: psycopg.AsyncConnection, *, sites: Sequence[str] | None) -> list[dict[str, Any]]:
    """Registered gateways of `sites` (None: all) and any that reported, with the latest report (NULLs if none)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "WITH known AS (SELECT gateway_id, site_id, status AS registry_status FROM gateways"
            "   UNION ALL SELECT h.gateway_id, NULL, NULL FROM gateway_health h"
            "   WHERE NOT EXISTS (SELECT 1 FROM gateways g WHERE g.gateway_id = h.gateway_id))"
            " SELECT k.gateway_id, k.site_id, k.registry_status, h.state, h.state_since, h.last_seen, h.reported_at,"
            " h.interval_s, h.agent_version, h.spool_depth, h.spool_bytes, h.oldest_unsent_age_s, h.dropped_total,"
            " h.dropped_unreported, h.last_overflow_at, h.last_overflow_dropped"
            " FROM known k LEFT JOIN gateway_health h USING (gateway_id)"
            " WHERE (h.gateway_id IS NOT NULL OR k.registry_status = 'active')"
            " AND (%(sites)s::text[] IS NULL OR k.site_id = ANY(%(sites)s::text[])"
            "   OR EXISTS (SELECT 1 FROM devices d WHERE d.gateway_id = k.gateway_id"
            "              AND d.site_id = ANY(%(sites)s::text[])))"
            " ORDER BY k.gateway_id",
            {"sites": None if sites is None else list(sites)},
        )
        return list(await cur.fetchall())
