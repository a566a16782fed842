"""Dashboard figures computed from query rows: live power, the local day, intensity against a benchmark.

Pure functions, no I/O: the overview endpoint and the live stream use the same
ones, so the page's live power equals the overview's for the same readings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carbon_domain.errors import UnitError
from carbon_domain.units import Dimension, convert, dimension_of

__all__ = ["DEFAULT_TZ", "PRIMARY_PRODUCT", "day_window", "intensity", "is_power_point", "power_summary",
           "product_tonnes", "zone"]

DEFAULT_TZ = "Asia/Shanghai"
PRIMARY_PRODUCT = "crude_steel"


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError with a message when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a directory of zones, e.g. "Asia"
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai or UTC") from exc


def day_window(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in a time zone (23 or 25 hours long across a DST change)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def _unit_dimension(unit: str) -> Dimension | None:
    try:
        return dimension_of(unit)
    except UnitError:
        return None


def is_power_point(row: dict[str, Any]) -> bool:
    """A gauge in a unit of power (W, kW, MW): what live power adds up."""
    return row.get("kind") == "gauge" and _unit_dimension(row.get("unit") or "") is Dimension.POWER


def power_summary(values: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Total kW of the newest readings of power points; bad or missing values are listed but not added.

    >>> power_summary([{"device": "m", "point": "p", "unit": "MW", "kind": "gauge", "value": 1.5,
    ...                 "quality": "good", "ts": None, "process": None}])["total_kw"]
    1500.0
    """
    points = []
    total = 0.0
    counted = 0
    newest = None
    for row in values:
        if not is_power_point(row):
            continue
        usable = row["value"] is not None and row["quality"] != "bad"
        kw = convert(row["value"], row["unit"], "kW") if row["value"] is not None else None
        if usable and kw is not None:
            total += kw
            counted += 1
            newest = row["ts"] if newest is None or (row["ts"] and row["ts"] > newest) else newest
        points.append({"device": row["device"], "point": row["point"], "process": row.get("process"),
                       "value_kw": kw, "quality": row["quality"], "ts": row["ts"], "counted": usable})
    return {"total_kw": total if counted else None, "points_counted": counted, "as_of": newest, "points": points}


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
