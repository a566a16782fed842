"""Storage of the projects service (migrations 120 and 121): projects, stage changes, documents, spending, bound
points, settled fees, verifiers, monitoring periods and their certification events. Keyword-only functions on a
connection; no HTTP concerns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from api.auth.access import Principal

__all__ = [
    "Visibility",
    "add_document",
    "add_event",
    "add_period",
    "add_spending",
    "assign_verifier",
    "bind_point",
    "change_stage",
    "create_project",
    "document",
    "documents",
    "events",
    "fees",
    "is_verifier",
    "list_projects",
    "period",
    "periods",
    "points",
    "project",
    "put_fee",
    "put_two_high",
    "set_period_status",
    "stage_changes",
    "two_high",
    "unbind_point",
    "verifiers",
    "visibility_of",
]

_PROJECT_COLUMNS = ("p.project_id, p.enterprise_id, p.name, p.kind, p.grid_region, p.stage, p.budget::float8 AS budget,"
                    " p.capacity_kw, p.created_at, p.created_by,"
                    " (SELECT COALESCE(sum(amount), 0)::float8 FROM project_spending s"
                    "  WHERE s.project_id = p.project_id) AS spent")
_PERIOD_COLUMNS = ("period_id, project_id, start_ts, end_ts, be_tco2, pe_tco2, le_tco2, er_tco2, ef_cm, provenance,"
                   " status, issued_tco2, computed_at, computed_by")


@dataclass(frozen=True)
class Visibility:
    """Which projects a caller sees: all, an enterprise's own, a region's, or those it verifies."""

    all: bool = False
    enterprises: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    verifier: str | None = None


def visibility_of(principal: Principal) -> Visibility:
    """An auditor sees only the projects assigned to it, whatever enterprises its user scope names."""
    if principal.role == "auditor":
        return Visibility(verifier=principal.username)
    scope = principal.scope
    return Visibility(all=scope.all, enterprises=scope.enterprises, regions=scope.regions)


# e.region is the owner's region: a government user's region covers its sub-regions (CN-ZJ covers CN-ZJ-HZ)
_VISIBLE = ("(%(all)s OR p.enterprise_id = ANY(%(enterprises)s::text[])"
            " OR EXISTS (SELECT 1 FROM unnest(%(regions)s::text[]) r"
            "            WHERE e.region = r OR starts_with(e.region, r || '-'))"
            " OR EXISTS (SELECT 1 FROM project_verifiers v WHERE v.project_id = p.project_id"
            "            AND v.username = %(verifier)s))")


def _visible(visibility: Visibility) -> dict[str, Any]:
    return {"all": visibility.all, "enterprises": list(visibility.enterprises), "regions": list(visibility.regions),
            "verifier": visibility.verifier}


async def list_projects(conn: psycopg.AsyncConnection, *, visibility: Visibility) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_PROJECT_COLUMNS} FROM projects p JOIN enterprises e USING (enterprise_id)"
                          f" WHERE {_VISIBLE} ORDER BY p.project_id", _visible(visibility))
        return list(await cur.fetchall())


async def project(conn: psycopg.AsyncConnection, *, project_id: int, visibility: Visibility,
                  lock: bool = False) -> dict[str, Any] | None:
    """One project if the caller sees it; `lock` holds its row for a stage or status change."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_PROJECT_COLUMNS} FROM projects p JOIN enterprises e USING (enterprise_id)"
                          f" WHERE p.project_id = %(id)s AND {_VISIBLE}" + (" FOR UPDATE OF p" if lock else ""),
                          {"id": project_id, **_visible(visibility)})
        return await cur.fetchone()


async def create_project(conn: psycopg.AsyncConnection, *, values: dict[str, Any], created_by: str) -> int:
    cur = await conn.execute(
        "INSERT INTO projects (enterprise_id, name, kind, grid_region, budget, capacity_kw, created_by)"
        " VALUES (%(enterprise_id)s, %(name)s, %(kind)s, %(grid_region)s, %(budget)s, %(capacity_kw)s, %(by)s)"
        " RETURNING project_id", {**values, "by": created_by})
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def change_stage(conn: psycopg.AsyncConnection, *, project_id: int, from_stage: str, to_stage: str,
                       comment: str, changed_by: str) -> None:
    await conn.execute("UPDATE projects SET stage = %s WHERE project_id = %s", (to_stage, project_id))
    await conn.execute("INSERT INTO project_stage_changes (project_id, from_stage, to_stage, comment, changed_by)"
                       " VALUES (%s, %s, %s, %s, %s)", (project_id, from_stage, to_stage, comment, changed_by))


async def stage_changes(conn: psycopg.AsyncConnection, *, project_id: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT from_stage, to_stage, comment, changed_at, changed_by FROM project_stage_changes"
                          " WHERE project_id = %s ORDER BY change_id", (project_id,))
        return list(await cur.fetchall())


