"""Who sees which enterprise group: administrators all; a government user the groups whose members all have
monitoring units and only in its region; an enterprise user the groups it is a member of."""

from __future__ import annotations

from typing import Any

import psycopg

from api.groups import queries
from api.monitoring import queries as monitoring

__all__ = ["member_regions", "outside_region", "visible_groups"]


async def member_regions(conn: psycopg.AsyncConnection, *, members: list[str]) -> dict[str, set[str]]:
    """enterprise id -> the region codes of its monitoring units (empty when it has none)."""
    units = await monitoring.list_units(conn, scope=monitoring.UnitScope(enterprises=tuple(members)), prefix=None,
                                        industry=None, kind=None, limit=100_000)
    out: dict[str, set[str]] = {m: set() for m in members}
    for unit in units:
        if unit["enterprise_id"] in out:
            out[unit["enterprise_id"]].add(unit["region_code"])
    return out


def outside_region(scope: monitoring.UnitScope, regions: dict[str, set[str]]) -> list[str]:
    """The members that are not wholly inside a government scope: no monitoring unit, or one outside it."""
    return sorted(m for m, codes in regions.items()
                  if not codes or not all(scope.covers_region(code) for code in codes))


async def visible_groups(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope) -> list[dict[str, Any]]:
    """The groups the scope may see, each with `mine`: the caller's enterprises among its members."""
    groups = await queries.list_groups(conn)
    if scope.all:
        return [{**g, "mine": []} for g in groups]
    out = []
    for group in groups:
        mine = sorted(set(group["members"]) & set(scope.enterprises))
        if mine:
            out.append({**group, "mine": mine})
        elif scope.prefixes and not outside_region(scope, await member_regions(conn, members=group["members"])):
            out.append({**group, "mine": []})
    return out
