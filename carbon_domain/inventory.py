"""Offline GHG inventory of a works: GB/T 32150-2015, and GB/T 32151.5-2015 for steel.

Activity-data lines (a quantity of one fuel, material, product or energy flow
of one process in one period) go in; `compute_inventory` resolves every
factor from a `FactorLibrary`, converts units at the boundary and returns an
`Inventory` whose total follows METHODS.md sections 1 and 2::

    E = combustion + process + electricity + heat − fixed_carbon

Lines with direction `out` subtract: exported electricity and heat, and the
carbon fixed in products (crude steel...). Each `LineResult` names the factor
rows and the formula it used, so every figure can be recomputed; `findings`
carries the verifier checks (month-on-month jumps, missing months, negative
nets). Every line that cannot be accounted is reported in one
`ActivityDataError`, each problem with its line number.

>>> line = {"period": "2024-05", "process": "auxiliary", "source_type": "heat",
...         "item": "heat", "quantity": 1000, "unit": "GJ", "direction": "in"}
>>> inventory = compute_inventory([line], FactorLibrary.default(), series="ndrc-steel-2013")
>>> round(inventory.total_tco2, 1), inventory.lines[0].factor_ids
(110.0, ('heat.default@heat-default',))
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from carbon_domain.errors import DomainError, FactorNotFound, FormulaInputError
from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary, FactorRow
from carbon_domain.formulas import (
    FormulaResult,
    combustion_emission,
    electricity_emission,
    fixed_carbon,
    heat_emission,
    inventory_total,
    process_emission,
)
from carbon_domain.grid import (
    DEFAULT_GRID_SERIES,
    GridChoice,
    GridLocation,
    GridSeries,
    choose_grid_factor,
)
from carbon_domain.grid import grid_series as _grid_series
from carbon_domain.units import canonical_unit, convert

__all__ = [
    "STEEL_PROCESSES",
    "DEFAULT_JUMP_THRESHOLD",
    "SourceType",
    "Direction",
    "ActivityLine",
    "LineResult",
    "FindingCode",
    "Finding",
    "Inventory",
    "LineProblem",
    "ActivityDataError",
    "compute_inventory",
    "verifier_findings",
]

STEEL_PROCESSES = (
    "sintering",
    "pelletising",
    "coking",
    "ironmaking",
    "steelmaking_bof",
    "steelmaking_eaf",
    "rolling",
    "auxiliary",
)
"""The processes (工序) GB/T 32151.5-2015 reports by; other names are accepted unless restricted."""

_NO_LOCATION = GridLocation()  # offline: no enterprise, province or grid known, so the national average

DEFAULT_JUMP_THRESHOLD = 0.30
"""Month-on-month change (as a fraction) above which the verifier reports a jump."""

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_SITE = r"^[A-Za-z0-9_.-]+$"
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


class SourceType(StrEnum):
    COMBUSTION = "combustion"
    PROCESS = "process"
    ELECTRICITY = "electricity"
    HEAT = "heat"
    FIXED_CARBON = "fixed_carbon"


class Direction(StrEnum):
    IN = "in"  # consumed or purchased
    OUT = "out"  # exported or output


# Why each source allows only some directions: see the messages.
_DIRECTION_RULES: dict[SourceType, tuple[Direction, str]] = {
    SourceType.COMBUSTION: (Direction.IN, "combustion lines are fuel burned, direction 'in'"),
    SourceType.PROCESS: (Direction.IN, "process lines are materials consumed, direction 'in'"),
    SourceType.FIXED_CARBON: (Direction.OUT, "fixed_carbon lines are products output or sold, direction 'out'"),
}
_FIXED_ITEMS = {SourceType.ELECTRICITY: "grid", SourceType.HEAT: "heat"}


class ActivityLine(BaseModel):
    """One activity-data line: a quantity of one item of one process in one period."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    line: int | None = Field(default=None, ge=1, description="line number in the source file, for messages")
    period: str
    process: str
    source_type: SourceType
    item: str
    quantity: float = Field(ge=0, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=32)
    direction: Direction
    site: str | None = Field(default=None, max_length=128, pattern=_SITE,
                             description="the site the line belongs to; it chooses the electricity factor")

    @field_validator("site", mode="before")
    @classmethod
    def _empty_site(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("period", mode="before")
    @classmethod
    def _period_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("period")
    @classmethod
    def _period_format(cls, value: str) -> str:
        match = _PERIOD.match(value)
        if match is None or (match.group(2) is not None and not 1 <= int(match.group(2)) <= 12):
            raise ValueError(f"must be YYYY-MM or YYYY (e.g. 2025-01), got {value!r}")
        return value

    @field_validator("process", "item")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value) or len(value) > 64:
            raise ValueError(f"must be lower-case snake_case of at most 64 characters (e.g. natural_gas), got {value!r}")
        return value

    @model_validator(mode="after")
    def _fits_source(self) -> ActivityLine:
        rule = _DIRECTION_RULES.get(self.source_type)
        if rule is not None and self.direction is not rule[0]:
            hint = "; carbon leaving in products or sold fuel is a fixed_carbon line" if rule[0] is Direction.IN else ""
            raise ValueError(f"direction {self.direction.value!r} is not allowed: {rule[1]}{hint}")
        expected = _FIXED_ITEMS.get(self.source_type)
        if expected is not None and self.item != expected:
            raise ValueError(f"{self.source_type.value} lines must have item {expected!r}, got {self.item!r}")
        return self


