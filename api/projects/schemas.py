"""Request and response models of /api/v1/projects. Unknown keys are refused."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carbon_domain.projects import ProjectKind, Stage

__all__ = ["MONTH", "ActivityIn", "FeeIn", "PeriodIn", "PointBinding", "ProjectIn", "ReviewIn", "SpendingIn",
           "StageIn", "StagePlanIn", "TwoHighIn", "VerdictIn", "VerifierIn"]

_MAX = 1e12  # money and quantities: far beyond any project, small enough to sum without overflow
MONTH = r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectIn(_Body):
    enterprise_id: str = Field(min_length=1, max_length=128, description="the owner; an enterprise user's own")
    name: str = Field(min_length=1, max_length=200)
    kind: ProjectKind
    grid_region: str = Field(pattern=r"^[a-z]+$", description="regional grid of the OM/BM margins, e.g. east")
    budget: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False)
    capacity_kw: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False)


class StageIn(_Body):
    to_stage: Stage
    comment: str = Field(default="", max_length=2000)


class SpendingIn(_Body):
    amount: float = Field(gt=0, le=_MAX, allow_inf_nan=False)
    spent_on: date
    note: str = Field(default="", max_length=500)
    stage: Stage | None = Field(default=None, description="the stage the money was spent in: one the project has "
                                                          "reached; the project's current stage when left out")


class StagePlanIn(_Body):
    """A stage's budget and progress; only the fields given are changed (budget null clears it)."""

    budget: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False)
    progress_pct: float | None = Field(default=None, allow_inf_nan=False,
                                       description="how much of the stage is done, 0 to 100 (%)")
    note: str | None = Field(default=None, max_length=500)


class PointBinding(_Body):
    device_id: str = Field(min_length=1, max_length=128)
    point: str = Field(min_length=1, max_length=128)
    role: str = Field(pattern=r"^[a-z_]+$", description="export, import, electricity or a fuel activity (diesel)")


class FeeIn(_Body):
    energy_mwh: float = Field(ge=0, le=_MAX, allow_inf_nan=False)
    amount_yuan: float = Field(ge=0, le=_MAX, allow_inf_nan=False)


class ActivityIn(_Body):
    activity: str = Field(min_length=1, max_length=64)
    quantity: float = Field(ge=0, le=_MAX, allow_inf_nan=False)
    unit: str = Field(min_length=1, max_length=32)
    source: str = Field(min_length=1, max_length=300, description="where the figure comes from (a bill, a study)")


class PeriodIn(_Body):
    month_from: str = Field(pattern=MONTH, description="first month, YYYY-MM (Asia/Shanghai calendar)")
    month_to: str = Field(pattern=MONTH, description="last month, YYYY-MM, within the same year")
    leakage_tco2: float = Field(default=0.0, ge=0, le=_MAX, allow_inf_nan=False)
    leakage_justification: str = Field(default="", max_length=2000)
    baseline_activities: list[ActivityIn] = Field(default_factory=list,
                                                  description="kinds other than grid PV / wind: what is displaced")


class ReviewIn(_Body):
    comment: str = Field(default="", max_length=4000)


class VerdictIn(_Body):
    verdict: Literal["verify", "refuse"]
    comment: str = Field(min_length=1, max_length=4000, description="the verifier's finding; kept with the period")


class VerifierIn(_Body):
    username: str = Field(min_length=1, max_length=128)



class TwoHighIn(_Body):
    """A 两高 project's figures of a year; only the fields given are changed."""

    approved_tce: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False)
    approved_tco2: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False)
    actual_tce: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False)
    actual_tco2: float | None = Field(default=None, ge=0, le=_MAX, allow_inf_nan=False)
    actual_source: Literal["meters", "report"] | None = None

    @model_validator(mode="after")
    def _source_with_actuals(self) -> TwoHighIn:
        if (self.actual_tce is not None or self.actual_tco2 is not None) and self.actual_source is None:
            raise ValueError("actual figures need actual_source: meters or report")
        return self
