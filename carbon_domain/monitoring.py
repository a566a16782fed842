"""Government monitoring: regions, industries, emission units and their monthly figures (docs/monitoring.md).

Pure rules the monitoring service (api/monitoring/) and the region seeder share:

* `RegionTree`: the GB/T 2260 administrative tree (province -> city -> county). A code's subtree is the codes
  sharing its prefix without the trailing "00" pairs (330000 -> "33", 330500 -> "3305"), so a database can
  select a region and its sub-regions with one indexed prefix match (`region_prefix`).
* `IndustryTable`: GB/T 4754-2017 sections, divisions and groups, with the eight high-energy industries of the
  national carbon market flagged (a class inherits its parent's flag).
* `valid_credit_code`: the unified social credit code's check character (GB 32100-2015).
* Energy types and figure items, their accounting units, and `normalise_quantity`, which converts a reported
  quantity at the boundary and refuses a unit of the wrong dimension.
* `FigureCalculator`: tCO2 through `accounting.emission_for_activity` (the same code as the enterprise
  inventory, so a number is computed one way only) and tce through the GB/T 2589 coefficients kept as
  factor-library rows (METHODS.md section 10); each result names the factor rows it used.
* Intensity, year-on-year / month-on-month change, shares, and the anomaly rules (a jump against the unit's
  own history, missing months, an intensity outlier within the industry).

>>> calc = FigureCalculator(FactorLibrary.default())
>>> result = calc.energy("heat", 1000.0, date(2024, 5, 1))
>>> round(result.tco2, 1), round(result.tce, 2)
(110.0, 34.12)
"""

from __future__ import annotations

import csv
import functools
import io
import math
import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from importlib import resources

from carbon_domain.accounting import activity_unit, emission_for_activity
from carbon_domain.errors import DomainError, UnitError
from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary
from carbon_domain.units import convert, dimension_of

__all__ = [
    "HIGH_ENERGY_INDUSTRIES",
    "ENERGY_TYPES",
    "ECONOMIC_ITEMS",
    "ITEMS",
    "DEFAULT_JUMP_THRESHOLD",
    "MonitoringError",
    "EnergyType",
    "EnergySpec",
    "Region",
    "RegionTree",
    "Industry",
    "IndustryTable",
    "EnergyFigure",
    "FigureCalculator",
    "Anomaly",
    "region_prefix",
    "valid_credit_code",
    "credit_code_problem",
    "normalise_quantity",
    "storage_unit_of",
    "intensity",
    "change",
    "shares",
    "month_index",
    "month_of_index",
    "jump_anomalies",
    "missing_month_anomalies",
    "intensity_outliers",
    "TEMPLATE_COLUMNS",
    "FigureLine",
    "LineProblem",
    "check_figure_rows",
    "check_figure_record",
]


class MonitoringError(DomainError, ValueError):
    """A region, industry, credit code or figure the monitoring rules cannot accept; the message says why."""


# --- regions (GB/T 2260) -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: int  # 1 province, 2 prefecture-level city, 3 county-level
    parent: str | None
    name_en: str = ""
    label: str | None = None  # the platform's region label (users' and enterprises' region), e.g. CN-ZJ-HZ


def region_prefix(code: str) -> str:
    """The prefix every code in `code`'s subtree starts with: 330000 -> '33', 330500 -> '3305', 330502 -> '330502'."""
    _check_region_code(code)
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def _check_region_code(code: str) -> None:
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise MonitoringError(f"region code {code!r} is not a GB/T 2260 code: six digits, e.g. 330502")


def _level_and_parent(code: str, known: Mapping[str, object]) -> tuple[int, str | None]:
    if code.endswith("0000"):
        return 1, None
    province = code[:2] + "0000"
    if code.endswith("00"):
        return 2, province if province in known else None
    city = code[:4] + "00"
    # county-level cities directly under a province (省直辖县级, e.g. 429004) have no city above them
    return 3, city if city in known else (province if province in known else None)


