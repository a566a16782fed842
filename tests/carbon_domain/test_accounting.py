"""Activity -> emission rules, checked against METHODS.md section 1 worked example."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from carbon_domain.accounting import emission_for_activity
from carbon_domain.factors import FactorLibrary

AT = datetime(2026, 6, 1, tzinfo=UTC)


def test_natural_gas_500000_nm3_gives_1081_1_t_with_its_factor_rows() -> None:
    result = emission_for_activity("natural_gas", 500_000, "Nm3", AT, FactorLibrary.default())
    assert (round(result.tco2, 1), result.factor_ids) == (
        1081.1,
        ("fuel.natural_gas.ncv@ndrc-steel-2013", "fuel.natural_gas.cc@ndrc-steel-2013",
         "fuel.natural_gas.of@ndrc-steel-2013"),
    )


def test_electricity_in_kwh_uses_the_newest_national_average() -> None:
    result = emission_for_activity("electricity", 2_000_000, "kWh", AT, FactorLibrary.default())
    assert (result.tco2, result.quantity_unit, result.factor_ids) == (
        pytest.approx(1061.2, rel=1e-12), "MWh", ("grid.cn.national_average@2023",)
    )


def test_heat_1000_gj_gives_110_t() -> None:
    assert emission_for_activity("heat", 1000, "GJ", AT, FactorLibrary.default()).tco2 == pytest.approx(110.0)


def test_unknown_activity_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: .*electricity"):
        emission_for_activity("steam", 1, "t", AT, FactorLibrary.default())
