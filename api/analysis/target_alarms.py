"""The target off-track alarm (docs/targets.md, "Alarm"): one check that raises and clears a platform alarm per
holder of an issued target of the current year that is off track at its latest tracked month, as the tracking
endpoint says (api/analysis/tracking.py, the whole platform's figures).

- rule ``target_off_track`` (warning), subject ``target_off_track:<target>:<holder>``;
- a unit holder's alarm carries the unit's enterprise (its users see it) and region; a sub-region holder's
  carries the sub-region, an industry holder's the target's region, so the government users of that region
  (or a parent) see it in the alarms list; an enterprise-group target's member-enterprise holder's carries that
  enterprise (its users and its region's government users see it);
- cleared when the holder is back on track, the target is gone, or the target year is over (the assessment then
  says whether it was met).

`check_target_alarms` runs the check once on a connection (POST /api/v1/analysis/targets/alarms/check, and
`carbonflow alarms check` with the other platform checks). Re-running changes nothing that still holds: an active
alarm keeps its id and only its detail is refreshed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from api.alarms import clear_platform_alarms_except, raise_platform_alarm
from api.analysis import queries
from api.analysis.tracking import track
from api.groups import queries as groups
from api.monitoring import queries as monitoring
from carbon_domain.errors import FormulaInputError

__all__ = ["TARGET_RULE", "TZ", "TargetAlarmCheck", "check_target_alarms"]

TZ = ZoneInfo("Asia/Shanghai")  # a target year is a calendar year of China Standard Time
TARGET_RULE = "target_off_track"
_LEVEL_ZH = {"region": "地区", "industry": "行业", "unit": "单位", "enterprise": "企业"}


@dataclass(frozen=True)
class TargetAlarmCheck:
    """What one check left active, what it cleared and which targets it could not track."""

    day: date
    off_track: tuple[str, ...] = ()  # subjects of the active target_off_track alarms
    cleared: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"day": self.day.isoformat(), "off_track": list(self.off_track), "cleared": list(self.cleared),
                "problems": list(self.problems)}


def _detail(target: dict[str, Any], holder: str, name: str, point: dict[str, Any]) -> str:
    level = target["holder_level"]
    tolerance = f"{target['tolerance']:.0%}"
    if target["kind"] == "total":
        zh_figure = f"累计排放 {point['actual']:,.1f} tCO2，超过按月分摊的进度 {point['allowed']:,.1f} tCO2"
        en_figure = f"cumulative {point['actual']:,.1f} tCO2 against {point['allowed']:,.1f} tCO2 on the pro-rated path"
    else:
        zh_figure = f"累计强度 {point['actual']:.4f} tCO2/万元，高于路径 {point['allowed']:.4f}"
        en_figure = f"cumulative intensity {point['actual']:.4f} tCO2 per 10^4 yuan against {point['allowed']:.4f} on the path"
    zh = (f"目标「{target['name']}」（{target['year']} 年，编号 {target['target_id']}）：{_LEVEL_ZH.get(level, level)}"
          f"{name}（{holder}）截至 {point['month']} {zh_figure}（容差 {tolerance}），未按进度完成。")
    en = (f"target '{target['name']}' ({target['year']}, #{target['target_id']}): {level} {holder} is off track"
          f" through {point['month']}, {en_figure} (tolerance {tolerance}).")
    return f"{zh} | {en}"


async def _units(conn: psycopg.AsyncConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
    cur = await conn.execute("SELECT unit_id::text, name, enterprise_id, region_code::text FROM monitoring_units"
                             " WHERE unit_id = ANY(%s::bigint[])", ([i for i in ids if i.isdigit()],))
    return {uid: {"name": name, "enterprise_id": ent, "region_code": region}
            for uid, name, ent, region in await cur.fetchall()}


async def _check_target(conn: psycopg.AsyncConnection, target: dict[str, Any],
                        regions: dict[str, dict[str, Any]]) -> list[str]:
    """Raise or refresh the alarm of each off-track holder of one target; the active subjects."""
    tracked = await track(conn, scope=monitoring.UnitScope(all=True), target=target, last=12)
    off = [h for h in tracked["holders"] if h["off_track"]]
    units = await _units(conn, [h["holder"] for h in off]) if target["holder_level"] == "unit" else {}
    members: dict[str, str] = {}
    if off and target["holder_level"] == "enterprise":
        members = ((await groups.get_group(conn, group_id=target["group_id"])) or {}).get("member_names") or {}
    active = []
    for h in off:
        holder = h["holder"]
        enterprise_id, region_code, name = None, target["region_code"], holder
        if target["holder_level"] == "unit" and holder in units:
            unit = units[holder]
            enterprise_id, region_code, name = unit["enterprise_id"], unit["region_code"], unit["name"]
        elif target["holder_level"] == "enterprise":
            enterprise_id, region_code, name = holder, None, members.get(holder, holder)
        elif target["holder_level"] == "region":
            region_code = holder
            name = regions.get(holder, {}).get("name", holder)
        subject = f"{TARGET_RULE}:{target['target_id']}:{holder}"
        await raise_platform_alarm(conn, rule=TARGET_RULE, subject=subject, severity="warning",
                                   detail=_detail(target, holder, name, h["points"][-1]),
                                   enterprise_id=enterprise_id, region_code=region_code)
        active.append(subject)
    return active


async def check_target_alarms(conn: psycopg.AsyncConnection, today: date) -> TargetAlarmCheck:
    """Raise the off-track alarms of the issued targets of `today`'s year and clear those that no longer hold, in
    one transaction (two checks at once wait for each other). A target that cannot be tracked keeps the alarms it
    had (their cause is unknown, not gone) and is named in `problems`."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('target_alarms', 0))")
        regions = {r["code"]: r for r in await monitoring.list_regions(conn)}
        active: list[str] = []
        problems: list[str] = []
        keep: list[str] = []
        group_ids = [g["group_id"] for g in await groups.list_groups(conn)]
        for listed in [*await queries.list_targets(conn, prefixes=None, holders=None),
                       *await queries.list_group_targets(conn, group_ids=group_ids, issued_only=True)]:
            if listed["state"] != "issued" or listed["year"] != today.year:
                continue
            target = await queries.get_target(conn, target_id=listed["target_id"])
            if target is None:
                continue
            try:
                active += await _check_target(conn, target, regions)
            except (ValueError, FormulaInputError) as exc:
                problems.append(str(exc))
                keep += [f"{TARGET_RULE}:{target['target_id']}:{a['holder']}" for a in target["allocations"]]
        cleared = await clear_platform_alarms_except(conn, rule=TARGET_RULE, keep=active + keep)
    return TargetAlarmCheck(today, tuple(active), tuple(cleared), tuple(problems))