class RegionTree:
    """An immutable administrative tree, keyed by GB/T 2260 code."""

    __slots__ = ("_regions", "_by_label")

    def __init__(self, regions: Iterable[Region]) -> None:
        self._regions: dict[str, Region] = {}
        for region in regions:
            if region.code in self._regions:
                raise MonitoringError(f"region {region.code} appears twice in the region list")
            self._regions[region.code] = region
        self._by_label = {r.label: r.code for r in self._regions.values() if r.label}

    @classmethod
    def default(cls) -> RegionTree:
        """The demo province and prefecture shipped in carbon_domain/data/regions.csv."""
        return _default_regions()

    @classmethod
    def from_code_list(cls, text: str, *, origin: str = "<code list>") -> RegionTree:
        """Build a tree from a full GB/T 2260 list: one region a line, ``code,name`` (or tab-separated, as the
        Ministry of Civil Affairs publishes it), optional header and ``#`` comments; extra columns name_en and
        label when a header names them. Level and parent follow from the codes."""
        rows = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        delimiter = "\t" if rows and "\t" in rows[0] else ","
        records = list(csv.reader(rows, delimiter=delimiter))
        header = ["code", "name", "name_en", "label"]
        if records and not records[0][0].strip().isdigit():
            header, records = [cell.strip() for cell in records[0]], records[1:]
        raw: dict[str, dict[str, str]] = {}
        for number, cells in enumerate(records, start=1):
            record = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
            code = record.get("code", "")
            try:
                _check_region_code(code)
            except MonitoringError as exc:
                raise MonitoringError(f"{origin} record {number}: {exc}") from exc
            if not record.get("name"):
                raise MonitoringError(f"{origin} record {number}: region {code} has no name")
            raw[code] = record
        regions = []
        for code, record in raw.items():
            level, parent = _level_and_parent(code, raw)
            regions.append(Region(code=code, name=record["name"], level=level, parent=parent,
                                  name_en=record.get("name_en", ""), label=record.get("label") or None))
        return cls(regions)

    def get(self, code: str) -> Region | None:
        return self._regions.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._regions

    def __iter__(self) -> Iterator[Region]:
        return iter(self._regions.values())

    def __len__(self) -> int:
        return len(self._regions)

    def resolve(self, code_or_label: str) -> Region | None:
        """The region named by its GB/T 2260 code or by its platform label (CN-ZJ-HU)."""
        code = self._by_label.get(code_or_label, code_or_label)
        return self._regions.get(code)

    def children(self, code: str) -> list[Region]:
        return sorted((r for r in self._regions.values() if r.parent == code), key=lambda r: r.code)

    def ancestors(self, code: str) -> list[Region]:
        """The region's parents, nearest first."""
        chain, region = [], self._regions.get(code)
        while region is not None and region.parent is not None:
            region = self._regions.get(region.parent)
            if region is not None:
                chain.append(region)
        return chain

    def contains(self, ancestor: str, code: str) -> bool:
        """True when `code` is `ancestor` or lies in its subtree."""
        return code.startswith(region_prefix(ancestor))


@functools.cache
def _default_regions() -> RegionTree:
    text = resources.files("carbon_domain").joinpath("data").joinpath("regions.csv").read_text(encoding="utf-8")
    return RegionTree.from_code_list(text, origin="carbon_domain/data/regions.csv")


# --- industries (GB/T 4754-2017) ---------------------------------------------------------------------------------

HIGH_ENERGY_INDUSTRIES: tuple[str, ...] = (
    "power", "petrochemicals", "chemicals", "building_materials", "steel", "non_ferrous", "paper", "aviation",
)
"""The eight high-energy industries of the national carbon market."""

_LEVELS = ("section", "division", "group")


@dataclass(frozen=True)
class Industry:
    code: str
    level: str  # section (门类), division (大类) or group (中类)
    parent: str | None
    name: str
    name_en: str
    high_energy: str | None  # own flag or the nearest ancestor's


