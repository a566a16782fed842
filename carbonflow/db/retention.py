"""Retention: how long raw readings and hourly data are kept, and the job that drops what is older.

- raw readings and 1-minute rollups: `CARBONFLOW_RAW_RETENTION_DAYS`, default 400 (a year and a month, so
  a month can still be recomputed from raw readings a year later);
- hourly data: per-point `rollup_1h`, `emissions`, `activity_intervals` and the per-scope hourly and daily
  rollups: `CARBONFLOW_HOURLY_RETENTION_DAYS`, default 1830 (five years and leap days), never less than
  1827 days (five years) nor less than the raw retention.

Both are at most 36525 days (a hundred years): more is a typo, and far more overflows the cut-off date.

Plain PostgreSQL: monthly partitions of `readings`, of its compacted hours `reading_blocks` (and of
`emissions`) that lie wholly before the cut-off are dropped, rows before it in the default partition deleted
(blocks whose hour ends before it), and the partitions of this month and the
next two are created when missing. TimescaleDB: the background retention policies
(074_retention.timescale.sql) are set to the configured ages, `drop_chunks` drops what is already older on
`readings`, `emissions` and the hourly aggregate `readings_hourly`, and the blocks of `reading_blocks` (a plain
table there) whose hour ends at or before the raw cut-off are deleted (tests/timescale runs this).
The other tables lose their rows older than the cut-off. Each run records the cut-offs in
`retention_horizon`, so that `carbonflow recompute` refuses a period whose raw readings are gone.
CEMS hours, alarms, the audit log and entered data are never touched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

__all__ = ["MAX_DAYS", "MIN_HOURLY_DAYS", "RetentionSettings", "apply_retention", "raw_horizon", "retention_settings"]

MIN_HOURLY_DAYS = 1827
"""Five years: hourly figures are what reports and audits rest on."""
MAX_DAYS = 36525
"""A hundred years: a longer retention is a typo, and near 700,000 days `now - days` leaves the calendar."""
# the time column of each partitioned table's rows in its default partition (reading_blocks: _delete_blocks)
_DEFAULT_ROWS_BEFORE = {"readings": "ts < %s", "emissions": "ts < %s"}


@dataclass(frozen=True)
class RetentionSettings:
    raw_days: int = 400
    hourly_days: int = 1830

    def __post_init__(self) -> None:
        if not 1 <= self.raw_days <= MAX_DAYS:
            raise ValueError(f"raw retention must be at least 1 day and at most {MAX_DAYS} days (100 years),"
                             f" got {self.raw_days}")
        if not MIN_HOURLY_DAYS <= self.hourly_days <= MAX_DAYS:
            raise ValueError(f"hourly retention must be at least {MIN_HOURLY_DAYS} days (5 years) and at most"
                             f" {MAX_DAYS} days (100 years), got {self.hourly_days}")
        if self.hourly_days < self.raw_days:
            raise ValueError(f"hourly retention ({self.hourly_days} days) is shorter than the raw retention"
                             f" ({self.raw_days} days)")


def retention_settings(env: dict[str, str] | None = None) -> RetentionSettings:
    """RetentionSettings from CARBONFLOW_RAW_RETENTION_DAYS and CARBONFLOW_HOURLY_RETENTION_DAYS."""
    env = dict(os.environ if env is None else env)
    values: dict[str, int] = {}
    for name, field in (("CARBONFLOW_RAW_RETENTION_DAYS", "raw_days"), ("CARBONFLOW_HOURLY_RETENTION_DAYS", "hourly_days")):
        if env.get(name):
            try:
                values[field] = int(env[name])
            except ValueError as exc:
                raise ValueError(f"{name} must be a whole number of days, got {env[name]!r}") from exc
    return RetentionSettings(**values)


def _timescale(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone() is not None


def _delete_blocks(conn: psycopg.Connection, table: str, cutoff: datetime) -> int:
    """Delete the compacted hours of `table` (reading_blocks or a partition of it) that end at or before `cutoff`.

    A block holds the readings of its whole hour: one that straddles the cut-off still has readings the raw
    retention keeps, so it stays until the next run finds all of it older. Both kinds of server use this.
    """
    return conn.execute(f"DELETE FROM {table} WHERE hour + interval '1 hour' <= %s", (cutoff,)).rowcount


def _drop_partitions(conn: psycopg.Connection, table: str, cutoff: datetime) -> list[str]:
    """Drop the monthly partitions of `table` that end at or before `cutoff`; delete older rows of its default.

    The dropping is the owner's work: cf_drop_month_partitions (093_least_privilege.plain.sql) does it for
    the application role, which owns no table.
    """
    dropped = [r[0] for r in conn.execute("SELECT cf_drop_month_partitions(%s, %s)", (table, cutoff)).fetchall()]
    if table == "reading_blocks":
        _delete_blocks(conn, f"{table}_default", cutoff)
    else:
        conn.execute(f"DELETE FROM {table}_default WHERE {_DEFAULT_ROWS_BEFORE[table]}", (cutoff,))
    return dropped


def apply_retention(conn: psycopg.Connection, settings: RetentionSettings, *,
                    now: datetime | None = None) -> dict[str, Any]:
    """Drop raw readings older than the raw retention and hourly data older than the hourly retention."""
    now = now or datetime.now(UTC)
    raw_cutoff = now - timedelta(days=settings.raw_days)
    hourly_cutoff = now - timedelta(days=settings.hourly_days)
    result: dict[str, Any] = {"raw_before": raw_cutoff, "hourly_before": hourly_cutoff, "dropped": [], "deleted": {}}
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '10s'")  # dropping a partition locks its parent briefly
        if _timescale(conn):
            # keep the background policies of 074_retention.timescale.sql at the configured ages, then drop
            # what is already older; as the owner, through cf_apply_timescale_retention
            # (093_least_privilege.timescale.sql)
            chunks = conn.execute("SELECT cf_apply_timescale_retention(%s, %s, %s, %s)",
                                  (timedelta(days=settings.raw_days), timedelta(days=settings.hourly_days),
                                   raw_cutoff, hourly_cutoff)).fetchall()
            result["dropped"].extend(str(c[0]) for c in chunks)
            # reading_blocks is a plain table there (075_reading_blocks.timescale.sql): no chunks to drop
            result["deleted"]["reading_blocks"] = _delete_blocks(conn, "reading_blocks", raw_cutoff)
        else:
            # nothing else creates next months' partitions after migrate: without them new rows pile up in
            # the default partitions, which retention can only empty row by row
            result["created"] = conn.execute("SELECT cf_ensure_month_partitions(%s, 0, 2)", (now,)).fetchone()[0]  # type: ignore[index]
            result["dropped"] += _drop_partitions(conn, "readings", raw_cutoff)
            result["dropped"] += _drop_partitions(conn, "reading_blocks", raw_cutoff)
            result["dropped"] += _drop_partitions(conn, "emissions", hourly_cutoff)
        for table, column, cutoff in (("reading_batches", "ts_hi", raw_cutoff),  # hot batches not yet compacted
                                      ("rollup_1m", "bucket", raw_cutoff), ("rollup_1h", "bucket", hourly_cutoff),
                                      ("scope_rollup_1h", "bucket", hourly_cutoff),
                                      ("scope_rollup_1d", "bucket", hourly_cutoff),
                                      ("activity_intervals", "ts", hourly_cutoff)):
            cur = conn.execute(f"DELETE FROM {table} WHERE {column} < %s", (cutoff,))
            result["deleted"][table] = cur.rowcount
        conn.execute(
            "INSERT INTO retention_horizon (data, before) VALUES ('raw', %s), ('hourly', %s)"
            " ON CONFLICT (data) DO UPDATE SET before = greatest(retention_horizon.before, EXCLUDED.before),"
            " applied_at = now()", (raw_cutoff, hourly_cutoff))
    return result


async def raw_horizon(conn: psycopg.AsyncConnection) -> datetime | None:
    """The time before which raw readings may have been dropped by retention; None if retention never ran."""
    cur = await conn.execute("SELECT before FROM retention_horizon WHERE data = 'raw'")
    row = await cur.fetchone()
    return None if row is None else row[0]
