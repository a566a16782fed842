"""Telemetry figures computed from query rows: the time zone of an answer and live power.

Pure functions, no I/O: the overview endpoint and the live stream use the same
ones, so the page's live power equals the overview's for the same readings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carbon_domain.errors import UnitError
from carbon_domain.units import Dimension, convert, dimension_of

__all__ = ["DEFAULT_TZ", "is_power_point", "power_summary", "zone"]

DEFAULT_TZ = "Asia/Shanghai"


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError with a message when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a directory of zones, e.g. "Asia"
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai or UTC") from exc


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