class IndustryTable:
    """GB/T 4754-2017 classes by code, each with its inherited high-energy flag."""

    __slots__ = ("_classes",)

    def __init__(self, classes: Iterable[Industry]) -> None:
        self._classes = {c.code: c for c in classes}

    @classmethod
    def default(cls) -> IndustryTable:
        return _default_industries()

    @classmethod
    def from_csv(cls, text: str, *, origin: str = "<industries>") -> IndustryTable:
        """Rows ``code,level,parent,name,name_en,high_energy``; ``#`` lines are comments; parents come first."""
        lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        classes: dict[str, Industry] = {}
        for number, record in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
            code, level, parent = record["code"].strip(), record["level"].strip(), record["parent"].strip() or None
            flag = record.get("high_energy", "").strip() or None
            where = f"{origin} record {number} ({code})"
            if level not in _LEVELS:
                raise MonitoringError(f"{where}: level {level!r} is not one of {', '.join(_LEVELS)}")
            if flag is not None and flag not in HIGH_ENERGY_INDUSTRIES:
                raise MonitoringError(f"{where}: high_energy {flag!r} is not one of {', '.join(HIGH_ENERGY_INDUSTRIES)}")
            if (parent is None) != (level == "section"):
                raise MonitoringError(f"{where}: a section has no parent and every other class has one")
            if parent is not None and parent not in classes:
                raise MonitoringError(f"{where}: parent {parent} is not listed above it")
            if code in classes:
                raise MonitoringError(f"{where}: class {code} appears twice")
            inherited = flag or (classes[parent].high_energy if parent is not None else None)
            classes[code] = Industry(code, level, parent, record["name"].strip(), record.get("name_en", "").strip(),
                                     inherited)
        return cls(classes.values())

    def get(self, code: str) -> Industry | None:
        return self._classes.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._classes

    def __iter__(self) -> Iterator[Industry]:
        return iter(self._classes.values())

    def __len__(self) -> int:
        return len(self._classes)


@functools.cache
def _default_industries() -> IndustryTable:
    text = resources.files("carbon_domain").joinpath("data").joinpath("industries.csv").read_text(encoding="utf-8")
    return IndustryTable.from_csv(text, origin="carbon_domain/data/industries.csv")


# --- unified social credit code (GB 32100-2015) ------------------------------------------------------------------

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_problem(code: str) -> str | None:
    """Why `code` is not a valid unified social credit code, or None when it is."""
    if len(code) != 18:
        return f"a unified social credit code has 18 characters, {code!r} has {len(code)}"
    bad = sorted({c for c in code if c not in _CREDIT_CHARS})
    if bad:
        return f"{code!r} has characters outside GB 32100's set (digits and capitals without I, O, S, V, Z): {bad}"
    if not code[2:8].isdigit():
        return f"{code!r}: characters 3-8 are the registering region's six-digit code"
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
    expected = _CREDIT_CHARS[(31 - total % 31) % 31]
    if code[17] != expected:
        return f"{code!r}: check character is {code[17]!r}, the first 17 characters give {expected!r}; check the code"
    return None


def valid_credit_code(code: str) -> bool:
    return credit_code_problem(code) is None


# --- energy types and figure items -------------------------------------------------------------------------------


class EnergyType(StrEnum):
    ELECTRICITY = "electricity"
    COAL = "coal"  # raw coal and other coal products
    OIL = "oil"  # oil products
    NATURAL_GAS = "natural_gas"
    HEAT = "heat"
    OTHER = "other"


@dataclass(frozen=True)
class EnergySpec:
    energy_type: EnergyType
    name: str
    unit: str  # the accounting unit figures are stored in
    activity: str | None  # the accounting activity whose factors give its CO2 (accounting.emission_for_activity)
    tce_key: str  # factor-library key of its GB/T 2589 coefficient, in tce per `unit`


