"""Storage of the analysis service: saved scenarios and targets (migrations 125, 126, 142), and the monitoring
figures it analyses, read through the monitoring service's exported queries (never its tables).

Every function takes a connection and keyword-only arguments.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from api.monitoring import queries as monitoring
from carbon_domain.analysis import Allocation, Sector
from carbon_domain.monitoring import ENERGY_TYPES

__all__ = [
    "create_scenario",
    "create_target",
    "get_scenario",
    "get_target",
    "group_monthly_sectors",
    "group_yearly_sectors",
    "issue_target",
    "list_group_targets",
    "list_scenarios",
    "list_targets",
    "monthly_sectors",
    "update_scenario",
    "yearly_sectors",
]

_ENERGY = {kind.value for kind in ENERGY_TYPES}


# --- monitoring figures ------------------------------------------------------------------------------------------


def _sectors(rows: list[tuple[str, str, float, float, float]]) -> list[Sector]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for key, item, quantity, tco2, tce in rows:
        entry = sums[key]
        if item == "value_added":
            entry[0] += quantity
        elif item in _ENERGY:
            entry[1] += tce
            entry[2] += tco2
    return [Sector(key, a, e, c) for key, (a, e, c) in sorted(sums.items())]


async def yearly_sectors(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope, prefix: str,
                         industry: str | None, year: int, group: str) -> list[Sector]:
    """A calendar year's value added (10^4 yuan), energy (tce) and CO2 (t) per group ('industry', 'unit', 'city',
    'county' or 'total') of the units in scope under region `prefix`."""
    return _sectors(await monitoring.aggregate(conn, scope=scope, prefix=prefix, industry=industry,
                                               start=date(year, 1, 1), end=date(year + 1, 1, 1), group=group))


async def monthly_sectors(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope, prefix: str, year: int,
                          group: str, through: int) -> dict[str, list[Sector]]:
    """Per month 'YYYY-MM' of `year` up to month `through`: the groups' sectors as in `yearly_sectors`."""
    out: dict[str, list[Sector]] = {}
    for month in range(1, through + 1):
        end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        rows = await monitoring.aggregate(conn, scope=scope, prefix=prefix, industry=None,
                                          start=date(year, month, 1), end=end, group=group)
        if rows:
            out[f"{year}-{month:02d}"] = _sectors(rows)
    return out


async def _owners(conn: psycopg.AsyncConnection, members: list[str]) -> dict[str, str]:
    """unit_id -> enterprise id of the members' monitoring units."""
    units = await monitoring.list_units(conn, scope=monitoring.UnitScope(enterprises=tuple(members)), prefix=None,
                                        industry=None, kind=None, limit=100_000)
    return {str(u["unit_id"]): u["enterprise_id"] for u in units}


def _roll_up(sectors: list[Sector], owner: dict[str, str]) -> list[Sector]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for s in sectors:
        entry = sums[owner[s.key]]
        entry[0] += s.activity
        entry[1] += s.energy
        entry[2] += s.co2
    return [Sector(key, a, e, c) for key, (a, e, c) in sorted(sums.items())]


async def _group_sectors(conn: psycopg.AsyncConnection, *, members: list[str], level: str, start: date, end: date,
                         owner: dict[str, str]) -> list[Sector]:
    rows = await monitoring.aggregate(conn, scope=monitoring.UnitScope(enterprises=tuple(members)), prefix="",
                                      industry=None, start=start, end=end, group="unit")
    by_unit = _sectors(rows)
    return _roll_up(by_unit, owner) if level == "enterprise" else by_unit


async def group_yearly_sectors(conn: psycopg.AsyncConnection, *, members: list[str], level: str,
                               year: int) -> list[Sector]:
    """A calendar year's value added, energy and CO2 of an enterprise group's members: per member enterprise
    (`level` 'enterprise', keyed by enterprise id) or per monitoring unit ('unit', keyed by unit_id)."""
    return await _group_sectors(conn, members=members, level=level, start=date(year, 1, 1),
                                end=date(year + 1, 1, 1), owner=await _owners(conn, members))


async def group_monthly_sectors(conn: psycopg.AsyncConnection, *, members: list[str], level: str, year: int,
                                through: int) -> dict[str, list[Sector]]:
    """Per month 'YYYY-MM' of `year` up to month `through`: the group's sectors as in `group_yearly_sectors`."""
    owner = await _owners(conn, members)
    out: dict[str, list[Sector]] = {}
    for month in range(1, through + 1):
        end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        sectors = await _group_sectors(conn, members=members, level=level, start=date(year, month, 1), end=end,
                                       owner=owner)
        if sectors:
            out[f"{year}-{month:02d}"] = sectors
    return out


# --- scenarios ---------------------------------------------------------------------------------------------------

_SCENARIO = ("scenario_id, region_code, name, kind, model, end_year, paths, population, history, created_by,"
             " created_at, updated_by, updated_at")


def _scenario_values(spec: dict[str, Any]) -> dict[str, Any]:
    return {"name": spec["name"], "kind": spec["kind"], "model": spec["model"], "end_year": spec["end_year"],
            "paths": Jsonb(spec["paths"]), "population": Jsonb({str(k): v for k, v in spec["population"].items()}),
            "history": Jsonb(spec["history"])}


