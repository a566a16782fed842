"""Unit table: conversions, aliases, dimension checks."""

from __future__ import annotations

import math

import pytest

from carbon_domain.errors import UnitError
from carbon_domain.units import Dimension, canonical_unit, convert, dimension_of

CONVERSIONS = [
    # (value, from, to, expected)
    (1, "kWh", "MJ", 3.6),
    (1, "MWh", "GJ", 3.6),
    (2_000, "MWh", "GJ", 7_200),
    (1, "GWh", "MWh", 1_000),
    (1, "kWh", "Wh", 1_000),
    (1, "TJ", "GJ", 1_000),
    (1, "GJ", "kJ", 1_000_000),
    (3.6, "MJ", "kWh", 1),
    (1_000, "J", "kJ", 1),
    (19_465.5, "GJ", "TJ", 19.4655),
    (500_000, "Nm3", "1e4Nm3", 50),
    (50, "1e4Nm3", "Nm3", 500_000),
    (2.5, "t", "kg", 2_500),
    (1, "kt", "t", 1_000),
    (298_709, "kgCO2", "tCO2", 298.709),
    (1.5, "MW", "kW", 1_500),
    (1, "kW", "W", 1_000),
    (7, "m3", "m3", 7),
]


@pytest.mark.parametrize(("value", "source", "target", "expected"), CONVERSIONS)
def test_convert_between_units_of_one_dimension(
    value: float, source: str, target: str, expected: float
) -> None:
    assert convert(value, source, target) == pytest.approx(expected, rel=1e-12)


def test_one_kwh_is_exactly_3_6_mj() -> None:
    assert convert(1, "kWh", "MJ") == 3.6


def test_convert_passes_nan_through() -> None:
    assert math.isnan(convert(math.nan, "kWh", "MWh"))


ALIASES = [
    ("m³", "m3"),
    ("Nm³", "Nm3"),
    ("10^4 Nm3", "1e4Nm3"),
    ("10⁴Nm³", "1e4Nm3"),
    ("万Nm3", "1e4Nm3"),
    ("kW·h", "kWh"),
    ("tCO₂", "tCO2"),
    ("kWh", "kWh"),
]


@pytest.mark.parametrize(("alias", "canonical"), ALIASES)
def test_alias_maps_to_canonical_unit(alias: str, canonical: str) -> None:
    assert canonical_unit(alias) == canonical


def test_alias_converts_like_its_canonical_unit() -> None:
    assert convert(50, "10^4 Nm3", "Nm³") == 500_000


DIMENSIONS = [
    ("kWh", Dimension.ENERGY),
    ("TJ", Dimension.ENERGY),
    ("m3", Dimension.VOLUME),
    ("Nm3", Dimension.NORMAL_VOLUME),
    ("1e4Nm3", Dimension.NORMAL_VOLUME),
    ("kt", Dimension.MASS),
    ("tCO2", Dimension.CO2_MASS),
    ("MW", Dimension.POWER),
    ("m³", Dimension.VOLUME),
]


@pytest.mark.parametrize(("unit", "dimension"), DIMENSIONS)
def test_dimension_of_unit(unit: str, dimension: Dimension) -> None:
    assert dimension_of(unit) is dimension


MISMATCHES = [
    ("kWh", "t", "cannot convert kWh to t: energy vs mass"),
    ("MW", "MWh", "cannot convert MW to MWh: power vs energy"),
    ("t", "tCO2", "cannot convert t to tCO2: mass vs CO2 mass"),
]


@pytest.mark.parametrize(("source", "target", "message"), MISMATCHES)
def test_convert_across_dimensions_names_both(
    source: str, target: str, message: str
) -> None:
    with pytest.raises(UnitError) as caught:
        convert(1, source, target)
    assert str(caught.value) == message


def test_actual_and_normal_volume_do_not_convert_without_conditions() -> None:
    with pytest.raises(UnitError, match="standard_dry_flow"):
        convert(1, "m3", "Nm3")


def test_unit_names_are_case_sensitive_and_error_suggests_spelling() -> None:
    with pytest.raises(UnitError, match="did you mean 'kWh'"):
        convert(1, "kwh", "MJ")


def test_unknown_unit_error_lists_known_units() -> None:
    with pytest.raises(UnitError, match="known units: J, kJ"):
        dimension_of("furlong")


def test_unit_error_is_a_value_error() -> None:
    assert issubclass(UnitError, ValueError)