# Coal and oil products are mixtures; their CO2 uses a representative fuel of the factor library (bituminous
# coal, diesel) until a unit reports the fuel itself. "Other" energy is reported in tce and carries no CO2 factor.
ENERGY_TYPES: dict[EnergyType, EnergySpec] = {
    EnergyType.ELECTRICITY: EnergySpec(EnergyType.ELECTRICITY, "电力", "MWh", "electricity",
                                       "tce.electricity_calorific"),
    EnergyType.COAL: EnergySpec(EnergyType.COAL, "原煤及其他煤制品", "t", "bituminous_coal", "tce.raw_coal"),
    EnergyType.OIL: EnergySpec(EnergyType.OIL, "油品", "t", "diesel", "tce.diesel"),
    EnergyType.NATURAL_GAS: EnergySpec(EnergyType.NATURAL_GAS, "天然气", "1e4Nm3", "natural_gas", "tce.natural_gas"),
    EnergyType.HEAT: EnergySpec(EnergyType.HEAT, "热力", "GJ", "heat", "tce.heat"),
    EnergyType.OTHER: EnergySpec(EnergyType.OTHER, "其他能源", "tce", None, ""),
}

ECONOMIC_ITEMS: dict[str, str] = {
    "value_added": "1e4CNY",  # 增加值, 10^4 yuan at current prices
    "gross_output": "1e4CNY",  # 工业总产值
    "main_product": "",  # 主要产品产量, in the product's own unit (t, pieces...), stored as reported
    # 自发自用 own PV/wind generation: not energy consumed (no tCO2 of its own); the 碳效码 counts it as avoided
    # at the electricity factor the inventory uses
    "own_generation": "MWh",
}
ITEMS: tuple[str, ...] = (*(e.value for e in EnergyType), *ECONOMIC_ITEMS)

# Reporting spellings outside the unit library: (factor, unit it converts to).
_REPORTING_UNITS: dict[str, tuple[float, str]] = {
    "1e4kWh": (10.0, "MWh"),
    "万千瓦时": (10.0, "MWh"),
    "万kWh": (10.0, "MWh"),
    "吨": (1.0, "t"),
    "万立方米": (1.0, "1e4Nm3"),  # statistical reporting's 10^4 m3 are at standard conditions
    "1e4m3": (1.0, "1e4Nm3"),
    "吉焦": (1.0, "GJ"),
}
_MONEY_UNITS = {"1e4CNY": 1.0, "万元": 1.0, "CNY": 1e-4, "元": 1e-4, "1e8CNY": 1e4, "亿元": 1e4}
_TCE_UNITS = {"tce": 1.0, "吨标准煤": 1.0, "kgce": 1e-3, "1e4tce": 1e4, "万吨标准煤": 1e4}


def storage_unit_of(item: str) -> str:
    """The unit an item is stored in ('' for main_product, kept in its reported unit)."""
    if item in ECONOMIC_ITEMS:
        return ECONOMIC_ITEMS[item]
    try:
        return ENERGY_TYPES[EnergyType(item)].unit
    except ValueError:
        raise MonitoringError(f"unknown item {item!r}; use one of {', '.join(ITEMS)}") from None


def normalise_quantity(item: str, quantity: float, unit: str) -> tuple[float, str]:
    """`quantity` in `item`'s storage unit, with that unit; refuses negatives and units of the wrong dimension."""
    target = storage_unit_of(item)
    if not math.isfinite(quantity):
        raise MonitoringError(f"{item} quantity {quantity} is not a finite number")
    if quantity < 0:
        raise MonitoringError(f"{item} quantity {quantity:g} is negative; consumption and output are 0 or more")
    unit = unit.strip()
    if item == "main_product":
        if not unit:
            raise MonitoringError("main_product needs its unit (t, pieces, 1e4m2...)")
        return quantity, unit
    if target == "1e4CNY":
        return quantity * _known(_MONEY_UNITS, unit, item, target), target
    if target == "tce":
        return quantity * _known(_TCE_UNITS, unit, item, target), target
    factor, base = _REPORTING_UNITS.get(unit, (1.0, unit))
    try:
        if dimension_of(base) is not dimension_of(target):
            raise MonitoringError(
                f"unit {unit!r} does not fit {item}: it is reported as {dimension_of(target).value} "
                f"(e.g. {target}), {unit!r} is {dimension_of(base).value}"
            )
        return convert(quantity * factor, base, target), target
    except UnitError as exc:
        raise MonitoringError(f"unit {unit!r} of {item} is unknown; report it in {target}") from exc


