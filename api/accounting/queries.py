"""Data access of the GHG-accounting endpoints: factors, activity submissions, metered monthly sums,
report workflow records and process benchmarks. Keyword-only arguments and a connection; no HTTP.

Months are calendar months in China Standard Time (the factor library's time zone); a metered
interval belongs to the month its start falls in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from api.auth.access import Scope
from api.errors import Conflict
from api.site_filter import IN_SITES as _IN_SITES
from api.site_filter import site_list as _list
from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary, FactorRow
from carbon_domain.grid import DEFAULT_GRID_SERIES, GridSeries
from carbon_domain.reports.document import (
    Basis,
    EnteredLine,
    Enterprise,
    MeteredAggregate,
    Site,
    build_document,
)
from carbon_domain.reports.workflow import Participants

__all__ = [
    "FACTOR_COLUMNS",
    "add_factor",
    "add_submission",
    "add_verification",
    "create_snapshot",
    "delete_process_benchmark",
    "entered_lines",
    "factor_rows",
    "enterprise_visible",
    "get_enterprise",
    "get_snapshot",
    "inventory_document",
    "list_factors",
    "list_benchmarks",
    "list_process_benchmarks",
    "list_submissions",
    "load_library",
    "lock_case",
    "metered_aggregates",
    "month_range",
    "record_transition",
    "review_participants",
    "scope_chain",
    "set_benchmark",
    "set_process_benchmark",
    "workflow_view",
]

FACTOR_COLUMNS = ("factor_id", "key", "value", "unit", "scope", "scope_id", "valid_from", "valid_to", "series",
                  "source")
_TZ = "Asia/Shanghai"  # = carbon_domain.factors.FACTOR_TIMEZONE (UTC+08:00, no daylight saving)


# --- enterprises and scope ------------------------------------------------------------------------


async def enterprise_visible(conn: psycopg.AsyncConnection, *, scope: Scope, enterprise: str) -> bool:
    """True when the enterprise exists and the scope covers it (a region covers its sub-regions)."""
    cur = await conn.execute(
        "SELECT 1 FROM enterprises e WHERE e.enterprise_id = %(e)s AND (%(all)s"
        " OR e.enterprise_id = ANY(%(enterprises)s::text[])"
        " OR EXISTS (SELECT 1 FROM unnest(%(regions)s::text[]) r WHERE e.region = r OR starts_with(e.region, r || '-')))",
        {"e": enterprise, "all": scope.all, "enterprises": list(scope.enterprises), "regions": list(scope.regions)},
    )
    return await cur.fetchone() is not None


async def get_enterprise(conn: psycopg.AsyncConnection, *, enterprise: str) -> Enterprise | None:
    cur = await conn.execute("SELECT enterprise_id, name, region, industry, credit_code FROM enterprises"
                             " WHERE enterprise_id = %s", (enterprise,))
    row = await cur.fetchone()
    if row is None:
        return None
    cur = await conn.execute("SELECT site_id, name, province, grid_region FROM sites WHERE enterprise_id = %s"
                             " ORDER BY site_id", (enterprise,))
    sites = tuple(Site(*row) for row in await cur.fetchall())
    return Enterprise(row[0], row[1], row[2], row[3], sites, credit_code=row[4])


def scope_chain(enterprise: Enterprise) -> list[tuple[str, str]]:
    """Factor scopes of an enterprise, most specific first: itself, its province (when all its sites share
    one), its region."""
    chain = [("enterprise", enterprise.enterprise_id)]
    provinces = {s.province for s in enterprise.sites if s.province}
    if len(provinces) == 1:
        chain.append(("province", provinces.pop()))
    chain.append(("region", enterprise.region))
    return chain


# --- factors --------------------------------------------------------------------------------------


async def load_library(conn: psycopg.AsyncConnection) -> FactorLibrary:
    """The factor library stored in the database, oldest row first (later rows are newer versions)."""
    cur = await conn.execute(f"SELECT {', '.join(FACTOR_COLUMNS)} FROM factors ORDER BY created_at, factor_id")
    return FactorLibrary(FactorRow.model_validate(dict(zip(FACTOR_COLUMNS, row))) for row in await cur.fetchall())


async def list_factors(conn: psycopg.AsyncConnection, *, key: str | None, series: str | None,
                       day: date | None) -> list[dict[str, Any]]:
    """Factor rows, oldest version first, optionally of one key, one series, valid on one day."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {', '.join(FACTOR_COLUMNS)}, created_at FROM factors"
            " WHERE (%(key)s::text IS NULL OR key = %(key)s) AND (%(series)s::text IS NULL OR series = %(series)s)"
            " AND (%(day)s::date IS NULL OR (valid_from <= %(day)s AND (valid_to IS NULL OR valid_to >= %(day)s)))"
            " ORDER BY key, series, created_at, factor_id",
            {"key": key, "series": series, "day": day},
        )
        return list(await cur.fetchall())