class LineResult(BaseModel):
    """One accounted line: quantity in the accounting unit, signed tCO2, factor rows and formula used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line: int
    period: str
    process: str
    source_type: SourceType
    item: str
    direction: Direction
    quantity: float = Field(description="quantity converted to the unit the factor is given per")
    unit: str
    tco2: float = Field(description="contribution to the total: negative for direction 'out'")
    factor_ids: tuple[str, ...]
    formula: str
    inputs: dict[str, float]
    site: str | None = None
    factor_step: str | None = Field(None, description="electricity: the precedence step whose row was used")
    factor_reason: str | None = Field(None, description="electricity: why that row (the steps skipped)")
    factor_skipped: tuple[tuple[str, str], ...] | None = Field(
        None, description="electricity: the steps skipped before factor_step, each with why (none_valid, unknown)")


class FindingCode(StrEnum):
    MONTH_ON_MONTH_JUMP = "month_on_month_jump"
    MISSING_MONTH = "missing_month"
    NEGATIVE_NET = "negative_net"


class Finding(BaseModel):
    """A verifier finding: something a reviewer should look at, not an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: FindingCode
    message: str
    period: str | None = None
    lines: tuple[int, ...] = ()
    params: dict[str, str | float | None] = Field(
        default_factory=dict, description="the message's figures and names, so a report can word it in its language"
    )


class Inventory(BaseModel):
    """Totals by source, process and period, the total with its formula, the lines and findings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    series: str
    process_series: str
    grid_series: str
    heat_series: str
    by_source: dict[SourceType, float] = Field(
        description=(
            "tCO2, signed as they enter the total: electricity and heat are net of exports, fixed_carbon is "
            "negative (the amount subtracted), so the total is the sum of the sources"
        )
    )
    total: FormulaResult
    by_process: dict[str, float]
    by_period: dict[str, float]
    lines: tuple[LineResult, ...]
    findings: tuple[Finding, ...]

    @property
    def total_tco2(self) -> float:
        """E = combustion + process + electricity + heat − fixed_carbon, in tCO2."""
        return self.total.value


class LineProblem(NamedTuple):
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ActivityDataError(DomainError, ValueError):
    """Activity lines that cannot be accounted; `problems` lists every one with its line number."""

    def __init__(self, problems: Iterable[LineProblem]) -> None:
        self.problems = tuple(sorted(problems))
        if len(self.problems) == 1:
            message = str(self.problems[0])
        else:
            listed = "\n".join(f"  {problem}" for problem in self.problems)
            message = f"{len(self.problems)} activity lines cannot be accounted:\n{listed}"
        super().__init__(message)


@dataclass(frozen=True)
class _Settings:
    library: FactorLibrary
    series: str
    process_series: str
    grid_series: GridSeries
    locations: Mapping[str, GridLocation] | None
    location: GridLocation
    heat_key: str
    heat_series: str
    scope_chain: Sequence[tuple[str, str]]
    at: datetime | None


class _LineError(Exception):
    """Internal: one line's problem, turned into a LineProblem by compute_inventory."""


