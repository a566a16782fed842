"""Storage of the monitoring service: units, monthly figures with their revisions, batches, anomaly reminders.

Every function takes a connection and keyword-only arguments. What a caller may see is a `UnitScope`: all
units, those whose region lies under one of `prefixes` (GB/T 2260 prefixes, carbon_domain.monitoring.
region_prefix), or those linked to one of `enterprises`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.auth.access import Scope
from carbon_domain.monitoring import region_prefix

__all__ = [
    "GROUPINGS",
    "LOCK_RANGE",
    "UnitScope",
    "add_anomalies",
    "aggregate",
    "any_synthetic",
    "coded_units",
    "create_batch",
    "create_sync_source",
    "create_unit",
    "decide_anomaly",
    "enterprise_main_product",
    "enterprise_monthly_co2",
    "factor_set_key",
    "figure_history",
    "figure_months",
    "finish_batch",
    "get_anomaly",
    "get_sync_source",
    "get_unit",
    "institution_totals",
    "list_anomalies",
    "list_industries",
    "list_regions",
    "list_sync_sources",
    "list_units",
    "monthly_items",
    "monthly_unit_totals",
    "public_reductions",
    "recompute_figures",
    "rank_units",
    "region_names",
    "set_sync_watermark",
    "store_figures",
    "unit_scope",
    "units_by_credit_code",
    "unit_id_range",
    "update_sync_source",
    "update_unit",
    "uses_totals",
]

UNIT_COLUMNS = ("unit_id", "credit_code", "name", "kind", "region_code", "industry_code", "above_scale", "status",
                "public", "enterprise_id", "site_id", "synthetic", "created_at", "updated_at")


@dataclass(frozen=True)
class UnitScope:
    all: bool = False
    prefixes: tuple[str, ...] = ()
    enterprises: tuple[str, ...] = ()

    def where(self, alias: str = "u") -> tuple[str, dict[str, Any]]:
        """A SQL condition on `alias` (monitoring_units) and its parameters."""
        if self.all:
            return "TRUE", {}
        condition = (f"({alias}.region_code LIKE ANY(%(scope_patterns)s::text[])"
                     f" OR {alias}.enterprise_id = ANY(%(scope_enterprises)s::text[]))")
        return (condition,
                {"scope_patterns": [f"{p}%" for p in self.prefixes], "scope_enterprises": list(self.enterprises)})

    def covers_region(self, code: str) -> bool:
        """True when the whole region `code` is inside the scope."""
        return self.covers_prefix(region_prefix(code))

    def covers_prefix(self, prefix: str) -> bool:
        """True when every region code starting with `prefix` is inside the scope."""
        return self.all or any(prefix.startswith(p) for p in self.prefixes)


async def unit_scope(conn: psycopg.AsyncConnection, *, scope: Scope) -> UnitScope:
    """The monitoring scope of an access scope: its regions read as GB/T 2260 codes or platform labels."""
    if scope.all:
        return UnitScope(all=True)
    prefixes: tuple[str, ...] = ()
    if scope.regions:
        cur = await conn.execute("SELECT code FROM monitoring_regions WHERE code = ANY(%(r)s) OR label = ANY(%(r)s)",
                                 {"r": list(scope.regions)})
        prefixes = tuple(sorted({region_prefix(row[0]) for row in await cur.fetchall()}))
    return UnitScope(prefixes=prefixes, enterprises=tuple(scope.enterprises))


# --- registry ----------------------------------------------------------------------------------------------------


async def list_regions(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT code, name, name_en, level, parent_code, label FROM monitoring_regions ORDER BY code")
        return list(await cur.fetchall())


async def region_names(conn: psycopg.AsyncConnection, *, codes: Iterable[str]) -> dict[str, str]:
    cur = await conn.execute("SELECT code, name FROM monitoring_regions WHERE code = ANY(%s)", (list(codes),))
    return {code: name for code, name in await cur.fetchall()}


async def list_industries(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT code, level, parent_code, name, name_en, high_energy FROM monitoring_industries"
                          " ORDER BY level <> 'section', length(code), code")
        return list(await cur.fetchall())


async def list_units(conn: psycopg.AsyncConnection, *, scope: UnitScope, prefix: str | None, industry: str | None,
                     kind: str | None, limit: int) -> list[dict[str, Any]]:
    where, params = scope.where()
    params |= {"prefix": f"{prefix or ''}%", "industry": f"{industry or ''}%", "kind": kind, "limit": limit}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {', '.join('u.' + c for c in UNIT_COLUMNS)} FROM monitoring_units u"
            f" WHERE {where} AND u.region_code LIKE %(prefix)s AND u.industry_code LIKE %(industry)s"
            " AND (%(kind)s::text IS NULL OR u.kind = %(kind)s) ORDER BY u.unit_id LIMIT %(limit)s", params)
        return list(await cur.fetchall())


async def get_unit(conn: psycopg.AsyncConnection, *, unit_id: int, scope: UnitScope,
                   lock: bool = False) -> dict[str, Any] | None:
    where, params = scope.where()
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {', '.join('u.' + c for c in UNIT_COLUMNS)} FROM monitoring_units u"
                          f" WHERE u.unit_id = %(id)s AND {where}{' FOR UPDATE' if lock else ''}",
                          {**params, "id": unit_id})
        return await cur.fetchone()


async def units_by_credit_code(conn: psycopg.AsyncConnection, *, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {', '.join(UNIT_COLUMNS)} FROM monitoring_units WHERE credit_code = ANY(%s)",
                          (list(codes),))
        return {row["credit_code"]: row for row in await cur.fetchall()}


async def create_unit(conn: psycopg.AsyncConnection, *, fields: dict[str, Any]) -> dict[str, Any]:
    names = sorted(fields)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"INSERT INTO monitoring_units ({', '.join(names)})"
                          f" VALUES ({', '.join('%(' + n + ')s' for n in names)}) RETURNING {', '.join(UNIT_COLUMNS)}",
                          fields)
        row = await cur.fetchone()
    assert row is not None
    return row


async def update_unit(conn: psycopg.AsyncConnection, *, unit_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a unit's registration; a new region or industry takes the unit's totals along (a trigger of
    migration 140 moves them, as it takes a deleted unit's figures out of them)."""
    sets = ", ".join(f"{name} = %({name})s" for name in sorted(changes))
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"UPDATE monitoring_units SET {sets}, updated_at = now() WHERE unit_id = %(unit_id)s"
                          f" RETURNING {', '.join(UNIT_COLUMNS)}", {**changes, "unit_id": unit_id})
        row = await cur.fetchone()
    assert row is not None
    return row


