"""Metered monthly figures: the pipeline's hourly rollups of a unit's linked enterprise (or site) turned into
monthly figures of source 'metered' (`carbonflow monitoring meter-months`, e.g. from cron after each month).

The monthly sums come from the accounting service's `metered_aggregates` (the same sums its inventory uses);
carbon_domain.monitoring.metered_monthly_figures maps them to energy types; tCO2/tce are computed like every other
intake and stored through store_figures, so a later run whose sums changed (late readings) writes a new revision
and an unchanged one writes nothing. A figure the unit reported itself (file, REST, sync) is kept: the metered
value is shown beside it in the unit's archive, and it is counted here as kept_reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg

from api.accounting.queries import load_library, metered_aggregates, month_range
from api.monitoring import queries
from carbon_domain.monitoring import FigureCalculator, metered_monthly_figures, storage_unit_of

__all__ = ["MeteringRun", "last_months", "meter_months"]


@dataclass
class MeteringRun:
    units: int = 0
    figures: int = 0
    stored: int = 0
    kept_reported: int = 0
    left_out: set[str] = field(default_factory=set)
    batch_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"units": self.units, "figures": self.figures, "stored": self.stored,
                "unchanged": self.figures - self.stored - self.kept_reported, "kept_reported": self.kept_reported,
                "left_out": sorted(self.left_out), "batch_id": self.batch_id}


def last_months(today: date, count: int = 3) -> tuple[date, date]:
    """(first, last) month of the `count` complete months before `today`'s month, e.g. 2026-09..2026-11 in
    December (the default window of `carbonflow monitoring meter-months` and of the scheduler)."""
    if count < 1:
        raise ValueError(f"meter at least one month, not {count}")
    last_index = today.year * 12 + today.month - 2  # months since year 0 of the last complete month
    first_index = last_index - (count - 1)
    return date(first_index // 12, first_index % 12 + 1, 1), date(last_index // 12, last_index % 12 + 1, 1)


async def meter_months(conn: psycopg.AsyncConnection, *, first: date, last: date, by: str) -> MeteringRun:
    """Metered figures of months first..last (inclusive) for every unit linked to a metered enterprise."""
    start, _ = month_range(first.year, first.month)
    _, end = month_range(last.year, last.month)
    cur = await conn.execute("SELECT unit_id, enterprise_id, site_id FROM monitoring_units"
                             " WHERE enterprise_id IS NOT NULL ORDER BY unit_id")
    linked = await cur.fetchall()
    calculator = FigureCalculator(await load_library(conn))
    run = MeteringRun()
    async with conn.transaction():
        run.batch_id = await queries.create_batch(conn, source="metered", origin=f"meter-months {first:%Y-%m}.."
                                                  f"{last:%Y-%m}", sha256=None, by=by)
        for unit_id, enterprise, site in linked:
            sums = [(a.period, a.activity, a.quantity, a.unit)
                    for a in await metered_aggregates(conn, enterprise=enterprise, start=start, end=end)
                    if site is None or a.site in (site, None)]
            months, left_out = metered_monthly_figures(sums)
            run.left_out.update(left_out)
            if not months:
                continue
            run.units += 1
            reported = await _reported(conn, unit_id=unit_id, first=first, last=last)
            figures = []
            for month in months:
                run.figures += 1
                if (month.month, month.item) in reported:
                    run.kept_reported += 1
                    continue
                computed = calculator.energy(month.item, month.quantity, month.month)
                figures.append((unit_id, month.month, month.item, month.quantity,
                                storage_unit_of(month.item), computed.tco2, computed.tce, computed.factor_ids))
            run.stored += await queries.store_figures(conn, figures=figures, source="metered",
                                                      batch_id=run.batch_id, by=by)
        await queries.finish_batch(conn, batch_id=run.batch_id, read=run.figures, stored=run.stored,
                                   same=run.figures - run.stored - run.kept_reported, refused=0)
    return run


async def _reported(conn: psycopg.AsyncConnection, *, unit_id: int, first: date, last: date) -> set[tuple[date, str]]:
    cur = await conn.execute("SELECT month, item FROM monitoring_figures WHERE unit_id = %s AND month BETWEEN %s AND %s"
                             " AND source <> 'metered'", (unit_id, first, last))
    return {(month, item) for month, item in await cur.fetchall()}
