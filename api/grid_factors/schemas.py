"""Request bodies of /api/v1/grid-factors (pydantic; unknown keys refused). CSV/XLSX uploads carry the same
columns (docs/grid_factors.md); both are checked line by line by `carbonflow.grid_factor_files.check_rows`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from carbon_domain.grid_factors import Convention

__all__ = [
    "RegionalRowIn",
    "RegionalInputIn",
    "UnitEnergyRowIn",
    "VerifiedRowIn",
    "UnitImportIn",
    "TraceIn",
    "FitIn",
    "PinIn",
    "PublishIn",
]

_PERIOD = r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$"
_Text = Field(min_length=1, max_length=160)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegionalRowIn(_Strict):
    """A region (generation mwh and its emissions tco2) or a flow (mwh from region to to_region)."""

    record: Literal["region", "flow"]
    region: str = _Text
    to_region: str | None = Field(default=None, max_length=160)
    mwh: float = Field(ge=0, allow_inf_nan=False)
    tco2: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class RegionalInputIn(_Strict):
    name: str = _Text
    period: str = Field(pattern=_PERIOD, description="2025 or 2025-03")
    illustrative: bool = Field(default=False, description="true for demonstration data, never for reporting")
    source: str = Field(default="", max_length=500)
    rows: list[RegionalRowIn] = Field(min_length=1, max_length=100_000)


class UnitEnergyRowIn(_Strict):
    unit_id: str = _Text
    industry: str = _Text
    region: str = _Text
    period: str = Field(pattern=_PERIOD)
    electricity_mwh: float = Field(ge=0, allow_inf_nan=False)
    coal_tco2: float | None = Field(default=None, ge=0, allow_inf_nan=False, description="null: not known")
    oil_tco2: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    gas_tco2: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class VerifiedRowIn(_Strict):
    unit_id: str = _Text
    period: str = Field(pattern=_PERIOD)
    verified_tco2: float = Field(ge=0, allow_inf_nan=False)
    verifier: str | None = Field(default=None, max_length=160)


class UnitImportIn(_Strict):
    """Unit energy rows or verified rows (which, the route says)."""

    note: str = Field(default="", max_length=2000)
    rows: list[dict[str, object]] = Field(min_length=1, max_length=200_000)


class FromMonitoringIn(_Strict):
    since: str = Field(pattern=r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$", description="first month taken, e.g. 2024-01")


class TraceIn(_Strict):
    convention: Convention = Field(default="consumption", description=(
        "consumption: exports leave at the exporter's mixed consumption intensity (proportional sharing);"
        " generation: exports leave at the exporter's own generation intensity"))


class FitIn(_Strict):
    by: Literal["unit", "industry"] = "unit"
    min_n: int | None = Field(default=None, ge=3, le=1000, description="fewest periods per fit (default 3)")


class PinIn(_Strict):
    unit_id: str = _Text
    factor_id: str | None = Field(max_length=200, description="null lifts the unit's pin")
    reason: str = Field(min_length=3, max_length=2000)


class PublishIn(_Strict):
    valid_from: str | None = Field(default=None, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                   description="default: the first day of the input's period")