# --- figures -----------------------------------------------------------------------------------------------------

Figure = tuple[int, date, str, float, str, float | None, float | None, Sequence[str]]
"""(unit_id, month, item, quantity, unit, tco2, tce, factor_ids) of one figure to store."""

_ECONOMIC = "('value_added', 'gross_output', 'main_product')"
_FIGURE_LOCK = 0x0CF0_0104  # advisory lock class of a unit's figures (with the unit id); migration 140's triggers too

# Rows are copied (binary) into a staging table, then merged set-wise: the changed figures are collected once with
# their previous values, inserted or updated (the superseded row moving to the history), and their differences
# added to the totals (migration 104). A figure whose quantity and unit are unchanged is left alone, so a repeated
# import changes nothing; a changed one gets the next revision. Factor ids travel as their list's key (migration
# 147), registered once per list and write.
_STAGE = ("CREATE TEMP TABLE IF NOT EXISTS incoming_figures (unit_id bigint, month date, item text,"
          " quantity double precision, unit text, tco2 double precision, tce double precision, factor_set bigint)"
          " ON COMMIT DELETE ROWS")
_CHANGED_TABLE = ("CREATE TEMP TABLE IF NOT EXISTS changed_figures (unit_id bigint, month date, item text,"
                  " quantity double precision, unit text, tco2 double precision, tce double precision,"
                  " factor_set bigint, source text, revision int, d_quantity double precision,"
                  " d_tco2 double precision, d_tce double precision, d_figures int) ON COMMIT DELETE ROWS")
# what counts as a change: a new quantity (imports, corrections) or new computed values (a recomputation)
_CHANGED_WHEN = {
    "quantity": "f.unit_id IS NULL OR (f.quantity, f.unit) IS DISTINCT FROM (i.quantity, i.unit)",
    "computed": "f.unit_id IS NOT NULL AND (f.quantity, f.unit) = (i.quantity, i.unit)"
                " AND (f.tco2, f.tce, f.factor_set) IS DISTINCT FROM (i.tco2, i.tce, i.factor_set)",
}
_COLLECT = """
INSERT INTO changed_figures
SELECT i.unit_id, i.month, i.item, i.quantity, i.unit, i.tco2, i.tce, i.factor_set,
       COALESCE(%(source)s, f.source), COALESCE(f.revision, 0) + 1,
       i.quantity - COALESCE(f.quantity, 0), COALESCE(i.tco2, 0) - COALESCE(f.tco2, 0),
       COALESCE(i.tce, 0) - COALESCE(f.tce, 0), (f.unit_id IS NULL)::int
FROM incoming_figures i LEFT JOIN monitoring_figures f USING (unit_id, month, item)
WHERE {changed}
"""
_INSERT_NEW = """
INSERT INTO monitoring_figures (unit_id, month, item, quantity, unit, tco2, tce, factor_set, source, batch_id,
                                recorded_by)
SELECT unit_id, month, item, quantity, unit, tco2, tce, factor_set, source, %(batch)s, %(by)s FROM changed_figures
WHERE revision = 1
"""
# The current row is the latest revision (migration 146): before a new revision replaces it, the superseded one is
# appended to the history (a row without recorded_by was never part of the history and is not added to it).
_ARCHIVE_SUPERSEDED = """
INSERT INTO monitoring_figure_revisions (unit_id, month, item, revision, quantity, unit, tco2, tce, factor_set,
                                         source, batch_id, recorded_by, recorded_at)
SELECT f.unit_id, f.month, f.item, f.revision, f.quantity, f.unit, f.tco2, f.tce, f.factor_set, f.source, f.batch_id,
       f.recorded_by, f.updated_at
FROM changed_figures c JOIN monitoring_figures f USING (unit_id, month, item)
WHERE c.revision > 1 AND f.recorded_by IS NOT NULL
"""
_UPDATE_CHANGED = """
UPDATE monitoring_figures f SET quantity = c.quantity, unit = c.unit, tco2 = c.tco2, tce = c.tce,
    factor_set = c.factor_set, source = c.source, batch_id = %(batch)s, revision = c.revision, recorded_by = %(by)s,
    updated_at = now()
FROM changed_figures c
WHERE c.revision > 1 AND f.unit_id = c.unit_id AND f.month = c.month AND f.item = c.item
"""
# Totals get the month rows of the changed figures' units, then the year rows from those month rows; in key order,
# so that concurrent writers lock the shared total rows in the same order (byte order, the cheap comparison, which
# for these ASCII codes is also the primary key's order).
_ADD_REGION_TOTALS = """
WITH months AS (
    SELECT c.month AS period, u.region_code, u.industry_code, c.item, sum(c.d_quantity) AS quantity,
           sum(c.d_tco2) AS tco2, sum(c.d_tce) AS tce, sum(c.d_figures) AS figures
    FROM changed_figures c JOIN monitoring_units u USING (unit_id) GROUP BY 1, 2, 3, 4
), with_all AS (
    SELECT * FROM months
    UNION ALL
    SELECT period, region_code, '*', item, sum(quantity), sum(tco2), sum(tce), sum(figures) FROM months
    GROUP BY 1, 2, 4
), deltas AS (
    SELECT 'm' AS grain, * FROM with_all
    UNION ALL
    SELECT 'y', date_trunc('year', period)::date, region_code, industry_code, item, sum(quantity), sum(tco2), sum(tce),
           sum(figures) FROM with_all GROUP BY 2, 3, 4, 5
)
INSERT INTO monitoring_region_totals AS t (grain, period, region_code, industry_code, item, quantity, tco2, tce,
                                           figures)
SELECT * FROM deltas
ORDER BY grain COLLATE "C", period, region_code COLLATE "C", industry_code COLLATE "C", item COLLATE "C"
ON CONFLICT (grain, period, region_code, industry_code, item) DO UPDATE SET quantity = t.quantity + EXCLUDED.quantity,
    tco2 = t.tco2 + EXCLUDED.tco2, tce = t.tce + EXCLUDED.tce, figures = t.figures + EXCLUDED.figures
"""
_ADD_UNIT_TOTALS = f"""
WITH months AS (
    SELECT c.month AS period, c.unit_id, sum(c.d_tco2) AS tco2,
           COALESCE(sum(c.d_tce) FILTER (WHERE c.item NOT IN {_ECONOMIC}), 0) AS tce,
           COALESCE(sum(c.d_quantity) FILTER (WHERE c.item = 'value_added'), 0) AS value_added,
           COALESCE(sum(c.d_figures) FILTER (WHERE c.item NOT IN {_ECONOMIC}), 0) AS energy_figures,
           COALESCE(sum(c.d_figures) FILTER (WHERE c.item = 'value_added'), 0) AS value_added_figures
    FROM changed_figures c GROUP BY 1, 2
), deltas AS (
    SELECT 'm' AS grain, * FROM months
    UNION ALL
    SELECT 'y', date_trunc('year', period)::date, unit_id, sum(tco2), sum(tce), sum(value_added),
           sum(energy_figures), sum(value_added_figures) FROM months GROUP BY 2, 3
)
INSERT INTO monitoring_unit_totals AS t (grain, period, unit_id, region_code, industry_code, tco2, tce, value_added,
                                         energy_figures, value_added_figures)
SELECT d.grain, d.period, d.unit_id, u.region_code, u.industry_code, d.tco2, d.tce, d.value_added, d.energy_figures,
       d.value_added_figures
FROM deltas d JOIN monitoring_units u USING (unit_id) ORDER BY 1, 2, 3
ON CONFLICT (grain, period, unit_id) DO UPDATE SET tco2 = t.tco2 + EXCLUDED.tco2, tce = t.tce + EXCLUDED.tce,
    value_added = t.value_added + EXCLUDED.value_added, energy_figures = t.energy_figures + EXCLUDED.energy_figures,
    value_added_figures = t.value_added_figures + EXCLUDED.value_added_figures
"""
# Writers of the same unit's figures take turns (its figures' "before" must not move under a delta); writers of
# different units run side by side. Two kinds of advisory locks:
# - the unit's bucket (unit_id % 1,024, class _FIGURE_LOCK), which migration 140's triggers (a unit moved or
#   deleted, figures deleted) take exclusively; an import takes its units' buckets shared, so that imports do not
#   wait for each other on them (a batch of more than 1,024 units covers every bucket);
# - the range of 128 consecutive unit ids (class _RANGE_LOCK), exclusive, so that two imports of the same units
#   take turns while imports of different ranges never wait for each other; a province of 60,000 units has
#   about 470 ranges.
# Each kind is taken in key order, buckets before ranges, so no two writers can deadlock.
LOCK_RANGE = 128
_RANGE_LOCK = _FIGURE_LOCK + 1
_LOCK_UNITS = (("SELECT count(pg_advisory_xact_lock_shared(%(lock)s, bucket)) FROM (SELECT DISTINCT"
                " (unit_id %% 1024)::int AS bucket FROM incoming_figures ORDER BY 1) AS buckets"),
               ("SELECT count(pg_advisory_xact_lock(%(lock)s, unit_range)) FROM (SELECT DISTINCT"
                f" (unit_id / {LOCK_RANGE})::int AS unit_range FROM incoming_figures ORDER BY 1) AS ranges"))