async def create_scenario(conn: psycopg.AsyncConnection, *, region: str, spec: dict[str, Any],
                          by: str) -> dict[str, Any]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO analysis_scenarios (region_code, name, kind, model, end_year, paths, population, history,"
            " created_by, updated_by) VALUES (%(region)s, %(name)s, %(kind)s, %(model)s, %(end_year)s, %(paths)s,"
            f" %(population)s, %(history)s, %(by)s, %(by)s) RETURNING {_SCENARIO}",
            {**_scenario_values(spec), "region": region, "by": by})
        row = await cur.fetchone()
        assert row is not None
        return row


async def update_scenario(conn: psycopg.AsyncConnection, *, scenario_id: int, spec: dict[str, Any],
                          by: str) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "UPDATE analysis_scenarios SET name = %(name)s, kind = %(kind)s, model = %(model)s,"
            " end_year = %(end_year)s, paths = %(paths)s, population = %(population)s, history = %(history)s,"
            f" updated_by = %(by)s, updated_at = now() WHERE scenario_id = %(id)s RETURNING {_SCENARIO}",
            {**_scenario_values(spec), "id": scenario_id, "by": by})
        return await cur.fetchone()


async def get_scenario(conn: psycopg.AsyncConnection, *, scenario_id: int) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_SCENARIO} FROM analysis_scenarios WHERE scenario_id = %s", (scenario_id,))
        return await cur.fetchone()


async def list_scenarios(conn: psycopg.AsyncConnection, *, region: str) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_SCENARIO} FROM analysis_scenarios WHERE region_code = %s ORDER BY name",
                          (region,))
        return list(await cur.fetchall())


# --- targets -----------------------------------------------------------------------------------------------------

_TARGET = ("target_id, region_code, group_id, name, kind, year, base_year, value, holder_level, rule, tolerance, state,"
           " created_by, created_at, issued_by, issued_at")


async def create_target(conn: psycopg.AsyncConnection, *, fields: dict[str, Any], allocations: list[Allocation],
                        weights: dict[str, float], by: str) -> dict[str, Any]:
    """Stores a draft target with its allocations."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO analysis_targets (region_code, group_id, name, kind, year, base_year, value, holder_level,"
            " rule, tolerance, created_by) VALUES (%(region)s, %(group_id)s, %(name)s, %(kind)s, %(year)s, %(base_year)s, %(value)s,"
            f" %(holder_level)s, %(rule)s, %(tolerance)s, %(by)s) RETURNING {_TARGET}", {**fields, "by": by})
        target = await cur.fetchone()
        assert target is not None
        await cur.executemany(
            "INSERT INTO analysis_target_allocations (target_id, holder, base, target, weight)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(target["target_id"], a.key, a.base, a.target, weights.get(a.key)) for a in allocations])
    return target


async def issue_target(conn: psycopg.AsyncConnection, *, target_id: int, by: str) -> dict[str, Any] | None:
    """Issues a draft; None when the target is missing or already issued."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"UPDATE analysis_targets SET state = 'issued', issued_by = %s, issued_at = now()"
                          f" WHERE target_id = %s AND state = 'draft' RETURNING {_TARGET}", (by, target_id))
        return await cur.fetchone()


async def get_target(conn: psycopg.AsyncConnection, *, target_id: int) -> dict[str, Any] | None:
    """A target with its allocations (holder, base, target, weight) in holder order."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_TARGET} FROM analysis_targets WHERE target_id = %s", (target_id,))
        target = await cur.fetchone()
        if target is None:
            return None
        await cur.execute("SELECT holder, base, target, weight FROM analysis_target_allocations"
                          " WHERE target_id = %s ORDER BY holder", (target_id,))
        target["allocations"] = list(await cur.fetchall())
        return target


async def list_targets(conn: psycopg.AsyncConnection, *, prefixes: tuple[str, ...] | None,
                       holders: list[str] | None) -> list[dict[str, Any]]:
    """Targets of regions under `prefixes` (None: all), or, with `holders`, issued unit-level targets
    allocated to one of those units."""
    async with conn.cursor(row_factory=dict_row) as cur:
        if holders is not None:
            await cur.execute(
                f"SELECT {_TARGET} FROM analysis_targets t WHERE state = 'issued' AND holder_level = 'unit'"
                " AND region_code IS NOT NULL AND EXISTS (SELECT 1 FROM analysis_target_allocations a WHERE a.target_id = t.target_id"
                " AND a.holder = ANY(%s)) ORDER BY year DESC, target_id", (holders,))
        else:
            patterns = ["%"] if prefixes is None else [f"{p}%" for p in prefixes]
            await cur.execute(f"SELECT {_TARGET} FROM analysis_targets WHERE region_code LIKE ANY(%s)"
                              " ORDER BY year DESC, target_id", (patterns,))
        return list(await cur.fetchall())


async def list_group_targets(conn: psycopg.AsyncConnection, *, group_ids: list[int],
                             issued_only: bool) -> list[dict[str, Any]]:
    """Targets of the enterprise groups `group_ids` (only the issued ones with `issued_only`)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_TARGET} FROM analysis_targets WHERE group_id = ANY(%s)"
                          " AND (NOT %s OR state = 'issued') ORDER BY year DESC, target_id", (group_ids, issued_only))
        return list(await cur.fetchall())
