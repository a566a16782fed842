"""Activity -> emission rules shared by the stream jobs and the API.

An activity (electricity, a fuel) names its accounting unit, the factor keys it
needs and the formula; `emission_for_activity` resolves the factors valid at the
interval's time and returns the tCO2 with every factor row it used.

Electricity takes the grid factor row its caller chose for the site (`site_grid_factor`: the
inventory's default series and precedence, carbon_domain/grid.py), so that a site's metered
emissions and its inventory use the same row; without one, the national average.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from carbon_domain.errors import FormulaInputError
from carbon_domain.factors import FactorLibrary, FactorRow
from carbon_domain.formulas import FORMULA_VERSION, combustion_emission, electricity_emission, heat_emission
from carbon_domain.grid import DEFAULT_GRID_SERIES, GridLocation, choose_grid_factor
from carbon_domain.units import convert

__all__ = ["ActivityEmission", "EMITTING_ACTIVITIES", "activity_unit", "emission_for_activity", "grid_per_mwh",
           "site_grid_factor"]

GRID_KEY, GRID_SERIES = "grid.cn.national_average", "mee-national-average"
FUEL_SERIES = "ndrc-steel-2013"
HEAT_KEY, HEAT_SERIES = "heat.default", "heat-default"

# fuel activity -> accounting unit of consumption (NCV is given per this unit)
_FUEL_UNITS = {
    "natural_gas": "1e4Nm3",
    "coke_oven_gas": "1e4Nm3",
    "blast_furnace_gas": "1e4Nm3",
    "converter_gas": "1e4Nm3",
    "anthracite": "t",
    "bituminous_coal": "t",
    "coke": "t",
    "diesel": "t",
    "fuel_oil": "t",
}
EMITTING_ACTIVITIES = frozenset({"electricity", "heat", *_FUEL_UNITS})


@dataclass(frozen=True)
class ActivityEmission:
    quantity: float
    quantity_unit: str
    tco2: float
    factor_ids: tuple[str, ...]
    formula: str
    energy_kwh: float | None = None  # energy content: electricity and heat as metered, fuels by their NCV


def activity_unit(activity: str) -> str:
    """The unit an activity is accounted in (MWh, GJ, 1e4Nm3 or t)."""
    if activity == "electricity":
        return "MWh"
    if activity == "heat":
        return "GJ"
    if activity in _FUEL_UNITS:
        return _FUEL_UNITS[activity]
    raise FormulaInputError(f"unknown activity {activity!r}; known: {', '.join(sorted(EMITTING_ACTIVITIES))}")


def site_grid_factor(library: FactorLibrary, at: datetime, location: GridLocation) -> FactorRow:
    """The electricity factor row of a site at `at`, as the inventory's default series chooses it
    (enterprise-specific, province, regional grid, national average)."""
    return choose_grid_factor(library, at, DEFAULT_GRID_SERIES, location).row


def grid_per_mwh(row: FactorRow) -> float:
    """A grid factor row's value in tCO2/MWh, whatever ratio of units it is given in (e.g. kgCO2/kWh)."""
    numerator, slash, denominator = row.unit.partition("/")
    if not slash or not numerator or not denominator:
        raise FormulaInputError(f"grid factor {row.factor_id} has unit {row.unit!r}; expected a ratio such as"
                                " tCO2/MWh")
    return convert(row.value, numerator, "tCO2") / convert(1, denominator, "MWh")


def emission_for_activity(
    activity: str,
    quantity: float,
    unit: str,
    at: datetime,
    library: FactorLibrary,
    scope_chain: Sequence[tuple[str, str]] = (),
    grid: FactorRow | None = None,
) -> ActivityEmission:
    """tCO2 of `quantity` (in `unit`) of an activity at time `at`, with the factor rows used; electricity with
    `grid` (the site's row from `site_grid_factor`) when given, else the national average."""
    std_unit = activity_unit(activity)
    amount = convert(quantity, unit, std_unit)
    rows: list[FactorRow]
    if activity == "electricity":
        if grid is None:
            grid = library.resolve(GRID_KEY, at, series=GRID_SERIES, scope_chain=scope_chain)
        result = electricity_emission(amount, grid_per_mwh(grid))
        rows = [grid]
        energy = convert(amount, std_unit, "kWh")
    elif activity == "heat":
        factor = library.resolve(HEAT_KEY, at, series=HEAT_SERIES, scope_chain=scope_chain)
        result = heat_emission(amount, factor.value)
        rows = [factor]
        energy = convert(amount, std_unit, "kWh")
    else:
        rows = [
            library.resolve(f"fuel.{activity}.{part}", at, series=FUEL_SERIES, scope_chain=scope_chain)
            for part in ("ncv", "cc", "of")
        ]
        ncv, cc, of = (r.value for r in rows)
        result = combustion_emission(amount, ncv, cc, of)
        energy = convert(amount * ncv, "GJ", "kWh")  # NCV is in GJ per accounting unit
    return ActivityEmission(
        quantity=amount,
        quantity_unit=std_unit,
        tco2=result.value,
        factor_ids=tuple(r.factor_id for r in rows),
        formula=f"{result.formula}@{FORMULA_VERSION}",
        energy_kwh=energy,
    )