_MERGE_SETTINGS = "SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true)"
_STAGE_TYPES = ["int8", "date", "text", "float8", "text", "float8", "float8", "int8"]
# one row per key of the factor-id lists (migration 147: concurrent imports may register a list twice)
_FACTOR_LISTS = "monitoring_factor_set_lists"


def factor_set_key(factor_ids: Sequence[str]) -> int | None:
    """The key of a list of factor ids (migration 147's cf_monitoring_factor_set_key): the first 8 bytes of the
    SHA-256 of the ids joined by U+001F, as a signed bigint; None for an empty list."""
    if not factor_ids:
        return None
    digest = hashlib.sha256("\x1f".join(factor_ids).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _FactorSets:
    """The factor-id lists of one write, each keyed once (a province's import has a few hundred distinct lists)."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, ...], int | None] = {}

    def key(self, factor_ids: Sequence[str]) -> int | None:
        ids = factor_ids if isinstance(factor_ids, tuple) else tuple(factor_ids)
        try:
            return self.keys[ids]
        except KeyError:
            key = self.keys[ids] = factor_set_key(ids)
            return key

    async def register(self, conn: psycopg.AsyncConnection) -> None:
        """Store the lists the database does not have yet; refuse a key that names another list."""
        wanted = {key: list(ids) for ids, key in self.keys.items() if key is not None}
        if not wanted:
            return
        cur = await conn.execute("SELECT factor_set, factor_ids FROM monitoring_factor_sets"
                                 " WHERE factor_set = ANY(%s::bigint[])", (list(wanted),))
        known = set()
        for key, ids in await cur.fetchall():
            if ids != wanted[key]:
                raise RuntimeError(f"factor-id lists {ids} and {wanted[key]} share the key {key}: report it, the key"
                                   " of migration 147 needs more bits")
            known.add(key)
        missing = [(key, ids) for key, ids in wanted.items() if key not in known]
        if missing:
            async with conn.cursor() as cur:
                await cur.executemany("INSERT INTO monitoring_factor_sets (factor_set, factor_ids) VALUES (%s, %s)",
                                      missing)


async def store_figures(conn: psycopg.AsyncConnection, *, figures: Iterable[Figure], source: str | None,
                        batch_id: int | None, by: str, changed_when: str = "quantity") -> int:
    """Store figures and keep the totals (inside the caller's transaction); returns how many changed (new
    revisions). `source` None keeps each figure's own source; `changed_when` is 'quantity' (imports and
    corrections) or 'computed' (new tCO2/tce/factors for an unchanged quantity)."""
    async with conn.transaction():
        await _stage(conn)
        sets = _FactorSets()
        async with conn.cursor() as cur, cur.copy("COPY incoming_figures FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_STAGE_TYPES)
            for unit_id, month, item, quantity, unit, tco2, tce, factor_ids in figures:
                await copy.write_row((unit_id, month, item, quantity, unit, tco2, tce, sets.key(factor_ids)))
        await sets.register(conn)
        return await _merge(conn, source=source, batch_id=batch_id, by=by, changed_when=changed_when)


async def _stage(conn: psycopg.AsyncConnection) -> None:
    await conn.execute(_STAGE)
    await conn.execute(_CHANGED_TABLE)
    await conn.execute("TRUNCATE incoming_figures, changed_figures")


async def _merge(conn: psycopg.AsyncConnection, *, source: str | None, batch_id: int | None, by: str,
                 changed_when: str) -> int:
    # the merge sorts and groups a batch's rows: in memory rather than in temporary files, and without JIT, whose
    # compile time outweighs what it saves on these one-pass statements (both for this transaction only)
    await conn.execute(_MERGE_SETTINGS)
    # the planner needs the batch's size and its keys' statistics (the other columns are only compared row by row)
    await conn.execute("ANALYZE incoming_figures (unit_id, month, item)")
    await conn.execute(_LOCK_UNITS[0], {"lock": _FIGURE_LOCK})
    await conn.execute(_LOCK_UNITS[1], {"lock": _RANGE_LOCK})
    cur = await conn.execute(_COLLECT.format(changed=_CHANGED_WHEN[changed_when]), {"source": source})
    changed = cur.rowcount
    if changed:
        params = {"batch": batch_id, "by": by}
        inserted = (await conn.execute(_INSERT_NEW, params)).rowcount
        if inserted < changed:  # some figures supersede a current row (a first import has none)
            await conn.execute(_ARCHIVE_SUPERSEDED)
            await conn.execute(_UPDATE_CHANGED, params)
        await conn.execute(_ADD_REGION_TOTALS)
        await conn.execute(_ADD_UNIT_TOTALS)
    return changed


Coefficient = tuple[str, date, float, float, Sequence[str]]
"""(energy item, month, tCO2 per storage unit, tce per storage unit, factor ids) of a recomputation."""


async def recompute_figures(conn: psycopg.AsyncConnection, *, coefficients: Sequence[Coefficient],
                            first_unit: int, last_unit: int, batch_id: int, by: str) -> int:
    """Recompute tCO2/tce of the stored energy figures of units [first_unit, last_unit] with `coefficients` (the
    factor library as it is now), set-wise; a figure whose values change gets a new revision with its own source
    (inside the caller's transaction). Returns how many changed."""
    async with conn.transaction():
        await _stage(conn)
        await conn.execute("CREATE TEMP TABLE IF NOT EXISTS figure_coefficients (item text, month date,"
                           " co2 double precision, tce double precision, factor_set bigint) ON COMMIT DELETE ROWS")
        await conn.execute("TRUNCATE figure_coefficients")
        sets = _FactorSets()
        async with conn.cursor() as cur, cur.copy("COPY figure_coefficients FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["text", "date", "float8", "float8", "int8"])
            for item, month, co2, tce, factor_ids in coefficients:
                await copy.write_row((item, month, co2, tce, sets.key(factor_ids)))
        await sets.register(conn)
        await conn.execute(
            "INSERT INTO incoming_figures SELECT f.unit_id, f.month, f.item, f.quantity, f.unit, f.quantity * c.co2,"
            " f.quantity * c.tce, c.factor_set FROM monitoring_figures f JOIN figure_coefficients c USING (item, month)"
            " WHERE f.unit_id BETWEEN %s AND %s", (first_unit, last_unit))
        return await _merge(conn, source=None, batch_id=batch_id, by=by, changed_when="computed")


async def figure_months(conn: psycopg.AsyncConnection) -> list[tuple[str, date]]:
    """(item, month) pairs that have current figures (from the totals, without reading the figures)."""
    cur = await conn.execute("SELECT DISTINCT item, period FROM monitoring_region_totals WHERE grain = 'm'"
                             " AND figures > 0 ORDER BY 1, 2")
    return [(row[0], row[1]) for row in await cur.fetchall()]


async def unit_id_range(conn: psycopg.AsyncConnection) -> tuple[int, int]:
    cur = await conn.execute("SELECT COALESCE(min(unit_id), 0), COALESCE(max(unit_id), -1) FROM monitoring_units")
    row = await cur.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def figure_history(conn: psycopg.AsyncConnection, *, unit_id: int, month: date,
                         item: str) -> list[dict[str, Any]]:
    """Every revision of a figure, oldest first: the superseded ones and the current one (migration 146)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT revision, quantity, unit, tco2, tce, factor_ids, source, batch_id, recorded_by, recorded_at"
            " FROM monitoring_figure_history WHERE unit_id = %s AND month = %s AND item = %s ORDER BY revision",
            (unit_id, month, item))
        return list(await cur.fetchall())


async def create_batch(conn: psycopg.AsyncConnection, *, source: str, origin: str, sha256: str | None,
                       by: str) -> int:
    cur = await conn.execute("INSERT INTO monitoring_batches (source, origin, sha256, created_by)"
                             " VALUES (%s, %s, %s, %s) RETURNING batch_id", (source, origin, sha256, by))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def finish_batch(conn: psycopg.AsyncConnection, *, batch_id: int, read: int, stored: int, same: int,
                       refused: int) -> None:
    await conn.execute("UPDATE monitoring_batches SET rows_read = %s, rows_stored = %s, rows_same = %s,"
                       " rows_refused = %s WHERE batch_id = %s", (read, stored, same, refused, batch_id))


# --- views -------------------------------------------------------------------------------------------------------

# group name -> SQL expression of the group key (u: monitoring_units, f: monitoring_figures)
GROUPINGS: dict[str, str] = {
    "total": "'total'",
    "month": "to_char(f.month, 'YYYY-MM')",
    "unit": "u.unit_id::text",
    "industry": "CASE WHEN u.industry_code ~ '^[0-9]{3,4}$' THEN left(u.industry_code, 2) ELSE u.industry_code END",
    "city": "left(u.region_code, 4) || '00'",
    "county": "u.region_code::text",
}
# the same keys over the pre-aggregated totals (t: monitoring_region_totals)
_TOTAL_GROUPINGS = {name: sql.replace("u.", "t.").replace("f.month", "t.period")
                    for name, sql in GROUPINGS.items() if name != "unit"}


def _grain(start: date, end: date, group: str) -> str:
    """'y' when [start, end) is whole calendar years and no month is asked for, else 'm'."""
    whole_years = (start.month, start.day, end.month, end.day) == (1, 1, 1, 1)
    return "y" if whole_years and group != "month" else "m"


def uses_totals(scope: UnitScope) -> bool:
    """True when the caller's scope is a set of regions (or all), which the pre-aggregated totals can answer; an
    enterprise's own units are answered from their figures."""
    return scope.all or not scope.enterprises


async def aggregate(conn: psycopg.AsyncConnection, *, scope: UnitScope, prefix: str, industry: str | None,
                    start: date, end: date, group: str,
                    unit_ids: Sequence[int] | None = None) -> list[tuple[str, str, float, float, float]]:
    """(group key, item, quantity, tco2, tce) sums over the units in scope under region `prefix` (and industry
    class prefix), months [start, end); with `unit_ids`, over those units only. Region, industry, month and total
    groups come from the pre-aggregated totals (migration 104) when the scope allows."""
    params = {"prefix": f"{prefix}%", "industry": f"{industry or ''}%", "start": start, "end": end}
    if group in _TOTAL_GROUPINGS and unit_ids is None and uses_totals(scope):
        where = ("TRUE" if scope.all else "t.region_code LIKE ANY(%(scope_patterns)s::text[])")
        params["scope_patterns"] = [f"{p}%" for p in scope.prefixes]
        # rows of all industries together ('*') serve every question that neither filters nor groups by industry
        industries = ("t.industry_code = '*'" if industry is None and group != "industry"
                      else "t.industry_code <> '*' AND t.industry_code LIKE %(industry)s")
        cur = await conn.execute(
            f"SELECT {_TOTAL_GROUPINGS[group]} AS key, t.item, sum(t.quantity), sum(t.tco2), sum(t.tce)"
            " FROM monitoring_region_totals t"
            f" WHERE t.grain = %(grain)s AND t.period >= %(start)s AND t.period < %(end)s AND {where}"
            f" AND t.region_code LIKE %(prefix)s AND {industries}"
            " GROUP BY 1, 2 HAVING sum(t.figures) > 0", {**params, "grain": _grain(start, end, group)})
    else:
        where, scope_params = scope.where()
        # the units picked by key, then their figures by unit: with the list on the figures instead, the planner
        # (misjudging the scope and region conditions) read every unit of the region and sought each one's figures
        # with the whole list again (a county's 702 units: about 100 ms instead of 25)
        only = "" if unit_ids is None else " AND u.unit_id = ANY(%(units)s::bigint[])"
        cur = await conn.execute(
            f"SELECT {GROUPINGS[group]} AS key, f.item, sum(f.quantity), COALESCE(sum(f.tco2), 0),"
            " COALESCE(sum(f.tce), 0) FROM monitoring_figures f JOIN monitoring_units u USING (unit_id)"
            f" WHERE {where} AND u.region_code LIKE %(prefix)s AND u.industry_code LIKE %(industry)s"
            f" AND f.month >= %(start)s AND f.month < %(end)s{only} GROUP BY 1, 2",
            {**params, **scope_params, "units": list(unit_ids or ())})
    return [(str(k), str(i), float(q), float(c), float(t)) for k, i, q, c, t in await cur.fetchall()]


async def rank_units(conn: psycopg.AsyncConnection, *, scope: UnitScope, prefix: str, industry: str | None,
                     start: date, end: date, limit: int | None,
                     offset: int = 0) -> tuple[list[tuple[int, float]], int]:
    """The units in scope under `prefix` (and industry class prefix) with figures in [start, end), by tCO2
    descending (then unit id as text): ((unit_id, tco2) of the asked page, how many units in all)."""
    period = _one_period(start, end)
    if uses_totals(scope) and period is not None:
        return await _rank_in_period(conn, scope=scope, prefix=prefix, industry=industry, grain=period[0],
                                     period=period[1], limit=limit, offset=offset)
    params: dict[str, Any] = {"prefix": f"{prefix}%", "industry": f"{industry or ''}%", "start": start, "end": end,
                              "limit": limit, "offset": offset}
    if uses_totals(scope) and start.day == 1 and end.day == 1:
        grain = _grain(start, end, "unit")
        where = "TRUE" if scope.all else "t.region_code LIKE ANY(%(scope_patterns)s::text[])"
        params |= {"scope_patterns": [f"{p}%" for p in scope.prefixes], "grain": grain}
        ranked = (f"SELECT t.unit_id, sum(t.tco2) AS tco2 FROM monitoring_unit_totals t"
                  f" WHERE t.grain = %(grain)s AND t.period >= %(start)s AND t.period < %(end)s AND {where}"
                  " AND t.region_code LIKE %(prefix)s AND t.industry_code LIKE %(industry)s GROUP BY t.unit_id")
    else:
        where, scope_params = scope.where()
        params |= scope_params
        ranked = ("SELECT u.unit_id, COALESCE(sum(f.tco2), 0) AS tco2 FROM monitoring_figures f"
                  f" JOIN monitoring_units u USING (unit_id) WHERE {where} AND u.region_code LIKE %(prefix)s"
                  " AND u.industry_code LIKE %(industry)s AND f.month >= %(start)s AND f.month < %(end)s"
                  " GROUP BY u.unit_id")
    cur = await conn.execute(
        f"SELECT unit_id, tco2, count(*) OVER () FROM ({ranked}) AS r ORDER BY tco2 DESC, unit_id::text"
        " LIMIT %(limit)s OFFSET %(offset)s", params)
    rows = await cur.fetchall()
    if not rows and offset:
        cur = await conn.execute(f"SELECT count(*) FROM ({ranked}) AS r", params)
        found = await cur.fetchone()
        return [], int(found[0]) if found else 0
    return [(int(u), float(t)) for u, t, _ in rows], int(rows[0][2]) if rows else 0


def _one_period(start: date, end: date) -> tuple[str, date] | None:
    """('y' or 'm', first day) when [start, end) is exactly one calendar year or month, else None."""
    if (start.day, end.day) != (1, 1):
        return None
    if (start.month, end.month, end.year) == (1, 1, start.year + 1):
        return "y", start
    following = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return ("m", start) if end == following else None


async def _rank_in_period(conn: psycopg.AsyncConnection, *, scope: UnitScope, prefix: str, industry: str | None,
                          grain: str, period: date, limit: int | None,
                          offset: int) -> tuple[list[tuple[int, float]], int]:
    """rank_units over one period's unit totals (one row per unit), read in ranking order from the index of
    migration 145 so that a page stops after offset + limit units; the count of all of them (when a limit leaves
    it unknown) in the same statement, so from the same snapshot."""
    conditions = ["t.grain = %(grain)s", "t.period = %(period)s", "t.region_code LIKE %(prefix)s"]
    if industry:
        conditions.append("t.industry_code LIKE %(industry)s")
    if not scope.covers_prefix(prefix):  # else every unit under the prefix is in scope
        conditions.append("t.region_code LIKE ANY(%(scope_patterns)s::text[])")
    where = " AND ".join(conditions)
    params = {"grain": grain, "period": period, "prefix": f"{prefix}%", "industry": f"{industry or ''}%",
              "scope_patterns": [f"{p}%" for p in scope.prefixes], "limit": limit, "offset": offset}
    order = "ORDER BY t.tco2 DESC, t.unit_id::text"  # the index's order: tCO2, then unit id as text
    page = f"SELECT t.unit_id, t.tco2 FROM monitoring_unit_totals t WHERE {where} {order}"
    count = f"SELECT count(*) FROM monitoring_unit_totals t WHERE {where}"
    # planned for these values every time (never a prepared generic plan): a county's few units are best found by
    # region, a province's top 50 in ranking order
    if limit is None:
        cur = await conn.execute(f"{page} OFFSET %(offset)s", params, prepare=False)
        rows = [(int(u), float(t)) for u, t in await cur.fetchall()]
        if rows or not offset:
            return rows, offset + len(rows)
    else:
        cur = await conn.execute(
            f"SELECT r.unit_id, r.tco2, ({count}) FROM ({page} LIMIT %(limit)s OFFSET %(offset)s) AS r"
            " ORDER BY r.tco2 DESC, r.unit_id::text", params, prepare=False)
        found = await cur.fetchall()
        if found or not offset:
            return [(int(u), float(t)) for u, t, _ in found], int(found[0][2]) if found else 0
    cur = await conn.execute(count, params, prepare=False)
    total = await cur.fetchone()
    return [], int(total[0]) if total else 0


async def monthly_unit_totals(conn: psycopg.AsyncConnection, *, scope: UnitScope, prefix: str, start: date,
                              end: date) -> list[tuple[int, str, date, float, float, float | None]]:
    """(unit, industry, month, tce, tco2, value added) per unit and month with energy figures, in scope."""
    where, params = scope.where()
    cur = await conn.execute(
        "SELECT u.unit_id, u.industry_code, f.month,"
        " COALESCE(sum(f.tce) FILTER (WHERE f.item NOT IN ('value_added', 'gross_output', 'main_product')), 0),"
        " COALESCE(sum(f.tco2), 0),"
        " sum(f.quantity) FILTER (WHERE f.item = 'value_added')"
        " FROM monitoring_figures f JOIN monitoring_units u USING (unit_id)"
        f" WHERE {where} AND u.region_code LIKE %(prefix)s AND f.month >= %(start)s AND f.month < %(end)s"
        " GROUP BY 1, 2, 3 HAVING count(*) FILTER (WHERE f.item NOT IN ('value_added', 'gross_output',"
        " 'main_product')) > 0 ORDER BY 1, 3",
        {**params, "prefix": f"{prefix}%", "start": start, "end": end})
    return list(await cur.fetchall())


async def unit_names(conn: psycopg.AsyncConnection, *, unit_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT unit_id, name, credit_code, kind, region_code, industry_code, synthetic"
                          " FROM monitoring_units WHERE unit_id = ANY(%s)", ([int(u) for u in unit_ids],))
        return {row["unit_id"]: row for row in await cur.fetchall()}


async def unit_figures(conn: psycopg.AsyncConnection, *, unit_id: int, start: date,
                       end: date) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT f.month, f.item, f.quantity, f.unit, f.tco2, f.tce,"
                          " COALESCE(s.factor_ids, '{}') AS factor_ids, f.source, f.revision, f.updated_at"
                          f" FROM monitoring_figures f LEFT JOIN {_FACTOR_LISTS} s USING (factor_set)"
                          " WHERE f.unit_id = %s AND f.month >= %s AND f.month < %s"
                          " ORDER BY f.month, f.item", (unit_id, start, end))
        return list(await cur.fetchall())


async def enterprise_monthly_co2(conn: psycopg.AsyncConnection, *, enterprise_id: str,
                                 year: int) -> dict[int, dict[str, Any]]:
    """Month (1..12) -> {tco2, units}: the CO2 of the monitoring units linked to the enterprise
    (monitoring_units.enterprise_id) in `year`, summed over their energy items; months without a figure absent."""
    cur = await conn.execute(
        "SELECT extract(month FROM f.month)::int, sum(f.tco2), count(DISTINCT f.unit_id) FROM monitoring_figures f"
        " JOIN monitoring_units u USING (unit_id) WHERE u.enterprise_id = %s AND f.tco2 IS NOT NULL"
        " AND f.item IN ('electricity', 'coal', 'oil', 'natural_gas', 'heat', 'other')"
        " AND f.month >= make_date(%s, 1, 1) AND f.month < make_date(%s + 1, 1, 1) GROUP BY 1 ORDER BY 1",
        (enterprise_id, year, year))
    return {month: {"tco2": float(tco2), "units": int(units)} for month, tco2, units in await cur.fetchall()}


async def enterprise_main_product(conn: psycopg.AsyncConnection, *, enterprise_id: str,
                                  year: int) -> list[dict[str, Any]]:
    """The main-product output (主要产品产量) of the monitoring units linked to the enterprise in `year`, one row
    per reported unit of measure: {unit, quantity, months, units}."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT f.unit, sum(f.quantity) AS quantity, count(DISTINCT f.month)::int AS months,"
            " count(DISTINCT f.unit_id)::int AS units FROM monitoring_figures f JOIN monitoring_units u USING (unit_id)"
            " WHERE u.enterprise_id = %s AND f.item = 'main_product' AND f.month >= make_date(%s, 1, 1)"
            " AND f.month < make_date(%s + 1, 1, 1) GROUP BY f.unit ORDER BY f.unit", (enterprise_id, year, year))
        return list(await cur.fetchall())


async def public_reductions(conn: psycopg.AsyncConnection, *, year: int) -> list[dict[str, Any]]:
    """Public institutions marked public: their tCO2 and tce in `year` and the year before."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT u.unit_id, u.name, u.region_code, r.name AS region_name, u.synthetic,"
            " COALESCE(sum(f.tco2) FILTER (WHERE f.month >= %(start)s), 0) AS tco2,"
            " COALESCE(sum(f.tco2) FILTER (WHERE f.month < %(start)s), 0) AS tco2_previous,"
            " COALESCE(sum(f.tce) FILTER (WHERE f.month >= %(start)s"
            "   AND f.item NOT IN ('value_added', 'gross_output', 'main_product')), 0) AS tce,"
            " COALESCE(sum(f.tce) FILTER (WHERE f.month < %(start)s"
            "   AND f.item NOT IN ('value_added', 'gross_output', 'main_product')), 0) AS tce_previous"
            " FROM monitoring_units u JOIN monitoring_regions r ON r.code = u.region_code"
            " LEFT JOIN monitoring_figures f ON f.unit_id = u.unit_id AND f.month >= %(previous)s"
            "   AND f.month < %(end)s"
            " WHERE u.kind = 'public_institution' AND u.public GROUP BY u.unit_id, r.name ORDER BY u.unit_id",
            {"previous": date(year - 1, 1, 1), "start": date(year, 1, 1), "end": date(year + 1, 1, 1)})
        return list(await cur.fetchall())


