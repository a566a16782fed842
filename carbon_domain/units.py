"""Units: the one table of units carbonflow converts between.

Conversions happen at the boundary (device readings, factor tables), never
inside formulas. Unit names are case-sensitive ("MW" is not "mW"); common
spellings are mapped to the canonical name by the alias table below.

Actual volume (m3, at measured temperature and pressure) and normal volume
(Nm3, at 0 °C and 101.325 kPa) are separate dimensions on purpose: turning one
into the other needs temperature and pressure (`formulas.standard_dry_flow`),
not a constant.

>>> convert(1, "kWh", "MJ")
3.6
"""

from __future__ import annotations

import math
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple

from carbon_domain.errors import UnitError

__all__ = ["Dimension", "convert", "dimension_of", "canonical_unit", "known_units", "storage_unit", "STORAGE_UNITS"]


class Dimension(StrEnum):
    ENERGY = "energy"
    VOLUME = "volume"
    NORMAL_VOLUME = "normal volume"
    MASS = "mass"
    CO2_MASS = "CO2 mass"
    POWER = "power"


class _Unit(NamedTuple):
    dimension: Dimension
    scale: Fraction  # size of one unit in the dimension's base unit (J, m3, Nm3, kg, kgCO2, W)


def _u(dimension: Dimension, scale: int) -> _Unit:
    return _Unit(dimension, Fraction(scale))


_E, _V, _NV, _M, _C, _P = (
    Dimension.ENERGY,
    Dimension.VOLUME,
    Dimension.NORMAL_VOLUME,
    Dimension.MASS,
    Dimension.CO2_MASS,
    Dimension.POWER,
)

# Scales are exact integers so that conversions round only once.
_UNITS: dict[str, _Unit] = {
    "J": _u(_E, 1),
    "kJ": _u(_E, 10**3),
    "MJ": _u(_E, 10**6),
    "GJ": _u(_E, 10**9),
    "TJ": _u(_E, 10**12),
    "Wh": _u(_E, 3_600),
    "kWh": _u(_E, 3_600_000),
    "MWh": _u(_E, 3_600_000_000),
    "GWh": _u(_E, 3_600_000_000_000),
    "m3": _u(_V, 1),
    "Nm3": _u(_NV, 1),
    "1e4Nm3": _u(_NV, 10**4),
    "kg": _u(_M, 1),
    "t": _u(_M, 10**3),
    "kt": _u(_M, 10**6),
    "kgCO2": _u(_C, 1),
    "tCO2": _u(_C, 10**3),
    "W": _u(_P, 1),
    "kW": _u(_P, 10**3),
    "MW": _u(_P, 10**6),
}

# Other spellings seen in meters, invoices and standards -> canonical name.
_ALIASES: dict[str, str] = {
    "m³": "m3",
    "Nm³": "Nm3",
    "1e4 Nm3": "1e4Nm3",
    "10^4Nm3": "1e4Nm3",
    "10^4 Nm3": "1e4Nm3",
    "10⁴Nm³": "1e4Nm3",
    "10⁴ Nm³": "1e4Nm3",
    "万Nm3": "1e4Nm3",
    "万Nm³": "1e4Nm3",
    "kW·h": "kWh",
    "kW.h": "kWh",
    "MW·h": "MWh",
    "MW.h": "MWh",
    "tonne": "t",
    "kgCO₂": "kgCO2",
    "tCO₂": "tCO2",
}


def canonical_unit(unit: str) -> str:
    """Return the canonical name of `unit` (resolving aliases), or raise UnitError."""
    if unit in _UNITS:
        return unit
    if unit in _ALIASES:
        return _ALIASES[unit]
    raise UnitError(_unknown_unit_message(unit))


# The unit stored values and rollups of each dimension are kept in (the stream job converts new points' readings).
STORAGE_UNITS: dict[Dimension, str] = {
    Dimension.ENERGY: "kWh",
    Dimension.POWER: "kW",
    Dimension.VOLUME: "m3",
    Dimension.NORMAL_VOLUME: "Nm3",
    Dimension.MASS: "t",
    Dimension.CO2_MASS: "tCO2",
}


def storage_unit(unit: str) -> str:
    """The unit a value in `unit` is stored in: its dimension's storage unit, or `unit` itself when this table
    does not know it (%, degC, m3/h...).

    >>> storage_unit("GJ"), storage_unit("kg"), storage_unit("degC")
    ('kWh', 't', 'degC')
    """
    try:
        return STORAGE_UNITS[dimension_of(unit)]
    except UnitError:
        return unit


def known_units() -> tuple[str, ...]:
    """Return the canonical unit names, in table order."""
    return tuple(_UNITS)


def dimension_of(unit: str) -> Dimension:
    """Return the dimension of `unit` (energy, volume, mass...), or raise UnitError."""
    return _UNITS[canonical_unit(unit)].dimension


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert `value` from one unit to another of the same dimension.

    >>> convert(2_000, "MWh", "GJ")
    7200.0
    """
    source = _UNITS[canonical_unit(from_unit)]
    target = _UNITS[canonical_unit(to_unit)]
    if source.dimension is not target.dimension:
        raise UnitError(_mismatch_message(from_unit, to_unit, source.dimension, target.dimension))
    ratio = source.scale / target.scale
    if ratio == 1:
        return float(value)
    if not math.isfinite(value):
        return float(value) * float(ratio)
    return float(Fraction(value) * ratio)


def _mismatch_message(from_unit: str, to_unit: str, source: Dimension, target: Dimension) -> str:
    message = f"cannot convert {from_unit} to {to_unit}: {source} vs {target}"
    if {source, target} == {Dimension.VOLUME, Dimension.NORMAL_VOLUME}:
        message += (
            "; correct actual m3 to 0 °C and 101.325 kPa with formulas.standard_dry_flow,"
            " or declare the meter's unit as Nm3 if it already reports normal volume"
        )
    return message


def _unknown_unit_message(unit: str) -> str:
    folded = unit.casefold()
    matches = sorted(name for name in (*_UNITS, *_ALIASES) if name.casefold() == folded)
    if matches:
        return f"unknown unit {unit!r}; units are case-sensitive: did you mean {matches[0]!r}?"
    return f"unknown unit {unit!r}; known units: {', '.join(_UNITS)} (or add an alias in carbon_domain/units.py)"