def compute_inventory(
    lines: Iterable[ActivityLine | Mapping[str, Any]],
    library: FactorLibrary,
    *,
    series: str,
    process_series: str = "ndrc-steel-2013",
    grid_series: GridSeries | str = DEFAULT_GRID_SERIES,
    locations: Mapping[str, GridLocation] | None = None,
    location: GridLocation = _NO_LOCATION,
    heat_key: str = "heat.default",
    heat_series: str = "heat-default",
    scope_chain: Sequence[tuple[str, str]] = (),
    at: datetime | None = None,
    processes: Collection[str] | None = None,
    jump_threshold: float = DEFAULT_JUMP_THRESHOLD,
) -> Inventory:
    """Account every activity line and return the inventory; raise ActivityDataError listing all bad lines.

    `series` is the fuel table (NCV, CC, OF); `process_series` the table of
    process and fixed-carbon factors; `at` the time factors are resolved at
    (default: the first day of each line's period, UTC+08:00); `processes`,
    when given, is the only process names allowed. Mappings are validated as
    `ActivityLine`s; a line without a `line` number takes its 1-based position.

    Electricity follows `grid_series` (see `carbon_domain.grid`) at the location of the line's site in
    `locations`, or at `location` for a line without a site (and for every line when `locations` is
    None, as in a file computed offline). A site missing from `locations` is a bad line.

    >>> gas = {"period": "2024-05", "process": "rolling", "source_type": "combustion",
    ...        "item": "natural_gas", "quantity": 500_000, "unit": "Nm3", "direction": "in"}
    >>> result = compute_inventory([gas], FactorLibrary.default(), series="ndrc-steel-2013")
    >>> round(result.by_source[SourceType.COMBUSTION], 1), result.lines[0].quantity, result.lines[0].unit
    (1081.1, 50.0, '1e4Nm3')
    """
    settings = _Settings(
        library, series, process_series, _grid_series(str(grid_series)), locations, location, heat_key, heat_series,
        tuple(scope_chain), at,
    )
    allowed = None if processes is None else frozenset(processes)
    results: list[LineResult] = []
    problems: list[LineProblem] = []
    for position, raw in enumerate(lines, start=1):
        number = _line_number(raw, position)
        try:
            line = _validated(raw, number)
            if allowed is not None and line.process not in allowed:
                raise _LineError(f"process {line.process!r} is not configured; configured: {', '.join(sorted(allowed))}")
            results.append(_account(line, number, settings))
        except _LineError as exc:
            problems.append(LineProblem(number, str(exc)))
    if problems:
        raise ActivityDataError(problems)
    return _assemble(results, settings, jump_threshold)


def _line_number(raw: ActivityLine | Mapping[str, Any], position: int) -> int:
    number = raw.line if isinstance(raw, ActivityLine) else raw.get("line")
    return number if isinstance(number, int) and not isinstance(number, bool) and number >= 1 else position


def _validated(raw: ActivityLine | Mapping[str, Any], number: int) -> ActivityLine:
    if isinstance(raw, ActivityLine):
        return raw
    try:
        return ActivityLine.model_validate({**raw, "line": number})
    except ValidationError as exc:
        raise _LineError(_describe_validation(exc)) from exc


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] not in {"value_error", "missing"}:
            message = f"{message}, got {error['input']!r}"
        if error["loc"] == ("quantity",) and error["type"] == "greater_than_equal":
            message += " (quantities are amounts: an export is a line with direction 'out')"
        field = ".".join(str(part) for part in error["loc"])
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


# --- one line -> LineResult -------------------------------------------------------------------


def _account(line: ActivityLine, number: int, settings: _Settings) -> LineResult:
    _location(line, settings)  # every line's site is checked, not only an electricity line's
    at = settings.at or _period_start(line.period)
    try:
        rows, unit, formula, choice = _ACCOUNTANTS[line.source_type](line, at, settings)
        quantity = convert(line.quantity, line.unit, unit)
        result = formula(quantity)
    except DomainError as exc:
        raise _LineError(f"{line.source_type.value} {line.item!r} ({line.quantity:g} {line.unit}): {exc}") from exc
    sign = 1.0 if line.direction is Direction.IN else -1.0
    return LineResult(
        line=number,
        period=line.period,
        process=line.process,
        source_type=line.source_type,
        item=line.item,
        direction=line.direction,
        quantity=quantity,
        unit=unit,
        tco2=sign * result.value,
        factor_ids=tuple(row.factor_id for row in rows),
        formula=f"{result.formula}@{result.version}",
        inputs=result.inputs,
        site=line.site,
        factor_step=choice.step if choice else None,
        factor_reason=choice.reason if choice else None,
        factor_skipped=choice.skipped if choice else None,
    )