async def institution_totals(conn: psycopg.AsyncConnection, *, scope: UnitScope, prefix: str,
                             year: int) -> list[dict[str, Any]]:
    """The public institutions in scope under region `prefix`: their tCO2 and tce in `year` and the year before,
    and whether they are published."""
    where, params = scope.where()
    energy = "f.item NOT IN ('value_added', 'gross_output', 'main_product')"
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT u.unit_id, u.name, u.credit_code, u.region_code, u.industry_code, u.public, u.status, u.synthetic,"
            " COALESCE(sum(f.tco2) FILTER (WHERE f.month >= %(start)s), 0) AS tco2,"
            " COALESCE(sum(f.tco2) FILTER (WHERE f.month < %(start)s), 0) AS tco2_previous,"
            f" COALESCE(sum(f.tce) FILTER (WHERE f.month >= %(start)s AND {energy}), 0) AS tce,"
            f" COALESCE(sum(f.tce) FILTER (WHERE f.month < %(start)s AND {energy}), 0) AS tce_previous"
            " FROM monitoring_units u"
            " LEFT JOIN monitoring_figures f ON f.unit_id = u.unit_id AND f.month >= %(previous)s"
            "   AND f.month < %(end)s"
            f" WHERE u.kind = 'public_institution' AND {where} AND u.region_code LIKE %(prefix)s"
            " GROUP BY u.unit_id ORDER BY u.unit_id",
            {**params, "prefix": f"{prefix}%", "previous": date(year - 1, 1, 1), "start": date(year, 1, 1),
             "end": date(year + 1, 1, 1)})
        return list(await cur.fetchall())