def _known(table: Mapping[str, float], unit: str, item: str, target: str) -> float:
    if unit not in table:
        raise MonitoringError(f"unit {unit!r} does not fit {item}; use {target} (or one of {', '.join(table)})")
    return table[unit]


# --- tCO2 and tce ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnergyFigure:
    tco2: float
    tce: float
    factor_ids: tuple[str, ...]
    formula: str


class FigureCalculator:
    """tCO2 and tce of monthly energy figures from one factor library.

    Both are linear in the quantity, so the per-unit coefficients are resolved once per (energy type, month)
    through `accounting.emission_for_activity` and reused: an import of many figures costs one factor
    resolution per energy type and month, and gives the numbers the enterprise inventory would."""

    def __init__(self, library: FactorLibrary, *, scope_chain: Sequence[tuple[str, str]] = ()) -> None:
        self._library = library
        self._scope_chain = tuple(scope_chain)
        self._coefficients: dict[tuple[EnergyType, date], tuple[float, float, tuple[str, ...], str]] = {}

    def energy(self, energy_type: str, quantity: float, month: date) -> EnergyFigure:
        """tCO2 and tce of `quantity` (in the energy type's storage unit) consumed in `month`."""
        kind = EnergyType(energy_type)
        key = (kind, month.replace(day=1))
        if key not in self._coefficients:
            self._coefficients[key] = self._per_unit(kind, key[1])
        co2, tce, factor_ids, formula = self._coefficients[key]
        return EnergyFigure(tco2=quantity * co2, tce=quantity * tce, factor_ids=factor_ids, formula=formula)

    def _per_unit(self, kind: EnergyType, month: date) -> tuple[float, float, tuple[str, ...], str]:
        spec = ENERGY_TYPES[kind]
        if spec.activity is None:
            return 0.0, 1.0, (), "other energy: reported in tce, no CO2 factor"
        at = datetime.combine(month, time(12), tzinfo=FACTOR_TIMEZONE)
        emission = emission_for_activity(spec.activity, 1.0, activity_unit(spec.activity), at, self._library,
                                         self._scope_chain)
        tce_row = self._library.resolve(spec.tce_key, at, scope_chain=self._scope_chain)
        return emission.tco2, tce_row.value, (*emission.factor_ids, tce_row.factor_id), emission.formula


# --- indicators --------------------------------------------------------------------------------------------------


def intensity(amount: float, value_added_1e4_cny: float | None) -> float | None:
    """`amount` (tCO2 or tce) per 10^4 yuan of value added; None without a positive value added."""
    if value_added_1e4_cny is None or value_added_1e4_cny <= 0:
        return None
    return amount / value_added_1e4_cny


def change(now: float | None, before: float | None) -> float | None:
    """Relative change (0.1 = +10 %) of `now` against `before`; None when either is missing or before is 0."""
    if now is None or before is None or before == 0:
        return None
    return (now - before) / before


def shares(values: Mapping[str, float]) -> dict[str, float]:
    """Each value's fraction of the total; empty when the total is 0."""
    total = sum(values.values())
    return {} if total == 0 else {key: value / total for key, value in values.items()}


def month_index(month: date) -> int:
    return month.year * 12 + month.month - 1


