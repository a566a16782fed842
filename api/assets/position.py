"""An enterprise's figures of one compliance year, read once for the compliance endpoint and the asset alarms:
verified and monthly emissions, the allowances and offsets that count for the year (held now, plus what was
already surrendered for it), and the year-end projection from them."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from api.assets import queries
from carbon_domain.assets import DEFAULT_OFFSET_CAP, OFFSETS, Instrument, Projection, project_year_end

__all__ = ["YearFigures", "projection", "year_figures"]


@dataclass(frozen=True)
class YearFigures:
    enterprise_id: str
    year: int
    verified_tco2: float | None  # None until a government user enters it
    monthly_tco2: dict[int, float]
    allowances: float  # vintages up to the year, held or surrendered for it
    offsets: float  # CCER and certified reductions held, or surrendered for the year


async def year_figures(conn: psycopg.AsyncConnection, *, enterprise_id: str, year: int) -> YearFigures:
    """The figures a compliance position and projection of `year` are computed from."""
    verified, monthly = await queries.emissions(conn, enterprise_id=enterprise_id, year=year)
    balance = await queries.balances(conn, enterprise_id=enterprise_id)
    surrendered = [e for e in await queries.ledger(conn, enterprise_id=enterprise_id)
                   if e["kind"] == "surrender" and e["compliance_year"] == year]
    allowances = (sum(q for (i, v), q in balance.items() if i is Instrument.ALLOWANCE and v <= year)
                  + sum(e["quantity"] for e in surrendered if e["instrument"] == Instrument.ALLOWANCE.value))
    offsets = (sum(q for (i, _), q in balance.items() if i in OFFSETS)
               + sum(e["quantity"] for e in surrendered if e["instrument"] != Instrument.ALLOWANCE.value))
    return YearFigures(enterprise_id, year, verified, monthly, allowances, offsets)


def projection(figures: YearFigures, *, offset_cap: float = DEFAULT_OFFSET_CAP) -> Projection | None:
    """The year-end projection from the monthly emissions, None while no month is recorded; AssetError on a bad
    month or cap."""
    if not figures.monthly_tco2:
        return None
    return project_year_end(figures.monthly_tco2, allowances=figures.allowances, offsets_held=figures.offsets,
                            offset_cap=offset_cap)
