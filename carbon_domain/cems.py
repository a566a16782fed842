"""CEMS CO2 mass for one hour from hourly averages (METHODS.md section 5).

The analyser's CO2 is taken as measured on the wet gas, as in the worked
example: it is converted to a dry basis with the flue-gas moisture before the
mass is computed from the standard dry flow.
"""

from __future__ import annotations

from dataclasses import dataclass

from carbon_domain.formulas import (
    FORMULA_VERSION,
    cems_hourly_mass_kg,
    co2_percent_to_mg_m3,
    dry_concentration,
    standard_dry_flow,
)

__all__ = ["CemsHour", "cems_hour", "CEMS_FORMULA"]

CEMS_FORMULA = f"cems/hourly-mass-from-wet-co2@{FORMULA_VERSION}"


@dataclass(frozen=True)
class CemsHour:
    q_sn_nm3_h: float
    c_dry_pct: float
    c_mg_m3: float
    mass_kg: float


def cems_hour(*, flow_m3_h: float, temperature_c: float, static_pa: float, barometric_pa: float,
              moisture_pct: float, co2_wet_pct: float) -> CemsHour:
    """Standard dry flow, dry CO2 and hourly CO2 mass from one hour's averages."""
    x_sw = moisture_pct / 100.0
    q_sn = standard_dry_flow(flow_m3_h, temperature_c, static_pa, barometric_pa, x_sw).value
    c_dry = dry_concentration(co2_wet_pct, x_sw).value
    c_mg = co2_percent_to_mg_m3(c_dry).value
    return CemsHour(q_sn, c_dry, c_mg, cems_hourly_mass_kg(c_mg, q_sn).value)
