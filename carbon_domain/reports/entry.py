"""What an enterprise may enter as activity data, read from the factor library (pure).

The inventory accounts a line only when the library has its factor: a fuel needs its NCV, carbon content and
oxidation rows in the chosen series, a process material or a fixed-carbon product its emission factor, while
electricity and heat take the grid and heat factors. `activity_options` lists, per source type, the items that
would be accounted, the unit their factor is per (and the units that convert to it) and the directions allowed;
`template_rows` gives one example line per source type, in the activity-file columns, for the upload template.

>>> from carbon_domain.factors import FactorLibrary
>>> options = activity_options(FactorLibrary.default(), series="ndrc-steel-2013")
>>> [s["source_type"] for s in options["source_types"]]
['combustion', 'process', 'electricity', 'heat', 'fixed_carbon', 'production']
>>> next(i for i in options["source_types"][0]["items"] if i["item"] == "natural_gas")["unit"]
'1e4Nm3'
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from carbon_domain.errors import UnitError
from carbon_domain.factors import FactorLibrary, FactorRow
from carbon_domain.inventory import STEEL_PROCESSES
from carbon_domain.reports.document import PRODUCTION, QUALITIES
from carbon_domain.units import canonical_unit, dimension_of, known_units

__all__ = ["PRODUCTION_ITEMS", "TEMPLATE_COLUMNS", "activity_options", "template_rows"]

TEMPLATE_COLUMNS = ("period", "site", "process", "source_type", "item", "quantity", "unit", "direction")
"""The activity-file columns (carbonflow.activity_file), `site` included; a file's quality is chosen on upload."""
PRODUCTION_ITEMS = ("crude_steel", "pig_iron", "sinter", "pellet", "coke", "hot_rolled_coil", "rolled_steel")
"""Outputs commonly reported as the denominators of process intensities; other names are accepted."""

_FIXED_DIRECTIONS = {"combustion": ("in",), "process": ("in",), "fixed_carbon": ("out",), "production": ("out",),
                     "electricity": ("in", "out"), "heat": ("in", "out")}


def activity_options(library: FactorLibrary, *, series: str, process_series: str = "ndrc-steel-2013",
                     heat_series: str = "heat-default") -> dict[str, Any]:
    """Per source type: its items (with the factor's unit, the units that convert to it and the factor ids),
    the directions allowed; plus the processes and data qualities."""
    rows = library.rows()
    fuels = _fuels(rows, series)
    source_types = [
        _source("combustion", fuels),
        _source("process", _per_unit(rows, "process", process_series)),
        _source("electricity", [_item("grid", "MWh", [])]),
        _source("heat", [_item("heat", "GJ", [r.factor_id for r in rows
                                               if r.key == "heat.default" and r.series == heat_series])]),
        _source("fixed_carbon", _per_unit(rows, "fixed", process_series)),
        _source(PRODUCTION, [_item(name, "t", []) for name in PRODUCTION_ITEMS]),
    ]
    return {"series": series, "process_series": process_series, "source_types": source_types,
            "processes": list(STEEL_PROCESSES), "qualities": list(QUALITIES)}


def template_rows(options: dict[str, Any], *, year: int, site: str | None) -> list[dict[str, Any]]:
    """One example line per source type (its first item, in its factor's unit), for the upload template."""
    examples = {"combustion": ("rolling", 12.5), "process": ("sintering", 850.0), "electricity": ("steelmaking_bof", 4200.0),
                "heat": ("auxiliary", 1300.0), "fixed_carbon": ("steelmaking_bof", 9800.0),
                PRODUCTION: ("steelmaking_bof", 9800.0)}
    lines: list[dict[str, Any]] = []
    for source in options["source_types"]:
        if not source["items"]:
            continue
        process, quantity = examples[source["source_type"]]
        item = _preferred(source)
        lines.append({"period": f"{year:04d}-01", "site": site or "", "process": process,
                      "source_type": source["source_type"], "item": item["item"], "quantity": quantity,
                      "unit": item["unit"], "direction": source["directions"][0]})
    return lines


def _preferred(source: dict[str, Any]) -> dict[str, Any]:
    # the commonest item of the steel works when the library has it, else the first one
    common = {"combustion": "natural_gas", "process": "limestone", "fixed_carbon": "crude_steel",
              PRODUCTION: "crude_steel"}.get(source["source_type"])
    items: list[dict[str, Any]] = source["items"]
    return next((i for i in items if i["item"] == common), items[0])


def _source(source_type: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"source_type": source_type, "directions": list(_FIXED_DIRECTIONS[source_type]),
            "items": sorted(items, key=lambda i: i["item"])}


def _item(name: str, unit: str, factor_ids: list[str]) -> dict[str, Any]:
    return {"item": name, "unit": unit, "units": _convertible(unit), "factor_ids": sorted(factor_ids)}


def _convertible(unit: str) -> list[str]:
    try:
        dimension = dimension_of(unit)
    except UnitError:
        return [unit]
    others = [u for u in known_units() if u != unit and dimension_of(u) is dimension]
    return [unit, *others]


def _fuels(rows: tuple[FactorRow, ...], series: str) -> list[dict[str, Any]]:
    parts: dict[str, dict[str, FactorRow]] = defaultdict(dict)
    for row in rows:
        name = row.key.split(".")
        if row.series == series and name[0] == "fuel" and len(name) == 3:
            parts[name[1]][name[2]] = row
    items: list[dict[str, Any]] = []
    for fuel, found in parts.items():
        if {"ncv", "cc", "of"} <= found.keys():
            unit = _denominator(found["ncv"])
            if unit is not None:
                items.append(_item(fuel, unit, [found[p].factor_id for p in ("ncv", "cc", "of")]))
    return items


def _per_unit(rows: tuple[FactorRow, ...], family: str, series: str) -> list[dict[str, Any]]:
    found: dict[str, tuple[str, list[str]]] = {}
    for row in rows:
        name = row.key.split(".")
        unit = _denominator(row)
        if row.series == series and name[0] == family and len(name) == 2 and unit is not None:
            found.setdefault(name[1], (unit, []))[1].append(row.factor_id)
    return [_item(item, unit, ids) for item, (unit, ids) in found.items()]


def _denominator(row: FactorRow) -> str | None:
    _, slash, denominator = row.unit.partition("/")
    if not slash:
        return None
    try:
        return canonical_unit(denominator)
    except UnitError:
        return None
