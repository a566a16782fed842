"""Reading back what the accounting pages list: one stored version of entered activity data with its lines, and
the reports (enterprise and year) in a caller's scope with their workflow state. Keyword-only, no HTTP."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.auth.access import Scope

__all__ = ["activity_version", "report_cases"]

_IN_SCOPE = ("(%(all)s OR e.enterprise_id = ANY(%(enterprises)s::text[]) OR EXISTS (SELECT 1 FROM"
             " unnest(%(regions)s::text[]) r WHERE e.region = r OR starts_with(e.region, r || '-')))")


async def activity_version(conn: psycopg.AsyncConnection, *, enterprise: str, version: int) -> dict[str, Any] | None:
    """A stored submission of entered activity data with its lines in line order; None when there is none."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT submission_id, version, submitted_at, submitted_by, origin, filename, content_sha256, note"
            " FROM activity_submissions WHERE enterprise_id = %s AND version = %s", (enterprise, version))
        submission = await cur.fetchone()
        if submission is None:
            return None
        await cur.execute(
            "SELECT line, period, site_id AS site, process, source_type, item, quantity, unit, direction, quality"
            " FROM activity_lines WHERE submission_id = %s ORDER BY line", (submission.pop("submission_id"),))
        return {**submission, "lines": list(await cur.fetchall())}


async def report_cases(conn: psycopg.AsyncConnection, *, scope: Scope, year: int | None,
                       enterprise: str | None) -> list[dict[str, Any]]:
    """Every enterprise year in scope that has entered activity data or a report case: its sites, state, the
    current snapshot and its total, newest year first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "WITH years AS ("
            "  SELECT s.enterprise_id, substr(l.period, 1, 4)::int AS year, count(*) AS lines"
            "  FROM activity_lines l JOIN activity_submissions s USING (submission_id) GROUP BY 1, 2"
            "  UNION ALL SELECT enterprise_id, year, 0 FROM report_cases),"
            " cases AS (SELECT enterprise_id, year, sum(lines)::int AS lines FROM years GROUP BY 1, 2)"
            " SELECT e.enterprise_id, e.name, k.year, COALESCE(c.state, 'draft') AS state, c.snapshot_id,"
            " rs.total_tco2, c.updated_at, k.lines,"
            " (SELECT count(*) FROM report_snapshots x WHERE x.enterprise_id = k.enterprise_id AND x.year = k.year)"
            "   AS snapshots,"
            " COALESCE((SELECT array_agg(site_id ORDER BY site_id) FROM sites WHERE enterprise_id = e.enterprise_id),"
            "   '{}') AS sites"
            " FROM enterprises e JOIN cases k USING (enterprise_id)"
            " LEFT JOIN report_cases c ON c.enterprise_id = k.enterprise_id AND c.year = k.year"
            " LEFT JOIN report_snapshots rs ON rs.snapshot_id = c.snapshot_id"
            f" WHERE {_IN_SCOPE} AND (%(year)s::int IS NULL OR k.year = %(year)s)"
            " AND (%(enterprise)s::text IS NULL OR e.enterprise_id = %(enterprise)s)"
            " ORDER BY k.year DESC, e.enterprise_id",
            {"all": scope.all, "enterprises": list(scope.enterprises), "regions": list(scope.regions), "year": year,
             "enterprise": enterprise})
        return list(await cur.fetchall())
