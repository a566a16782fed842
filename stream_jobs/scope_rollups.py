"""Interval rows (emissions, production) upserted together with the rollups per device, process, site and
enterprise (071_scope_rollups.sql).

One statement per batch reads the stored version of each incoming row, upserts the rows and adds the
difference (new minus previous) to `scope_rollup_1h` and `scope_rollup_1d`: replaying or re-deriving an
interval adds nothing, and a late interval lands in the bucket its interval ends in. The SQL that turns
source rows into per-scope contributions is defined once, in the database (`cf_scope_rollup_rows`), and
shared with the rebuild that `carbonflow recompute` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

__all__ = ["ACTIVITY_COLUMNS", "EMISSION_COLUMNS", "ScopeRollups", "rebuild_scope_rollups"]

EMISSION_COLUMNS = ("gateway_key", "seq", "ts", "start_ts", "point_key", "site_id", "activity", "quantity",
                    "quantity_unit", "tco2", "factor_ids", "formula", "quality", "energy_kwh")
"""The order of an emission row's values."""
ACTIVITY_COLUMNS = ("gateway_key", "seq", "ts", "start_ts", "point_key", "site_id", "activity", "quantity",
                    "quantity_unit", "quality")
"""The order of an activity interval's values (counters bound to production:<product>)."""

_TYPES = {"gateway_key": "int", "seq": "bigint", "ts": "timestamptz", "start_ts": "timestamptz", "point_key": "int",
          "site_id": "text", "activity": "text", "quantity": "double precision", "quantity_unit": "text",
          "tco2": "double precision", "factor_ids": "text[]", "formula": "text", "quality": "smallint",
          "energy_kwh": "double precision"}
# what a source row contributes, in the column order cf_scope_rollup_rows expects
_CONTRIBUTION = {
    "emissions": "ts, point_key, site_id, activity, quantity_unit AS unit, quantity, energy_kwh, tco2, quality",
    "activity_intervals": ("ts, point_key, site_id, activity, quantity_unit AS unit, quantity,"
                           " NULL::double precision AS energy_kwh, 0::double precision AS tco2, quality"),
}
_COLUMNS = {"emissions": EMISSION_COLUMNS, "activity_intervals": ACTIVITY_COLUMNS}
_KEY = ("level", "scope_id", "bucket", "activity", "unit")
_SUMS = ("quantity", "energy_kwh", "tco2", "intervals", "n_uncertain", "n_bad")


def _rollup_insert(table: str, rows_sql: str) -> str:
    sums = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in _SUMS)
    return (f"INSERT INTO {table} ({', '.join(_KEY + _SUMS)}) {rows_sql}"
            f" ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {sums}")


class ScopeRollups:
    """Upserts interval rows and keeps the scope rollups; one per connection (it owns a temporary table)."""

    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self._conn = conn
        self._statements: dict[str, str] = {}

    async def _statement(self, table: str) -> str:
        if table not in self._statements:
            cur = await self._conn.execute(
                "SELECT cf_scope_rollup_rows('1 hour', 'SELECT * FROM delta'),"
                " cf_scope_rollup_rows('1 day', 'SELECT * FROM delta')")
            hour_rows, day_rows = (await cur.fetchone()) or ("", "")
            columns = _COLUMNS[table]
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns
                                if c not in ("gateway_key", "seq", "ts", "point_key", "site_id", "activity"))
            contribution = _CONTRIBUTION[table]
            self._statements[table] = (
                f"WITH old AS (SELECT {contribution}, -1 AS sign FROM {table}"
                f"  WHERE (gateway_key, seq, ts) IN (SELECT gateway_key, seq, ts FROM _{table}_in)),"
                f" up AS (INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _{table}_in"
                f"  ON CONFLICT (gateway_key, seq, ts) DO UPDATE SET {updates} RETURNING {contribution}, 1 AS sign),"
                " delta AS (SELECT * FROM up UNION ALL SELECT * FROM old),"
                f" hours AS ({_rollup_insert('scope_rollup_1h', hour_rows)}) "
                + _rollup_insert("scope_rollup_1d", day_rows)
            )
        return self._statements[table]

    async def upsert(self, table: str, rows: Sequence[tuple]) -> None:
        """Insert or replace rows of `emissions` or `activity_intervals` (the last of equal keys wins), adding
        what changed to the scope rollups."""
        latest = {(r[0], r[1], r[2]): r for r in rows}
        if not latest:
            return
        columns = _COLUMNS[table]
        statement = await self._statement(table)
        async with self._conn.transaction():
            await self._conn.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS _{table}_in ("
                + ", ".join(f"{c} {_TYPES[c]}" for c in columns) + ") ON COMMIT DELETE ROWS")
            async with self._conn.cursor() as cur:
                await cur.execute(f"TRUNCATE _{table}_in")  # rows of an earlier call in the same transaction
                async with cur.copy(f"COPY _{table}_in ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in latest.values():
                        await copy.write_row(row)
                await cur.execute(statement)  # type: ignore[arg-type]


async def rebuild_scope_rollups(conn: psycopg.AsyncConnection, *, site: str | None, start: datetime,
                                end: datetime) -> None:
    """Rebuild the scope rollup buckets overlapping [start, end] of `site` (every site when None) and of its
    enterprise from the stored emissions and activity intervals."""
    await conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)", (site, start, end))
