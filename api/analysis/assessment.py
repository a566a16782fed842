"""/api/v1/analysis/targets/{id}/assessment: the end-of-period assessment of a target (issue 21): each holder's
actual against its allocation, ranked, beside its result under the region's (or enterprise
group's) previous target of the same kind and
level; and the result table as CSV or XLSX. Who sees what follows GET /analysis/targets/{id}: the region's
government all holders, an enterprise its own units. Formulas in carbon_domain.target_assessment."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Query
from fastapi.responses import Response
from openpyxl import Workbook

from api.analysis import queries
from api.analysis.router import METHOD, Id, Reader, _visible_target
from api.analysis.tracking import holder_months
from api.deps import Conn
from api.monitoring import queries as monitoring
from carbon_domain.target_assessment import Actual, Result, assess, compare_periods

__all__ = ["router"]

router = APIRouter(prefix="/analysis", tags=["analysis"])
COLUMNS = ("rank", "holder", "base", "target", "actual", "gap", "gap_rate", "change", "met", "final",
           "previous_year", "previous_gap_rate", "gap_rate_change")


async def _results(conn: psycopg.AsyncConnection, scope: monitoring.UnitScope,
                   target: dict[str, Any]) -> list[Result]:
    monthly = await holder_months(conn, scope=scope, target=target, last=12)
    sums: dict[str, list[float]] = {}
    for sectors in monthly.values():
        for s in sectors:
            entry = sums.setdefault(s.key, [0.0, 0.0, 0])
            entry[0] += s.co2
            entry[1] += s.activity
            entry[2] += 1
    actuals = {key: Actual(c, a, int(m)) for key, (c, a, m) in sums.items()}
    allocations = [(a["holder"], a["base"], a["target"]) for a in target["allocations"]]
    return assess(target["kind"], allocations, actuals, tolerance=target["tolerance"])


async def _previous(conn: psycopg.AsyncConnection, caller: Any, target: dict[str, Any]) -> dict[str, Any] | None:
    """The region's (or group's) latest issued target of the same kind and holder level before this one's year."""
    if target["group_id"] is not None:
        same = await queries.list_group_targets(conn, group_ids=[target["group_id"]], issued_only=True)
    else:
        same = [t for t in await queries.list_targets(conn, prefixes=(target["region_code"],), holders=None)
                if t["region_code"] == target["region_code"]]
    earlier = [t for t in same if t["state"] == "issued"
               and t["kind"] == target["kind"] and t["holder_level"] == target["holder_level"]
               and t["year"] < target["year"]]
    if not earlier:
        return None
    chosen = max(earlier, key=lambda t: (t["year"], t["target_id"]))
    _, visible = await _visible_target(conn, caller, chosen["target_id"])
    return visible


async def _assessment(conn: psycopg.AsyncConnection, caller: Any, target_id: int) -> dict[str, Any]:
    scope, target = await _visible_target(conn, caller, target_id)
    results = await _results(conn, scope, target)
    previous = await _previous(conn, caller, target)
    earlier = await _results(conn, scope, previous) if previous else []
    change = compare_periods(results, earlier)
    before = {r.holder: r.gap_rate for r in earlier}
    holders = [{**asdict(r), "previous_gap_rate": before.get(r.holder), "gap_rate_change": change[r.holder]}
               for r in results]
    assessed = [r for r in results if r.met is not None]
    return {
        "target": {k: v for k, v in target.items() if k != "allocations"},
        "final": bool(results) and all(r.final for r in results),
        "holders": holders,
        "summary": {"holders": len(results), "assessed": len(assessed),
                    "met": sum(1 for r in assessed if r.met), "not_met": sum(1 for r in assessed if not r.met)},
        "previous": None if previous is None else {"target_id": previous["target_id"], "year": previous["year"],
                                                   "name": previous["name"]},
        "unit": "t CO2" if target["kind"] == "total" else "t CO2 per 10^4 yuan",
        "rule": "met when the year's actual is at most target × (1 + tolerance); final when all 12 months have "
                "figures, provisional before",
        "method": METHOD,
    }


@router.get("/targets/{target_id}/assessment")
async def assessment(caller: Reader, conn: Conn, target_id: Id) -> dict[str, Any]:
    """Each holder's result for the target year: actual, gap to its target, met or not, rank among the holders,
    and its gap rate under the region's previous target of the same kind and level."""
    return await _assessment(conn, caller, target_id)


def _row(holder: dict[str, Any], previous_year: int | None) -> list[Any]:
    values = {**holder, "previous_year": previous_year if holder["previous_gap_rate"] is not None else None}
    return ["" if values[c] is None else values[c] for c in COLUMNS]


@router.get("/targets/{target_id}/assessment/export")
async def export_assessment(caller: Reader, conn: Conn, target_id: Id,
                            format: Annotated[Literal["csv", "xlsx"], Query()] = "csv") -> Response:
    """The assessment table as CSV or XLSX (one row per holder, columns as in the JSON answer)."""
    result = await _assessment(conn, caller, target_id)
    year = result["previous"]["year"] if result["previous"] else None
    rows = [_row(h, year) for h in result["holders"]]
    name = f"target-{target_id}-assessment.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "assessment"
    title = (f"{result['target']['name']} ({result['target']['year']}), {result['unit']}, "
             f"{'final' if result['final'] else 'provisional'}")
    sheet.append([title])
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), headers=headers,
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