async def add_factor(conn: psycopg.AsyncConnection, *, row: FactorRow) -> dict[str, Any]:
    """Insert a new factor row (a new version); Conflict when its factor_id exists."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"INSERT INTO factors ({', '.join(FACTOR_COLUMNS)}) VALUES ({', '.join(['%s'] * len(FACTOR_COLUMNS))})"
            f" ON CONFLICT (factor_id) DO NOTHING RETURNING {', '.join(FACTOR_COLUMNS)}, created_at",
            (row.factor_id, row.key, row.value, row.unit, row.scope.value, row.scope_id, row.valid_from, row.valid_to,
             row.series, row.source),
        )
        created = await cur.fetchone()
    if created is None:
        raise Conflict(f"factor_id {row.factor_id!r} exists; factor rows are never edited: publish a new version "
                       f"with a new id (e.g. {row.factor_id}.v2)")
    return created


# --- activity data --------------------------------------------------------------------------------


async def add_submission(
    conn: psycopg.AsyncConnection, *, enterprise: str, submitted_by: str, origin: str, filename: str | None,
    content_sha256: str, note: str, lines: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """Store a new version of an enterprise's entered activity data (call inside a transaction)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('cf-activity:' || %s))", (enterprise,))
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO activity_submissions (enterprise_id, version, submitted_by, origin, filename, content_sha256,"
            " note) SELECT %s, COALESCE(max(version), 0) + 1, %s, %s, %s, %s, %s FROM activity_submissions"
            " WHERE enterprise_id = %s"
            " RETURNING submission_id, enterprise_id, version, submitted_at, submitted_by, origin, filename,"
            " content_sha256, note",
            (enterprise, submitted_by, origin, filename, content_sha256, note, enterprise),
        )
        submission = await cur.fetchone()
        assert submission is not None
        await cur.executemany(
            "INSERT INTO activity_lines (submission_id, line, period, process, source_type, item, quantity, unit,"
            " direction, quality, site_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(submission["submission_id"], x["line"], x["period"], x["process"], x["source_type"], x["item"],
              x["quantity"], x["unit"], x["direction"], x["quality"], x.get("site")) for x in lines],
        )
        # earlier lines of the same keys: this version replaces them in every inventory from now on
        await cur.execute(
            "SELECT count(*) AS n FROM activity_lines old JOIN activity_submissions s USING (submission_id)"
            " WHERE s.enterprise_id = %s AND s.version < %s AND EXISTS (SELECT 1 FROM activity_lines new"
            "   WHERE new.submission_id = %s AND (new.period, new.process, new.source_type, new.item, new.direction)"
            "   = (old.period, old.process, old.source_type, old.item, old.direction))",
            (enterprise, submission["version"], submission["submission_id"]),
        )
        replaced = await cur.fetchone()
    return {**submission, "lines": len(lines), "replaces_lines": replaced["n"] if replaced else 0}


async def list_submissions(conn: psycopg.AsyncConnection, *, enterprise: str) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT s.submission_id, s.version, s.submitted_at, s.submitted_by, s.origin, s.filename,"
            " s.content_sha256, s.note, count(l.line) AS lines,"
            " COALESCE(array_agg(DISTINCT l.period ORDER BY l.period) FILTER (WHERE l.line IS NOT NULL), '{}') AS periods"
            " FROM activity_submissions s LEFT JOIN activity_lines l USING (submission_id)"
            " WHERE s.enterprise_id = %s GROUP BY s.submission_id ORDER BY s.version",
            (enterprise,),
        )
        return list(await cur.fetchall())


