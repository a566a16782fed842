"""Storage of the monitoring service: units, monthly figures with their revisions, batches, anomaly reminders.

Every function takes a connection and keyword-only arguments. What a caller may see is a `UnitScope`: all
units, those whose region lies under one of `prefixes` (GB/T 2260 prefixes, carbon_domain.monitoring.
region_prefix), or those linked to one of `enterprises`.
"""

from __future__ import annotations

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
    "UnitScope",
    "add_anomalies",
    "aggregate",
    "any_synthetic",
    "coded_units",
    "create_batch",
    "create_sync_source",
    "create_unit",
    "decide_anomaly",
    "figure_history",
    "finish_batch",
    "get_anomaly",
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
    "region_names",
    "store_figures",
    "unit_scope",
    "units_by_credit_code",
    "update_unit",
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
        return self.all or any(region_prefix(code).startswith(p) for p in self.prefixes)


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

# Rows are copied into a temporary table, then merged in one statement: a figure whose quantity and unit are
# unchanged is left alone (so a repeated import changes nothing); a changed one gets the next revision, and
# every new revision is appended to the history.
_MERGE = """
WITH merged AS (
    INSERT INTO monitoring_figures AS f (unit_id, month, item, quantity, unit, tco2, tce, factor_ids, source,
                                         batch_id)
    SELECT unit_id, month, item, quantity, unit, tco2, tce, factor_ids, %(source)s, %(batch)s FROM incoming_figures
    ON CONFLICT (unit_id, month, item) DO UPDATE SET quantity = EXCLUDED.quantity, unit = EXCLUDED.unit,
        tco2 = EXCLUDED.tco2, tce = EXCLUDED.tce, factor_ids = EXCLUDED.factor_ids, source = EXCLUDED.source,
        batch_id = EXCLUDED.batch_id, revision = f.revision + 1, updated_at = now()
    WHERE (f.quantity, f.unit) IS DISTINCT FROM (EXCLUDED.quantity, EXCLUDED.unit)
    RETURNING f.*
)
INSERT INTO monitoring_figure_revisions (unit_id, month, item, revision, quantity, unit, tco2, tce, factor_ids,
                                         source, batch_id, recorded_by)
SELECT unit_id, month, item, revision, quantity, unit, tco2, tce, factor_ids, source, batch_id, %(by)s FROM merged
"""


async def store_figures(conn: psycopg.AsyncConnection, *, figures: Sequence[Figure], source: str,
                        batch_id: int | None, by: str) -> int:
    """Store figures (inside the caller's transaction); returns how many changed (new revisions)."""
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS incoming_figures (unit_id bigint, month date, item text,"
                       " quantity double precision, unit text, tco2 double precision, tce double precision,"
                       " factor_ids text[]) ON COMMIT DELETE ROWS")
    await conn.execute("TRUNCATE incoming_figures")
    async with conn.cursor() as cur, cur.copy("COPY incoming_figures FROM STDIN") as copy:
        for unit_id, month, item, quantity, unit, tco2, tce, factor_ids in figures:
            await copy.write_row((unit_id, month, item, quantity, unit, tco2, tce, list(factor_ids)))
    cur = await conn.execute(_MERGE, {"source": source, "batch": batch_id, "by": by})
    return cur.rowcount


async def figure_history(conn: psycopg.AsyncConnection, *, unit_id: int, month: date,
                         item: str) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT revision, quantity, unit, tco2, tce, factor_ids, source, batch_id, recorded_by, recorded_at"
            " FROM monitoring_figure_revisions WHERE unit_id = %s AND month = %s AND item = %s ORDER BY revision",
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


async def aggregate(conn: psycopg.AsyncConnection, *, scope: UnitScope, prefix: str, industry: str | None,
                    start: date, end: date, group: str) -> list[tuple[str, str, float, float, float]]:
    """(group key, item, quantity, tco2, tce) sums over the units in scope under region `prefix` (and industry
    class prefix), months [start, end)."""
    where, params = scope.where()
    cur = await conn.execute(
        f"SELECT {GROUPINGS[group]} AS key, f.item, sum(f.quantity), COALESCE(sum(f.tco2), 0), COALESCE(sum(f.tce), 0)"
        " FROM monitoring_figures f JOIN monitoring_units u USING (unit_id)"
        f" WHERE {where} AND u.region_code LIKE %(prefix)s AND u.industry_code LIKE %(industry)s"
        " AND f.month >= %(start)s AND f.month < %(end)s GROUP BY 1, 2",
        {**params, "prefix": f"{prefix}%", "industry": f"{industry or ''}%", "start": start, "end": end})
    return [(str(k), str(i), float(q), float(c), float(t)) for k, i, q, c, t in await cur.fetchall()]


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
        await cur.execute("SELECT month, item, quantity, unit, tco2, tce, factor_ids, source, revision, updated_at"
                          " FROM monitoring_figures WHERE unit_id = %s AND month >= %s AND month < %s"
                          " ORDER BY month, item", (unit_id, start, end))
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

_SYNC_COLUMNS = ("name, dialect, url_env, query, watermark, interval_s, enabled, last_run_at, last_ok_at,"
                 " last_error, alarm_since")


async def list_sync_sources(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_SYNC_COLUMNS} FROM monitoring_sync_sources ORDER BY name")
        return list(await cur.fetchall())


async def create_sync_source(conn: psycopg.AsyncConnection, *, fields: dict[str, Any]) -> dict[str, Any]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("INSERT INTO monitoring_sync_sources (name, dialect, url_env, query, interval_s, enabled)"
                          " VALUES (%(name)s, %(dialect)s, %(url_env)s, %(query)s, %(interval_s)s, %(enabled)s)"
                          f" RETURNING {_SYNC_COLUMNS}", fields)
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
    only = "" if unit_ids is None else " AND unit_id = ANY(%(units)s)"
    cur = await conn.execute(
        "SELECT unit_id, month, item, quantity, tco2, factor_ids FROM monitoring_figures"
        f" WHERE month >= %(start)s AND month < %(end)s{only} ORDER BY unit_id, month, item",
        {"start": start, "end": end, "units": None if unit_ids is None else [int(u) for u in unit_ids]})
    return list(await cur.fetchall())