_DOCUMENT_COLUMNS = "document_id, project_id, stage, filename, content_type, sha256, size_bytes, uploaded_at, uploaded_by"


async def add_document(conn: psycopg.AsyncConnection, *, project_id: int, stage: str, filename: str,
                       content_type: str, sha256: str, content: bytes, uploaded_by: str) -> dict[str, Any]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO project_documents (project_id, stage, filename, content_type, sha256, size_bytes, content,"
            f" uploaded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_DOCUMENT_COLUMNS}",
            (project_id, stage, filename, content_type, sha256, len(content), content, uploaded_by))
        row = await cur.fetchone()
    assert row is not None
    return row


async def documents(conn: psycopg.AsyncConnection, *, project_id: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM project_documents WHERE project_id = %s"
                          " ORDER BY document_id", (project_id,))
        return list(await cur.fetchall())


async def document(conn: psycopg.AsyncConnection, *, project_id: int, document_id: int) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_DOCUMENT_COLUMNS}, content FROM project_documents"
                          " WHERE project_id = %s AND document_id = %s", (project_id, document_id))
        return await cur.fetchone()


async def add_spending(conn: psycopg.AsyncConnection, *, project_id: int, amount: float, spent_on: date, note: str,
                       recorded_by: str) -> None:
    await conn.execute("INSERT INTO project_spending (project_id, amount, spent_on, note, recorded_by)"
                       " VALUES (%s, %s, %s, %s, %s)", (project_id, amount, spent_on, note, recorded_by))


async def bind_point(conn: psycopg.AsyncConnection, *, project_id: int, device_id: str, point: str, role: str,
                     bound_by: str) -> dict[str, Any] | None:
    """Bind (or re-bind with a new role) a point; returns the previous binding, if any."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT device_id, point, role FROM project_points WHERE project_id = %s"
                          " AND device_id = %s AND point = %s", (project_id, device_id, point))
        before = await cur.fetchone()
    await conn.execute(
        "INSERT INTO project_points (project_id, device_id, point, role, bound_by) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (project_id, device_id, point) DO UPDATE SET role = EXCLUDED.role, bound_at = now(),"
        " bound_by = EXCLUDED.bound_by", (project_id, device_id, point, role, bound_by))
    return before


async def unbind_point(conn: psycopg.AsyncConnection, *, project_id: int, device_id: str,
                       point: str) -> dict[str, Any] | None:
    """Remove a binding; returns it, or None when the point was not bound to the project."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("DELETE FROM project_points WHERE project_id = %s AND device_id = %s AND point = %s"
                          " RETURNING device_id, point, role, bound_at, bound_by", (project_id, device_id, point))
        return await cur.fetchone()


async def points(conn: psycopg.AsyncConnection, *, project_id: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT device_id, point, role, bound_at, bound_by FROM project_points"
                          " WHERE project_id = %s ORDER BY role, device_id, point", (project_id,))
        return list(await cur.fetchall())


async def put_fee(conn: psycopg.AsyncConnection, *, project_id: int, month: date, energy_mwh: float,
                  amount_yuan: float, updated_by: str) -> dict[str, Any] | None:
    """Record a month's settled fee; returns the previous figures, if any."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT energy_mwh, amount_yuan::float8 AS amount_yuan FROM project_fees"
                          " WHERE project_id = %s AND month = %s", (project_id, month))
        before = await cur.fetchone()
    await conn.execute(
        "INSERT INTO project_fees (project_id, month, energy_mwh, amount_yuan, updated_by) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (project_id, month) DO UPDATE SET energy_mwh = EXCLUDED.energy_mwh,"
        " amount_yuan = EXCLUDED.amount_yuan, updated_at = now(), updated_by = EXCLUDED.updated_by",
        (project_id, month, energy_mwh, amount_yuan, updated_by))
    return before


async def fees(conn: psycopg.AsyncConnection, *, project_id: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT to_char(month, 'YYYY-MM') AS month, energy_mwh, amount_yuan::float8 AS amount_yuan,"
                          " updated_at, updated_by FROM project_fees WHERE project_id = %s ORDER BY month",
                          (project_id,))
        return list(await cur.fetchall())


async def assign_verifier(conn: psycopg.AsyncConnection, *, project_id: int, username: str, assigned_by: str) -> bool:
    """Assign an auditor user as the project's verifier; False when already assigned."""
    cur = await conn.execute("INSERT INTO project_verifiers (project_id, username, assigned_by) VALUES (%s, %s, %s)"
                             " ON CONFLICT DO NOTHING", (project_id, username, assigned_by))
    return cur.rowcount == 1


async def verifiers(conn: psycopg.AsyncConnection, *, project_id: int) -> list[str]:
    """The user names of the project's assigned verifiers."""
    cur = await conn.execute("SELECT username FROM project_verifiers WHERE project_id = %s ORDER BY username",
                             (project_id,))
    return [row[0] for row in await cur.fetchall()]