async def entered_lines(conn: psycopg.AsyncConnection, *, enterprise: str, year: int,
                        month: int | None) -> list[EnteredLine]:
    """Every stored line of the enterprise for the year (with its annual lines) or for one month."""
    periods = [f"{year:04d}-{month:02d}"] if month else [f"{year:04d}", *(f"{year:04d}-{m:02d}" for m in range(1, 13))]
    cur = await conn.execute(
        "SELECT s.version, s.submitted_at, l.line, l.period, l.process, l.source_type, l.item, l.quantity, l.unit,"
        " l.direction, l.quality, l.site_id FROM activity_lines l JOIN activity_submissions s USING (submission_id)"
        " WHERE s.enterprise_id = %s AND l.period = ANY(%s) ORDER BY s.version, l.line",
        (enterprise, periods),
    )
    return [EnteredLine(*row) for row in await cur.fetchall()]


def month_range(year: int, month: int | None) -> tuple[datetime, datetime]:
    """[start, end) of a year or month in China Standard Time."""
    start = datetime(year, month or 1, 1, tzinfo=FACTOR_TIMEZONE)
    if month is None or month == 12:
        end = datetime(year + 1, 1, 1, tzinfo=FACTOR_TIMEZONE)
    else:
        end = datetime(year, month + 1, 1, tzinfo=FACTOR_TIMEZONE)
    return start, end


async def metered_aggregates(conn: psycopg.AsyncConnection, *, enterprise: str, start: datetime,
                             end: datetime) -> list[MeteredAggregate]:
    """Monthly sums of the enterprise's metered activities by process: emitting activities from `emissions`
    (already in their accounting unit), products from the increase of `production:<product>` counters."""
    cur = await conn.execute(
        "SELECT to_char(e.start_ts AT TIME ZONE %(tz)s, 'YYYY-MM'), COALESCE(d.process, 'unassigned'), e.activity,"
        " sum(e.quantity), min(e.quantity_unit), count(*), count(*) FILTER (WHERE e.quality > 0), max(e.ts),"
        " s.site_id"
        " FROM emissions e JOIN sites s ON s.site_id = e.site_id"
        " LEFT JOIN points p ON p.point_key = e.point_key LEFT JOIN devices d ON d.device_id = p.device_id"
        " WHERE s.enterprise_id = %(e)s AND e.start_ts >= %(start)s AND e.start_ts < %(end)s"
        " GROUP BY 1, 2, 3, s.site_id ORDER BY 1, 2, 3, s.site_id",
        {"tz": _TZ, "e": enterprise, "start": start, "end": end},
    )
    # sums of floats depend on the order rows are added in: round them so that the same data give the same
    # document (and the same report bytes)
    rows = [MeteredAggregate(period, process, activity, round(quantity, 6), unit, n, flagged, last, site)
            for period, process, activity, quantity, unit, n, flagged, last, site in await cur.fetchall()]
    cur = await conn.execute(
        "SELECT to_char(steps.prev_ts AT TIME ZONE %(tz)s, 'YYYY-MM'), pts.process, pts.activity,"
        " sum(CASE WHEN steps.value >= steps.prev THEN steps.value - steps.prev ELSE steps.value END), pts.unit,"
        " count(*), count(*) FILTER (WHERE steps.value < steps.prev), max(steps.ts)"
        " FROM (SELECT p.point_key, p.unit, p.activity, COALESCE(d.process, 'unassigned') AS process FROM points p"
        "       JOIN devices d ON d.device_id = p.device_id JOIN sites s ON s.site_id = d.site_id"
        "       WHERE s.enterprise_id = %(e)s AND p.kind = 'counter' AND p.activity LIKE 'production:%%') AS pts"
        " CROSS JOIN LATERAL (SELECT ts, value, lag(value) OVER w AS prev, lag(ts) OVER w AS prev_ts FROM ("
        "   (SELECT ts, value FROM cf_point_last(pts.point_key, '-infinity', %(start)s, 1, true))"
        "   UNION ALL (SELECT ts, value FROM cf_point_readings(pts.point_key, %(start)s, %(end)s)"
        "     WHERE quality < 2 AND value IS NOT NULL)"
        "   UNION ALL (SELECT ts, value FROM cf_point_first(pts.point_key, %(end)s, 'infinity', 1, true)))"
        "   AS base WINDOW w AS (ORDER BY ts)) AS steps"
        " WHERE steps.prev IS NOT NULL AND steps.prev_ts >= %(start)s AND steps.prev_ts < %(end)s"
        " GROUP BY 1, 2, 3, 5 ORDER BY 1, 2, 3, 5",
        {"tz": _TZ, "e": enterprise, "start": start, "end": end},
    )
    rows += [MeteredAggregate(period, process, activity, round(quantity, 6), unit, n, resets, last)
             for period, process, activity, quantity, unit, n, resets, last in await cur.fetchall()]
    return rows


