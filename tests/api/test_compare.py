"""Year-on-year (同比) and month-on-month (环比) comparisons against a real PostgreSQL, with figures worked out
by hand from the seeded emissions of tests/api/export_seed.py (MONTHLY), months in Asia/Shanghai::

    x-site-1  2026-10  electricity 10 MWh + 2 MWh (2026-09-30T16:30Z is October in Shanghai)  = 12 MWh
                       natural_gas 1.0 x 1e4 Nm3
              2026-09  electricity 8 MWh + 1 MWh (2026-09-30T15:30Z is still September)        =  9 MWh
              2025-10  electricity 6 MWh at the 2022 grid factor (0.5366)
    x-site-2  2026-10  electricity 4 MWh
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.api import export_seed
from tests.api.conftest import make_user
from tests.api.export_seed import GAS, GAS_T_PER_1E4NM3, GRID, GRID_T_PER_MWH

GRID_2022 = "grid.cn.national_average@2022"


@pytest.fixture(scope="module")
def auditor(api_app_client: TestClient, admin_headers: dict[str, str], database_url: str) -> dict[str, str]:
    export_seed.ensure_seeded(database_url)
    return make_user(api_app_client, admin_headers, "auditor", enterprises=["x-ent"])[2]


def _compare(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    r = client.get("/api/v1/emissions/compare", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _figures(change: dict[str, Any]) -> tuple[Any, ...]:
    return change["current"], change["previous"], change["change"], change["relative_change"]


def test_month_on_month_of_a_site_by_source_and_process(api_app_client: TestClient, auditor: dict[str, str]) -> None:
    body = _compare(api_app_client, auditor, site="x-site-1", period="2026-10", basis="mom")
    sources = {s["source"]: s for s in body["by_source"]}
    elec, gas = sources["electricity"], sources["natural_gas"]
    processes = {p["process"]: _figures(p["tco2"]) for p in body["by_process"]}
    approx = pytest.approx
    assert (body["current"]["period"], body["previous"]["period"], body["current"]["start"],
            body["previous"]["end"], body["current"]["complete"]) == (
        "2026-10", "2026-09", "2026-10-01T00:00:00+08:00", "2026-10-01T00:00:00+08:00", True)
    assert _figures(body["total_tco2"]) == approx((12 * GRID_T_PER_MWH + GAS_T_PER_1E4NM3, 9 * GRID_T_PER_MWH,
                                                   3 * GRID_T_PER_MWH + GAS_T_PER_1E4NM3,
                                                   (3 * GRID_T_PER_MWH + GAS_T_PER_1E4NM3) / (9 * GRID_T_PER_MWH)))
    assert (_figures(elec["activity_amount"]), elec["activity_unit"], _figures(elec["tco2"])) == (
        approx((12.0, 9.0, 3.0, 1 / 3)), "MWh", approx((12 * GRID_T_PER_MWH, 9 * GRID_T_PER_MWH,
                                                       3 * GRID_T_PER_MWH, 1 / 3)))
    assert (_figures(gas["tco2"]), gas["tco2"]["note"], _figures(gas["activity_amount"])) == (
        (approx(GAS_T_PER_1E4NM3), 0.0, approx(GAS_T_PER_1E4NM3), None),
        "no relative change: the base period's figure is 0", (1.0, 0.0, 1.0, None))
    assert processes == {"steelmaking": approx((12 * GRID_T_PER_MWH, 9 * GRID_T_PER_MWH, 3 * GRID_T_PER_MWH, 1 / 3)),
                         "rolling": (approx(GAS_T_PER_1E4NM3), 0.0, approx(GAS_T_PER_1E4NM3), None)}


def test_year_on_year_names_the_factor_versions_of_both_periods(api_app_client: TestClient,
                                                                auditor: dict[str, str]) -> None:
    body = _compare(api_app_client, auditor, site="x-site-1", period="2026-10", basis="yoy")
    versions = {name: [(f["factor_id"], f["value"]) for f in rows] for name, rows in body["factor_versions"].items()}
    elec = next(s for s in body["by_source"] if s["source"] == "electricity")
    assert (body["previous"]["period"], _figures(elec["activity_amount"]), elec["tco2"]["previous"], versions) == (
        "2025-10", pytest.approx((12.0, 6.0, 6.0, 1.0)), pytest.approx(6 * 0.5366),
        {"current": [(GAS[0], 15.3), (GAS[1], 389.31), (GAS[2], 0.99), (GRID, 0.5306)],
         "previous": [(GRID_2022, 0.5366)]})


def test_an_enterprise_adds_up_its_sites_and_a_process_narrows_it(api_app_client: TestClient,
                                                                  auditor: dict[str, str]) -> None:
    enterprise = _compare(api_app_client, auditor, enterprise="x-ent", period="2026-10", basis="mom")
    rolling = _compare(api_app_client, auditor, enterprise="x-ent", process="rolling", period="2026-10")
    assert (enterprise["sites"], _figures(enterprise["total_tco2"])[:2], _figures(rolling["total_tco2"]),
            rolling["total_tco2"]["note"], [s["source"] for s in rolling["by_source"]]) == (
        ["x-site-1", "x-site-2"], pytest.approx((16 * GRID_T_PER_MWH + GAS_T_PER_1E4NM3, 9 * GRID_T_PER_MWH)),
        (pytest.approx(4 * GRID_T_PER_MWH + GAS_T_PER_1E4NM3), 0.0,
         pytest.approx(4 * GRID_T_PER_MWH + GAS_T_PER_1E4NM3), None),
        "no relative change: the base period's figure is 0", ["natural_gas", "electricity"])


def test_the_current_figure_is_the_emissions_apis_total_for_the_month(api_app_client: TestClient,
                                                                      auditor: dict[str, str]) -> None:
    body = _compare(api_app_client, auditor, site="x-site-1", period="2026-10")
    r = api_app_client.get("/api/v1/emissions", headers=auditor, params={
        "site": "x-site-1", "start": body["current"]["start"], "end": body["current"]["end"], "interval": "1d"})
    assert body["total_tco2"]["current"] == pytest.approx(r.json()["total_tco2"], rel=1e-12)


def test_a_whole_year_compares_with_the_year_before(api_app_client: TestClient, auditor: dict[str, str]) -> None:
    body = _compare(api_app_client, auditor, site="x-site-2", period="2026", basis="yoy")
    # x-site-2: 4 MWh in October and 1 MWh of the hourly seed on 2026-01-10; nothing in 2025
    assert (body["current"]["start"], body["previous"]["period"], _figures(body["total_tco2"])) == (
        "2026-01-01T00:00:00+08:00", "2025", (pytest.approx(5 * GRID_T_PER_MWH), 0.0,
                                              pytest.approx(5 * GRID_T_PER_MWH), None))


@pytest.mark.parametrize(
    ("params", "message"),
    [({"period": "2026-13"}, "month must be 01 to 12"), ({"period": "October"}, "neither a month"),
     ({"period": "2026-1"}, "neither a month"), ({"period": "1999-05"}, "between 2000 and 2100"),
     ({"period": "2026", "basis": "mom"}, "month-on-month needs a month"),
     ({"period": "2026-10", "basis": "qoq"}, "basis"), ({"period": "2100-01"}, "has not begun"),
     ({"period": "2026-10", "tz": "Mars/Base"}, "unknown time zone"), ({}, "period"),
     ({"period": "2026-10", "tz": "Asia"}, "unknown time zone")],
    ids=["month-13", "words", "short-month", "too-early", "mom-of-year", "bad-basis", "future", "bad-tz", "missing",
         "zone-directory"],
)
def test_bad_periods_get_422_with_a_message(api_app_client: TestClient, auditor: dict[str, str],
                                            params: dict[str, str], message: str) -> None:
    r = api_app_client.get("/api/v1/emissions/compare", headers=auditor, params={"site": "x-site-1", **params})
    assert (r.status_code, message in r.text) == (422, True)


@pytest.mark.parametrize("scope", [{"site": "x-site-3"}, {"enterprise": "x-ent2"}, {"site": "nowhere"},
                                   {"enterprise": "x-ent", "site": "x-site-3"}, {"process": "coking"}],
                         ids=["hidden-site", "hidden-enterprise", "unknown", "site-of-another", "no-such-process"])
def test_comparisons_outside_the_callers_scope_are_not_found(api_app_client: TestClient, auditor: dict[str, str],
                                                             scope: dict[str, str]) -> None:
    r = api_app_client.get("/api/v1/emissions/compare", headers=auditor, params={"period": "2026-10", **scope})
    assert (r.status_code, bool(r.json()["detail"])) == (404, True)


def test_comparisons_need_a_scope_and_the_emissions_permission(
    api_app_client: TestClient, auditor: dict[str, str], role_headers: dict[str, dict[str, str]]
) -> None:
    bare = api_app_client.get("/api/v1/emissions/compare", headers=auditor, params={"period": "2026-10"})
    technician = api_app_client.get("/api/v1/emissions/compare", headers=role_headers["technician"],
                                    params={"site": "x-site-1", "period": "2026-10"})
    assert (bare.status_code, "give the scope" in bare.text, technician.status_code) == (422, True, 403)


# --- to date (`to`): both periods cut at the same point of their calendar -------------------------------------

def test_month_to_date_compares_with_the_same_span_of_the_month_before(api_app_client: TestClient,
                                                                       auditor: dict[str, str]) -> None:
    # 1-10 October 12:00 (Shanghai): 2 + 10 MWh, the gas of the 20th left out; 1-10 September 12:00: the 8 MWh of
    # the 10th at 11:00, the 1 MWh of the 30th left out
    body = _compare(api_app_client, auditor, site="x-site-1", period="2026-10", basis="mom",
                    to="2026-10-10T12:00:00+08:00")
    windows = [(w["start"], w["end"], w["period_end"], w["cut"]) for w in (body["current"], body["previous"])]
    assert windows == [("2026-10-01T00:00:00+08:00", "2026-10-10T12:00:00+08:00", "2026-11-01T00:00:00+08:00", True),
                       ("2026-09-01T00:00:00+08:00", "2026-09-10T12:00:00+08:00", "2026-10-01T00:00:00+08:00", True)]
    assert (_figures(body["total_tco2"]), [(p["process"], _figures(p["tco2"])) for p in body["by_process"]],
            body["notes"]) == (
        pytest.approx((12 * GRID_T_PER_MWH, 8 * GRID_T_PER_MWH, 4 * GRID_T_PER_MWH, 0.5)),
        [("steelmaking", pytest.approx((12 * GRID_T_PER_MWH, 8 * GRID_T_PER_MWH, 4 * GRID_T_PER_MWH, 0.5)))],
        ["to date: 2026-10 up to 2026-10-10T12:00:00+08:00 against 2026-09 up to 2026-09-10T12:00:00+08:00"])


def test_year_on_year_to_date_cuts_the_year_before_at_the_same_date(api_app_client: TestClient,
                                                                    auditor: dict[str, str]) -> None:
    # the 6 MWh of 15 October 2025 are after 10 October 12:00; the cut may be given in UTC
    month = _compare(api_app_client, auditor, site="x-site-1", period="2026-10", basis="yoy", to="2026-10-10T04:00:00Z")
    # a year to 1 March: x-site-2's 1 MWh of 10 January 2026 against nothing in January-February 2025
    year = _compare(api_app_client, auditor, site="x-site-2", period="2026", basis="yoy", to="2026-03-01T00:00:00+08:00")
    assert ((month["current"]["end"], month["previous"]["end"], _figures(month["total_tco2"]),
             month["total_tco2"]["note"]),
            (year["previous"]["end"], _figures(year["total_tco2"]))) == (
        ("2026-10-10T12:00:00+08:00", "2025-10-10T12:00:00+08:00",
         (pytest.approx(12 * GRID_T_PER_MWH), 0.0, pytest.approx(12 * GRID_T_PER_MWH), None),
         "no relative change: the base period's figure is 0"),
        ("2025-03-01T00:00:00+08:00", (pytest.approx(GRID_T_PER_MWH), 0.0, pytest.approx(GRID_T_PER_MWH), None)))


def test_a_cut_on_a_day_the_month_before_lacks_takes_that_whole_month(api_app_client: TestClient,
                                                                      auditor: dict[str, str]) -> None:
    whole = _compare(api_app_client, auditor, site="x-site-1", period="2026-10", basis="mom")
    cut = _compare(api_app_client, auditor, site="x-site-1", period="2026-10", basis="mom",
                   to="2026-10-31T18:00:00+08:00")
    assert (cut["previous"]["end"], cut["previous"]["cut"], cut["total_tco2"], cut["by_source"]) == (
        "2026-10-01T00:00:00+08:00", False, whole["total_tco2"], whole["by_source"])


def test_to_now_cuts_the_running_month_at_the_time_of_the_request(api_app_client: TestClient,
                                                                  auditor: dict[str, str]) -> None:
    zone = ZoneInfo("Asia/Shanghai")
    before = datetime.now(zone)
    body = _compare(api_app_client, auditor, site="x-site-1", period=f"{before:%Y-%m}", basis="mom", to="now")
    after = datetime.now(zone)
    end, previous_end = (datetime.fromisoformat(body[w]["end"]) for w in ("current", "previous"))
    previous_start = datetime.fromisoformat(body["previous"]["start"])
    assert (before <= end <= after, previous_start < previous_end <= datetime.fromisoformat(body["current"]["start"]),
            previous_end.time() == end.time() or previous_end == datetime.fromisoformat(body["current"]["start"])) == (
        True, True, True)


@pytest.mark.parametrize(
    ("to", "message"),
    [("2026-11-02T00:00:00+08:00", "is not within 2026-10"), ("2026-09-30T15:59:59Z", "is not within 2026-10"),
     ("yesterday", "not an ISO-8601 time"), ("2026-10-10T12:00:00", "needs a UTC offset")],
    ids=["after", "before", "words", "no-offset"],
)
def test_bad_cuts_get_422_with_a_message(api_app_client: TestClient, auditor: dict[str, str], to: str,
                                         message: str) -> None:
    r = api_app_client.get("/api/v1/emissions/compare", headers=auditor,
                           params={"site": "x-site-1", "period": "2026-10", "to": to})
    assert (r.status_code, message in r.text) == (422, True)
