"""碳效码 (carbon efficiency code): per emission unit and period, three identifiers and the code they make.

METHODS.md section 4 (Zhejiang DB33/T 1347-2023, Huzhou practice); docs/efficiency_code.md has a worked
example computed by hand. For a unit and a period (a calendar year or a rolling 12 months)::

    avoided = own PV/wind generation (MWh) × the electricity factor the inventory uses (tCO2/MWh)
    L       = (energy CO2 − avoided − sinks) / industrial value added          [tCO2 per 10^4 yuan]
    level   = low | medium | high, L against thresholds for all industry
    L_ind   = Σ E / Σ VA over the units of the unit's industry class (GB/T 4754) in the same period,
              at the configured classification level; a class with fewer units than the minimum
              sample falls back to its parent class (said on the result), up to all industry
    K       = L / L_ind, graded 1 (best) to 5 against configured boundaries
    neutral = a configured formula (the method is not published), banded none | partial | neutral

Units of water, power and gas supply, waste incineration and sewage treatment, and units not yet in
production, get no code: their result carries the reason. Every result carries its provenance: the
inputs, the factor rows, the industry sample (level, class, size, version) and the configuration version.

All thresholds live in `EfficiencyCodeConfig`, a versioned configuration; the defaults (`DEFAULT_CONFIG`)
are METHODS.md's, several of them marked [check] there and listed in the configuration's `unverified`.
`compute_codes` computes a whole population in one pass per stage (group sums by industry class), which
is what the industry averages need anyway.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carbon_domain.errors import EfficiencyCodeError, ExpressionError
from carbon_domain.expressions import CompiledExpression, compile_expression

__all__ = [
    "FORMULA_VERSION",
    "NEUTRALITY_VARIABLES",
    "IndustryLevel",
    "LevelThresholds",
    "ExclusionRule",
    "EfficiencyCodeConfig",
    "DEFAULT_CONFIG",
    "Period",
    "calendar_year",
    "rolling_12_months",
    "MonthFigures",
    "UnitInput",
    "unit_input_for_period",
    "Level",
    "Neutrality",
    "ExclusionReason",
    "Exclusion",
    "IndustryAverage",
    "Provenance",
    "EfficiencyCode",
    "industry_digits",
    "exclusion_of",
    "avoided_co2",
    "intensity_of",
    "level_of",
    "grade_of",
    "neutrality_of",
    "industry_averages",
    "compute_codes",
]

FORMULA_VERSION = "efficiency-code/2026.1"
"""Bumped whenever the computation (not its configuration) changes the numbers it returns."""

IndustryLevel = Literal["division", "group", "class"]
_DIGITS: dict[str, int] = {"division": 2, "group": 3, "class": 4}  # GB/T 4754: 大类, 中类, 小类
_COARSER: dict[str, tuple[str, ...]] = {
    "class": ("class", "group", "division", "all"),
    "group": ("group", "division", "all"),
    "division": ("division", "all"),
}
_INDUSTRY_CODE = re.compile(r"^([A-T])?(\d{2,4})$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

NEUTRALITY_VARIABLES: tuple[str, ...] = (
    "energy_co2_t",  # from the unit's energy use
    "avoided_co2_t",  # avoided by its own PV/wind generation
    "green_power_co2_t",  # green power bought (MWh) at the same electricity factor
    "sinks_t",  # removed by its sinks
    "net_co2_t",  # energy_co2_t − avoided_co2_t − sinks_t, the numerator of L
    "value_added_10k_yuan",  # industrial value added
)
"""The variables a neutrality formula may use: figures of the result's provenance inputs."""


# --- configuration ----------------------------------------------------------------------------------------


