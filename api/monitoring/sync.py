"""Scheduled sync of monthly figures from an intermediate database (中间库), MySQL/MariaDB or PostgreSQL.

A source (monitoring_sync_sources) names its dialect, the environment variable holding its connection URL
(``mysql://user:password@host:3306/db`` or ``postgresql://...``; the password never enters our database) and
one SQL query. The query returns the template's columns ``credit_code, month, item, quantity, unit`` plus
``watermark``, the incremental column, and takes the last watermark as the parameter ``%(watermark)s``
(None on the first run), e.g.::

    SELECT credit_code, month, item, quantity, unit, updated_at AS watermark FROM figures
    WHERE %(watermark)s IS NULL OR updated_at > %(watermark)s ORDER BY updated_at

Both drivers (PyMySQL, psycopg) take that ``%(name)s`` placeholder. The rows of one pull are checked like the
lines of a file import (source 'sync'), a row's number being its position in the pull: bad values, units not
registered and the same unit, month and item twice (a duplicate, naming the row it repeats) are refused. As with
a file, a pull with refused rows stores nothing unless the source takes valid rows (``take_valid``); the refused
rows are reported in the run's answer and kept on the source (``last_refused``: row, key, field, reason).

The watermark moves to the largest value read when every row is stored, and never past a row that was not: with
``take_valid`` it stops at the largest value below the first refused row (which the next run therefore reads
again). A pull refused as a whole leaves it where it was, records the error and raises the source's alarm, as do a
query or connection that fails and figures no factor can compute (alarm_since, and a platform alarm
`monitoring_sync_failed` about ``monitoring_sync:<name>`` in the platform's alarms list), cleared by the next run
that succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from api.alarms import clear_platform_alarm, raise_platform_alarm
from api.monitoring import intake, queries
from api.rounds import repeat_rounds
from carbon_domain.errors import DomainError
from carbon_domain.monitoring import LineProblem, check_figure_rows

__all__ = ["ALARM_RULE", "SyncFailed", "SyncRun", "due_sources", "fetch_rows", "run_due", "run_source"]

_log = logging.getLogger(__name__)
_COLUMNS = ("credit_code", "month", "item", "quantity", "unit", "watermark")
_RECORD = _COLUMNS[:-1]  # the template's columns a row carries
_TIMEOUT_S = 60
ALARM_RULE = "monitoring_sync_failed"


class SyncFailed(RuntimeError):
    """The intermediate database could not be read; the message names the source and the cause."""


@dataclass(frozen=True)
class SyncRun:
    source: str
    rows: int
    stored: int
    unchanged: int
    refused: int
    watermark: str | None
    error: str | None
    problems: tuple[LineProblem, ...] = ()


def fetch_rows(dialect: str, url: str, query: str, watermark: str | None) -> list[dict[str, Any]]:
    """Run the source's query (blocking; call it in a thread) and return its rows as dicts."""
    try:
        if dialect == "mysql":
            return _mysql_rows(url, query, watermark)
        with psycopg.connect(url, connect_timeout=10, autocommit=True, row_factory=dict_row) as conn:
            conn.execute(f"SET statement_timeout = {_TIMEOUT_S * 1000}")
            return list(conn.execute(query, {"watermark": watermark}).fetchall())  # type: ignore[arg-type]
    except SyncFailed:
        raise
    except Exception as exc:  # any driver error is the source's failure, reported with its message
        raise SyncFailed(f"{type(exc).__name__}: {exc}") from exc


def _mysql_rows(url: str, query: str, watermark: str | None) -> list[dict[str, Any]]:
    import pymysql
    import pymysql.cursors

    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb") or not parts.hostname:
        raise SyncFailed(f"a MySQL source URL looks like mysql://user:password@host:3306/database, got {parts.scheme}://")
    conn = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=unquote(parts.username or "root"),
                           password=unquote(parts.password or ""), database=parts.path.lstrip("/") or None,
                           connect_timeout=10, read_timeout=_TIMEOUT_S, charset="utf8mb4",
                           cursorclass=pymysql.cursors.DictCursor)
    try:
        with conn.cursor() as cur:
            cur.execute(query, {"watermark": watermark})
            return list(cur.fetchall())
    finally:
        conn.close()


