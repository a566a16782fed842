"""数据交叉核对: entered energy figures against the metered totals of the same enterprise and period (pure).

The standards ask that a report be cross-checked against the platform's monitoring data. For every
energy (electricity, heat, a fuel) and direction that meters record, the entered lines of a period are
summed over processes and sites and compared with the metered total of the same period:

* a month (``2025-01``) with the metered month, when the meters have data for that month;
* a year (``2025``) with the sum of the metered months, when the meters cover all twelve; otherwise the
  entry says how many months they cover and is not compared.

A relative difference above ``tolerance`` (metered − entered, over entered) is a ``cross_check``
finding with both figures. Each entry's ``status`` says how it was compared (``compared``,
``entered_zero``, ``units``, ``no_metered_month``, ``partial_year``) and each finding carries its figures
as ``params``, so that a report words them in its own language (``note`` and ``message`` are English). When the entered and metered lines of a month name exactly the same
processes, the per-process comparison (``reconciliation``) already reports each difference, so the
entry is listed without a second finding.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

from carbon_domain.errors import DomainError
from carbon_domain.units import convert

__all__ = ["ENERGY_SOURCES", "Figure", "cross_check", "cross_check_findings"]

ENERGY_SOURCES = frozenset({"electricity", "heat", "combustion"})


class Figure(NamedTuple):
    """One entered or metered quantity of an energy in a period."""

    period: str
    process: str
    source_type: str
    item: str
    direction: str
    quantity: float
    unit: str
    origin: str  # "entered version 2 line 5", "metered grid of rolling in 2025-01"
    source_line: int | None = None  # the submitter's own line number (entered figures)


_Stream = tuple[str, str, str]  # source_type, item, direction


def cross_check(entered: Iterable[Figure], metered: Iterable[Figure], *, tolerance: float) -> list[dict[str, Any]]:
    """One entry per entered energy period that meters also record, with both figures side by side."""
    by_month: dict[_Stream, dict[str, list[Figure]]] = defaultdict(lambda: defaultdict(list))
    for figure in metered:
        if figure.source_type in ENERGY_SOURCES:
            by_month[_stream(figure)][figure.period].append(figure)
    groups: dict[tuple[_Stream, str], list[Figure]] = defaultdict(list)
    for figure in entered:
        if figure.source_type in ENERGY_SOURCES and _stream(figure) in by_month:
            groups[_stream(figure), figure.period].append(figure)
    return [_entry(stream, period, figures, by_month[stream], tolerance)
            for (stream, period), figures in sorted(groups.items())]


def cross_check_findings(entries: Iterable[dict[str, Any]], tolerance: float) -> list[dict[str, Any]]:
    """The `cross_check` findings of the entries beyond the tolerance (not those the per-process check reports)."""
    findings = []
    for entry in entries:
        if not entry["exceeds_tolerance"] or entry["compared_by_process"]:
            continue
        name = f"{entry['item']} ({entry['source_type']}, {entry['direction']})"
        if entry["entered"] is None or entry["metered"] is None:
            detail = entry["note"]
        else:
            change = "" if entry["relative"] is None else f" ({entry['relative']:+.1%})"
            detail = (f"entered {entry['entered']:,.3f} {entry['unit']}, metered {entry['metered']:,.3f} "
                      f"{entry['unit']}, difference {entry['difference']:+,.3f}{change}, beyond the "
                      f"{tolerance:.0%} tolerance")
        params = {key: entry[key] for key in ("source_type", "item", "direction", "entered", "metered", "difference",
                                              "relative", "unit", "status")}
        findings.append({"code": "cross_check", "period": entry["period"], "lines": entry["lines"],
                         "sources": entry["sources"], "message": f"{name} in {entry['period']}: {detail}",
                         "params": {**params, "threshold": tolerance}})
    return findings


def _stream(figure: Figure) -> _Stream:
    return (figure.source_type, figure.item, figure.direction)


def _entry(stream: _Stream, period: str, entered: list[Figure], months: dict[str, list[Figure]],
           tolerance: float) -> dict[str, Any]:
    source_type, item, direction = stream
    if len(period) == 4:
        metered = [f for month, figures in months.items() if month.startswith(f"{period}-") for f in figures]
        covered = sorted({f.period for f in metered})
    else:
        metered, covered = months.get(period, []), [period] if period in months else []
    unit = (metered or next(iter(months.values())))[0].unit
    entry: dict[str, Any] = {
        "period": period, "source_type": source_type, "item": item, "direction": direction, "unit": unit,
        "entered": None, "metered": None, "difference": None, "relative": None, "exceeds_tolerance": False,
        "metered_months": covered, "compared_by_process": False, "note": "", "status": "compared",
        "lines": sorted({f.source_line for f in entered if f.source_line is not None}),
        "sources": [f.origin for f in entered],
    }
    try:
        entered_sum = sum(convert(f.quantity, f.unit, unit) for f in entered)
    except DomainError as exc:
        entry.update(exceeds_tolerance=True, status="units",
                     note=f"entered units cannot be compared with the meters' {unit}: {exc}")
        return entry
    entry["entered"] = entered_sum
    if not metered or (len(period) == 4 and len(covered) < 12):
        entry["note"] = (f"meters cover {len(covered)} of 12 months of {period}: not compared" if len(period) == 4
                         else f"no metered data for {period}: not compared")
        entry["status"] = "partial_year" if len(period) == 4 else "no_metered_month"
        return entry
    metered_sum = sum(f.quantity for f in metered)
    difference = metered_sum - entered_sum
    relative = difference / entered_sum if entered_sum else (None if metered_sum == 0 else math.inf)
    entry.update(
        metered=metered_sum, difference=difference,
        relative=None if relative is None or math.isinf(relative) else round(relative, 6),
        exceeds_tolerance=relative is not None and abs(relative) > tolerance,
        compared_by_process=len(period) > 4 and {f.process for f in entered} == {f.process for f in metered},
        note="entered zero, metered more" if relative is not None and math.isinf(relative) else "",
        status="entered_zero" if relative is not None and math.isinf(relative) else "compared",
    )
    return entry
