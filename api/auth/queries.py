"""Read queries of auth: which sites a caller's scope covers. Keyword-only arguments and a connection."""

from __future__ import annotations

import psycopg

from api.auth.access import Scope

__all__ = ["visible_sites"]


async def visible_sites(conn: psycopg.AsyncConnection, *, scope: Scope) -> list[str] | None:
    """The site ids a scope covers; None when it covers everything. A region covers its sub-regions
    (CN-ZJ covers CN-ZJ-HZ)."""
    if scope.all:
        return None
    cur = await conn.execute(
        "SELECT s.site_id FROM sites s JOIN enterprises e USING (enterprise_id)"
        " WHERE s.enterprise_id = ANY(%(enterprises)s::text[])"
        " OR EXISTS (SELECT 1 FROM unnest(%(regions)s::text[]) r"
        "            WHERE e.region = r OR starts_with(e.region, r || '-'))"
        " ORDER BY 1",
        {"enterprises": list(scope.enterprises), "regions": list(scope.regions)},
    )
    return [r[0] for r in await cur.fetchall()]