class LevelThresholds(BaseModel):
    """L (tCO2 per 10^4 yuan) at most `low_max` is low, at most `medium_max` medium, above it high."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low_max: float = Field(gt=0, le=1000, allow_inf_nan=False)
    medium_max: float = Field(gt=0, le=1000, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> LevelThresholds:
        if self.low_max >= self.medium_max:
            raise ValueError(f"low_max {self.low_max} must be below medium_max {self.medium_max}")
        return self


class ExclusionRule(BaseModel):
    """Units whose GB/T 4754 code starts with `industry_prefix` get no code, for `reason`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    industry_prefix: str = Field(pattern=r"^\d{2,4}$", description="2 to 4 digits of a GB/T 4754 code")
    reason: str = Field(min_length=1, max_length=200)


class EfficiencyCodeConfig(BaseModel):
    """One version of the 碳效码 thresholds, grade boundaries and neutrality formula. Versions are never
    changed once stored: an edit is a new version, and results are kept per version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    source: str = Field(min_length=1, max_length=500, description="where the values come from")
    unverified: tuple[str, ...] = Field(
        default=(), description="settings whose values could not be tied to a primary document ([check])")
    level_thresholds: LevelThresholds
    grade_boundaries: tuple[float, float, float, float] = Field(
        description="K at most the first is grade 1, at most the second 2, ... above the fourth 5")
    grade_colours: tuple[str, str, str, str, str] = Field(description="the code's colour for grades 1 to 5")
    industry_level: IndustryLevel = Field(description="GB/T 4754 level the industry averages are taken at")
    min_industry_sample: int = Field(ge=1, le=100_000, description="fewer units: fall back to the parent class")
    neutrality_formula: str = Field(min_length=1, max_length=500)
    neutrality_bands: tuple[float, float] = Field(
        description="(none_max, neutral_min): a share at most none_max is 'none', at least neutral_min 'neutral'")
    exclusions: tuple[ExclusionRule, ...]

    @field_validator("grade_boundaries")
    @classmethod
    def _increasing(cls, bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        for lower, upper in pairwise(bounds):
            if not 0 < lower < upper:
                raise ValueError(f"grade boundaries must be positive and increasing, got {list(bounds)}")
        return bounds

    @field_validator("grade_colours")
    @classmethod
    def _colours(cls, colours: tuple[str, ...]) -> tuple[str, ...]:
        for grade, colour in enumerate(colours, start=1):
            if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
                raise ValueError(f"grade {grade} colour {colour!r} is not #rrggbb")
        return colours

    @field_validator("neutrality_formula")
    @classmethod
    def _formula(cls, formula: str) -> str:
        try:
            compile_expression(formula, allowed=NEUTRALITY_VARIABLES)
        except ExpressionError as exc:
            raise ValueError(str(exc)) from exc
        return formula

    @model_validator(mode="after")
    def _consistent(self) -> EfficiencyCodeConfig:
        none_max, neutral_min = self.neutrality_bands
        if none_max >= neutral_min:
            raise ValueError(f"neutrality_bands: none_max {none_max} must be below neutral_min {neutral_min}")
        unknown = set(self.unverified) - set(type(self).model_fields)
        if unknown:
            raise ValueError(f"unverified names unknown settings: {', '.join(sorted(unknown))}")
        prefixes = [rule.industry_prefix for rule in self.exclusions]
        if len(prefixes) != len(set(prefixes)):
            raise ValueError(f"exclusions: industry prefixes repeat: {prefixes}")
        return self

    def neutrality(self) -> CompiledExpression:
        """The neutrality formula, parsed (it was checked when the configuration was made)."""
        return compile_expression(self.neutrality_formula, allowed=NEUTRALITY_VARIABLES)


DEFAULT_CONFIG = EfficiencyCodeConfig(
    version="methods-4-v1",
    source="METHODS.md section 4 (DB33/T 1347-2023, Huzhou practice); values marked [check] there are listed "
           "in 'unverified' [check]",
    unverified=("level_thresholds", "grade_boundaries", "grade_colours", "min_industry_sample",
                "neutrality_formula", "neutrality_bands", "exclusions"),
    level_thresholds=LevelThresholds(low_max=0.6, medium_max=2.0),  # [check]
    grade_boundaries=(0.6, 0.8, 1.2, 2.0),  # [check]
    # dark green, green, yellow, orange, red: the five-colour display of the Zhejiang code [check]
    grade_colours=("#1b7f3b", "#6abf40", "#f2c230", "#f08a24", "#d7263d"),
    industry_level="class",
    min_industry_sample=5,  # [check] no published minimum
    # [method not found]: the share of the unit's energy CO2 offset by own generation, green power and sinks
    neutrality_formula="(avoided_co2_t + green_power_co2_t + sinks_t) / energy_co2_t",
    neutrality_bands=(0.0, 1.0),  # [check]
    exclusions=(  # GB/T 4754-2017 codes for METHODS.md's excluded activities [check]
        ExclusionRule(industry_prefix="44", reason="power and heat supply (GB/T 4754 division 44)"),
        ExclusionRule(industry_prefix="4417", reason="waste incineration power (GB/T 4754 class 4417)"),
        ExclusionRule(industry_prefix="45", reason="gas supply (GB/T 4754 division 45)"),
        ExclusionRule(industry_prefix="46", reason="water supply (GB/T 4754 division 46)"),
        ExclusionRule(industry_prefix="4620", reason="sewage treatment (GB/T 4754 class 4620)"),
        ExclusionRule(industry_prefix="7723", reason="solid waste treatment and incineration (GB/T 4754 class 7723)"),
    ),
)
"""METHODS.md section 4's values. Those marked [check] there are named in `unverified`."""