async def is_verifier(conn: psycopg.AsyncConnection, *, project_id: int, username: str) -> bool:
    cur = await conn.execute("SELECT 1 FROM project_verifiers WHERE project_id = %s AND username = %s",
                             (project_id, username))
    return await cur.fetchone() is not None


async def add_period(conn: psycopg.AsyncConnection, *, project_id: int, start: datetime, end: datetime,
                     figures: dict[str, Any], provenance: dict[str, Any], computed_by: str) -> dict[str, Any] | None:
    """Store a computed period; None when a live (not refused) result of the same period exists."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO project_periods (project_id, start_ts, end_ts, be_tco2, pe_tco2, le_tco2, er_tco2, ef_cm,"
            " provenance, computed_by) VALUES (%(project)s, %(start)s, %(end)s, %(be_tco2)s, %(pe_tco2)s, %(le_tco2)s,"
            " %(er_tco2)s, %(ef_cm)s, %(provenance)s, %(by)s)"
            f" ON CONFLICT (project_id, start_ts, end_ts) WHERE status <> 'refused' DO NOTHING RETURNING {_PERIOD_COLUMNS}",
            {**figures, "project": project_id, "start": start, "end": end, "provenance": Jsonb(provenance),
             "by": computed_by})
        return await cur.fetchone()


async def periods(conn: psycopg.AsyncConnection, *, project_id: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_PERIOD_COLUMNS} FROM project_periods WHERE project_id = %s"
                          " ORDER BY start_ts, period_id", (project_id,))
        return list(await cur.fetchall())


async def period(conn: psycopg.AsyncConnection, *, project_id: int, period_id: int) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_PERIOD_COLUMNS} FROM project_periods WHERE project_id = %s AND period_id = %s"
                          " FOR UPDATE", (project_id, period_id))
        return await cur.fetchone()


async def set_period_status(conn: psycopg.AsyncConnection, *, period_id: int, status: str,
                            issued_tco2: int | None = None) -> None:
    await conn.execute("UPDATE project_periods SET status = %s, issued_tco2 = COALESCE(%s, issued_tco2)"
                       " WHERE period_id = %s", (status, issued_tco2, period_id))


async def add_event(conn: psycopg.AsyncConnection, *, period_id: int, action: str, comment: str, actor: str) -> None:
    await conn.execute("INSERT INTO project_period_events (period_id, action, comment, actor) VALUES (%s, %s, %s, %s)",
                       (period_id, action, comment, actor))


async def events(conn: psycopg.AsyncConnection, *, period_id: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT action, comment, at, actor FROM project_period_events WHERE period_id = %s"
                          " ORDER BY event_id", (period_id,))
        return list(await cur.fetchall())


_TWO_HIGH = ("year", "approved_tce", "approved_tco2", "actual_tce", "actual_tco2", "actual_source", "updated_at",
             "updated_by", "actual_provenance")


async def two_high(conn: psycopg.AsyncConnection, *, project_id: int) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {', '.join(_TWO_HIGH)} FROM project_two_high WHERE project_id = %s ORDER BY year",
                          (project_id,))
        return list(await cur.fetchall())


async def put_two_high(conn: psycopg.AsyncConnection, *, project_id: int, year: int, values: dict[str, Any],
                       updated_by: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Set the given figures of a year (others kept): (before, after). Actual figures given without
    actual_provenance (entered from a report) drop the provenance of earlier computed ones."""
    rows = {r["year"]: r for r in await two_high(conn, project_id=project_id)}
    before = rows.get(year)
    merged = {**{k: None for k in _TWO_HIGH[1:6]}, "actual_provenance": None, **(before or {}), **values}
    if ("actual_tce" in values or "actual_tco2" in values) and "actual_provenance" not in values:
        merged["actual_provenance"] = None
    provenance = merged["actual_provenance"]
    await conn.execute(
        "INSERT INTO project_two_high (project_id, year, approved_tce, approved_tco2, actual_tce, actual_tco2,"
        " actual_source, actual_provenance, updated_by) VALUES (%(p)s, %(y)s, %(approved_tce)s, %(approved_tco2)s,"
        " %(actual_tce)s, %(actual_tco2)s, %(actual_source)s, %(prov)s, %(by)s) ON CONFLICT (project_id, year)"
        " DO UPDATE SET approved_tce = EXCLUDED.approved_tce, approved_tco2 = EXCLUDED.approved_tco2,"
        " actual_tce = EXCLUDED.actual_tce, actual_tco2 = EXCLUDED.actual_tco2,"
        " actual_source = EXCLUDED.actual_source, actual_provenance = EXCLUDED.actual_provenance,"
        " updated_at = now(), updated_by = EXCLUDED.updated_by",
        {**merged, "prov": None if provenance is None else Jsonb(provenance), "p": project_id, "y": year,
         "by": updated_by})
    after = {r["year"]: r for r in await two_high(conn, project_id=project_id)}[year]
    return before, after
