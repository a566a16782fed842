"""The ranking of a region's units (GET /monitoring/view?by=unit, read from the unit totals in ranking order,
migration 145) equals a ranking worked out from the figures themselves: tCO2 descending, ties by unit id as text,
for a province, a city and a county, by year and by month, page by page across a tie, with the count of all.

The units live in a province of their own (registered here), so the expected rankings are this module's alone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_user
from tests.api.test_monitoring import credit_code, csv_file, upload

PROVINCE, CITY, OTHER_CITY = "640000", "640100", "640200"
COUNTIES = ("640102", "640103", "640202")
REGIONS = [(PROVINCE, "排名省", "Ranking province", 1, None, "T-RANK"),
           (CITY, "排名甲市", "Ranking city A", 2, PROVINCE, "T-RANK-A"),
           (OTHER_CITY, "排名乙市", "Ranking city B", 2, PROVINCE, "T-RANK-B"),
           *[(code, f"排名县 {code}", f"Ranking county {code}", 3, code[:4] + "00", None) for code in COUNTIES]]
YEAR = 2024
# coal tonnes in March of each unit (county, industry): three units tie at 700 t and straddle a page of 4
MARCH_COAL = [("640102", "311", 900), ("640103", "261", 800), ("640102", "311", 700), ("640202", "261", 700),
              ("640103", "311", 700), ("640202", "311", 600), ("640102", "261", 500), ("640103", "311", 400),
              ("640202", "261", 300), ("640102", "311", 200)]
APRIL_COAL = {0: 50, 6: 60, 9: 70}  # small enough to leave the year's order as March's


@pytest.fixture(scope="module")
def client(api_app_client: TestClient) -> TestClient:
    return api_app_client


@pytest.fixture(scope="module")
def province(client: TestClient, admin_headers: dict[str, str], database_url: str) -> None:
    """The province's regions and units: March coal as above, April coal for some, a unit with value added
    only (ranked with 0 tCO2) and one with figures in April only (not in March's ranking)."""
    with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO monitoring_regions (code, name, name_en, level, parent_code, label)"
                        " VALUES (%s, %s, %s, %s, %s, %s)", REGIONS)
    lines = []
    for n, (county, industry, tonnes) in enumerate(MARCH_COAL):
        code = credit_code(county)
        lines.append(f"{code},Rank Unit {n},{county},{industry},{YEAR}-03,coal,{tonnes},t")
        if n in APRIL_COAL:
            lines.append(f"{code},Rank Unit {n},{county},{industry},{YEAR}-04,coal,{APRIL_COAL[n]},t")
    lines.append(f"{credit_code('640103')},Rank Value Added Only,640103,311,{YEAR}-03,value_added,900,1e4CNY")
    lines.append(f"{credit_code('640202')},Rank April Only,640202,261,{YEAR}-04,coal,650,t")
    r = upload(client, admin_headers, csv_file(*lines))
    assert r.status_code == 200, r.text


def _expected(database_url: str, prefix: str, start: date, end: date, industry: str = "") -> list[tuple[str, Any]]:
    """(unit id, tCO2) of the units under `prefix` with figures in [start, end), summed from their figures and
    sorted by tCO2 descending, then unit id as text."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT f.unit_id, COALESCE(sum(f.tco2), 0) FROM monitoring_figures f JOIN monitoring_units u"
            " USING (unit_id) WHERE u.region_code LIKE %s AND u.industry_code LIKE %s AND f.month >= %s"
            " AND f.month < %s GROUP BY f.unit_id", (f"{prefix}%", f"{industry}%", start, end)).fetchall()
    ranked = sorted(((str(unit_id), float(tco2)) for unit_id, tco2 in rows), key=lambda r: (-r[1], r[0]))
    return [(key, pytest.approx(tco2)) for key, tco2 in ranked]


def _ranking(client: TestClient, headers: dict[str, str], **params: Any) -> tuple[list[tuple[str, Any]], Any]:
    r = client.get("/api/v1/monitoring/view", headers=headers, params={"year": YEAR, "by": "unit", **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [row["rank"] for row in body["rows"]] == list(range(body["offset"] + 1,
                                                               body["offset"] + len(body["rows"]) + 1))
    return [(row["key"], row["tco2"]) for row in body["rows"]], body["units_total"]


@pytest.mark.parametrize("region, prefix", [(PROVINCE, "64"), (CITY, "6401"), ("640202", "640202")])
@pytest.mark.parametrize("month", [None, 3])
def test_a_regions_ranking_equals_the_one_worked_out_from_its_figures(
        client: TestClient, admin_headers: dict[str, str], database_url: str, province: None, region: str,
        prefix: str, month: int | None) -> None:
    start, end = (date(YEAR, 1, 1), date(YEAR + 1, 1, 1)) if month is None else (date(YEAR, 3, 1),
                                                                                   date(YEAR, 4, 1))
    expected = _expected(database_url, prefix, start, end)
    ranked, total = _ranking(client, admin_headers, region=region, **({"month": month} if month else {}))
    assert (ranked, total) == (expected, len(expected))


@pytest.mark.parametrize("month", [None, 3])
def test_pages_of_the_province_ranking_are_slices_of_it_across_a_tie(
        client: TestClient, admin_headers: dict[str, str], database_url: str, province: None,
        month: int | None) -> None:
    asked = {"region": PROVINCE, **({"month": month} if month else {})}
    full, total = _ranking(client, admin_headers, **asked)
    pages = [_ranking(client, admin_headers, **asked, limit=4, offset=offset) for offset in range(0, total + 4, 4)]
    tied = [place for place, (_, tco2) in enumerate(full) if tco2 == full[2][1]]
    assert tied == [2, 3, 4]  # three units tie across the end of the first page
    assert ([row for page, _ in pages for row in page], {count for _, count in pages}, pages[-1][0]) == (
        full, {total}, [])


def test_a_page_past_the_end_still_counts_the_regions_units(client: TestClient, admin_headers: dict[str, str],
                                                           database_url: str, province: None) -> None:
    expected = _expected(database_url, "6401", date(YEAR, 1, 1), date(YEAR + 1, 1, 1))
    ranked, total = _ranking(client, admin_headers, region=CITY, limit=5, offset=1000)
    unlimited, unlimited_total = _ranking(client, admin_headers, region=CITY, offset=len(expected) - 1)
    assert (ranked, total, unlimited, unlimited_total) == ([], len(expected), expected[-1:], len(expected))


def test_an_industry_ranking_keeps_only_that_class(client: TestClient, admin_headers: dict[str, str],
                                                   database_url: str, province: None) -> None:
    expected = _expected(database_url, "64", date(YEAR, 3, 1), date(YEAR, 4, 1), industry="311")
    ranked, total = _ranking(client, admin_headers, region=PROVINCE, month=3, industry="311", limit=3, offset=1)
    assert (ranked, total) == (expected[1:4], len(expected))


def test_a_city_governments_ranking_is_the_administrators(client: TestClient, admin_headers: dict[str, str],
                                                          province: None) -> None:
    _, _, city = make_user(client, admin_headers, "government", region="T-RANK-A")
    theirs = _ranking(client, city, region=CITY, limit=3)
    outside = client.get("/api/v1/monitoring/view", headers=city,
                         params={"region": PROVINCE, "year": YEAR, "by": "unit"})
    assert (theirs, outside.status_code) == (_ranking(client, admin_headers, region=CITY, limit=3), 404)
