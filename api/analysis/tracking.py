"""Monthly tracking of a target's holders against the pro-rated path (docs/analysis.md "Targets"): the tracking
endpoint answers it for the caller's scope, the off-track alarm check (api/analysis/target_alarms.py) for the
whole platform."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import psycopg

from api.analysis import queries
from api.monitoring import queries as monitoring
from carbon_domain.analysis import track_intensity, track_total
from carbon_domain.monitoring import region_prefix

__all__ = ["holder_group", "track"]


def holder_group(level: str, region: dict[str, Any]) -> str | None:
    """The monitoring grouping of a holder level: industry, unit, or the region's sub-regions (city, county);
    None for sub-regions of a county, which has none."""
    if level in ("industry", "unit"):
        return level
    return {1: "city", 2: "county"}.get(region["level"])


async def track(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope, target: dict[str, Any],
                group: str, last: int) -> dict[str, Any]:
    """Each holder's tracking points through month `last` of the target year (months without figures end
    them), whether it is off track at its latest month, and the region's path for a total target when every holder
    is in `scope` and the scope covers the target's region."""
    year = target["year"]
    monthly = await queries.monthly_sectors(conn, scope=scope, prefix=region_prefix(target["region_code"]),
                                            year=year, group=group, through=last)
    months = [f"{year}-{m:02d}" for m in range(1, 13)]
    tolerance = target["tolerance"]
    holders = []
    for a in target["allocations"]:
        found = {m: next((s for s in sectors if s.key == a["holder"]), None) for m, sectors in monthly.items()}
        co2 = {m: s.co2 for m, s in found.items() if s is not None}
        if target["kind"] == "total":
            points = track_total(a["target"], months, co2, tolerance=tolerance)
        else:
            activity = {m: s.activity for m, s in found.items() if s is not None}
            points = track_intensity(a["base"], a["target"], months, co2, activity, tolerance=tolerance)
        holders.append({"holder": a["holder"], "target": a["target"], "points": [asdict(p) for p in points],
                        "off_track": bool(points and points[-1].off_track)})
    region_points = None
    if target["kind"] == "total" and len(holders) == len(target["allocations"]) and scope.covers_region(
            target["region_code"]):
        totals = {m: sum(s.co2 for s in sectors) for m, sectors in monthly.items()}
        region_points = [asdict(p) for p in track_total(target["value"], months, totals, tolerance=tolerance)]
    return {"through": months[last - 1], "holders": holders,
            "off_track": [h["holder"] for h in holders if h["off_track"]], "region": region_points}