async def inventory_document(
    conn: psycopg.AsyncConnection, *, enterprise: Enterprise, year: int, month: int | None, series: str,
    basis: Basis, tolerance: float, grid_series: GridSeries = DEFAULT_GRID_SERIES,
) -> dict[str, Any]:
    """The inventory document of an enterprise for a year or month from the stored data (raises
    carbon_domain.reports.InventoryDataError for lines that cannot be accounted)."""
    start, end = month_range(year, month)
    return build_document(
        enterprise=enterprise, year=year, month=month,
        entered=await entered_lines(conn, enterprise=enterprise.enterprise_id, year=year, month=month),
        metered=await metered_aggregates(conn, enterprise=enterprise.enterprise_id, start=start, end=end),
        library=await load_library(conn), series=series, scope_chain=scope_chain(enterprise), basis=basis,
        tolerance=tolerance, grid_series=grid_series,
    )


# --- report workflow ------------------------------------------------------------------------------


async def lock_case(conn: psycopg.AsyncConnection, *, enterprise: str, year: int) -> dict[str, Any]:
    """The workflow case of an enterprise's year, created in state draft, locked until the transaction ends."""
    await conn.execute("INSERT INTO report_cases (enterprise_id, year, state) VALUES (%s, %s, 'draft')"
                       " ON CONFLICT DO NOTHING", (enterprise, year))
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT enterprise_id, year, state, snapshot_id, updated_at FROM report_cases"
                          " WHERE enterprise_id = %s AND year = %s FOR UPDATE", (enterprise, year))
        case = await cur.fetchone()
    assert case is not None
    return case


async def create_snapshot(
    conn: psycopg.AsyncConnection, *, enterprise: str, year: int, created_by: str, document: dict[str, Any],
    document_sha256: str, pdf_sha256: str, xlsx_sha256: str,
) -> dict[str, Any]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO report_snapshots (enterprise_id, year, created_by, document, document_sha256, total_tco2,"
            " pdf_sha256, xlsx_sha256) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING snapshot_id, enterprise_id, year, created_at, created_by, document_sha256, total_tco2,"
            " pdf_sha256, xlsx_sha256",
            (enterprise, year, created_by, Jsonb(document, dumps=_dumps), document_sha256, document["total_tco2"],
             pdf_sha256, xlsx_sha256),
        )
        snapshot = await cur.fetchone()
    assert snapshot is not None
    return snapshot


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


