"""The carbon-asset alarms (docs/projects.md, "Alarms"): one check that raises and clears two platform alarms, each
about an enterprise so that its users and the government users of its region see it in the alarms list.

- ``deficit_projected`` (warning), subject ``assets_deficit:<enterprise>:<year>``: for every enterprise allocated
  allowances for the current year, the year-end projection of the compliance endpoint (`position.projection`,
  the default offset cap) shows a deficit. Cleared when it no longer does (allowances bought or allocated,
  lower monthly emissions) and when the year is over.
- ``compliance_deadline`` (info; warning from 7 days before), subject ``assets_deadline:<deadline>:<enterprise>``:
  a deadline of the calendar is inside its reminder window (`deadline_status` due_soon, the due day included)
  for every enterprise holding allowances in the deadline's region or a sub-region (every region when it has
  none). Cleared once the deadline has passed, was deleted, or no longer applies to the enterprise.

`check_asset_alarms` runs the check once on a connection (the API's POST /api/v1/assets/alarms/check);
`carbonflow assets alarms` and `carbonflow alarms check` (carbonflow/platform_alarms.py, which the demo runs)
repeat it. Re-running changes nothing
that still holds: an active alarm keeps its id and only its detail is refreshed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import psycopg

from api.alarms import clear_platform_alarms_except, raise_platform_alarm
from api.assets import queries
from api.assets.position import projection, year_figures
from carbon_domain.assets import DEFAULT_OFFSET_CAP
from carbon_domain.deadlines import deadline_status, region_covers
from carbon_domain.errors import AssetError

__all__ = ["DEADLINE_RULE", "DEFICIT_RULE", "TZ", "AlarmCheck", "check_asset_alarms"]

TZ = ZoneInfo("Asia/Shanghai")  # compliance years and deadlines are calendar days of China Standard Time
DEFICIT_RULE = "deficit_projected"
DEADLINE_RULE = "compliance_deadline"
_URGENT_DAYS = 7  # a reminder turns from info to warning this many days before the deadline
_KINDS_ZH = {"compliance": "履约清缴", "trading": "交易", "reporting": "报告"}


@dataclass(frozen=True)
class AlarmCheck:
    """What one check left active, what it cleared and which enterprises it could not project."""

    day: date
    deficits: tuple[str, ...] = ()  # subjects of the active deficit_projected alarms
    deadlines: tuple[str, ...] = ()  # subjects of the active compliance_deadline alarms
    cleared: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"day": self.day.isoformat(), "deficits": list(self.deficits), "deadlines": list(self.deadlines),
                "cleared": list(self.cleared), "problems": list(self.problems)}


def _t(value: float) -> str:
    return f"{value:,.1f}"


def _deficit_detail(name: str, enterprise_id: str, year: int, *, projected: float, recorded: float, months: int,
                    allowances: float, usable: float, gap: float) -> str:
    zh = (f"{name}（{enterprise_id}）{year} 年预计配额缺口 {_t(-gap)} tCO2e：按已记录 {months} 个月排放"
          f" {_t(recorded)} tCO2 推算全年 {_t(projected)} tCO2，配额 {_t(allowances)} t，可计入抵消 {_t(usable)} t"
          f"（上限 {DEFAULT_OFFSET_CAP:.0%}）。请在清缴截止前购买配额或 CCER，或降低排放。")
    en = (f"{enterprise_id}: projected {year} deficit of {_t(-gap)} tCO2e - {_t(projected)} tCO2 projected for the"
          f" year from {months} recorded month(s) ({_t(recorded)} tCO2) against {_t(allowances)} t of allowances and"
          f" {_t(usable)} t of usable offsets (cap {DEFAULT_OFFSET_CAP:.0%}); buy allowances or CCER before the"
          " surrender deadline, or cut emissions.")
    return f"{zh} | {en}"


def _deadline_detail(row: dict[str, object], name: str, enterprise_id: str, days_left: int) -> str:
    kind, title, due = str(row["kind"]), str(row["title"]), row["due_on"]
    region = row["region"] or "全部地区"
    when_zh = "今天到期" if days_left == 0 else f"还有 {days_left} 天"
    when_en = "today" if days_left == 0 else f"in {days_left} day(s)"
    note = f" {row['note']}" if row["note"] else ""
    zh = f"{_KINDS_ZH.get(kind, kind)}截止提醒：{name}（{enterprise_id}）「{title}」{due} 截止，{when_zh}（{region}）。{note}"
    en = (f"{kind} deadline for {enterprise_id}: '{title}' is due on {due}, {when_en}"
          f" (region {row['region'] or 'all'}).")
    return f"{zh} | {en}"


async def _check_deficits(conn: psycopg.AsyncConnection, year: int) -> tuple[list[str], list[str], list[str]]:
    """Raise or refresh the deficit alarm of each enterprise whose projection shows one; (active subjects, subjects
    that could not be projected, problems)."""
    active, unknown, problems = [], [], []
    for holder in await queries.allowance_holders(conn, year=year):
        enterprise_id = holder["enterprise_id"]
        subject = f"assets_deficit:{enterprise_id}:{year}"
        figures = await year_figures(conn, enterprise_id=enterprise_id, year=year)
        try:
            projected = projection(figures)
        except AssetError as exc:
            problems.append(f"{enterprise_id}: {exc}")
            unknown.append(subject)
            continue
        if projected is None or not projected.deficit_projected:
            continue
        usable = projected.gap + projected.projected_tco2 - figures.allowances
        detail = _deficit_detail(holder["name"], enterprise_id, year, projected=projected.projected_tco2,
                                 recorded=projected.recorded_tco2, months=len(projected.recorded_months),
                                 allowances=figures.allowances, usable=usable, gap=projected.gap)
        await raise_platform_alarm(conn, rule=DEFICIT_RULE, subject=subject, detail=detail, severity="warning",
                                   enterprise_id=enterprise_id)
        active.append(subject)
    return active, unknown, problems


async def _check_deadlines(conn: psycopg.AsyncConnection, today: date) -> list[str]:
    """Raise or refresh a reminder per deadline in its window and enterprise it applies to; the active subjects."""
    holders = await queries.allowance_holders(conn)
    active = []
    for row in await queries.deadlines(conn):
        state = deadline_status(row["due_on"], today, row["remind_days"])
        if state.status != "due_soon":
            continue
        for holder in holders:
            if not region_covers(row["region"], holder["region"]):
                continue
            subject = f"assets_deadline:{row['deadline_id']}:{holder['enterprise_id']}"
            await raise_platform_alarm(
                conn, rule=DEADLINE_RULE, subject=subject, enterprise_id=holder["enterprise_id"],
                severity="warning" if state.days_left <= _URGENT_DAYS else "info",
                detail=_deadline_detail(row, holder["name"], holder["enterprise_id"], state.days_left))
            active.append(subject)
    return active


async def check_asset_alarms(conn: psycopg.AsyncConnection, today: date) -> AlarmCheck:
    """Raise the asset alarms that hold on `today` and clear those that no longer do, in one transaction (two
    checks at once wait for each other)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('asset_alarms', 0))")
        deficits, unknown, problems = await _check_deficits(conn, today.year)
        # an enterprise that could not be projected keeps the alarm it had: its cause is unknown, not gone
        cleared = await clear_platform_alarms_except(conn, rule=DEFICIT_RULE, keep=deficits + unknown)
        deadlines = await _check_deadlines(conn, today)
        cleared += await clear_platform_alarms_except(conn, rule=DEADLINE_RULE, keep=deadlines)
    return AlarmCheck(today, tuple(deficits), tuple(deadlines), tuple(cleared), tuple(problems))