# --- periods and inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A calendar year ('2025') or a rolling 12 months ('2024-07..2025-06'), months inclusive."""

    label: str
    kind: Literal["calendar_year", "rolling_12"]
    first_month: str
    last_month: str

    def months(self) -> tuple[str, ...]:
        """The period's months, 'YYYY-MM', oldest first."""
        year, month = int(self.first_month[:4]), int(self.first_month[5:])
        out = []
        for _ in range(12):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return tuple(out)


def calendar_year(year: int) -> Period:
    """January to December of `year`."""
    if not 1990 <= year <= 2200:
        raise EfficiencyCodeError(f"year {year} is outside 1990..2200")
    return Period(label=f"{year:04d}", kind="calendar_year", first_month=f"{year:04d}-01", last_month=f"{year:04d}-12")


def rolling_12_months(last_month: str) -> Period:
    """The 12 months ending with `last_month` ('YYYY-MM')."""
    match = _MONTH.match(last_month)
    if match is None:
        raise EfficiencyCodeError(f"last month {last_month!r} is not YYYY-MM (e.g. 2025-06)")
    year, month = int(match[1]), int(match[2])
    first_year, first_month = (year, 1) if month == 12 else (year - 1, month + 1)
    first = f"{first_year:04d}-{first_month:02d}"
    return Period(label=f"{first}..{last_month}", kind="rolling_12", first_month=first, last_month=last_month)


@dataclass(frozen=True)
class MonthFigures:
    """One unit's figures for one month, as the monitoring service holds them."""

    month: str
    energy_co2_t: float
    own_generation_mwh: float
    electricity_factor_t_per_mwh: float
    sinks_t: float
    value_added_10k_yuan: float
    factor_row_ids: tuple[str, ...] = ()
    green_power_mwh: float = 0.0


@dataclass(frozen=True)
class UnitInput:
    """One emission unit's figures for one period: what the code is computed from.

    `electricity_factor_t_per_mwh` is the factor the inventory uses for electricity; own PV/wind generation
    (and green power bought) count as avoided at it. `missing_months` lists months of the period without
    figures (the unit then gets no code)."""

    unit_id: str
    industry_code: str
    in_production: bool
    energy_co2_t: float
    own_generation_mwh: float
    electricity_factor_t_per_mwh: float
    sinks_t: float
    value_added_10k_yuan: float
    factor_row_ids: tuple[str, ...] = ()
    green_power_mwh: float = 0.0
    missing_months: tuple[str, ...] = ()


