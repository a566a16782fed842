"""Accounting formulas: pure functions from measured quantities to CO2.

Every function takes plain numbers in the units its docstring names (convert
at the boundary with `carbon_domain.units`), checks them, and returns a
`FormulaResult` carrying the value, its unit, the formula id and the inputs
used, so that a stored figure says how it was computed. Formulas and worked
examples: /work/shared/METHODS.md sections 1 (inventory) and 5 (CEMS).
"""

from __future__ import annotations

import math
import numbers

from pydantic import BaseModel, ConfigDict

from carbon_domain.errors import FormulaInputError

__all__ = [
    "FORMULA_VERSION",
    "FormulaResult",
    "combustion_emission",
    "electricity_emission",
    "heat_emission",
    "process_emission",
    "fixed_carbon",
    "inventory_total",
    "standard_dry_flow",
    "dry_concentration",
    "co2_percent_to_mg_m3",
    "cems_hourly_mass_kg",
]

FORMULA_VERSION = "2025.1"
"""Bumped whenever a formula changes the numbers it returns."""

_CO2_PER_C = 44 / 12  # molar mass ratio CO2 / C
_GJ_PER_TJ = 1000
_CO2_MG_PER_M3_PER_PERCENT = 1e4 * 44 / 22.4  # 1 % = 10^4 ppm; 44 g/mol over 22.4 L/mol at 0 °C, 101.325 kPa
_STANDARD_PRESSURE_PA = 101_325
_ZERO_CELSIUS_K = 273  # METHODS section 5 uses 273, not 273.15; keep it to reproduce its example