async def run_source(conn: psycopg.AsyncConnection, *, name: str, by: str = "sync") -> SyncRun:
    """Run one sync source now: fetch, check, store, move the watermark; on failure keep it and raise the alarm."""
    source = await queries.get_sync_source(conn, name=name)
    if source is None:
        raise LookupError(f"no sync source {name!r}")
    url = os.environ.get(source["url_env"])
    try:
        if not url:
            raise SyncFailed(f"environment variable {source['url_env']} with the source's URL is not set")
        rows = await asyncio.to_thread(fetch_rows, source["dialect"], url, source["query"], source["watermark"])
        missing = [c for c in _COLUMNS if rows and c not in rows[0]]
        if missing:
            raise SyncFailed(f"the query returns no column(s) {', '.join(missing)}; it must return {', '.join(_COLUMNS)}")
        try:
            result = await _store(conn, rows, name=name, by=by, take_valid=source["take_valid"])
        except DomainError as exc:  # e.g. a month no factor covers: nothing of the pull was stored
            raise SyncFailed(f"cannot compute the figures: {exc}") from exc
    except SyncFailed as exc:
        message = f"sync source {name}: {exc}"
        await conn.execute("UPDATE monitoring_sync_sources SET last_run_at = now(), last_error = %s,"
                           " alarm_since = COALESCE(alarm_since, now()) WHERE name = %s",
                           (message, name))
        await raise_platform_alarm(conn, rule=ALARM_RULE, subject=f"monitoring_sync:{name}",
                                   detail=f"{message}; the watermark stays at {source['watermark']}")
        return SyncRun(name, 0, 0, 0, 0, source["watermark"], message)
    refused = _refused_rows(rows, result.problems)
    if result.problems and not source["take_valid"]:  # refused rows: nothing of the pull stored
        first = result.problems[0]
        message = (f"sync source {name}: {result.refused} row(s) refused, nothing of the pull stored; correct them in"
                   f" the source (or let the source take valid rows: take_valid); row {first.line}, {first.field}:"
                   f" {first.reason}")
        await conn.execute("UPDATE monitoring_sync_sources SET last_run_at = now(), last_error = %s, last_refused = %s,"
                           " alarm_since = COALESCE(alarm_since, now()) WHERE name = %s",
                           (message, Jsonb(refused), name))
        await raise_platform_alarm(conn, rule=ALARM_RULE, subject=f"monitoring_sync:{name}",
                                   detail=f"{message}; the watermark stays at {source['watermark']}")
        return SyncRun(name, len(rows), 0, 0, result.refused, source["watermark"], message, tuple(result.problems))
    watermark = _next_watermark(rows, {p.line for p in result.problems}, source["watermark"])
    # a watermark reset by an administrator while this pull ran wins: the next run pulls again from it
    cur = await conn.execute(
        "UPDATE monitoring_sync_sources SET watermark = CASE WHEN watermark IS NOT DISTINCT FROM %(read)s"
        " THEN %(next)s ELSE watermark END, last_run_at = now(), last_ok_at = now(), last_error = NULL,"
        " last_refused = %(refused)s, alarm_since = NULL WHERE name = %(name)s RETURNING watermark",
        {"read": source["watermark"], "next": watermark, "refused": Jsonb(refused) if refused else None,
         "name": name})
    kept = await cur.fetchone()
    watermark = kept[0] if kept is not None else watermark
    await clear_platform_alarm(conn, rule=ALARM_RULE, subject=f"monitoring_sync:{name}")
    return SyncRun(name, len(rows), result.stored, result.same, result.refused, watermark, None,
                   tuple(result.problems))


async def _store(conn: psycopg.AsyncConnection, rows: Sequence[dict[str, Any]], *, name: str, by: str,
                 take_valid: bool) -> intake.Intake:
    """Check the pull's rows as the lines of a file (row n is line n, after a header of the query's columns) and
    store them as a file import does."""
    regions, industries = await intake.registries(conn)
    numbered = [(number, [_text(row.get(column)) for column in _RECORD]) for number, row in enumerate(rows, start=1)]
    lines, problems = check_figure_rows([(0, list(_RECORD)), *numbered], regions=regions, industries=industries)
    return await intake.take_in(conn, lines=lines, problems=problems, read=len(rows),
                                scope=queries.UnitScope(all=True), may_register=False, take_valid=take_valid,
                                source="sync", origin=f"sync:{name}", digest=None, by=by)


def _refused_rows(rows: Sequence[dict[str, Any]], problems: Sequence[LineProblem]) -> list[dict[str, Any]]:
    """The refused rows as kept on the source: row number, its key (credit code, month, item), field and reason."""
    refused = []
    for problem in problems:
        row = rows[problem.line - 1] if 1 <= problem.line <= len(rows) else {}
        refused.append({"line": problem.line, "credit_code": _text(row.get("credit_code")).strip(),
                        "month": _text(row.get("month")).strip(), "item": _text(row.get("item")).strip(),
                        "field": problem.field, "reason": problem.reason})
    return refused


def _next_watermark(rows: Sequence[dict[str, Any]], refused: set[int], current: str | None) -> str | None:
    """The largest watermark read, but below the first refused row's, so that the next run reads that row again."""
    marks = [row["watermark"] for row in rows if row.get("watermark") is not None]
    blocked = [rows[line - 1]["watermark"] for line in refused
               if 1 <= line <= len(rows) and rows[line - 1].get("watermark") is not None]
    if blocked:
        marks = [mark for mark in marks if mark < min(blocked)]
    return _watermark_text(max(marks)) if marks else current


def _watermark_text(value: Any) -> str:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%Y-%m}"
    return str(value)


async def due_sources(conn: psycopg.AsyncConnection) -> list[str]:
    """Names of the enabled sources whose interval has passed since their last run (the scheduler's question)."""
    cur = await conn.execute("SELECT name FROM monitoring_sync_sources WHERE enabled AND (last_run_at IS NULL"
                             " OR last_run_at + make_interval(secs => interval_s) <= now()) ORDER BY name")
    return [row[0] for row in await cur.fetchall()]


async def run_due(url: str, *, once: bool, poll_s: float = 60.0) -> list[SyncRun]:
    """The scheduler (`carbonflow monitoring sync`): run every due source, then, unless `once`, look again every
    `poll_s` seconds. A failed source is logged once per run and alarmed on its row; the others still run; a round
    that cannot reach the database is logged and tried again (api/rounds.py)."""
    async def one_round() -> list[SyncRun]:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            return [await run_source(conn, name=name) for name in await due_sources(conn)]

    def report(runs: list[SyncRun]) -> None:
        for run in runs:
            if run.error:
                _log.warning("%s", run.error)
            else:
                _log.info("sync source %s: %d rows, %d stored, %d refused", run.source, run.rows, run.stored,
                          run.refused)

    return await repeat_rounds("monitoring sync", one_round, once=once, poll_s=poll_s, report=report) or []