def month_of_index(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


# --- anomaly rules -----------------------------------------------------------------------------------------------

DEFAULT_JUMP_THRESHOLD = 0.5
"""A month differing from the unit's own recent median by more than this fraction is a jump."""
_MIN_HISTORY = 3
_OUTLIER_FENCE = 3.0  # interquartile ranges beyond the quartiles: far out, not merely unusual
_MIN_PEERS = 5
# an interquartile range narrower than this fraction of the median counts as this fraction, so that peers with
# near-identical intensities do not turn a rounding difference into an outlier
_MIN_RELATIVE_SPREAD = 0.1


@dataclass(frozen=True)
class Anomaly:
    rule: str  # jump, missing_month, intensity_outlier
    month: date
    item: str
    detail: str
    value: float | None = None
    reference: float | None = None


def jump_anomalies(series: Mapping[date, float], *, item: str = "tce",
                   threshold: float = DEFAULT_JUMP_THRESHOLD, window: int = 12) -> list[Anomaly]:
    """Months whose value differs from the median of the up to `window` months before it by more than
    `threshold`, once at least three months of history exist."""
    if not math.isfinite(threshold) or threshold <= 0:
        raise MonitoringError(f"jump threshold is a fraction above 0 (0.5 = 50 %), got {threshold}")
    ordered = sorted(series.items())
    found = []
    for position, (month, value) in enumerate(ordered):
        history = [v for _, v in ordered[max(0, position - window):position]]
        if len(history) < _MIN_HISTORY:
            continue
        reference = statistics.median(history)
        relative = change(value, reference)
        if relative is not None and abs(relative) > threshold:
            found.append(Anomaly("jump", month, item, f"{item} {value:,.1f} is {relative:+.0%} against the median "
                                 f"{reference:,.1f} of the {len(history)} months before", value, reference))
    return found


def missing_month_anomalies(months: Iterable[date], *, through: date) -> list[Anomaly]:
    """Months without any energy figure between the unit's first reported month and `through`."""
    reported = {month_index(m) for m in months}
    if not reported:
        return []
    first, last = min(reported), month_index(through)
    return [Anomaly("missing_month", month_of_index(i), "energy",
                    f"no energy figures for {month_of_index(i):%Y-%m}; the unit reports since "
                    f"{month_of_index(first):%Y-%m}")
            for i in range(first, last + 1) if i not in reported]


def intensity_outliers(intensities: Mapping[str, float], *, month: date, fence: float = _OUTLIER_FENCE,
                       min_peers: int = _MIN_PEERS) -> list[tuple[str, Anomaly]]:
    """(unit, anomaly) for units whose intensity lies more than `fence` interquartile ranges outside the
    quartiles of their industry class's units (`intensities`: unit -> intensity, one class, one period)."""
    if len(intensities) < min_peers:
        return []
    q1, median, q3 = statistics.quantiles(intensities.values(), n=4, method="inclusive")
    spread = max(q3 - q1, _MIN_RELATIVE_SPREAD * abs(median))
    low, high = q1 - fence * spread, q3 + fence * spread
    return [(unit, Anomaly("intensity_outlier", month, "intensity",
                           f"intensity {value:.3f} tCO2/10^4 CNY is outside the industry's range "
                           f"{max(low, 0):.3f}..{high:.3f} (quartiles {q1:.3f}, {q3:.3f} of {len(intensities)} units)",
                           value, (q1 + q3) / 2))
            for unit, value in sorted(intensities.items()) if value < low or value > high]


# --- figure lines (file import and REST push) --------------------------------------------------------------------

TEMPLATE_COLUMNS: tuple[str, ...] = (
    "credit_code", "unit_name", "region_code", "industry_code", "month", "item", "quantity", "unit",
)
"""Columns of the import template; unit_name, region_code and industry_code register a unit not yet known."""
_REQUIRED_COLUMNS = ("credit_code", "month", "item", "quantity", "unit")


@dataclass(frozen=True)
class FigureLine:
    line: int
    credit_code: str
    month: date
    item: str
    quantity: float  # in the item's storage unit
    unit: str
    unit_name: str = ""
    region_code: str = ""
    industry_code: str = ""


@dataclass(frozen=True)
class LineProblem:
    line: int
    field: str
    reason: str


def check_figure_rows(
    rows: Iterable[tuple[int, Sequence[object]]], *, regions: RegionTree, industries: IndustryTable,
) -> tuple[list[FigureLine], list[LineProblem]]:
    """Checked figure lines and every problem with its line number, from (line, cells) rows whose first row is
    the header (TEMPLATE_COLUMNS, any order). Duplicate (credit code, month, item) lines are refused, each
    naming the line it repeats."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return [], [LineProblem(1, "header", f"the file is empty; start with the header {','.join(TEMPLATE_COLUMNS)}")]
    header_line, header_cells = first
    header = [str(cell or "").strip().lower() for cell in header_cells]
    missing = [name for name in _REQUIRED_COLUMNS if name not in header]
    if missing:
        return [], [LineProblem(header_line, "header", f"missing column(s) {', '.join(missing)}; the template's "
                                                       f"header is {','.join(TEMPLATE_COLUMNS)}")]
    lines: list[FigureLine] = []
    problems: list[LineProblem] = []
    seen: dict[tuple[str, date, str], int] = {}
    for number, cells in iterator:
        record = {name: _cell(cells, i) for i, name in enumerate(header) if name}
        if not any(record.values()):
            continue
        line, line_problems = check_figure_record(number, record, regions=regions, industries=industries)
        if line is not None:
            key = (line.credit_code, line.month, line.item)
            if key in seen:
                line_problems.append(LineProblem(number, "item", f"duplicate of line {seen[key]}: {line.credit_code} "
                                                 f"{line.month:%Y-%m} {line.item} appears twice; keep one line"))
            else:
                seen[key] = number
        if line_problems:
            problems.extend(line_problems)
        elif line is not None:
            lines.append(line)
    return lines, problems


def check_figure_record(number: int, record: Mapping[str, str], *, regions: RegionTree,
                        industries: IndustryTable) -> tuple[FigureLine | None, list[LineProblem]]:
    """One record (column -> text) as a checked line, or None with its problems."""
    problems: list[LineProblem] = []
    code = record.get("credit_code", "").upper()
    if (problem := credit_code_problem(code)) is not None:
        problems.append(LineProblem(number, "credit_code", problem))
    region, industry = record.get("region_code", ""), record.get("industry_code", "")
    if region and region not in regions:
        problems.append(LineProblem(number, "region_code", f"unknown region code {region!r}; use a GB/T 2260 code "
                                                           "of the region list (GET /api/v1/monitoring/regions)"))
    if industry and industry not in industries:
        problems.append(LineProblem(number, "industry_code", f"unknown industry code {industry!r}; use a GB/T "
                                                             "4754-2017 class (GET /api/v1/monitoring/industries)"))
    month = _month(record.get("month", ""))
    if month is None:
        problems.append(LineProblem(number, "month", f"month {record.get('month', '')!r} is not YYYY-MM"))
    item = record.get("item", "")
    quantity_text = record.get("quantity", "")
    try:
        raw = float(quantity_text)
    except ValueError:
        problems.append(LineProblem(number, "quantity", f"quantity {quantity_text!r} is not a number"))
        raw = None
    value, unit = 0.0, ""
    if item not in ITEMS:
        problems.append(LineProblem(number, "item", f"unknown item {item!r}; use one of {', '.join(ITEMS)}"))
    elif raw is not None:
        try:
            value, unit = normalise_quantity(item, raw, record.get("unit", ""))
        except MonitoringError as exc:
            field = "quantity" if raw < 0 or not math.isfinite(raw) else "unit"
            problems.append(LineProblem(number, field, str(exc)))
    if problems or month is None:
        return None, problems
    return FigureLine(number, code, month, item, value, unit, record.get("unit_name", ""), region, industry), []


def _cell(cells: Sequence[object], index: int) -> str:
    if index >= len(cells) or cells[index] is None:
        return ""
    value = cells[index]
    if isinstance(value, datetime | date):
        return f"{value:%Y-%m}"
    return str(value).strip()


def _month(text: str) -> date | None:
    year, _, month = text.strip().partition("-")
    if len(year) != 4 or not year.isdigit() or not month.isdigit() or not 1 <= int(month) <= 12:
        return None
    return date(int(year), int(month), 1)
