"""Request bodies of the analysis service (/api/v1/analysis): scenarios and targets."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from carbon_domain.analysis import DRIVERS, GrowthPath

__all__ = ["HistoryYear", "ScenarioSpec", "TargetCreate"]

Driver = Literal["population", "gdp", "energy_intensity", "carbon_per_energy"]
if set(get_args(Driver)) != set(DRIVERS):  # one list of drivers: the domain's
    raise ImportError(f"the scenario drivers {get_args(Driver)} differ from carbon_domain.analysis.DRIVERS {DRIVERS}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class HistoryYear(_Strict):
    """A year before the monitoring data, from a statistical yearbook, for the STIRPAT fit."""

    year: int = Field(ge=1950, le=2200)
    co2: float = Field(gt=0, description="t CO2")
    gdp: float = Field(gt=0, description="10^4 yuan")
    energy: float = Field(gt=0, description="tce")
    population: float | None = Field(None, gt=0, description="10^4 persons")


class ScenarioSpec(_Strict):
    """A forecast scenario: a kind's default growth rates, any of them replaced by an edited path."""

    name: str = Field("unsaved", min_length=1, max_length=120)
    kind: Literal["baseline", "policy", "enhanced"] = "baseline"
    model: Literal["kaya", "stirpat"] = Field(
        "kaya", description="kaya: the drivers' paths; stirpat: the fit on history, with intervals")
    end_year: int = Field(2035, ge=1990, le=2200)
    paths: dict[Driver, list[tuple[int, float]]] = Field(
        default_factory=dict, description="driver -> [[from_year, annual rate], ...], e.g. {'gdp': [[2026, 0.05]]}")
    population: dict[int, float] = Field(default_factory=dict, description="year -> 10^4 persons")
    history: list[HistoryYear] = Field(default_factory=list, max_length=200)

    @field_validator("paths")
    @classmethod
    def _paths_are_growth_paths(cls, value: dict[str, list[tuple[int, float]]]) -> dict[str, list[tuple[int, float]]]:
        for driver, steps in value.items():
            try:
                GrowthPath(tuple(steps))
            except ValueError as exc:
                raise ValueError(f"{driver}: {exc}") from exc
        return value

    @field_validator("population")
    @classmethod
    def _population_is_positive(cls, value: dict[int, float]) -> dict[int, float]:
        bad = [year for year, persons in value.items() if not persons > 0]
        if bad:
            raise ValueError(f"population must be positive (10^4 persons); years {bad} are not")
        return value


_LEVELS = {"region": ("region", "industry", "unit"), "group": ("enterprise", "unit")}


class TargetCreate(_Strict):
    """A target of a region (`region`) or of an enterprise group (`group_id`), exactly one of the two."""

    region: str | None = Field(None, pattern=r"^[0-9]{6}$", description="GB/T 2260 code")
    group_id: int | None = Field(None, ge=1, le=2**63 - 1, description="an enterprise group (GET /api/v1/groups)")
    name: str = Field(min_length=1, max_length=120)
    kind: Literal["total", "intensity"]
    year: int = Field(ge=1990, le=2200)
    base_year: int = Field(ge=1990, le=2200)
    value: float = Field(ge=0, description="total: t CO2 in the year; intensity: the fall against the base year "
                                            "as a fraction, e.g. 0.04")
    holder_level: Literal["region", "industry", "unit", "enterprise"] = Field(
        description="a region's sub-regions (cities of a province, counties of a city), industry divisions or "
                    "units; a group's member enterprises or their units")
    rule: Literal["equal_rate", "by_share", "by_benchmark"] = "equal_rate"
    shares: dict[str, float] = Field(default_factory=dict, description="by_share: holder -> agreed share")
    benchmarks: dict[str, float] = Field(
        default_factory=dict, description="by_benchmark: holder -> benchmark t CO2 per 10^4 yuan")
    tolerance: float = Field(0.0, ge=0, le=1, description="off track when above the path by more than this")

    @field_validator("base_year")
    @classmethod
    def _base_before_year(cls, value: int, info: ValidationInfo) -> int:
        year = info.data.get("year")
        if year is not None and value >= year:
            raise ValueError(f"base_year {value} must be before the target year {year}")
        return value

    @model_validator(mode="after")
    def _one_holder_with_its_levels(self) -> TargetCreate:
        if (self.region is None) == (self.group_id is None):
            raise ValueError("give either region (a region's target) or group_id (an enterprise group's target)")
        kind = "region" if self.region is not None else "group"
        if self.holder_level not in _LEVELS[kind]:
            raise ValueError(f"a {kind} target is allocated to holder_level {' or '.join(_LEVELS[kind])}, "
                             f"not {self.holder_level!r}")
        return self
