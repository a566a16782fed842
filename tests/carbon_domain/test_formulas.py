"""Formulas: METHODS.md worked examples (sections 1 and 5) and input checks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

import carbon_domain
from carbon_domain.errors import FormulaInputError
from carbon_domain.factors import FactorLibrary
from carbon_domain.formulas import (
    FORMULA_VERSION,
    FormulaResult,
    cems_hourly_mass_kg,
    co2_percent_to_mg_m3,
    combustion_emission,
    dry_concentration,
    electricity_emission,
    fixed_carbon,
    heat_emission,
    inventory_total,
    process_emission,
    standard_dry_flow,
)
from carbon_domain.units import convert

# The section 1 example is one month of 2024: factors resolve from the library at that time.
MONTH = datetime(2024, 5, 31, tzinfo=UTC)


def _factor(key: str, series: str) -> float:
    return FactorLibrary.default().resolve(key, MONTH, series=series).value


def _natural_gas() -> FormulaResult:
    series = "ndrc-steel-2013"
    return combustion_emission(
        convert(500_000, "Nm3", "1e4Nm3"),
        _factor("fuel.natural_gas.ncv", series),
        _factor("fuel.natural_gas.cc", series),
        _factor("fuel.natural_gas.of", series),
    )


def _electricity() -> FormulaResult:
    return electricity_emission(
        2_000, _factor("grid.cn.national_average", "mee-national-average")
    )


def _heat() -> FormulaResult:
    return heat_emission(1_000, _factor("heat.default", "heat-default"))


# --- METHODS section 1 worked example (GB/T 32150-2015, light-industry plant) ----------


def test_natural_gas_worked_example_gives_1081_1_t() -> None:
    assert round(_natural_gas().value, 1) == 1081.1


def test_electricity_worked_example_gives_1061_2_t() -> None:
    assert round(_electricity().value, 1) == 1061.2


def test_heat_worked_example_gives_110_0_t() -> None:
    assert round(_heat().value, 1) == 110.0


def test_inventory_worked_example_total_gives_2252_3_t() -> None:
    total = inventory_total(
        combustion=_natural_gas(), elec_in=_electricity(), heat_in=_heat()
    )
    assert round(total.value, 1) == 2252.3


def test_natural_gas_emission_factor_per_gj_is_0_055539() -> None:
    result = combustion_emission(1, 1, 15.3, 0.99)
    assert round(result.value, 6) == 0.055539


# --- METHODS section 5 worked example (CEMS) ---------------------------------------------


def _q_sn() -> FormulaResult:
    return standard_dry_flow(
        q_s=2_000_000, t_s_c=120, p_s_pa=-500, b_a_pa=101_325, x_sw=0.12
    )


def _c_dry() -> FormulaResult:
    return dry_concentration(11.0, 0.12)


def _c_mg() -> FormulaResult:
    return co2_percent_to_mg_m3(_c_dry().value)


def test_cems_standard_dry_flow_worked_example_gives_1216562_nm3_per_h() -> None:
    assert round(_q_sn().value) == 1_216_562


def test_cems_dry_concentration_worked_example_gives_12_5_percent() -> None:
    assert _c_dry().value == pytest.approx(12.5, rel=1e-12)


def test_cems_percent_to_mg_m3_worked_example_gives_245536() -> None:
    assert round(_c_mg().value) == 245_536


def test_cems_hourly_mass_worked_example_gives_298_7_t_per_h() -> None:
    kg_per_h = cems_hourly_mass_kg(_c_mg().value, _q_sn().value).value
    assert round(convert(kg_per_h, "kgCO2", "tCO2"), 1) == 298.7


# --- simple products and the inventory signs ---------------------------------------------

PRODUCTS = [
    (process_emission, 1_000, 0.440, 440.0),
    (fixed_carbon, 10_000, 0.0154, 154.0),
    (electricity_emission, 0, 0.5306, 0.0),
    (heat_emission, 10, 0.11, 1.1),
]


@pytest.mark.parametrize(("formula", "amount", "factor", "expected"), PRODUCTS)
def test_amount_times_factor(
    formula: Callable[[float, float], FormulaResult],
    amount: float,
    factor: float,
    expected: float,
) -> None:
    assert formula(amount, factor).value == pytest.approx(expected)


INVENTORY_SIGNS = [
    ({"combustion": 100.0}, 100.0),
    ({"process": 20.0}, 20.0),
    ({"recovered": 5.0}, -5.0),
    ({"elec_in": 30.0}, 30.0),
    ({"heat_in": 4.0}, 4.0),
    ({"elec_out": 7.0}, -7.0),
    ({"heat_out": 3.0}, -3.0),
    (
        {
            "combustion": 100.0,
            "process": 20.0,
            "recovered": 5.0,
            "elec_in": 30.0,
            "heat_in": 4.0,
            "elec_out": 7.0,
            "heat_out": 3.0,
        },
        139.0,
    ),
]


@pytest.mark.parametrize(("terms", "expected"), INVENTORY_SIGNS)
def test_inventory_total_adds_inputs_and_subtracts_recovered_and_exports(
    terms: dict[str, float], expected: float
) -> None:
    assert inventory_total(**terms).value == pytest.approx(expected)


# --- results carry provenance ------------------------------------------------------------

PROVENANCE = [
    ("formula", "combustion/gbt32150-2015"),
    ("unit", "tCO2"),
    ("version", FORMULA_VERSION),
    (
        "inputs",
        {"consumption": 50.0, "ncv": 389.31, "cc_tc_per_tj": 15.3, "oxidation": 0.99},
    ),
]


@pytest.mark.parametrize(("field", "expected"), PROVENANCE)
def test_combustion_result_records_formula_and_inputs(
    field: str, expected: object
) -> None:
    assert getattr(combustion_emission(50, 389.31, 15.3, 0.99), field) == expected


def test_formula_result_is_frozen() -> None:
    result = heat_emission(1, 0.11)
    with pytest.raises(ValueError):
        result.value = 2.0


# --- input validation --------------------------------------------------------------------

INVALID_INPUTS = [
    (
        lambda: combustion_emission(-5, 389.31, 15.3, 0.99),
        "consumption must be >= 0, got -5",
    ),
    (
        lambda: combustion_emission(50, 389.31, 15.3, 1.2),
        "oxidation must be within 0..1, got 1.2",
    ),
    (lambda: combustion_emission(50, 389.31, 15.3, 99), "did you mean 0.99"),
    (
        lambda: combustion_emission(float("nan"), 389.31, 15.3, 0.99),
        "consumption must be a finite number, got nan",
    ),
    (lambda: electricity_emission(-1, 0.5306), "mwh must be >= 0, got -1"),
    (
        lambda: dry_concentration(11.0, 1.0),
        "x_sw must be within 0..1 (exclusive of 1), got 1.0",
    ),
    (lambda: dry_concentration(11.0, 12), "did you mean 0.12"),
    (lambda: standard_dry_flow(2e6, 120, -500, 101_325, 1.5), "got 1.5"),
    (
        lambda: standard_dry_flow(2e6, -300, -500, 101_325, 0.1),
        "t_s_c must be above -273",
    ),
    (
        lambda: standard_dry_flow(2e6, 120, -200_000, 101_325, 0.1),
        "b_a_pa + p_s_pa must be positive",
    ),
    (lambda: co2_percent_to_mg_m3(120), "cannot exceed 100, got 120"),
    (
        lambda: inventory_total(combustion=cems_hourly_mass_kg(1, 1)),
        "combustion must be in tCO2",
    ),
]


@pytest.mark.parametrize(("call", "message"), INVALID_INPUTS)
def test_invalid_input_error_gives_the_numbers(
    call: Callable[[], FormulaResult], message: str
) -> None:
    with pytest.raises(FormulaInputError) as caught:
        call()
    assert message in str(caught.value)


# --- package boundary --------------------------------------------------------------------


def test_domain_package_imports_no_io_library() -> None:
    code = (
        "import sys, carbon_domain; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'psycopg', 'paho', 'kafka', 'aiokafka', 'faust', 'fastapi', 'pymodbus', 'asyncua', 'httpx', 'yaml'}); "
        "print(','.join(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


SCHEMA_NAMES = [
    "Quality",
    "PointKind",
    "Reading",
    "Envelope",
    "DeviceBatch",
    "ENVELOPE_VERSION",
]


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_package_reexports_schema_name(name: str) -> None:
    assert name in carbon_domain.__all__ and hasattr(carbon_domain, name)