def unit_input_for_period(*, unit_id: str, industry_code: str, in_production: bool, months: Iterable[MonthFigures],
                          period: Period) -> UnitInput:
    """Sum a unit's months within `period` into its `UnitInput`.

    Each month's generation is valued at that month's factor: the period's factor is the generation-weighted
    mean, so that generation × factor gives the months' avoided CO2 exactly (green power is valued at it too).
    A month given twice is an error; months outside the period are ignored."""
    wanted = set(period.months())
    seen: dict[str, MonthFigures] = {}
    for figures in months:
        if figures.month not in wanted:
            continue
        if figures.month in seen:
            raise EfficiencyCodeError(f"unit {unit_id!r}: month {figures.month} is given twice; give each month once")
        seen[figures.month] = figures
    chosen = [seen[m] for m in period.months() if m in seen]
    electricity = sum(f.own_generation_mwh + f.green_power_mwh for f in chosen)
    weighted = sum((f.own_generation_mwh + f.green_power_mwh) * f.electricity_factor_t_per_mwh for f in chosen)
    factor = weighted / electricity if electricity > 0 else (chosen[-1].electricity_factor_t_per_mwh if chosen else 0.0)
    rows = tuple(dict.fromkeys(row for f in chosen for row in f.factor_row_ids))
    return UnitInput(
        unit_id=unit_id, industry_code=industry_code, in_production=in_production,
        energy_co2_t=sum(f.energy_co2_t for f in chosen),
        own_generation_mwh=sum(f.own_generation_mwh for f in chosen),
        electricity_factor_t_per_mwh=factor,
        sinks_t=sum(f.sinks_t for f in chosen),
        value_added_10k_yuan=sum(f.value_added_10k_yuan for f in chosen),
        factor_row_ids=rows,
        green_power_mwh=sum(f.green_power_mwh for f in chosen),
        missing_months=tuple(m for m in period.months() if m not in seen),
    )


