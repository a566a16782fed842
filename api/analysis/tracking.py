"""Monthly tracking of a target's holders against the pro-rated path (docs/analysis.md "Targets"): the tracking
endpoint answers it for the caller's scope, the off-track alarm check (api/analysis/target_alarms.py) for the
whole platform. A target is a region's or an enterprise group's (docs/targets.md); `holder_months` reads the
figures of either kind's holders."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import psycopg

from api.analysis import queries
from api.groups import queries as groups
from api.monitoring import queries as monitoring
from carbon_domain.analysis import Sector, track_intensity, track_total
from carbon_domain.monitoring import region_prefix

__all__ = ["holder_group", "holder_months", "track"]


def holder_group(level: str, region: dict[str, Any]) -> str | None:
    """The monitoring grouping of a holder level: industry, unit, or the region's sub-regions (city, county);
    None for sub-regions of a county, which has none."""
    if level in ("industry", "unit"):
        return level
    return {1: "city", 2: "county"}.get(region["level"])


async def holder_months(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope, target: dict[str, Any],
                        last: int) -> dict[str, list[Sector]]:
    """Per month of the target year through `last`: the figures of the target's holders, from the region's units
    in `scope`, or from an enterprise group's member units (per member or per unit). ValueError when the target's
    holders cannot be grouped (a county has no sub-regions; a group is missing)."""
    if target["group_id"] is not None:
        found = await groups.get_group(conn, group_id=target["group_id"])
        if found is None:
            raise ValueError(f"target {target['target_id']}: enterprise group {target['group_id']} is missing")
        return await queries.group_monthly_sectors(conn, members=found["members"], level=target["holder_level"],
                                                   year=target["year"], through=last)
    region = next((r for r in await monitoring.list_regions(conn) if r["code"] == target["region_code"]), None)
    group = None if region is None else holder_group(target["holder_level"], region)
    if group is None:
        raise ValueError(f"target {target['target_id']}: region {target['region_code']} has no sub-regions to track")
    return await queries.monthly_sectors(conn, scope=scope, prefix=region_prefix(target["region_code"]),
                                         year=target["year"], group=group, through=last)


async def track(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope, target: dict[str, Any], last: int,
                whole: bool | None = None) -> dict[str, Any]:
    """Each holder's tracking points through month `last` of the target year (months without figures end
    them), whether it is off track at its latest month, and, as `region`, the path of the region (or group) as a
    whole for a total target when `whole` (by default: every holder is in `scope` and the scope covers the
    target's region; for a group target, the allocations given are all of them)."""
    year = target["year"]
    monthly = await holder_months(conn, scope=scope, target=target, last=last)
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
    if whole is None:
        whole = target["group_id"] is not None or scope.covers_region(target["region_code"])
    if target["kind"] == "total" and whole and len(holders) == len(target["allocations"]):
        totals = {m: sum(s.co2 for s in sectors) for m, sectors in monthly.items()}
        region_points = [asdict(p) for p in track_total(target["value"], months, totals, tolerance=tolerance)]
    return {"through": months[last - 1], "holders": holders,
            "off_track": [h["holder"] for h in holders if h["off_track"]], "region": region_points}
