"""Request and response models of /api/v1/efficiency-code. A configuration version's body is the domain's own
`EfficiencyCodeConfig` (unknown keys refused, cross-field rules checked with numbers in the message)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from carbon_domain.efficiency_code import EfficiencyCodeConfig

__all__ = ["ConfigVersion", "ConfigVersions", "Run", "Runs", "StoredResult", "StoredResults"]


class ConfigVersion(BaseModel):
    """A configuration version: stored (with who stored it) or the built-in one, and whether it is in force."""

    model_config = ConfigDict(extra="forbid")

    version: str
    active: bool
    built_in: bool = Field(description="the built-in version, METHODS.md section 4's values")
    created_at: datetime | None = None
    created_by: str | None = None
    config: EfficiencyCodeConfig


class ConfigVersions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: str
    versions: list[ConfigVersion]


class StoredResult(BaseModel):
    """One unit's stored code for a period under a configuration version, or why it has none."""

    model_config = ConfigDict(extra="forbid")

    unit_id: str
    period: str
    period_kind: str
    config_version: str
    code: str | None
    grade: int | None
    level: str | None
    intensity: float | None = Field(description="L, tCO2 per 10^4 yuan of industrial value added")
    efficiency: float | None = Field(description="K = L / L_industry")
    neutrality: str | None
    neutrality_share: float | None
    colour: str | None
    excluded_reason: str | None
    excluded_detail: str | None
    provenance: dict[str, Any]
    run_id: int = Field(description="the recorded computation that wrote this row")
    computed_at: datetime


class StoredResults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str
    config_version: str
    results: list[StoredResult]


class Run(BaseModel):
    """One recorded computation of a period under a configuration version."""

    model_config = ConfigDict(extra="forbid")

    run_id: int
    period: str
    config_version: str
    computed_at: datetime
    computed_by: str | None
    reason: str = Field(description="why it was computed: first computation, a corrected figure, a new unit...")
    units: int
    coded: int = Field(description="units that got a code (the others carry the reason they have none)")


class Runs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str
    runs: list[Run]
