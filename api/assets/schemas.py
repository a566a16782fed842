"""Request models of /api/v1/assets. Unknown keys are refused; cross-field rules name the fields."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carbon_domain.assets import Instrument

__all__ = ["AllowanceIn", "DeadlineIn", "EmissionsIn", "TransactionIn"]


_MAX = 1e12  # tCO2e, prices and outputs: far beyond any enterprise, small enough to sum


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AllowanceIn(_Body):
    """A year's allocation: by benchmark (benchmark x output x adjustment) or an entered amount. Without output the
    platform takes it from its data (monitoring's main product, else the sites' production counters)."""

    method: Literal["benchmark", "entered"]
    benchmark: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False, description="tCO2 per unit of output")
    output: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False,
                                 description="omit to take the year's output from the platform's data")
    product: str | None = Field(default=None, min_length=1, max_length=100,
                                description="without output: the product whose production counters give it")
    adjustment: float = Field(default=1.0, ge=0, le=_MAX, allow_inf_nan=False)
    amount: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False, description="tCO2e, method entered")

    @model_validator(mode="after")
    def _method_fields(self) -> AllowanceIn:
        if self.method == "benchmark" and (self.benchmark is None or self.amount is not None):
            raise ValueError("method benchmark needs benchmark, and output unless the platform takes it from its data "
                             "(and no amount: the platform computes it)")
        if self.method == "benchmark" and self.output is not None and self.product is not None:
            raise ValueError("give output or product (whose production counters give the output), not both")
        if self.method == "entered" and (self.amount is None or self.benchmark is not None or self.output is not None
                                         or self.product is not None):
            raise ValueError("method entered needs amount only (no benchmark, output or product)")
        return self


class TransactionIn(_Body):
    kind: Literal["buy", "sell", "surrender", "transfer"]
    instrument: Instrument
    vintage: int = Field(ge=2000, le=2100)
    quantity: float = Field(gt=0, le=_MAX, allow_inf_nan=False, description="tCO2e")
    price: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False, description="per tCO2e")
    counterparty: str | None = Field(default=None, max_length=200,
                                     description="buy / sell: the other party; transfer: the receiving enterprise_id")
    compliance_year: int | None = Field(default=None, ge=2000, le=2100, description="surrender: the year it covers")

    @model_validator(mode="after")
    def _kind_fields(self) -> TransactionIn:
        if self.kind in ("buy", "sell") and (self.price is None or not self.counterparty):
            raise ValueError(f"a {self.kind} needs price and counterparty")
        if self.kind == "transfer" and not self.counterparty:
            raise ValueError("a transfer needs counterparty: the receiving enterprise_id")
        if self.kind == "surrender" and self.compliance_year is None:
            raise ValueError("a surrender needs compliance_year, the year it covers")
        return self


class EmissionsIn(_Body):
    tco2: float = Field(ge=0, le=_MAX, allow_inf_nan=False)


class DeadlineIn(_Body):
    """A compliance or trading deadline of a region (and its sub-regions), or of every enterprise (region null:
    administrators only)."""

    kind: Literal["compliance", "trading", "reporting"]
    title: str = Field(min_length=1, max_length=200)
    due_on: date
    remind_days: int = Field(default=30, ge=0, le=366, description="shown as due soon this many days ahead")
    region: str | None = Field(default=None, min_length=1, max_length=64,
                               description="a government user's own region or a sub-region; default its region")
    note: str = Field(default="", max_length=2000)