async def get_snapshot(conn: psycopg.AsyncConnection, *, enterprise: str, year: int,
                       snapshot_id: int) -> dict[str, Any] | None:
    """A snapshot with its frozen document; None when it is not of this enterprise and year."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT snapshot_id, created_at, created_by, document, document_sha256, total_tco2, pdf_sha256,"
            " xlsx_sha256 FROM report_snapshots WHERE snapshot_id = %s AND enterprise_id = %s AND year = %s",
            (snapshot_id, enterprise, year),
        )
        return await cur.fetchone()


async def record_transition(
    conn: psycopg.AsyncConnection, *, enterprise: str, year: int, action: str, from_state: str, to_state: str,
    actor: str, actor_role: str, comment: str, snapshot_id: int | None,
) -> dict[str, Any]:
    """Move the (locked) case to `to_state` and append the event."""
    await conn.execute(
        "UPDATE report_cases SET state = %s, snapshot_id = COALESCE(%s, snapshot_id), updated_at = clock_timestamp()"
        " WHERE enterprise_id = %s AND year = %s",
        (to_state, snapshot_id, enterprise, year),
    )
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO report_events (enterprise_id, year, action, from_state, to_state, actor, actor_role, comment,"
            " snapshot_id) SELECT %s, %s, %s, %s, %s, %s, %s, %s, snapshot_id FROM report_cases"
            " WHERE enterprise_id = %s AND year = %s"
            " RETURNING event_id, at, action, from_state, to_state, actor, actor_role, comment, snapshot_id",
            (enterprise, year, action, from_state, to_state, actor, actor_role, comment, enterprise, year),
        )
        event = await cur.fetchone()
    assert event is not None
    return event


async def review_participants(conn: psycopg.AsyncConnection, *, enterprise: str, year: int,
                              snapshot_id: int | None) -> Participants:
    """Who took part in an enterprise's report for a year: who submitted it or entered the activity data of
    the snapshot under review, who verified it, who reviewed it, and who did 初审 of the current submission."""
    cur = await conn.execute("SELECT action, actor FROM report_events WHERE enterprise_id = %s AND year = %s"
                             " ORDER BY event_id", (enterprise, year))
    events = await cur.fetchall()
    preparers = {actor for action, actor in events if action == "submit"}
    reviewers = {actor for action, actor in events if action in ("first_review", "final_review", "return")}
    first_reviewer: str | None = None
    for action, actor in events:
        if action == "submit":
            first_reviewer = None
        elif action == "first_review":
            first_reviewer = actor
    cur = await conn.execute(
        "SELECT DISTINCT a.submitted_by FROM activity_submissions a JOIN report_snapshots s ON s.snapshot_id = %s"
        " WHERE a.enterprise_id = %s AND a.version IN (SELECT (v->>'version')::int"
        "   FROM jsonb_array_elements(s.document->'data_quality'->'versions') v)",
        (snapshot_id, enterprise))
    preparers |= {row[0] for row in await cur.fetchall()}
    cur = await conn.execute("SELECT DISTINCT v.verifier FROM report_verifications v JOIN report_snapshots s USING"
                             " (snapshot_id) WHERE s.enterprise_id = %s AND s.year = %s", (enterprise, year))
    verifiers = {row[0] for row in await cur.fetchall()}
    return Participants(frozenset(preparers), frozenset(verifiers), frozenset(reviewers), first_reviewer)


async def add_verification(conn: psycopg.AsyncConnection, *, snapshot_id: int, verifier: str,
                           verified_total_tco2: float, findings: list[dict[str, Any]],
                           opinion: str) -> dict[str, Any]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO report_verifications (snapshot_id, verifier, verified_total_tco2, findings, opinion)"
            " VALUES (%s, %s, %s, %s, %s)"
            " RETURNING verification_id, snapshot_id, at, verifier, verified_total_tco2, findings, opinion",
            (snapshot_id, verifier, verified_total_tco2, Jsonb(findings, dumps=_dumps), opinion),
        )
        row = await cur.fetchone()
    assert row is not None
    return row


async def workflow_view(conn: psycopg.AsyncConnection, *, enterprise: str, year: int) -> dict[str, Any]:
    """State, events, snapshots (without documents) and verifications, each verification with the difference
    between its verified total and the submitted total of its snapshot."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT state, snapshot_id, updated_at FROM report_cases WHERE enterprise_id = %s"
                          " AND year = %s", (enterprise, year))
        case = await cur.fetchone() or {"state": "draft", "snapshot_id": None, "updated_at": None}
        await cur.execute(
            "SELECT event_id, at, action, from_state, to_state, actor, actor_role, comment, snapshot_id"
            " FROM report_events WHERE enterprise_id = %s AND year = %s ORDER BY event_id", (enterprise, year))
        events = list(await cur.fetchall())
        # each snapshot with its grid series and the cross-check entries beyond tolerance (both figures side
        # by side), so that reviewers see them without opening the document
        await cur.execute(
            "SELECT snapshot_id, created_at, created_by, document_sha256, total_tco2, pdf_sha256, xlsx_sha256,"
            " document->'series'->>'grid' AS grid_series, COALESCE((SELECT jsonb_agg(e) FROM"
            " jsonb_array_elements(document->'cross_check') e WHERE (e->>'exceeds_tolerance')::boolean), '[]')"
            " AS cross_check FROM report_snapshots WHERE enterprise_id = %s AND year = %s ORDER BY snapshot_id",
            (enterprise, year))
        snapshots = list(await cur.fetchall())
        await cur.execute(
            "SELECT v.verification_id, v.snapshot_id, v.at, v.verifier, v.verified_total_tco2, v.findings, v.opinion,"
            " s.total_tco2 AS submitted_total_tco2 FROM report_verifications v JOIN report_snapshots s USING"
            " (snapshot_id) WHERE s.enterprise_id = %s AND s.year = %s ORDER BY v.verification_id", (enterprise, year))
        verifications = list(await cur.fetchall())
    for v in verifications:
        v["difference_tco2"] = round(v["verified_total_tco2"] - v["submitted_total_tco2"], 3)
        v["difference_relative"] = (round(v["difference_tco2"] / v["submitted_total_tco2"], 6)
                                    if v["submitted_total_tco2"] else None)
    return {**case, "events": events, "snapshots": snapshots, "verifications": verifications}