class FormulaResult(BaseModel):
    """A computed quantity with the formula and inputs that produced it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    unit: str
    formula: str
    version: str = FORMULA_VERSION
    inputs: dict[str, float]


def combustion_emission(consumption: float, ncv: float, cc_tc_per_tj: float, oxidation: float) -> FormulaResult:
    """CO2 (t) from burning a fuel: FC × NCV × CC × OF × 44/12 (GB/T 32150-2015).

    `consumption` in t (or 10^4 Nm3 for gases), `ncv` in GJ per that unit,
    `cc_tc_per_tj` in tC/TJ as the tables give it, `oxidation` as a fraction.

    >>> round(combustion_emission(50, 389.31, 15.3, 0.99).value, 1)
    1081.1
    """
    inputs = {
        "consumption": _non_negative("consumption", consumption),
        "ncv": _non_negative("ncv", ncv),
        "cc_tc_per_tj": _non_negative("cc_tc_per_tj", cc_tc_per_tj),
        "oxidation": _fraction("oxidation", oxidation),
    }
    heat_gj = inputs["consumption"] * inputs["ncv"]
    carbon_t = heat_gj * inputs["cc_tc_per_tj"] / _GJ_PER_TJ * inputs["oxidation"]
    return _result(carbon_t * _CO2_PER_C, "tCO2", "combustion/gbt32150-2015", inputs)


def electricity_emission(mwh: float, factor_t_per_mwh: float) -> FormulaResult:
    """CO2 (t) attributed to electricity: MWh × grid factor (tCO2/MWh)."""
    inputs = {"mwh": _non_negative("mwh", mwh), "factor_t_per_mwh": _non_negative("factor_t_per_mwh", factor_t_per_mwh)}
    return _result(inputs["mwh"] * inputs["factor_t_per_mwh"], "tCO2", "electricity/gbt32150-2015", inputs)


def heat_emission(gj: float, factor: float) -> FormulaResult:
    """CO2 (t) attributed to heat: GJ × heat factor (tCO2/GJ)."""
    inputs = {"gj": _non_negative("gj", gj), "factor": _non_negative("factor", factor)}
    return _result(inputs["gj"] * inputs["factor"], "tCO2", "heat/gbt32150-2015", inputs)


def process_emission(mass_t: float, factor: float) -> FormulaResult:
    """CO2 (t) from a process material (flux, electrode, carbon-bearing input): t × tCO2/t."""
    inputs = {"mass_t": _non_negative("mass_t", mass_t), "factor": _non_negative("factor", factor)}
    return _result(inputs["mass_t"] * inputs["factor"], "tCO2", "process/gbt32151.5-2015", inputs)


def fixed_carbon(mass_t: float, factor: float) -> FormulaResult:
    """CO2 (t) fixed in a product sold or output (crude steel, methanol...): t × tCO2/t."""
    inputs = {"mass_t": _non_negative("mass_t", mass_t), "factor": _non_negative("factor", factor)}
    return _result(inputs["mass_t"] * inputs["factor"], "tCO2", "fixed-carbon/gbt32151.5-2015", inputs)


def inventory_total(
    combustion: float | FormulaResult = 0.0,
    process: float | FormulaResult = 0.0,
    recovered: float | FormulaResult = 0.0,
    elec_in: float | FormulaResult = 0.0,
    heat_in: float | FormulaResult = 0.0,
    elec_out: float | FormulaResult = 0.0,
    heat_out: float | FormulaResult = 0.0,
) -> FormulaResult:
    """Enterprise total (tCO2): combustion + process − recovered + elec_in + heat_in − elec_out − heat_out.

    Each term is tCO2, given as a number or as the `FormulaResult` of the
    matching formula; all terms are amounts (≥ 0) and the signs come from
    GB/T 32150-2015, so the total may be negative for a net exporter.
    """
    terms = {
        "combustion": combustion,
        "process": process,
        "recovered": recovered,
        "elec_in": elec_in,
        "heat_in": heat_in,
        "elec_out": elec_out,
        "heat_out": heat_out,
    }
    inputs = {name: _tonnes(name, term) for name, term in terms.items()}
    total = (
        inputs["combustion"]
        + inputs["process"]
        - inputs["recovered"]
        + inputs["elec_in"]
        + inputs["heat_in"]
        - inputs["elec_out"]
        - inputs["heat_out"]
    )
    return _result(total, "tCO2", "inventory/gbt32150-2015", inputs)


def standard_dry_flow(q_s: float, t_s_c: float, p_s_pa: float, b_a_pa: float, x_sw: float) -> FormulaResult:
    """Standard dry flue-gas flow (Nm3/h): Q_s × 273/(273+t_s) × (B_a+P_s)/101325 × (1−X_sw).

    `q_s` actual flow in m3/h, `t_s_c` flue-gas temperature in °C, `p_s_pa`
    static (gauge) pressure and `b_a_pa` barometric pressure in Pa, `x_sw`
    moisture as a fraction.
    """
    inputs = {
        "q_s": _non_negative("q_s", q_s),
        "t_s_c": _finite("t_s_c", t_s_c),
        "p_s_pa": _finite("p_s_pa", p_s_pa),
        "b_a_pa": _non_negative("b_a_pa", b_a_pa),
        "x_sw": _moisture(x_sw),
    }
    absolute_k = _ZERO_CELSIUS_K + inputs["t_s_c"]
    if absolute_k <= 0:
        raise FormulaInputError(f"t_s_c must be above -{_ZERO_CELSIUS_K} °C, got {t_s_c}")
    absolute_pa = inputs["b_a_pa"] + inputs["p_s_pa"]
    if absolute_pa <= 0:
        raise FormulaInputError(
            f"b_a_pa + p_s_pa must be positive, got {b_a_pa} + {p_s_pa} = {absolute_pa}; "
            "p_s_pa is the gauge pressure relative to b_a_pa"
        )
    q_sn = inputs["q_s"] * _ZERO_CELSIUS_K / absolute_k * absolute_pa / _STANDARD_PRESSURE_PA * (1 - inputs["x_sw"])
    return _result(q_sn, "Nm3/h", "cems/standard-dry-flow", inputs)


def dry_concentration(c_wet: float, x_sw: float, *, unit: str = "%") -> FormulaResult:
    """Dry-basis concentration: C_wet / (1 − X_sw), in the unit of `c_wet`."""
    inputs = {"c_wet": _non_negative("c_wet", c_wet), "x_sw": _moisture(x_sw)}
    return _result(inputs["c_wet"] / (1 - inputs["x_sw"]), unit, "cems/dry-concentration", inputs)


def co2_percent_to_mg_m3(pct: float) -> FormulaResult:
    """CO2 volume percent to mg/m3 at 0 °C, 101.325 kPa: % × 10^4 × 44/22.4."""
    inputs = {"pct": _non_negative("pct", pct)}
    if inputs["pct"] > 100:
        raise FormulaInputError(f"pct is a volume percent and cannot exceed 100, got {pct}")
    return _result(inputs["pct"] * _CO2_MG_PER_M3_PER_PERCENT, "mg/m3", "cems/co2-percent-to-mg-m3", inputs)


def cems_hourly_mass_kg(c_mg_m3: float, q_sn: float) -> FormulaResult:
    """Hourly mass (kg/h) from dry concentration (mg/m3) and standard dry flow (Nm3/h): C × Q_sn × 10^-6."""
    inputs = {"c_mg_m3": _non_negative("c_mg_m3", c_mg_m3), "q_sn": _non_negative("q_sn", q_sn)}
    return _result(inputs["c_mg_m3"] * inputs["q_sn"] * 1e-6, "kg/h", "cems/hourly-mass", inputs)


def _result(value: float, unit: str, formula: str, inputs: dict[str, float]) -> FormulaResult:
    return FormulaResult(value=value, unit=unit, formula=formula, inputs=inputs)


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise FormulaInputError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise FormulaInputError(f"{name} must be a finite number, got {value}")
    return float(value)


def _non_negative(name: str, value: float) -> float:
    number = _finite(name, value)
    if number < 0:
        raise FormulaInputError(f"{name} must be >= 0, got {value}")
    return number


def _fraction(name: str, value: float) -> float:
    number = _finite(name, value)
    if not 0 <= number <= 1:
        hint = f" (a fraction: did you mean {number / 100}?)" if 1 < number <= 100 else ""
        raise FormulaInputError(f"{name} must be within 0..1, got {value}{hint}")
    return number


def _moisture(value: float) -> float:
    number = _finite("x_sw", value)
    if not 0 <= number < 1:
        hint = f" (a fraction: did you mean {number / 100}?)" if 1 <= number < 100 else ""
        raise FormulaInputError(f"moisture x_sw must be within 0..1 (exclusive of 1), got {value}{hint}")
    return number


def _tonnes(name: str, term: float | FormulaResult) -> float:
    if isinstance(term, FormulaResult):
        if term.unit != "tCO2":
            raise FormulaInputError(f"{name} must be in tCO2, got a {term.formula} result in {term.unit}")
        return _non_negative(name, term.value)
    return _non_negative(name, term)