async def any_synthetic(conn: psycopg.AsyncConnection, *, scope: UnitScope, prefix: str) -> bool:
    """Whether any unit in scope under region `prefix` is synthetic demo data (the pages say so)."""
    where, params = scope.where()
    cur = await conn.execute(f"SELECT EXISTS (SELECT 1 FROM monitoring_units u WHERE {where}"
                             " AND u.region_code LIKE %(prefix)s AND u.synthetic)", {**params, "prefix": f"{prefix}%"})
    row = await cur.fetchone()
    return bool(row and row[0])


# --- anomaly reminders -------------------------------------------------------------------------------------------

_ANOMALY = ("SELECT a.anomaly_id, a.unit_id, u.name AS unit_name, u.region_code, u.synthetic, a.month, a.rule, a.item,"
            " a.detail, a.value, a.reference, a.state, a.decided_by, a.decided_at, a.comment"
            " FROM monitoring_anomalies a JOIN monitoring_units u USING (unit_id)")


async def add_anomalies(conn: psycopg.AsyncConnection, *,
                        found: Sequence[tuple[int, date, str, str, str, float | None, float | None]]) -> int:
    """Insert (unit, month, rule, item, detail, value, reference) reminders not yet known; a known one keeps its
    state (a dismissed reminder is not raised again). Returns how many are new."""
    if not found:
        return 0
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO monitoring_anomalies (unit_id, month, rule, item, detail, value, reference)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (unit_id, month, rule, item) DO NOTHING",
            list(found), returning=False)
        return max(cur.rowcount, 0)  # psycopg adds up the rows of every statement of executemany


