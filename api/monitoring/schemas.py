"""Request and response bodies of the monitoring service (/api/v1/monitoring)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from carbon_domain.monitoring import ITEMS, credit_code_problem

__all__ = [
    "AnomalyDecision",
    "FigureCorrection",
    "FigurePush",
    "PushedFigure",
    "Recompute",
    "SyncSourceChange",
    "SyncSourceCreate",
    "SyncWatermark",
    "UnitChange",
    "UnitCreate",
]

UnitKind = Literal["enterprise", "public_institution"]
UnitStatus = Literal["in_production", "suspended", "closed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UnitCreate(_Strict):
    credit_code: str = Field(description="unified social credit code (GB 32100), 18 characters")
    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind = "enterprise"
    region_code: str = Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 code of its county or city")
    industry_code: str = Field(pattern=r"^([A-T]|[0-9]{2,4})$", description="GB/T 4754-2017 class")
    above_scale: bool = True
    status: UnitStatus = "in_production"
    public: bool = False
    enterprise_id: str | None = Field(None, max_length=64, description="the metered enterprise it is, if any")
    site_id: str | None = Field(None, max_length=128, description="its metered site, if any")

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        problem = credit_code_problem(value.upper())
        if problem:
            raise ValueError(problem)
        return value.upper()


class UnitChange(_Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    region_code: str | None = Field(None, pattern=r"^[0-9]{6}$")
    industry_code: str | None = Field(None, pattern=r"^([A-T]|[0-9]{2,4})$")
    above_scale: bool | None = None
    status: UnitStatus | None = None
    public: bool | None = None
    enterprise_id: str | None = Field(None, max_length=64)
    site_id: str | None = Field(None, max_length=128)


class PushedFigure(_Strict):
    credit_code: str = Field(min_length=18, max_length=18)
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")
    item: str = Field(description=f"one of {', '.join(ITEMS)}")
    quantity: float
    unit: str = Field(min_length=1, max_length=32)


class FigurePush(_Strict):
    figures: list[PushedFigure] = Field(min_length=1, max_length=100_000)
    take_valid: bool = Field(False, description="store the valid figures even when others are refused")


class FigureCorrection(_Strict):
    quantity: float
    unit: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=1000, description="why the figure is corrected (audited)")


class Recompute(_Strict):
    reason: str = Field(min_length=1, max_length=400, description="what changed in the factor library (audited)")


class SyncSourceCreate(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    dialect: Literal["mysql", "postgresql"]
    url_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,127}$",
                         description="environment variable of the API and sync worker holding the source's URL")
    query: str = Field(min_length=10, max_length=20_000,
                       description="returns credit_code, month, item, quantity, unit, watermark; takes %(watermark)s")
    interval_s: int = Field(3600, ge=60, le=31 * 86400)
    enabled: bool = True
    take_valid: bool = Field(False, description="store a pull's valid rows even when others are refused (like a "
                                                "file import's take_valid); the watermark then stops before the "
                                                "first refused row")


class SyncSourceChange(_Strict):
    """What an administrator changes of a sync source (PATCH); a field left out stays as it is."""

    url_env: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9_]{0,127}$")
    query: str | None = Field(None, min_length=10, max_length=20_000)
    interval_s: int | None = Field(None, ge=60, le=31 * 86400)
    enabled: bool | None = None
    take_valid: bool | None = None


class SyncWatermark(_Strict):
    watermark: str | None = Field(max_length=200, description="where the next run reads from; null: from the start")
    reason: str = Field(min_length=1, max_length=1000, description="why the source is read again (audited)")


class AnomalyDecision(_Strict):
    comment: str = Field(min_length=1, max_length=1000)


class Anomaly(BaseModel):
    anomaly_id: int
    unit_id: int
    unit_name: str
    region_code: str
    month: date
    rule: str
    item: str
    detail: str
    value: float | None
    reference: float | None
    state: str
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