_Accounted = tuple[list[FactorRow], str, Callable[[float], FormulaResult], GridChoice | None]


def _combustion(line: ActivityLine, at: datetime, settings: _Settings) -> _Accounted:
    ncv, cc, of = (
        _resolve(settings, f"fuel.{line.item}.{part}", at, settings.series, "fuel")
        for part in ("ncv", "cc", "of")
    )
    energy, unit = _split_unit(ncv)
    ncv_gj = convert(ncv.value, energy, "GJ")
    carbon, per_energy = _split_unit(cc)
    if carbon != "tC":
        raise _LineError(f"factor {cc.factor_id} has unit {cc.unit!r}; expected tC per an energy unit (tC/TJ)")
    cc_tc_per_tj = cc.value * convert(1, "TJ", per_energy)
    return [ncv, cc, of], unit, lambda amount: combustion_emission(amount, ncv_gj, cc_tc_per_tj, of.value), None


def _process(line: ActivityLine, at: datetime, settings: _Settings) -> _Accounted:
    row = _resolve(settings, f"process.{line.item}", at, settings.process_series, "process material")
    factor, unit = _per_unit_co2(row)
    return [row], unit, lambda amount: process_emission(amount, factor), None


def _fixed_carbon(line: ActivityLine, at: datetime, settings: _Settings) -> _Accounted:
    row = _resolve(settings, f"fixed.{line.item}", at, settings.process_series, "fixed-carbon product")
    factor, unit = _per_unit_co2(row)
    return [row], unit, lambda amount: fixed_carbon(amount, factor), None


def _electricity(line: ActivityLine, at: datetime, settings: _Settings) -> _Accounted:
    choice = choose_grid_factor(settings.library, at, settings.grid_series, _location(line, settings))
    factor, unit = _per_unit_co2(choice.row)
    per_mwh = factor / convert(1, unit, "MWh")
    return [choice.row], "MWh", lambda amount: electricity_emission(amount, per_mwh), choice


def _location(line: ActivityLine, settings: _Settings) -> GridLocation:
    if line.site is None or settings.locations is None:
        return settings.location
    found = settings.locations.get(line.site)
    if found is None:
        known = ", ".join(sorted(settings.locations)) or "none"
        raise _LineError(f"site {line.site!r} is not a site of this enterprise (its sites: {known})")
    return found


def _heat(line: ActivityLine, at: datetime, settings: _Settings) -> _Accounted:
    row = settings.library.resolve(settings.heat_key, at, series=settings.heat_series, scope_chain=settings.scope_chain)
    factor, unit = _per_unit_co2(row)
    per_gj = factor / convert(1, unit, "GJ")
    return [row], "GJ", lambda amount: heat_emission(amount, per_gj), None


_ACCOUNTANTS: dict[SourceType, Callable[[ActivityLine, datetime, _Settings], _Accounted]] = {
    SourceType.COMBUSTION: _combustion,
    SourceType.PROCESS: _process,
    SourceType.FIXED_CARBON: _fixed_carbon,
    SourceType.ELECTRICITY: _electricity,
    SourceType.HEAT: _heat,
}


def _resolve(settings: _Settings, key: str, at: datetime, series: str, kind: str) -> FactorRow:
    try:
        return settings.library.resolve(key, at, series=series, scope_chain=settings.scope_chain)
    except FactorNotFound as exc:
        rows = settings.library.rows()
        if any(row.key == key and row.series == series for row in rows):
            raise  # the key is in the series: the library's message (period, scope) says what is wrong
        family, item = key.split(".")[:2]
        known = _complete_items(rows, family, series)
        partial = any(row.series == series and row.key.startswith(f"{family}.{item}.") for row in rows)
        what = f"series {series!r} has no factor {key!r}" if partial else f"unknown {kind} {item!r} in series {series!r}"
        raise _LineError(
            f"{what}; one inventory never mixes two tables, so add the row to this series or choose another "
            f"({kind}s complete in this series: {', '.join(known) or 'none'})"
        ) from exc


def _complete_items(rows: Sequence[FactorRow], family: str, series: str) -> list[str]:
    parts: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        name = row.key.split(".")
        if row.series == series and name[0] == family:
            parts[name[1]].add(name[-1])
    needed = {"ncv", "cc", "of"} if family == "fuel" else set()
    return sorted(item for item, found in parts.items() if found >= needed)