async def list_anomalies(conn: psycopg.AsyncConnection, *, scope: UnitScope, prefix: str, unit_id: int | None,
                         state: str | None, limit: int) -> list[dict[str, Any]]:
    where, params = scope.where()
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"{_ANOMALY} WHERE {where} AND u.region_code LIKE %(prefix)s"
            " AND (%(unit)s::bigint IS NULL OR a.unit_id = %(unit)s) AND (%(state)s::text IS NULL OR a.state = %(state)s)"
            " ORDER BY a.month DESC, a.anomaly_id LIMIT %(limit)s",
            {**params, "prefix": f"{prefix}%", "unit": unit_id, "state": state, "limit": limit})
        return list(await cur.fetchall())


async def get_anomaly(conn: psycopg.AsyncConnection, *, anomaly_id: int, scope: UnitScope,
                      lock: bool = False) -> dict[str, Any] | None:
    where, params = scope.where()
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"{_ANOMALY} WHERE a.anomaly_id = %(id)s AND {where}"
                          f"{' FOR UPDATE OF a' if lock else ''}", {**params, "id": anomaly_id})
        return await cur.fetchone()


async def decide_anomaly(conn: psycopg.AsyncConnection, *, anomaly_id: int, state: str, by: str,
                         comment: str) -> None:
    await conn.execute("UPDATE monitoring_anomalies SET state = %s, decided_by = %s, decided_at = now(), comment = %s"
                       " WHERE anomaly_id = %s", (state, by, comment, anomaly_id))