# --- results ----------------------------------------------------------------------------------------------


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Neutrality(StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    NEUTRAL = "neutral"


_LEVEL_LETTER = {Level.LOW: "L", Level.MEDIUM: "M", Level.HIGH: "H"}
_NEUTRALITY_LETTER = {Neutrality.NONE: "N", Neutrality.PARTIAL: "P", Neutrality.NEUTRAL: "C"}


class ExclusionReason(StrEnum):
    EXCLUDED_INDUSTRY = "excluded_industry"  # water, power, gas supply, waste incineration, sewage treatment
    NOT_IN_PRODUCTION = "not_in_production"
    MISSING_MONTHS = "missing_months"
    NO_VALUE_ADDED = "no_value_added"  # L is undefined without positive value added
    INDUSTRY_NOT_POSITIVE = "industry_average_not_positive"  # K is undefined


@dataclass(frozen=True)
class Exclusion:
    """Why a unit gets no code, in words a user can act on."""

    reason: ExclusionReason
    detail: str


@dataclass(frozen=True)
class IndustryAverage:
    """Σ E / Σ VA over the units of one industry class (or 'all' industry) in one period.

    `fallbacks` says, finest level first, which classes were skipped for too few units; `version` is a
    digest of the sample's units and figures, so that a changed figure or a new unit gives a new version."""

    level: str
    code: str
    sample_size: int
    emissions_t: float
    value_added_10k_yuan: float
    version: str
    fallbacks: tuple[str, ...] = ()

    @property
    def intensity(self) -> float:
        return self.emissions_t / self.value_added_10k_yuan


@dataclass(frozen=True)
class Provenance:
    """Where a result comes from: the figures it used, the factor rows, the industry sample, the versions."""

    inputs: Mapping[str, float]
    factor_row_ids: tuple[str, ...]
    industry: IndustryAverage | None
    config_version: str
    formula_version: str = FORMULA_VERSION


@dataclass(frozen=True)
class EfficiencyCode:
    """A unit's code for a period, or the reason it has none (`exclusion`)."""

    unit_id: str
    period: Period
    provenance: Provenance
    exclusion: Exclusion | None = None
    intensity: float | None = None  # L, tCO2 per 10^4 yuan
    level: Level | None = None
    efficiency: float | None = None  # K = L / L_industry
    grade: int | None = None
    neutrality_share: float | None = None
    neutrality: Neutrality | None = None  # None when the formula is undefined for the unit (divides by zero)
    colour: str | None = None
    code: str | None = field(default=None)

    @property
    def has_code(self) -> bool:
        return self.exclusion is None


# --- the pieces -------------------------------------------------------------------------------------------


def industry_digits(code: str) -> str:
    """The digits of a GB/T 4754 code ('C3110' or '3110' -> '3110'); 2 to 4 digits, an optional section letter."""
    match = _INDUSTRY_CODE.match(code.strip().upper())
    if match is None:
        raise EfficiencyCodeError(f"industry code {code!r} is not a GB/T 4754 code: 2 to 4 digits with an "
                                  "optional section letter, e.g. C3110 or 3110")
    return match[2]


def _exclusion_table(config: EfficiencyCodeConfig) -> list[ExclusionRule]:
    return sorted(config.exclusions, key=lambda rule: len(rule.industry_prefix), reverse=True)


def _excluded(unit: UnitInput, digits: str, table: Sequence[ExclusionRule]) -> Exclusion | None:
    if not unit.in_production:
        return Exclusion(ExclusionReason.NOT_IN_PRODUCTION, "not yet in production")
    for rule in table:  # longest prefix first: sewage treatment (4620) before water supply (46)
        if digits.startswith(rule.industry_prefix):
            return Exclusion(ExclusionReason.EXCLUDED_INDUSTRY, f"industry {unit.industry_code}: {rule.reason}")
    if unit.missing_months:
        return Exclusion(ExclusionReason.MISSING_MONTHS,
                         f"no figures for {len(unit.missing_months)} month(s): {', '.join(unit.missing_months)}")
    if unit.value_added_10k_yuan <= 0:
        return Exclusion(ExclusionReason.NO_VALUE_ADDED,
                         f"industrial value added is {unit.value_added_10k_yuan:g} x10^4 yuan; L needs it positive")
    return None


def exclusion_of(unit: UnitInput, config: EfficiencyCodeConfig) -> Exclusion | None:
    """Why `unit` gets no code under `config`, or None when it gets one."""
    return _excluded(unit, industry_digits(unit.industry_code), _exclusion_table(config))


def avoided_co2(unit: UnitInput) -> float:
    """tCO2 avoided by the unit's own zero-carbon generation, at the inventory's electricity factor."""
    return unit.own_generation_mwh * unit.electricity_factor_t_per_mwh


def _net_co2(unit: UnitInput) -> float:
    return unit.energy_co2_t - avoided_co2(unit) - unit.sinks_t


def intensity_of(unit: UnitInput) -> float:
    """L = (energy CO2 − avoided − sinks) / value added, tCO2 per 10^4 yuan."""
    if unit.value_added_10k_yuan <= 0:
        raise EfficiencyCodeError(f"unit {unit.unit_id!r}: value added {unit.value_added_10k_yuan:g} x10^4 yuan "
                                  "is not positive; L is undefined")
    return _net_co2(unit) / unit.value_added_10k_yuan


def level_of(intensity: float, config: EfficiencyCodeConfig) -> Level:
    """Low, medium or high against all industry."""
    if intensity <= config.level_thresholds.low_max:
        return Level.LOW
    return Level.MEDIUM if intensity <= config.level_thresholds.medium_max else Level.HIGH


def grade_of(efficiency: float, config: EfficiencyCodeConfig) -> int:
    """Grade 1 (best) to 5 of K: the first boundary K does not exceed, 5 above the last."""
    return bisect_left(config.grade_boundaries, efficiency) + 1


def _inputs(unit: UnitInput) -> dict[str, float]:
    """The figures a result is computed from, as its provenance shows them (and its neutrality formula reads)."""
    factor = unit.electricity_factor_t_per_mwh
    avoided = unit.own_generation_mwh * factor
    return {
        "energy_co2_t": unit.energy_co2_t,
        "own_generation_mwh": unit.own_generation_mwh,
        "electricity_factor_t_per_mwh": factor,
        "avoided_co2_t": avoided,
        "green_power_mwh": unit.green_power_mwh,
        "green_power_co2_t": unit.green_power_mwh * factor,
        "sinks_t": unit.sinks_t,
        "net_co2_t": unit.energy_co2_t - avoided - unit.sinks_t,
        "value_added_10k_yuan": unit.value_added_10k_yuan,
    }


def _neutrality(variables: Mapping[str, float], formula: CompiledExpression,
                config: EfficiencyCodeConfig) -> tuple[float | None, Neutrality | None]:
    try:
        share = formula(variables)
    except ZeroDivisionError:
        return None, None
    none_max, neutral_min = config.neutrality_bands
    if share <= none_max:
        return share, Neutrality.NONE
    return share, Neutrality.NEUTRAL if share >= neutral_min else Neutrality.PARTIAL


def neutrality_of(unit: UnitInput, config: EfficiencyCodeConfig) -> tuple[float | None, Neutrality | None]:
    """The neutrality share by the configured formula and its band; (None, None) where it divides by zero."""
    return _neutrality(_inputs(unit), config.neutrality(), config)


# --- industry averages ------------------------------------------------------------------------------------


@dataclass
class _Sums:
    size: int = 0
    emissions: float = 0.0
    value_added: float = 0.0
    lines: list[str] = field(default_factory=list)  # one per unit, by unit id: what the sample's version digests


def _keys(digits: str, levels: Sequence[str]) -> list[tuple[str, str]]:
    return [(level, "all" if level == "all" else digits[:_DIGITS[level]]) for level in levels
            if level == "all" or len(digits) >= _DIGITS[level]]


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


class _Industries:
    """Group sums of the eligible units by industry class at every level from the configured one up to all."""

    def __init__(self, config: EfficiencyCodeConfig, eligible: Sequence[tuple[UnitInput, str, float]]) -> None:
        self.config = config
        self.levels = _COARSER[config.industry_level]
        self.sums: dict[tuple[str, str], _Sums] = {}
        keys_of: dict[str, list[tuple[str, str]]] = {}  # many units share a class: its keys are made once
        for unit, digits, net in sorted(eligible, key=lambda entry: entry[0].unit_id):
            line = f"{unit.unit_id}|{net!r}|{unit.value_added_10k_yuan!r}"
            keys = keys_of.get(digits)
            if keys is None:
                keys = keys_of[digits] = _keys(digits, self.levels)
            for key in keys:
                sums = self.sums.get(key)
                if sums is None:
                    sums = self.sums[key] = _Sums()
                sums.size += 1
                sums.emissions += net
                sums.value_added += unit.value_added_10k_yuan
                sums.lines.append(line)
        self._resolved: dict[str, IndustryAverage | None] = {}

    def average_for(self, digits: str) -> IndustryAverage | None:
        """The finest class with enough units (and a positive Σ E), else all industry; None if even that has
        no positive Σ E."""
        if digits not in self._resolved:
            self._resolved[digits] = self._resolve(digits)
        return self._resolved[digits]

    def _resolve(self, digits: str) -> IndustryAverage | None:
        minimum = self.config.min_industry_sample
        fallbacks = [f"{level}: industry code {digits} is too short to name one" for level in self.levels
                     if level != "all" and len(digits) < _DIGITS[level]]
        for level, code in _keys(digits, self.levels):
            sums = self.sums[(level, code)]
            if level != "all" and sums.size < minimum:
                fallbacks.append(f"{level} {code}: {sums.size} unit(s), fewer than the minimum sample of {minimum}")
                continue
            if sums.emissions <= 0:
                fallbacks.append(f"{level} {code}: total emissions {sums.emissions:g} tCO2 are not positive")
                continue
            return IndustryAverage(level=level, code=code, sample_size=sums.size, emissions_t=sums.emissions,
                                   value_added_10k_yuan=sums.value_added, version=_digest(sums.lines),
                                   fallbacks=tuple(fallbacks))
        return None


def industry_averages(units: Iterable[UnitInput], config: EfficiencyCodeConfig) -> dict[str, IndustryAverage | None]:
    """The industry average each eligible unit is compared with, by unit id (None: no positive average)."""
    table = _exclusion_table(config)
    eligible = []
    for unit in units:
        digits = industry_digits(unit.industry_code)
        if _excluded(unit, digits, table) is None:
            eligible.append((unit, digits, _net_co2(unit)))
    industries = _Industries(config, eligible)
    return {unit.unit_id: industries.average_for(digits) for unit, digits, _ in eligible}


# --- the code ---------------------------------------------------------------------------------------------


def compute_codes(units: Sequence[UnitInput], period: Period, config: EfficiencyCodeConfig = DEFAULT_CONFIG,
                  ) -> list[EfficiencyCode]:
    """The code of every unit of one period, in the order given. The industry averages are taken over these
    units, so pass the whole population of the period (every unit the platform has figures for)."""
    seen: set[str] = set()
    for unit in units:
        if unit.unit_id in seen:
            raise EfficiencyCodeError(f"unit {unit.unit_id!r} is given twice for period {period.label}; "
                                      "give each unit once")
        seen.add(unit.unit_id)
    table = _exclusion_table(config)
    formula = config.neutrality()
    screened = []
    for unit in units:
        digits = industry_digits(unit.industry_code)
        inputs = _inputs(unit)
        screened.append((unit, digits, inputs, _excluded(unit, digits, table)))
    industries = _Industries(config, [(unit, digits, inputs["net_co2_t"])
                                      for unit, digits, inputs, why in screened if why is None])
    low_max, medium_max = config.level_thresholds.low_max, config.level_thresholds.medium_max
    bounds, colours = config.grade_boundaries, config.grade_colours
    results = []
    for unit, digits, inputs, exclusion in screened:
        industry = industries.average_for(digits) if exclusion is None else None
        provenance = Provenance(inputs=inputs, factor_row_ids=unit.factor_row_ids, industry=industry,
                                config_version=config.version)
        if exclusion is None and industry is None:
            exclusion = Exclusion(ExclusionReason.INDUSTRY_NOT_POSITIVE,
                                  "the industry's total emissions are not positive at any level; K is undefined")
        if exclusion is not None:
            results.append(EfficiencyCode(unit_id=unit.unit_id, period=period, provenance=provenance,
                                          exclusion=exclusion))
            continue
        assert industry is not None
        intensity = inputs["net_co2_t"] / unit.value_added_10k_yuan
        efficiency = intensity / industry.intensity
        # level_of and grade_of, inlined: this loop runs once per unit of the prefecture
        level = Level.LOW if intensity <= low_max else Level.MEDIUM if intensity <= medium_max else Level.HIGH
        grade = bisect_left(bounds, efficiency) + 1
        share, neutrality = _neutrality(inputs, formula, config)
        code = f"{grade}-{_LEVEL_LETTER[level]}-{'-' if neutrality is None else _NEUTRALITY_LETTER[neutrality]}"
        results.append(EfficiencyCode(
            unit_id=unit.unit_id, period=period, provenance=provenance, intensity=intensity, level=level,
            efficiency=efficiency, grade=grade, neutrality_share=share, neutrality=neutrality,
            colour=colours[grade - 1], code=code))
    return results