def _split_unit(row: FactorRow) -> tuple[str, str]:
    numerator, slash, denominator = row.unit.partition("/")
    if not slash or not numerator or not denominator:
        raise _LineError(f"factor {row.factor_id} has unit {row.unit!r}; expected a ratio such as tCO2/t")
    return numerator, canonical_unit(denominator)


def _per_unit_co2(row: FactorRow) -> tuple[float, str]:
    numerator, unit = _split_unit(row)
    return convert(row.value, numerator, "tCO2"), unit


def _period_start(period: str) -> datetime:
    year, _, month = period.partition("-")
    return datetime(int(year), int(month or 1), 1, tzinfo=FACTOR_TIMEZONE)


# --- totals -------------------------------------------------------------------------------------


def _assemble(results: list[LineResult], settings: _Settings, jump_threshold: float) -> Inventory:
    amounts: dict[tuple[SourceType, Direction], float] = defaultdict(float)
    by_process: dict[str, float] = defaultdict(float)
    by_period: dict[str, float] = defaultdict(float)
    for result in results:
        amounts[result.source_type, result.direction] += abs(result.tco2)
        by_process[result.process] += result.tco2
        by_period[result.period] += result.tco2
    total = inventory_total(
        combustion=amounts[SourceType.COMBUSTION, Direction.IN],
        process=amounts[SourceType.PROCESS, Direction.IN],
        recovered=amounts[SourceType.FIXED_CARBON, Direction.OUT],
        elec_in=amounts[SourceType.ELECTRICITY, Direction.IN],
        heat_in=amounts[SourceType.HEAT, Direction.IN],
        elec_out=amounts[SourceType.ELECTRICITY, Direction.OUT],
        heat_out=amounts[SourceType.HEAT, Direction.OUT],
    )
    # One sign convention everywhere (report tables, JSON, CLI): a source is what it adds to the total, so
    # exports net out of their source and fixed carbon, only ever `out`, is negative.
    by_source: dict[SourceType, float] = {
        source: amounts[source, Direction.IN] - amounts[source, Direction.OUT] for source in SourceType
    }
    return Inventory(
        series=settings.series,
        process_series=settings.process_series,
        grid_series=settings.grid_series.value,
        heat_series=settings.heat_series,
        by_source=by_source,
        total=total,
        by_process=dict(sorted(by_process.items(), key=_process_order)),
        by_period=dict(sorted(by_period.items())),
        lines=tuple(results),
        findings=verifier_findings(results, jump_threshold=jump_threshold),
    )


def _process_order(entry: tuple[str, float]) -> tuple[int, str]:
    name = entry[0]
    return (STEEL_PROCESSES.index(name) if name in STEEL_PROCESSES else len(STEEL_PROCESSES), name)


# --- verifier checks ---------------------------------------------------------------------------


def verifier_findings(
    lines: Sequence[LineResult], *, jump_threshold: float = DEFAULT_JUMP_THRESHOLD
) -> tuple[Finding, ...]:
    """Exports with no purchase or fuel behind them, missing months and month-on-month jumps above `jump_threshold`."""
    if not math.isfinite(jump_threshold) or jump_threshold <= 0:
        raise FormulaInputError(f"jump_threshold is a fraction above 0 (0.30 = 30 %), got {jump_threshold}")
    findings = [*_negative_nets(lines), *_missing_months(lines), *_jumps(lines, jump_threshold)]
    return tuple(sorted(findings, key=lambda f: (f.period or "", list(FindingCode).index(f.code))))