# --- sync sources ------------------------------------------------------------------------------------------------

_SYNC_COLUMNS = ("name, dialect, url_env, query, watermark, interval_s, enabled, take_valid, last_run_at,"
                 " last_ok_at, last_error, last_refused, alarm_since")


async def list_sync_sources(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_SYNC_COLUMNS} FROM monitoring_sync_sources ORDER BY name")
        return list(await cur.fetchall())


async def create_sync_source(conn: psycopg.AsyncConnection, *, fields: dict[str, Any]) -> dict[str, Any]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("INSERT INTO monitoring_sync_sources (name, dialect, url_env, query, interval_s, enabled, take_valid)"
                          " VALUES (%(name)s, %(dialect)s, %(url_env)s, %(query)s, %(interval_s)s, %(enabled)s,"
                          " %(take_valid)s)"
                          f" RETURNING {_SYNC_COLUMNS}", fields)
        row = await cur.fetchone()
    assert row is not None
    return row


async def get_sync_source(conn: psycopg.AsyncConnection, *, name: str, lock: bool = False) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_SYNC_COLUMNS} FROM monitoring_sync_sources WHERE name = %s"
                          + (" FOR UPDATE" if lock else ""), (name,))
        return await cur.fetchone()


async def update_sync_source(conn: psycopg.AsyncConnection, *, name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a source's settings (keys: columns of SyncSourceChange); its watermark and run state stay."""
    sets = ", ".join(f"{column} = %({column})s" for column in sorted(changes))
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"UPDATE monitoring_sync_sources SET {sets} WHERE name = %(name)s"
                          f" RETURNING {_SYNC_COLUMNS}", {**changes, "name": name})
        row = await cur.fetchone()
    assert row is not None
    return row


