"""An enterprise's figures of one compliance year, read once for the compliance endpoint and the asset alarms:
verified and monthly emissions, the allowances and offsets that count for the year (held now, plus what was
already surrendered for it), and the year-end projection from them.

Each month's emissions come from the first of these that has a figure, named as the month's source:
'entered' (PUT .../emissions/{year}?month=, an override), 'monitoring' (government monitoring figures of the
units linked to the enterprise), 'pipeline' (what the stream job stored for the enterprise's sites in a month
that is over) and 'pipeline_month_to_date' (the current month so far, counted in the projection for the share
of the month elapsed). Months after today have no figure unless entered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from api.assets import queries
from api.emissions.scope_totals import enterprise_co2
from api.monitoring.queries import enterprise_monthly_co2
from carbon_domain.assets import DEFAULT_OFFSET_CAP, OFFSETS, Instrument, Projection, project_year_end

__all__ = ["MONTH_SOURCES", "YearFigures", "month_provenance", "projection", "year_figures"]

MONTH_SOURCES = ("entered", "monitoring", "pipeline", "pipeline_month_to_date")
_TZ = ZoneInfo("Asia/Shanghai")  # months are calendar months of China Standard Time, as in accounting


def _now() -> datetime:
    return datetime.now(_TZ)


def _month_start(year: int, month: int) -> datetime:
    return datetime(year + month // 13, (month - 1) % 12 + 1, 1, tzinfo=_TZ)


@dataclass(frozen=True)
class YearFigures:
    enterprise_id: str
    year: int
    verified_tco2: float | None  # None until a government user enters it
    monthly_tco2: dict[int, float]
    allowances: float  # vintages up to the year, held or surrendered for it
    offsets: float  # CCER and certified reductions held, or surrendered for the year
    # month -> where its figure came from (MONTH_SOURCES) and what it rests on
    month_sources: dict[int, dict[str, Any]] = field(default_factory=dict)
    covered: dict[int, float] = field(default_factory=dict)  # share of a month its figure covers, when not all


async def _monthly(conn: psycopg.AsyncConnection, *, enterprise_id: str, year: int,
                   entered: dict[int, float], now: datetime) -> tuple[dict[int, float], dict[int, dict[str, Any]],
                                                                      dict[int, float]]:
    monitored = await enterprise_monthly_co2(conn, enterprise_id=enterprise_id, year=year)
    monthly: dict[int, float] = {}
    sources: dict[int, dict[str, Any]] = {}
    covered: dict[int, float] = {}
    for month in range(1, 13):
        start, end = _month_start(year, month), _month_start(year, month + 1)
        if month in entered:
            monthly[month], sources[month] = entered[month], {"source": "entered"}
        elif month in monitored:
            monthly[month] = monitored[month]["tco2"]
            sources[month] = {"source": "monitoring", "units": monitored[month]["units"]}
        elif start < now:
            live = await enterprise_co2(conn, enterprise_id=enterprise_id, start=start, end=min(end, now))
            if live is None:
                continue
            monthly[month] = live["tco2"]
            sources[month] = {"source": "pipeline" if end <= now else "pipeline_month_to_date",
                              "sites": live["sites"], "intervals": live["intervals"], "quality": live["quality"]}
            if end > now:
                covered[month] = (now - start) / (end - start)
                sources[month]["share_of_month"] = round(covered[month], 4)
    return monthly, sources, covered


async def year_figures(conn: psycopg.AsyncConnection, *, enterprise_id: str, year: int,
                       now: datetime | None = None) -> YearFigures:
    """The figures a compliance position and projection of `year` are computed from, the months as of `now`
    (default the present)."""
    verified, entered = await queries.emissions(conn, enterprise_id=enterprise_id, year=year)
    monthly, sources, covered = await _monthly(conn, enterprise_id=enterprise_id, year=year, entered=entered,
                                               now=now or _now())
    balance = await queries.balances(conn, enterprise_id=enterprise_id)
    surrendered = [e for e in await queries.ledger(conn, enterprise_id=enterprise_id)
                   if e["kind"] == "surrender" and e["compliance_year"] == year]
    allowances = (sum(q for (i, v), q in balance.items() if i is Instrument.ALLOWANCE and v <= year)
                  + sum(e["quantity"] for e in surrendered if e["instrument"] == Instrument.ALLOWANCE.value))
    offsets = (sum(q for (i, _), q in balance.items() if i in OFFSETS)
               + sum(e["quantity"] for e in surrendered if e["instrument"] != Instrument.ALLOWANCE.value))
    return YearFigures(enterprise_id, year, verified, monthly, allowances, offsets, sources, covered)


def month_provenance(figures: YearFigures) -> list[dict[str, Any]]:
    """One row per month with a figure: month, tCO2 and where it came from."""
    return [{"month": m, "tco2": figures.monthly_tco2[m], **figures.month_sources.get(m, {"source": "entered"})}
            for m in sorted(figures.monthly_tco2)]


def projection(figures: YearFigures, *, offset_cap: float = DEFAULT_OFFSET_CAP) -> Projection | None:
    """The year-end projection from the monthly emissions, None while no month is recorded; AssetError on a bad
    month or cap."""
    if not figures.monthly_tco2:
        return None
    return project_year_end(figures.monthly_tco2, allowances=figures.allowances, offsets_held=figures.offsets,
                            offset_cap=offset_cap, covered=figures.covered)
