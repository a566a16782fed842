"""Factor library: seeded defaults (METHODS.md sections 2-3) and resolution rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from carbon_domain.errors import AmbiguousFactor, FactorLibraryError, FactorNotFound
from carbon_domain.factors import FactorLibrary, FactorRow, Scope

CST = timezone(timedelta(hours=8))
MID_2023 = datetime(2023, 7, 1, tzinfo=UTC)
MID_2024 = datetime(2024, 7, 1, tzinfo=UTC)
STEEL = "ndrc-steel-2013"


@pytest.fixture(scope="module")
def library() -> FactorLibrary:
    return FactorLibrary.default()


def _row(factor_id: str, value: float, /, **changes: object) -> FactorRow:
    fields: dict[str, object] = {
        "factor_id": factor_id,
        "key": factor_id.split("@")[0],
        "value": value,
        "unit": "tCO2/GJ",
        "scope": "national",
        "scope_id": "cn",
        "valid_from": date(2020, 1, 1),
        "valid_to": None,
        "series": "test",
        "source": "test fixture",
    }
    fields.update(changes)
    return FactorRow.model_validate(fields)


# --- seeded values: every default of METHODS.md sections 2 and 3 -------------------------

STEEL_FUELS = [
    # (fuel, NCV, CC tC/TJ, OF) from METHODS section 2
    ("anthracite", 20.304, 27.49, 0.94),
    ("bituminous_coal", 19.570, 26.18, 0.93),
    ("lignite", 14.080, 28.00, 0.96),
    ("washed_coal", 26.344, 25.40, 0.90),
    ("coke", 28.447, 29.50, 0.93),
    ("crude_oil", 41.816, 20.10, 0.98),
    ("fuel_oil", 41.816, 21.10, 0.98),
    ("diesel", 42.652, 20.20, 0.98),
    ("gasoline", 43.070, 18.90, 0.98),
    ("lpg", 50.179, 17.20, 0.98),
    ("coke_oven_gas", 173.54, 12.10, 0.99),
    ("blast_furnace_gas", 33.00, 70.80, 0.99),
    ("converter_gas", 84.00, 49.60, 0.99),
    ("natural_gas", 389.31, 15.30, 0.99),
]

SEEDED = [
    *((f"fuel.{fuel}.ncv", STEEL, MID_2024, ncv) for fuel, ncv, _, _ in STEEL_FUELS),
    *((f"fuel.{fuel}.cc", STEEL, MID_2024, cc) for fuel, _, cc, _ in STEEL_FUELS),
    *((f"fuel.{fuel}.of", STEEL, MID_2024, of) for fuel, _, _, of in STEEL_FUELS),
    ("fuel.anthracite.ncv", "general-industry", MID_2024, 24.515),
    ("fuel.bituminous_coal.ncv", "general-industry", MID_2024, 23.204),
    ("fuel.coke_oven_gas.ncv", "general-industry", MID_2024, 173.854),
    ("fuel.coke_oven_gas.cc", "general-industry", MID_2024, 13.6),
    ("fuel.blast_furnace_gas.ncv", "general-industry", MID_2024, 37.69),
    ("fuel.converter_gas.ncv", "general-industry", MID_2024, 79.54),
    ("process.limestone", STEEL, MID_2024, 0.440),
    ("process.dolomite", STEEL, MID_2024, 0.471),
    ("process.electrode", STEEL, MID_2024, 3.663),
    ("process.pig_iron", STEEL, MID_2024, 0.172),
    ("process.dri", STEEL, MID_2024, 0.073),
    ("process.ferronickel", STEEL, MID_2024, 0.037),
    ("process.ferrochrome", STEEL, MID_2024, 0.275),
    ("process.ferromolybdenum", STEEL, MID_2024, 0.018),
    ("fixed.crude_steel", STEEL, MID_2024, 0.0154),
    ("fixed.methanol", STEEL, MID_2024, 1.375),
    ("fixed.pig_iron", STEEL, MID_2024, 0.172),
    ("heat.default", None, MID_2024, 0.11),
    ("grid.cn.carbon_market", "mee-carbon-market", MID_2024, 0.5703),
    (
        "grid.cn.national_average",
        "mee-national-average",
        datetime(2021, 7, 1, tzinfo=UTC),
        0.5568,
    ),
    (
        "grid.cn.national_average",
        "mee-national-average",
        datetime(2022, 7, 1, tzinfo=UTC),
        0.5366,
    ),
    ("grid.cn.national_average", "mee-national-average", MID_2023, 0.5306),
    (
        "grid.cn.excl_market_nonfossil",
        "mee-national-average",
        datetime(2022, 7, 1, tzinfo=UTC),
        0.5856,
    ),
    ("grid.cn.excl_market_nonfossil", "mee-national-average", MID_2023, 0.6096),
    (
        "grid.cn.fossil",
        "mee-national-average",
        datetime(2022, 7, 1, tzinfo=UTC),
        0.8325,
    ),
    ("grid.cn.fossil", "mee-national-average", MID_2023, 0.8273),
]


@pytest.mark.parametrize(("key", "series", "at", "expected"), SEEDED)
def test_default_library_seeds_methods_value(
    library: FactorLibrary, key: str, series: str | None, at: datetime, expected: float
) -> None:
    assert library.resolve(key, at, series=series).value == expected


REGIONAL_GRIDS = [
    # (region, 2022, 2023) from METHODS section 3
    ("north", 0.6776, 0.6361),
    ("northeast", 0.5564, 0.5122),
    ("east", 0.5617, 0.5500),
    ("central", 0.5395, 0.5271),
    ("northwest", 0.5857, 0.5543),
    ("south", 0.3869, 0.4042),
    ("southwest", 0.2268, 0.2472),
]
SCOPED_SEEDED = [
    *(
        (f"grid.region.{r}", ("region", r), datetime(2022, 7, 1, tzinfo=UTC), v22)
        for r, v22, _ in REGIONAL_GRIDS
    ),
    *(
        (f"grid.region.{r}", ("region", r), MID_2023, v23)
        for r, _, v23 in REGIONAL_GRIDS
    ),
    ("grid.province.zhejiang", ("province", "zhejiang"), MID_2023, 0.4974),
    ("grid.province.jiangsu", ("province", "jiangsu"), MID_2023, 0.5827),
    ("grid.province.shanghai", ("province", "shanghai"), MID_2023, 0.5737),
    ("grid.province.guangdong", ("province", "guangdong"), MID_2023, 0.4419),
    ("grid.province.beijing", ("province", "beijing"), MID_2023, 0.5554),
    ("grid.province.sichuan", ("province", "sichuan"), MID_2023, 0.1564),
]


@pytest.mark.parametrize(("key", "scope", "at", "expected"), SCOPED_SEEDED)
def test_default_library_seeds_regional_and_provincial_grid_value(
    library: FactorLibrary,
    key: str,
    scope: tuple[str, str],
    at: datetime,
    expected: float,
) -> None:
    assert library.resolve(key, at, scope_chain=[scope]).value == expected


def test_default_library_does_not_ship_unsourced_0_5810(library: FactorLibrary) -> None:
    assert all(row.value != 0.5810 for row in library.rows())


def test_steel_series_has_ncv_cc_and_of_for_all_14_fuels(
    library: FactorLibrary,
) -> None:
    assert (
        sum(
            1
            for row in library.rows()
            if row.series == STEEL and row.key.startswith("fuel.")
        )
        == 42
    )


CHECK_MARKED_KEYS = [
    "fuel.natural_gas.ncv",
    "process.limestone",
    "fixed.crude_steel",
    "heat.default",
    "grid.province.zhejiang",
]


@pytest.mark.parametrize("key", CHECK_MARKED_KEYS)
def test_unconfirmed_defaults_carry_check_marker(
    library: FactorLibrary, key: str
) -> None:
    assert all("[check" in row.source for row in library.rows() if row.key == key)


def test_default_library_is_loaded_once(library: FactorLibrary) -> None:
    assert FactorLibrary.default() is library


# --- resolution rules -------------------------------------------------------------------


def test_newest_national_average_is_open_ended_for_later_readings(
    library: FactorLibrary,
) -> None:
    row = library.resolve(
        "grid.cn.national_average",
        datetime(2026, 3, 1, tzinfo=UTC),
        series="mee-national-average",
    )
    assert row.factor_id == "grid.cn.national_average@2023"


VALIDITY_BY_TIME = [
    # data years are read in UTC+08:00: 2022-12-31T16:00Z is already 2023 in China
    (datetime(2022, 12, 31, 15, 59, tzinfo=UTC), "grid.cn.national_average@2022"),
    (datetime(2022, 12, 31, 16, 0, tzinfo=UTC), "grid.cn.national_average@2023"),
    (datetime(2022, 1, 1, 0, 0, tzinfo=CST), "grid.cn.national_average@2022"),
    (datetime(2021, 12, 31, 23, 59, tzinfo=CST), "grid.cn.national_average@2021"),
]


@pytest.mark.parametrize(("at", "factor_id"), VALIDITY_BY_TIME)
def test_resolve_picks_row_valid_at_reading_time(
    library: FactorLibrary, at: datetime, factor_id: str
) -> None:
    assert (
        library.resolve(
            "grid.cn.national_average", at, series="mee-national-average"
        ).factor_id
        == factor_id
    )


def test_closed_row_does_not_apply_after_valid_to() -> None:
    lib = FactorLibrary([_row("heat.x@2020", 0.1, valid_to=date(2020, 12, 31))])
    with pytest.raises(FactorNotFound):
        lib.resolve("heat.x", datetime(2021, 6, 1, tzinfo=UTC))


@pytest.fixture()
def scoped() -> FactorLibrary:
    return FactorLibrary(
        [
            _row("heat.x@national", 0.110),
            _row("heat.x@east", 0.105, scope="region", scope_id="east"),
            _row("heat.x@zhejiang", 0.100, scope="province", scope_id="zhejiang"),
            _row("heat.x@ent-7", 0.090, scope="enterprise", scope_id="ent-7"),
            _row("heat.x@boiler-1", 0.080, scope="device", scope_id="boiler-1"),
        ]
    )


SCOPE_PRECEDENCE = [
    ([], "heat.x@national"),
    ([("region", "east")], "heat.x@east"),
    ([("region", "east"), ("province", "zhejiang")], "heat.x@zhejiang"),
    (
        [("region", "east"), ("enterprise", "ent-7"), ("province", "zhejiang")],
        "heat.x@ent-7",
    ),
    (
        [("region", "east"), ("enterprise", "ent-7"), ("device", "boiler-1")],
        "heat.x@boiler-1",
    ),
    ([("enterprise", "ent-8")], "heat.x@national"),
    ([("device", "boiler-2"), ("region", "east")], "heat.x@east"),
]


@pytest.mark.parametrize(("chain", "factor_id"), SCOPE_PRECEDENCE)
def test_most_specific_scope_named_by_chain_wins(
    scoped: FactorLibrary, chain: list[tuple[str, str]], factor_id: str
) -> None:
    assert scoped.resolve("heat.x", MID_2023, scope_chain=chain).factor_id == factor_id


def test_scoped_row_without_matching_chain_error_says_how_to_name_it(
    library: FactorLibrary,
) -> None:
    with pytest.raises(FactorNotFound, match=r"scope_chain=\[\('region', 'east'\)\]"):
        library.resolve("grid.region.east", MID_2023)


def test_unknown_scope_name_in_chain_is_rejected(scoped: FactorLibrary) -> None:
    with pytest.raises(FactorLibraryError, match="unknown scope 'plant'"):
        scoped.resolve("heat.x", MID_2023, scope_chain=[("plant", "p1")])


NOT_FOUND_MESSAGE_PARTS = [
    "'grid.cn.national_average'",
    "2020-06-01T08:00:00+00:00",
    "'mee-national-average'",
    "with_row()",
]


@pytest.mark.parametrize("part", NOT_FOUND_MESSAGE_PARTS)
def test_factor_not_found_message_names_key_time_and_series(
    library: FactorLibrary, part: str
) -> None:
    with pytest.raises(FactorNotFound) as caught:
        library.resolve(
            "grid.cn.national_average",
            datetime(2020, 6, 1, 8, tzinfo=UTC),
            series="mee-national-average",
        )
    assert part in str(caught.value)


def test_unknown_key_error_says_library_has_no_rows(library: FactorLibrary) -> None:
    with pytest.raises(FactorNotFound, match="no rows for this key"):
        library.resolve("grid.cn.national_avg", MID_2023)


def test_series_filter_excludes_other_tables(library: FactorLibrary) -> None:
    with pytest.raises(FactorNotFound):
        library.resolve("fuel.natural_gas.ncv", MID_2023, series="general-industry")


def test_two_series_without_choice_is_ambiguous(library: FactorLibrary) -> None:
    with pytest.raises(AmbiguousFactor, match="general-industry, ndrc-steel-2013"):
        library.resolve("fuel.anthracite.ncv", MID_2023)


def test_naive_datetime_is_rejected(library: FactorLibrary) -> None:
    with pytest.raises(FactorLibraryError, match="timezone-aware"):
        library.resolve("heat.default", datetime(2023, 7, 1))


# --- versions and immutability -----------------------------------------------------------


def test_with_row_adds_new_version_that_wins(library: FactorLibrary) -> None:
    revised = library.with_row(
        _row(
            "grid.cn.national_average@2023.v2",
            0.5300,
            unit="tCO2/MWh",
            valid_from=date(2023, 1, 1),
            series="mee-national-average",
        )
    )
    assert (
        revised.resolve("grid.cn.national_average", MID_2024).factor_id
        == "grid.cn.national_average@2023.v2"
    )


def test_with_row_leaves_original_library_unchanged(library: FactorLibrary) -> None:
    before = library.rows()
    library.with_row(
        _row("grid.cn.national_average@2023.v3", 0.1, series="mee-national-average")
    )
    assert library.rows() == before and len(before) == 105


def test_later_valid_from_wins_over_earlier_open_row(scoped: FactorLibrary) -> None:
    revised = scoped.with_row(_row("heat.x@2023h2", 0.2, valid_from=date(2023, 7, 1)))
    assert (
        revised.resolve("heat.x", datetime(2023, 8, 1, tzinfo=UTC)).factor_id
        == "heat.x@2023h2"
    )


def test_duplicate_factor_id_is_refused(scoped: FactorLibrary) -> None:
    with pytest.raises(FactorLibraryError, match="appears twice"):
        scoped.with_row(_row("heat.x@national", 0.2))


def test_factor_row_is_frozen() -> None:
    row = _row("heat.x@1", 0.1)
    with pytest.raises(ValueError):
        row.value = 0.2


INVALID_ROWS = [
    {"factor_id": "heat.y@1"},  # id does not start with key
    {"valid_to": date(2019, 1, 1)},  # ends before it starts
    {"unit": "fraction", "value": 1.2},
    {"value": -0.1},
    {"scope": "planet"},
    {"colour": "green"},  # extra column
]


@pytest.mark.parametrize("changes", INVALID_ROWS)
def test_factor_row_rejects_inconsistent_fields(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _row("heat.x@1", 0.1, **changes)


def test_csv_error_names_origin_and_line() -> None:
    text = (
        "# comment\n"
        "factor_id,key,value,unit,scope,scope_id,valid_from,valid_to,series,source\n"
        "heat.x@1,heat.x,abc,tCO2/GJ,national,cn,2020-01-01,,test,fixture\n"
    )
    with pytest.raises(FactorLibraryError, match=r"mine\.csv line 3"):
        FactorLibrary.from_csv(text, origin="mine.csv")


def test_scope_enum_lists_five_levels() -> None:
    assert [s.value for s in Scope] == [
        "device",
        "enterprise",
        "province",
        "region",
        "national",
    ]