# --- process benchmarks ---------------------------------------------------------------------------

_BENCHMARK_COLUMNS = ("process, route, product, benchmark_tco2_per_t, limit_tco2_per_t, source, updated_at,"
                      " updated_by")


async def list_process_benchmarks(conn: psycopg.AsyncConnection, *, process: str | None = None,
                                  route: str | None = None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_BENCHMARK_COLUMNS} FROM process_benchmarks"
            " WHERE (%(p)s::text IS NULL OR process = %(p)s) AND (%(r)s::text IS NULL OR route = %(r)s)"
            " ORDER BY process, route, product",
            {"p": process, "r": route},
        )
        return list(await cur.fetchall())


async def _benchmark(conn: psycopg.AsyncConnection, process: str, route: str, product: str) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_BENCHMARK_COLUMNS} FROM process_benchmarks WHERE process = %s AND route = %s"
                          " AND product = %s", (process, route, product))
        return await cur.fetchone()


async def set_process_benchmark(
    conn: psycopg.AsyncConnection, *, process: str, route: str, product: str, benchmark: float, limit: float | None,
    source: str, updated_by: str,
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Create or replace an indicator's values: (before, after)."""
    before = await _benchmark(conn, process, route, product)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO process_benchmarks (process, route, product, benchmark_tco2_per_t, limit_tco2_per_t, source,"
            " updated_by) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (process, route, product) DO UPDATE SET"
            " benchmark_tco2_per_t = EXCLUDED.benchmark_tco2_per_t, limit_tco2_per_t = EXCLUDED.limit_tco2_per_t,"
            " source = EXCLUDED.source, updated_by = EXCLUDED.updated_by, updated_at = now()"
            f" RETURNING {_BENCHMARK_COLUMNS}",
            (process, route, product, benchmark, limit, source, updated_by),
        )
        after = await cur.fetchone()
    assert after is not None
    return before, after


async def delete_process_benchmark(conn: psycopg.AsyncConnection, *, process: str, route: str,
                                   product: str) -> dict[str, Any] | None:
    """Delete an indicator; the deleted row, or None when there was none."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"DELETE FROM process_benchmarks WHERE process = %s AND route = %s AND product = %s"
                          f" RETURNING {_BENCHMARK_COLUMNS}", (process, route, product))
        return await cur.fetchone()


async def factor_rows(conn: psycopg.AsyncConnection, *, factor_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The factor library rows named by `factor_ids` (value, unit, series, source, validity), by id."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT factor_id, key, value, unit, scope, scope_id, valid_from, valid_to, series, source FROM factors"
            " WHERE factor_id = ANY(%s::text[]) ORDER BY factor_id",
            (list(factor_ids),),
        )
        return list(await cur.fetchall())



# --- product benchmarks of a site ---------------------------------------------------------------


async def list_benchmarks(conn: psycopg.AsyncConnection, *, sites: Sequence[str] | None,
                          site: str | None = None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT site_id, product, tco2_per_t, source, updated_at, updated_by FROM benchmarks"
            f" WHERE {_IN_SITES.format(column='site_id')} AND (%(site)s::text IS NULL OR site_id = %(site)s)"
            " ORDER BY site_id, product",
            {"sites": _list(sites), "site": site},
        )
        return list(await cur.fetchall())


async def set_benchmark(conn: psycopg.AsyncConnection, *, site: str, product: str, tco2_per_t: float, source: str,
                        updated_by: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Create or replace a site's benchmark for a product: (before, after)."""
    before = (await list_benchmarks(conn, sites=[site], site=site))
    previous = next((b for b in before if b["product"] == product), None)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO benchmarks (site_id, product, tco2_per_t, source, updated_by) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (site_id, product) DO UPDATE SET tco2_per_t = EXCLUDED.tco2_per_t,"
            " source = EXCLUDED.source, updated_by = EXCLUDED.updated_by, updated_at = now()"
            " RETURNING site_id, product, tco2_per_t, source, updated_at, updated_by",
            (site, product, tco2_per_t, source, updated_by),
        )
        after = await cur.fetchone()
    assert after is not None
    return previous, after
