"""Dashboard figures computed from query rows: the local day, production and intensity against a benchmark.

Pure functions, no I/O. Live power and the time zone are telemetry's (`api.telemetry.figures`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from carbon_domain.errors import UnitError
from carbon_domain.units import convert

__all__ = ["PRIMARY_PRODUCT", "day_window", "intensity", "product_tonnes"]

PRIMARY_PRODUCT = "crude_steel"


def day_window(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in a time zone (23 or 25 hours long across a DST change)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def product_tonnes(rows: Iterable[dict[str, Any]], product: str) -> float | None:
    """Production of `product` in tonnes from site_production rows; None without a counter for it."""
    amount = None
    for row in rows:
        if row["product"] != product:
            continue
        try:
            tonnes = convert(row["amount"], row["unit"] or "t", "t")
        except UnitError:
            continue  # a counter in a unit that is no mass cannot give tonnes
        amount = (amount or 0.0) + tonnes
    return amount


def intensity(total_tco2: float, tonnes: float | None, benchmark: float | None) -> dict[str, Any]:
    """tCO2 per tonne and how it compares with the benchmark: `vs_benchmark_pct` > 0 means above (worse)."""
    value = total_tco2 / tonnes if tonnes else None
    if value is None:
        status = "no_production"
    elif benchmark is None:
        status = "no_benchmark"
    else:
        status = "above_benchmark" if value > benchmark else "at_or_below_benchmark"
    pct = (value / benchmark - 1.0) * 100.0 if value is not None and benchmark else None
    return {"value": value, "unit": "tCO2/t", "benchmark": benchmark, "vs_benchmark_pct": pct, "status": status}