async def set_sync_watermark(conn: psycopg.AsyncConnection, *, name: str, watermark: str | None) -> dict[str, Any]:
    """Move a source's watermark (None: the next run reads from the start)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("UPDATE monitoring_sync_sources SET watermark = %s WHERE name = %s"
                          f" RETURNING {_SYNC_COLUMNS}", (watermark, name))
        row = await cur.fetchone()
    assert row is not None
    return row


# --- figures for other services ----------------------------------------------------------------------------------


async def coded_units(conn: psycopg.AsyncConnection, *, scope: UnitScope,
                      unit_id: int | None = None) -> list[dict[str, Any]]:
    """The units in scope (or the one `unit_id` if in scope) with what the 碳效码 needs of them: industry, region,
    status, links and names, by unit id."""
    where, params = scope.where()
    if unit_id is not None:
        where, params = f"{where} AND u.unit_id = %(unit_id)s", {**params, "unit_id": unit_id}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT u.unit_id, u.name, u.credit_code, u.kind, u.region_code::text AS region_code, u.industry_code,"
            " u.status, u.enterprise_id, u.site_id, u.synthetic, r.name AS region_name, r.name_en AS region_name_en,"
            " i.name AS industry_name,"
            " i.name_en AS industry_name_en"
            " FROM monitoring_units u JOIN monitoring_regions r ON r.code = u.region_code"
            " LEFT JOIN monitoring_industries i ON i.code = u.industry_code"
            f" WHERE {where} ORDER BY u.unit_id", params)
        return list(await cur.fetchall())


async def monthly_items(conn: psycopg.AsyncConnection, *, start: date, end: date,
                        unit_ids: Sequence[int] | None = None) -> list[tuple[int, date, str, float, float | None,
                                                                             list[str]]]:
    """(unit, month, item, quantity, tCO2, factor ids) of every current figure in months [start, end), of all
    units or of `unit_ids`; ordered by unit, month and item."""
    only = "" if unit_ids is None else " AND f.unit_id = ANY(%(units)s)"
    cur = await conn.execute(
        "SELECT f.unit_id, f.month, f.item, f.quantity, f.tco2, COALESCE(s.factor_ids, '{}')"
        f" FROM monitoring_figures f LEFT JOIN {_FACTOR_LISTS} s USING (factor_set)"
        f" WHERE f.month >= %(start)s AND f.month < %(end)s{only} ORDER BY f.unit_id, f.month, f.item",
        {"start": start, "end": end, "units": None if unit_ids is None else [int(u) for u in unit_ids]})
    return list(await cur.fetchall())
