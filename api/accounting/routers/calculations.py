"""/api/v1/calculations: stateless accounting calculations with the platform's formulas, for checking
figures by hand (nothing is stored)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from api.auth.deps import Caller
from carbon_domain.errors import DomainError
from carbon_domain.formulas import (
    cems_hourly_mass_kg,
    co2_percent_to_mg_m3,
    dry_concentration,
    standard_dry_flow,
)

router = APIRouter(prefix="/calculations", tags=["accounting"])


class CemsInput(BaseModel):
    """One hour of a CEMS stack: measured flow, flue-gas state and wet CO2 concentration."""

    model_config = ConfigDict(extra="forbid")

    q_s_m3_h: float = Field(ge=0, allow_inf_nan=False, description="actual flue-gas flow Q_s, m3/h")
    t_s_c: float = Field(allow_inf_nan=False, description="flue-gas temperature t_s, °C")
    p_s_pa: float = Field(allow_inf_nan=False, description="static (gauge) pressure P_s, Pa")
    b_a_pa: float = Field(101_325, gt=0, allow_inf_nan=False, description="barometric pressure B_a, Pa")
    x_sw: float = Field(ge=0, lt=1, allow_inf_nan=False, description="moisture X_sw, a fraction (0.12 = 12 %)")
    c_wet_pct: float = Field(ge=0, le=100, allow_inf_nan=False, description="CO2 on a wet basis, volume %")


@router.post("/cems")
async def cems(body: CemsInput, caller: Caller) -> dict[str, Any]:
    """CO2 mass flow of a stack (METHODS section 5): Q_sn, C_dry, mg/m3 and the hourly mass."""
    try:
        q_sn = standard_dry_flow(body.q_s_m3_h, body.t_s_c, body.p_s_pa, body.b_a_pa, body.x_sw)
        c_dry = dry_concentration(body.c_wet_pct, body.x_sw, unit="%")
        c_mg = co2_percent_to_mg_m3(c_dry.value)
        mass = cems_hourly_mass_kg(c_mg.value, q_sn.value)
    except DomainError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {
        "q_sn_nm3_h": q_sn.value,
        "c_dry_pct": c_dry.value,
        "c_dry_mg_m3": c_mg.value,
        "mass_kg_h": mass.value,
        "mass_t_h": mass.value / 1000,
        "steps": [r.model_dump() for r in (q_sn, c_dry, c_mg, mass)],
    }
