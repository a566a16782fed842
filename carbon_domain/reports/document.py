"""The inventory document: metered and entered activity data of one enterprise -> one JSON-able dict.

`build_document` is pure: the API reads the rows, this module decides which lines count, runs
`carbon_domain.inventory.compute_inventory` and lays the result out as the document that the API
returns, the reports render and a submission freezes. Ordered things are lists (never dicts), so a
document that went through PostgreSQL `jsonb` renders to the same bytes.

Which lines count (one key = period, process, source_type, item, direction):

* entered data are versioned: for each key the lines of the newest submission that has the key are
  used; older lines of that key are listed in ``superseded``, never dropped silently;
* metered data are monthly sums of the `emissions` table (and of production counters);
* when both exist for a key, ``basis`` ("entered" by default, or "metered") is used and the other is
  compared in ``reconciliation``; a difference above ``tolerance`` is a ``metered_vs_entered`` finding.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from carbon_domain.errors import DomainError
from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary, FactorRow
from carbon_domain.grid import DEFAULT_GRID_SERIES, GridLocation, GridSeries, shared_location
from carbon_domain.inventory import (
    STEEL_PROCESSES,
    ActivityDataError,
    Direction,
    SourceType,
    compute_inventory,
)
from carbon_domain.reports.cross_check import Figure, cross_check, cross_check_findings
from carbon_domain.reports.errors import InventoryDataError
from carbon_domain.units import convert

__all__ = [
    "DEFAULT_TOLERANCE",
    "DOCUMENT_SCHEMA",
    "PRODUCTION",
    "QUALITIES",
    "Basis",
    "EnteredLine",
    "Enterprise",
    "MeteredAggregate",
    "Site",
    "build_document",
    "metered_source",
]

DOCUMENT_SCHEMA = "carbonflow.inventory/1"
DEFAULT_TOLERANCE = 0.05
"""Relative metered-vs-entered difference above which a finding is raised (0.05 = 5 %)."""
PRODUCTION = "production"
"""Source type of an output tonnage line: not an emission source, the denominator of an intensity."""
QUALITIES = ("measured", "calculated", "estimated")
"""Quality of an entered line: measured (meter, weighbridge, invoice), calculated, or estimated."""
CRUDE_STEEL = "crude_steel"
PROCESS_SERIES = "ndrc-steel-2013"

Basis = Literal["entered", "metered"]
_Key = tuple[str, str, str, str, str]  # period, process, source_type, item, direction
_SOURCE_ORDER = [*(s.value for s in SourceType), PRODUCTION]


@dataclass(frozen=True)
class Site:
    site_id: str
    name: str
    province: str | None = None
    grid_region: str | None = None


@dataclass(frozen=True)
class Enterprise:
    enterprise_id: str
    name: str
    region: str
    industry: str | None = None
    sites: tuple[Site, ...] = ()
    credit_code: str | None = None  # 统一社会信用代码, on the report's cover


@dataclass(frozen=True)
class EnteredLine:
    """One stored line of an activity-data submission."""

    version: int
    submitted_at: datetime
    line: int
    period: str
    process: str
    source_type: str
    item: str
    quantity: float
    unit: str
    direction: str
    quality: str
    site: str | None = None

    @property
    def key(self) -> _Key:
        return (self.period, self.process, self.source_type, self.item, self.direction)


@dataclass(frozen=True)
class MeteredAggregate:
    """A month of one metered activity of one process: the sum of hourly deltas of its counters.

    `activity` is the points' activity (electricity, heat, a fuel, or production:<product>);
    `flagged_intervals` counts intervals of uncertain or bad quality (resets, substitutions).
    """

    period: str
    process: str
    activity: str
    quantity: float
    unit: str
    intervals: int
    flagged_intervals: int = 0
    last_ts: datetime | None = None
    site: str | None = None


@dataclass(frozen=True)
class _Line:
    data_source: Literal["entered", "metered"]
    period: str
    process: str
    source_type: str
    item: str
    quantity: float
    unit: str
    direction: str
    quality: str
    version: int | None = None
    source_line: int | None = None
    intervals: int | None = None
    flagged_intervals: int | None = None
    site: str | None = None

    @property
    def key(self) -> _Key:
        return (self.period, self.process, self.source_type, self.item, self.direction)

    def origin(self) -> str:
        if self.data_source == "entered":
            return f"entered version {self.version} line {self.source_line}"
        where = f" at {self.site}" if self.site else ""
        return f"metered {self.item} of {self.process}{where} in {self.period}"


def metered_source(activity: str, library: FactorLibrary) -> tuple[str, str, str]:
    """(source_type, item, direction) of a metered activity: electricity and heat bought, a fuel burned,
    a product output (fixed_carbon when the process series has a fixed-carbon factor, else production)."""
    if activity == "electricity":
        return SourceType.ELECTRICITY.value, "grid", Direction.IN.value
    if activity == "heat":
        return SourceType.HEAT.value, "heat", Direction.IN.value
    if activity.startswith("production:"):
        product = activity.removeprefix("production:")
        fixed = any(r.key == f"fixed.{product}" and r.series == PROCESS_SERIES for r in library.rows())
        return (SourceType.FIXED_CARBON.value if fixed else PRODUCTION), product, Direction.OUT.value
    return SourceType.COMBUSTION.value, activity, Direction.IN.value


def build_document(
    *,
    enterprise: Enterprise,
    year: int,
    month: int | None,
    entered: Iterable[EnteredLine],
    metered: Iterable[MeteredAggregate],
    library: FactorLibrary,
    series: str,
    scope_chain: Sequence[tuple[str, str]] = (),
    basis: Basis = "entered",
    tolerance: float = DEFAULT_TOLERANCE,
    grid_series: GridSeries | str = DEFAULT_GRID_SERIES,
) -> dict[str, Any]:
    """The inventory document of `enterprise` for `year` (or one `month`); raises InventoryDataError listing
    every line that cannot be accounted, with its origin (entered version and line, or metered month).

    Each electricity line takes the factor of its site's location under `grid_series`
    (`carbon_domain.grid`); ``grid_factors`` says which row was used for each site and why."""
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise InventoryDataError([f"tolerance is a fraction above 0 (0.05 = 5 %), got {tolerance}"])
    metered = list(metered)
    entered_used, superseded = _newest_versions(list(entered))
    metered_lines = [_metered_line(m, library) for m in metered]
    reconciliation, used = _reconcile(entered_used, metered_lines, basis, tolerance)
    used.sort(key=_line_order)
    problems: list[str] = []
    accounted: list[dict[str, Any]] = []
    production: list[tuple[int, _Line]] = []
    for number, line in enumerate(used, start=1):
        if line.source_type == PRODUCTION:
            problem = _production_problem(line)
            if problem:
                problems.append(f"{line.origin()}: {problem}")
            production.append((number, line))
        else:
            accounted.append({
                "line": number, "period": line.period, "process": line.process, "source_type": line.source_type,
                "item": line.item, "quantity": line.quantity, "unit": line.unit, "direction": line.direction,
                "site": line.site,
            })
    locations = {s.site_id: GridLocation(enterprise.enterprise_id, s.province, s.grid_region, s.site_id)
                 for s in enterprise.sites}
    works = shared_location(enterprise.enterprise_id, locations.values())
    try:
        inventory = compute_inventory(accounted, library, series=series, scope_chain=scope_chain,
                                      grid_series=grid_series, locations=locations, location=works)
    except ActivityDataError as exc:
        problems.extend(f"{used[p.line - 1].origin()}: {p.reason}" for p in exc.problems)
        inventory = None
    except DomainError as exc:  # the totals themselves (e.g. a sum beyond any float)
        problems.append(f"the inventory cannot be totalled: {exc}; check the quantities for misplaced exponents")
        inventory = None
    except OverflowError:  # unit conversion of an absurd quantity
        problems.append("a quantity is too large to convert between units; check the quantities' exponents")
        inventory = None
    if problems or inventory is None:
        raise InventoryDataError(sorted(problems))
    overflow = [f"{used[r.line - 1].origin()}: {r.quantity:g} {r.unit} gives a CO2 figure beyond any real plant"
                for r in inventory.lines if not math.isfinite(r.tco2)]
    if overflow or not math.isfinite(inventory.total_tco2):
        raise InventoryDataError(overflow or ["the total overflows: check the quantities for misplaced exponents"])

    results = {r.line: r for r in inventory.lines}
    factor_rows = _factor_rows(library, inventory.lines)
    line_docs = [_line_doc(number, line, results.get(number)) for number, line in enumerate(used, start=1)]
    outputs = _outputs(line_docs)
    crude_steel = sum(o["quantity_t"] for o in outputs if o["product"] == CRUDE_STEEL)
    by_process_source: dict[tuple[str, str], float] = defaultdict(float)
    for result in inventory.lines:
        by_process_source[result.process, result.source_type.value] += result.tco2
    checked = cross_check([_figure(_entered_line(e)) for e in entered_used], [_figure(m) for m in metered_lines],
                          tolerance=tolerance)
    findings = [
        *(_pointing_at_sources(f.model_dump(mode="json"), used) for f in inventory.findings),
        *_reconciliation_findings(reconciliation, basis),
        *cross_check_findings(checked, tolerance),
        *(_pointing_at_sources(f, used) for f in _quality_findings(line_docs)),
    ]
    return {
        "schema": DOCUMENT_SCHEMA,
        "enterprise": {
            "enterprise_id": enterprise.enterprise_id, "name": enterprise.name, "region": enterprise.region,
            "industry": enterprise.industry, "credit_code": enterprise.credit_code,
            "sites": [{"site_id": s.site_id, "name": s.name, "province": s.province, "grid_region": s.grid_region}
                      for s in enterprise.sites],
        },
        "year": year,
        "month": month,
        "period_label": f"{year:04d}" if month is None else f"{year:04d}-{month:02d}",
        "standards": ["GB/T 32150-2015", "GB/T 32151.5-2015"],
        "series": {"fuel": inventory.series, "process": inventory.process_series, "grid": inventory.grid_series,
                   "heat": inventory.heat_series},
        "scope_chain": [list(link) for link in scope_chain],
        "basis": basis,
        "tolerance": tolerance,
        "data_as_of": _data_as_of(entered_used, metered),
        "unit": "tCO2",
        "total_tco2": _t(inventory.total_tco2),
        "formula": f"{inventory.total.formula}@{inventory.total.version}",
        "by_source": [{"source_type": s.value, "tco2": _t(inventory.by_source[s])} for s in SourceType],
        "by_process": [{"process": p, "tco2": _t(v)} for p, v in inventory.by_process.items()],
        "by_month": [{"period": p, "tco2": _t(v)} for p, v in inventory.by_period.items()],
        "by_process_source": [
            {"process": p, "source_type": s, "tco2": _t(v)}
            for (p, s), v in sorted(by_process_source.items(), key=lambda e: (_process_rank(e[0][0]),
                                                                               _SOURCE_ORDER.index(e[0][1])))
        ],
        "outputs": outputs,
        "crude_steel_t": _t(crude_steel),
        "intensity_tco2_per_t_crude_steel": (
            round(inventory.total_tco2 / crude_steel, 6) if crude_steel > 0 else None
        ),
        "lines": line_docs,
        "factors": factor_rows,
        "grid_factors": _grid_factors(inventory.lines, factor_rows, locations, works),
        "findings": findings,
        "reconciliation": reconciliation,
        "cross_check": checked,
        "superseded": superseded,
        "data_quality": _data_quality(line_docs, superseded, entered_used),
    }


# --- choosing lines -------------------------------------------------------------------------------


def _newest_versions(lines: list[EnteredLine]) -> tuple[list[EnteredLine], list[dict[str, Any]]]:
    newest: dict[_Key, int] = {}
    for line in lines:
        newest[line.key] = max(newest.get(line.key, 0), line.version)
    used = [line for line in lines if line.version == newest[line.key]]
    superseded = [
        {"version": line.version, "line": line.line, "period": line.period, "process": line.process,
         "source_type": line.source_type, "item": line.item, "direction": line.direction,
         "quantity": line.quantity, "unit": line.unit, "replaced_by_version": newest[line.key]}
        for line in sorted(lines, key=lambda x: (x.version, x.line))
        if line.version != newest[line.key]
    ]
    return used, superseded


def _metered_line(aggregate: MeteredAggregate, library: FactorLibrary) -> _Line:
    source_type, item, direction = metered_source(aggregate.activity, library)
    return _Line(
        data_source="metered", period=aggregate.period, process=aggregate.process, source_type=source_type,
        item=item, quantity=aggregate.quantity, unit=aggregate.unit, direction=direction,
        quality="flagged" if aggregate.flagged_intervals else "good", intervals=aggregate.intervals,
        flagged_intervals=aggregate.flagged_intervals, site=aggregate.site,
    )


def _entered_line(line: EnteredLine) -> _Line:
    return _Line(
        data_source="entered", period=line.period, process=line.process, source_type=line.source_type,
        item=line.item, quantity=line.quantity, unit=line.unit, direction=line.direction, quality=line.quality,
        version=line.version, source_line=line.line, site=line.site,
    )


def _reconcile(
    entered: list[EnteredLine], metered: list[_Line], basis: Basis, tolerance: float
) -> tuple[list[dict[str, Any]], list[_Line]]:
    by_key_entered: dict[_Key, list[_Line]] = defaultdict(list)
    for stored in entered:
        by_key_entered[stored.key].append(_entered_line(stored))
    by_key_metered: dict[_Key, list[_Line]] = defaultdict(list)
    for line in metered:
        by_key_metered[line.key].append(line)
    used: list[_Line] = []
    reconciliation: list[dict[str, Any]] = []
    for key in sorted(by_key_entered.keys() | by_key_metered.keys()):
        mine, theirs = by_key_entered.get(key, []), by_key_metered.get(key, [])
        if mine and theirs:
            reconciliation.append(_comparison(key, mine, theirs, basis, tolerance))
            used.extend(mine if basis == "entered" else theirs)
        else:
            used.extend(mine or theirs)
    return reconciliation, used


def _comparison(key: _Key, entered: list[_Line], metered: list[_Line], basis: Basis,
                tolerance: float) -> dict[str, Any]:
    period, process, source_type, item, direction = key
    unit = metered[0].unit
    metered_sum = sum(m.quantity for m in metered)
    entry: dict[str, Any] = {
        "period": period, "process": process, "source_type": source_type, "item": item, "direction": direction,
        "unit": unit, "metered": metered_sum, "entered": None, "difference": None, "relative": None,
        "used": basis, "exceeds_tolerance": False, "note": "",
    }
    try:
        entered_sum = sum(convert(e.quantity, e.unit, unit) for e in entered)
    except DomainError as exc:
        entry["note"] = f"entered units cannot be compared with the meter's {unit}: {exc}"
        entry["exceeds_tolerance"] = True
        return entry
    difference = metered_sum - entered_sum
    relative = difference / entered_sum if entered_sum else (None if metered_sum == 0 else math.inf)
    entry.update(entered=entered_sum, difference=difference,
                 relative=None if relative is None or math.isinf(relative) else round(relative, 6),
                 exceeds_tolerance=relative is not None and abs(relative) > tolerance)
    if relative is not None and math.isinf(relative):
        entry["note"] = "entered zero, metered more"
    return entry


def _line_order(line: _Line) -> tuple[Any, ...]:
    return (line.period, _process_rank(line.process), _SOURCE_ORDER.index(line.source_type)
            if line.source_type in _SOURCE_ORDER else len(_SOURCE_ORDER), line.item, line.direction,
            line.data_source, line.site or "", line.version or 0, line.source_line or 0)


def _process_rank(process: str) -> tuple[int, str]:
    return (STEEL_PROCESSES.index(process) if process in STEEL_PROCESSES else len(STEEL_PROCESSES), process)


def _production_problem(line: _Line) -> str | None:
    if line.direction != Direction.OUT.value:
        return "production lines are output, direction 'out'"
    try:
        convert(line.quantity, line.unit, "t")
    except DomainError as exc:
        return f"production quantity must be a mass (t, kg, kt): {exc}"
    return None


# --- laying out ---------------------------------------------------------------------------------


def _t(value: float) -> float:
    return round(value, 3) + 0.0  # + 0.0 turns -0.0 into 0.0


def _line_doc(number: int, line: _Line, result: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "line": number, "data_source": line.data_source, "quality": line.quality, "version": line.version,
        "source_line": line.source_line, "intervals": line.intervals, "flagged_intervals": line.flagged_intervals,
        "period": line.period, "process": line.process, "source_type": line.source_type, "item": line.item,
        "direction": line.direction, "quantity_reported": line.quantity, "unit_reported": line.unit,
        "site": line.site,
    }
    if result is None:  # a production line: a tonnage, no emission
        doc.update(quantity=convert(line.quantity, line.unit, "t"), unit="t", tco2=0.0, factor_ids=[], formula="")
    else:
        doc.update(quantity=result.quantity, unit=result.unit, tco2=_t(result.tco2),
                   factor_ids=list(result.factor_ids), formula=result.formula)
        if result.factor_reason:
            doc.update(factor_step=result.factor_step, factor_reason=result.factor_reason)
    return doc


def _grid_factors(results: Iterable[Any], factor_rows: list[dict[str, Any]], locations: dict[str, GridLocation],
                  works: GridLocation) -> list[dict[str, Any]]:
    """Per site (None: lines naming no site) and electricity factor row: the step that chose it, why (in
    English, and as the steps skipped with their causes and the place looked up, for a report to word in
    its language), and the periods it applies to."""
    values = {row["factor_id"]: row for row in factor_rows}
    uses: dict[tuple[str, str], dict[str, Any]] = {}
    for result in results:
        if result.factor_reason is None:
            continue
        factor_id = result.factor_ids[0]
        where = locations.get(result.site or "", works)
        entry = uses.setdefault((result.site or "", factor_id), {
            "site_id": result.site, "factor_id": factor_id, "value": values[factor_id]["value"],
            "unit": values[factor_id]["unit"], "step": result.factor_step, "reason": result.factor_reason,
            "skipped": [list(s) for s in result.factor_skipped or ()], "province": where.province,
            "region": where.region, "periods": []})
        if result.period not in entry["periods"]:
            entry["periods"].append(result.period)
    return [uses[key] for key in sorted(uses)]


def _outputs(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for line in lines:
        if line["source_type"] in (PRODUCTION, SourceType.FIXED_CARBON.value):
            totals[line["process"], line["item"]] += line["quantity"]
    return [{"process": p, "product": i, "quantity_t": _t(q)}
            for (p, i), q in sorted(totals.items(), key=lambda e: (_process_rank(e[0][0]), e[0][1]))]


def _factor_rows(library: FactorLibrary, results: Iterable[Any]) -> list[dict[str, Any]]:
    wanted = {fid for r in results for fid in r.factor_ids}
    rows: list[FactorRow] = sorted((r for r in library.rows() if r.factor_id in wanted), key=lambda r: r.factor_id)
    return [
        {"factor_id": r.factor_id, "key": r.key, "value": r.value, "unit": r.unit, "series": r.series,
         "scope": r.scope.value, "scope_id": r.scope_id, "valid_from": r.valid_from.isoformat(),
         "valid_to": r.valid_to.isoformat() if r.valid_to else None, "source": r.source}
        for r in rows
    ]


def _figure(line: _Line) -> Figure:
    return Figure(line.period, line.process, line.source_type, line.item, line.direction, line.quantity, line.unit,
                  line.origin(), line.source_line)


def _pointing_at_sources(finding: dict[str, Any], used: list[_Line]) -> dict[str, Any]:
    """A finding whose `lines` are the submitter's own line numbers (of the uploaded file, or positions in the
    JSON list) instead of the document's, with `sources` naming each line's origin (version and line, or
    metered month), since lines of two versions may share a number."""
    members = [used[number - 1] for number in finding["lines"]]
    return {**finding, "lines": sorted({m.source_line for m in members if m.source_line is not None}),
            "sources": [m.origin() for m in members]}


def _reconciliation_findings(reconciliation: list[dict[str, Any]], basis: Basis) -> list[dict[str, Any]]:
    findings = []
    for entry in reconciliation:
        if not entry["exceeds_tolerance"]:
            continue
        name = f"{entry['item']} ({entry['source_type']}, {entry['process']}, {entry['direction']})"
        if entry["entered"] is None:
            detail = entry["note"]
        else:
            change = "" if entry["relative"] is None else f" ({entry['relative']:+.1%})"
            detail = (f"metered {entry['metered']:,.3f} vs entered {entry['entered']:,.3f} {entry['unit']}"
                      f"{change}{'; ' + entry['note'] if entry['note'] else ''}")
        findings.append({
            "code": "metered_vs_entered", "period": entry["period"], "lines": [], "sources": [],
            "params": {key: entry[key] for key in ("process", "source_type", "item", "direction", "metered",
                                                   "entered", "unit", "relative")} | {"basis": basis},
            "message": f"{name} in {entry['period']}: {detail}; the inventory uses the {basis} figure",
        })
    return findings


def _quality_findings(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    findings = []
    flagged = [line for line in lines if line["flagged_intervals"]]
    if flagged:
        findings.append({
            "code": "metered_quality", "period": None, "lines": [line["line"] for line in flagged],
            "params": {"intervals": sum(line["flagged_intervals"] for line in flagged)},
            "message": (f"{sum(line['flagged_intervals'] for line in flagged)} metered intervals are uncertain or "
                        "bad (counter resets, substituted values); check the meters before verification"),
        })
    estimated = [line for line in lines if line["quality"] == "estimated"]
    if estimated:
        findings.append({
            "code": "estimated_data", "period": None, "lines": [line["line"] for line in estimated],
            "params": {"count": len(estimated)},
            "message": f"{len(estimated)} entered lines are estimates; replace them with measured data when available",
        })
    return findings


def _data_as_of(entered: list[EnteredLine], metered: Iterable[MeteredAggregate]) -> str | None:
    stamps = [line.submitted_at for line in entered] + [m.last_ts for m in metered if m.last_ts is not None]
    return max(stamps).astimezone(FACTOR_TIMEZONE).isoformat() if stamps else None


def _data_quality(lines: list[dict[str, Any]], superseded: list[dict[str, Any]],
                  entered: list[EnteredLine]) -> dict[str, Any]:
    versions: dict[int, dict[str, Any]] = {}
    for line in entered:
        entry = versions.setdefault(line.version, {
            "version": line.version, "submitted_at": line.submitted_at.astimezone(FACTOR_TIMEZONE).isoformat(),
            "lines_used": 0})
        entry["lines_used"] += 1
    return {
        "entered_lines": sum(1 for line in lines if line["data_source"] == "entered"),
        "metered_lines": sum(1 for line in lines if line["data_source"] == "metered"),
        "metered_intervals": sum(line["intervals"] or 0 for line in lines),
        "flagged_intervals": sum(line["flagged_intervals"] or 0 for line in lines),
        "estimated_lines": sum(1 for line in lines if line["quality"] == "estimated"),
        "superseded_lines": len(superseded),
        "versions": [versions[v] for v in sorted(versions)],
    }
