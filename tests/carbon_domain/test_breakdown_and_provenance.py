"""Scopes of emission sources, local calendar buckets, factor versions that replace others, and an interval
recomputed with the rows it names."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from carbon_domain.accounting import emission_for_activity
from carbon_domain.breakdown import activity_scope, calendar_buckets
from carbon_domain.errors import FormulaInputError
from carbon_domain.factors import FactorLibrary, FactorRow, current_versions
from carbon_domain.provenance import formula_parts, recompute_interval

SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("activity,scope", [("electricity", "scope2"), ("heat", "scope2"),
                                            ("natural_gas", "scope1"), ("coke", "scope1")])
def test_purchased_energy_is_scope_2_and_fuel_burnt_on_site_scope_1(activity: str, scope: str) -> None:
    assert activity_scope(activity) == scope


def test_an_unknown_activity_has_no_scope() -> None:
    with pytest.raises(FormulaInputError, match="unknown activity 'steam_from_mars'"):
        activity_scope("steam_from_mars")


@pytest.mark.parametrize("start,end,tz,size,expected", [
    # Shanghai midnight of 05-01 is 04-30 16:00Z; the range's ends cut the first and last day
    (datetime(2026, 4, 30, 13, tzinfo=UTC), datetime(2026, 4, 30, 19, tzinfo=UTC), SHANGHAI, "day",
     [("2026-04-30", "2026-04-30T13:00:00+00:00", "2026-04-30T16:00:00+00:00"),
      ("2026-05-01", "2026-04-30T16:00:00+00:00", "2026-04-30T19:00:00+00:00")]),
    # Berlin's 2026-03-29 is 23 hours long (DST starts at 01:00Z)
    (datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 29, 22, tzinfo=UTC), BERLIN, "day",
     [("2026-03-29", "2026-03-28T23:00:00+00:00", "2026-03-29T22:00:00+00:00")]),
    (datetime(2025, 12, 15, tzinfo=SHANGHAI), datetime(2026, 2, 1, tzinfo=SHANGHAI), SHANGHAI, "month",
     [("2025-12", "2025-12-14T16:00:00+00:00", "2025-12-31T16:00:00+00:00"),
      ("2026-01", "2025-12-31T16:00:00+00:00", "2026-01-31T16:00:00+00:00")]),
])
def test_buckets_are_local_days_or_months_cut_to_the_range(start: datetime, end: datetime, tz: ZoneInfo,
                                                            size: str, expected: list[tuple[str, str, str]]) -> None:
    got = [(b.label, b.start.astimezone(UTC).isoformat(), b.end.astimezone(UTC).isoformat())
           for b in calendar_buckets(start, end, tz, size)]  # type: ignore[arg-type]
    assert got == expected


def test_an_empty_range_has_no_buckets_but_an_error() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(FormulaInputError, match="must be after start"):
        calendar_buckets(at, at, SHANGHAI, "day")


def _row(factor_id: str, valid_from: date, scope: str = "national", scope_id: str = "cn") -> FactorRow:
    return FactorRow(factor_id=factor_id, key="heat.default", value=0.11, unit="tCO2/GJ", scope=scope,
                     scope_id=scope_id, valid_from=valid_from, series="heat-default", source="test")


def test_a_later_row_for_the_same_key_scope_and_start_replaces_the_earlier_only() -> None:
    rows = [_row("heat.default@a", date(2024, 1, 1)), _row("heat.default@2025", date(2025, 1, 1)),
            _row("heat.default@dev", date(2024, 1, 1), "device", "boiler-1"), _row("heat.default@b", date(2024, 1, 1))]
    assert current_versions(rows) == {"heat.default@a": "heat.default@b", "heat.default@2025": None,
                                      "heat.default@dev": None, "heat.default@b": None}


@pytest.mark.parametrize("formula,parts", [("electricity/gbt32150-2015@2025.1", ("electricity/gbt32150-2015", "2025.1")),
                                           ("electricity/v1", ("electricity/v1", None))])
def test_a_stored_formula_names_its_version(formula: str, parts: tuple[str, str | None]) -> None:
    assert formula_parts(formula) == parts


@pytest.mark.parametrize("activity,quantity,unit", [("electricity", 1200.0, "kWh"), ("natural_gas", 350.0, "Nm3"),
                                                    ("heat", 40.0, "GJ")])
def test_an_interval_recomputed_with_the_rows_it_names_gives_the_stream_jobs_figure(
        activity: str, quantity: float, unit: str) -> None:
    at = datetime(2026, 5, 1, 3, tzinfo=UTC)
    library = FactorLibrary.default()
    stored = emission_for_activity(activity, quantity, unit, at, library)
    rows = {r.factor_id: r for r in library.rows()}
    again = recompute_interval(activity, quantity, unit, at, [rows[f] for f in stored.factor_ids])
    assert (again.tco2, again.factor_ids, again.formula) == (stored.tco2, stored.factor_ids, stored.formula)


def test_a_device_specific_row_is_used_when_the_interval_names_it() -> None:
    own = FactorRow(factor_id="heat.default@boiler", key="heat.default", value=0.2, unit="tCO2/GJ", scope="device",
                    scope_id="boiler-1", valid_from=date(2020, 1, 1), series="heat-default", source="metered")
    again = recompute_interval("heat", 10.0, "GJ", datetime(2026, 5, 1, tzinfo=UTC), [own])
    assert again.tco2 == pytest.approx(2.0) and again.factor_ids == ("heat.default@boiler",)