def _negative_nets(lines: Sequence[LineResult]) -> list[Finding]:
    # METHODS section 1 subtracts exports whatever was bought: a works that burns fuel (reported as
    # combustion) and sells the heat or power it makes has a negative net, and that is right. Only an
    # export with nothing bought and no fuel burned in the same year has no source in the inventory.
    burned = {line.period[:4] for line in lines if line.source_type is SourceType.COMBUSTION}
    groups: dict[tuple[str, SourceType], list[LineResult]] = defaultdict(list)
    for line in lines:
        if line.source_type in _FIXED_ITEMS:
            groups[line.period, line.source_type].append(line)
    findings = []
    for (period, source), members in sorted(groups.items()):
        bought = sum(m.quantity for m in members if m.direction is Direction.IN)
        sold = sum(m.quantity for m in members if m.direction is Direction.OUT)
        if bought - sold < 0 and period[:4] not in burned:
            unit = members[0].unit
            findings.append(
                Finding(
                    code=FindingCode.NEGATIVE_NET,
                    period=period,
                    lines=tuple(m.line for m in members),
                    params={"source_type": source.value, "net": bought - sold, "bought": bought, "sold": sold,
                            "unit": unit},
                    message=(
                        f"{source.value} net for {period} is {bought - sold:,.1f} {unit} (in {bought:,.1f}, "
                        f"out {sold:,.1f}): more exported than purchased and no fuel burned in {period[:4]} to make "
                        "it; check the direction column and the meters"
                    ),
                )
            )
    return findings


def _month_index(period: str) -> int | None:
    year, _, month = period.partition("-")
    return int(year) * 12 + int(month) - 1 if month else None


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


_StreamKey = tuple[str, SourceType, str, Direction]


def _monthly(lines: Sequence[LineResult]) -> dict[_StreamKey, dict[int, list[LineResult]]]:
    streams: dict[_StreamKey, dict[int, list[LineResult]]] = defaultdict(lambda: defaultdict(list))
    for line in lines:
        index = _month_index(line.period)
        if index is not None:
            streams[line.process, line.source_type, line.item, line.direction][index].append(line)
    return streams


def _stream_name(key: _StreamKey) -> str:
    process, source, item, direction = key
    return f"{item} ({source.value}, {process}, {direction.value})"


def _stream_params(key: _StreamKey) -> dict[str, str | float | None]:
    process, source, item, direction = key
    return {"process": process, "source_type": source.value, "item": item, "direction": direction.value}


def _missing_months(lines: Sequence[LineResult]) -> list[Finding]:
    streams = _monthly(lines)
    covered = {index for months in streams.values() for index in months}
    if not covered:
        return []
    first, last = min(covered), max(covered)
    absent = [index for index in range(first, last + 1) if index not in covered]
    findings = [
        Finding(
            code=FindingCode.MISSING_MONTH,
            period=_month_label(index),
            params={"first": _month_label(first), "last": _month_label(last)},
            message=(
                f"no activity lines for {_month_label(index)}, inside the covered range "
                f"{_month_label(first)}..{_month_label(last)}"
            ),
        )
        for index in absent
    ]
    for key, months in sorted(streams.items()):
        start, end = min(months), max(months)
        for index in range(start, end + 1):
            if index not in months and index not in absent:
                findings.append(
                    Finding(
                        code=FindingCode.MISSING_MONTH,
                        period=_month_label(index),
                        params={**_stream_params(key), "first": _month_label(start), "last": _month_label(end)},
                        message=(
                            f"{_stream_name(key)} has no line for {_month_label(index)} but has lines "
                            f"from {_month_label(start)} to {_month_label(end)}"
                        ),
                    )
                )
    return findings


def _jumps(lines: Sequence[LineResult], threshold: float) -> list[Finding]:
    findings = []
    for key, months in sorted(_monthly(lines).items()):
        for index in sorted(months):
            if index - 1 not in months:
                continue
            before, now = months[index - 1], months[index]
            q0, q1 = sum(m.quantity for m in before), sum(m.quantity for m in now)
            change = _change(q0, q1)
            if change is not None and abs(change) > threshold:
                label = _month_label(index)
                findings.append(
                    Finding(
                        code=FindingCode.MONTH_ON_MONTH_JUMP,
                        period=label,
                        lines=tuple(m.line for m in (*before, *now)),
                        params={**_stream_params(key), "previous": _month_label(index - 1),
                                "change": None if math.isinf(change) else change, "before": q0, "now": q1,
                                "unit": now[0].unit, "threshold": threshold},
                        message=(
                            f"{_stream_name(key)}: {label} is {_percent(change)} on {_month_label(index - 1)} "
                            f"({q0:,.1f} -> {q1:,.1f} {now[0].unit}), beyond the {threshold:.0%} threshold"
                        ),
                    )
                )
    return findings


def _change(before: float, now: float) -> float | None:
    if before == 0:
        return None if now == 0 else math.inf
    return (now - before) / before


def _percent(change: float) -> str:
    return "up from zero" if math.isinf(change) else f"{change:+.1%}"
