"""The pre-aggregated monitoring totals (migration 104) equal the sums over the current figures: after imports,
corrections, a repeated import and a unit moved to another region, and the views and the ranking read them.

Each check compares the totals of the region x industry combinations a test touched with a GROUP BY over every
current figure of those combinations, so other tests' units in the same combinations are checked too.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.test_monitoring import credit_code, csv_file, upload

_EXPECTED_REGION = """
SELECT g.grain, CASE WHEN g.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END AS period,
       u.region_code, u.industry_code, f.item, sum(f.quantity) AS quantity, COALESCE(sum(f.tco2), 0) AS tco2,
       COALESCE(sum(f.tce), 0) AS tce, count(*) AS figures
FROM monitoring_figures f JOIN monitoring_units u USING (unit_id) CROSS JOIN (VALUES ('m'), ('y')) AS g (grain)
WHERE (u.region_code, u.industry_code) IN (SELECT region_code, industry_code FROM monitoring_units
                                           WHERE credit_code = ANY(%(codes)s))
   OR (u.region_code::text || '/' || u.industry_code) = ANY(%(combos)s)
GROUP BY 1, 2, 3, 4, 5
"""
_STORED_REGION = """
SELECT grain, period, region_code, industry_code, item, quantity, tco2, tce, figures FROM monitoring_region_totals
WHERE figures <> 0 AND ((region_code, industry_code) IN (SELECT region_code, industry_code FROM monitoring_units
                                                         WHERE credit_code = ANY(%(codes)s))
                        OR (region_code::text || '/' || industry_code) = ANY(%(combos)s))
"""
_EXPECTED_UNIT = """
SELECT g.grain, CASE WHEN g.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END AS period,
       u.unit_id, u.region_code, u.industry_code, COALESCE(sum(f.tco2), 0),
       COALESCE(sum(f.tce) FILTER (WHERE f.item NOT IN ('value_added', 'gross_output', 'main_product')), 0),
       COALESCE(sum(f.quantity) FILTER (WHERE f.item = 'value_added'), 0)
FROM monitoring_figures f JOIN monitoring_units u USING (unit_id) CROSS JOIN (VALUES ('m'), ('y')) AS g (grain)
WHERE u.credit_code = ANY(%(codes)s) GROUP BY 1, 2, 3
"""
_STORED_UNIT = """
SELECT t.grain, t.period, t.unit_id, t.region_code, t.industry_code, t.tco2, t.tce, t.value_added
FROM monitoring_unit_totals t JOIN monitoring_units u USING (unit_id) WHERE u.credit_code = ANY(%(codes)s)
"""


def _keyed(rows: list[tuple[Any, ...]], width: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {tuple(row[:width]): tuple(pytest.approx(v, rel=1e-9, abs=1e-6) for v in row[width:]) for row in rows}


def region_totals(db: psycopg.Connection, codes: list[str],
                  combos: tuple[str, ...] = ()) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """(expected from the figures, stored totals) of the combinations of `codes`' units (and `combos`)."""
    params = {"codes": codes, "combos": list(combos)}
    expected = _keyed(db.execute(_EXPECTED_REGION, params).fetchall(), 5)
    stored = {tuple(row[:5]): tuple(row[5:]) for row in db.execute(_STORED_REGION, params).fetchall()}
    return expected, stored


def all_industry_totals(db: psycopg.Connection, regions: list[str]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """(expected, stored) totals of all industries together ('*' rows) of `regions`."""
    expected = _keyed(db.execute(
        "SELECT g.grain, CASE WHEN g.grain = 'm' THEN f.month ELSE date_trunc('year', f.month)::date END,"
        " u.region_code, f.item, sum(f.quantity), COALESCE(sum(f.tco2), 0), COALESCE(sum(f.tce), 0), count(*)"
        " FROM monitoring_figures f JOIN monitoring_units u USING (unit_id)"
        " CROSS JOIN (VALUES ('m'), ('y')) AS g (grain) WHERE u.region_code = ANY(%s) GROUP BY 1, 2, 3, 4",
        (regions,)).fetchall(), 4)
    stored = {tuple(row[:4]): tuple(row[4:]) for row in db.execute(
        "SELECT grain, period, region_code, item, quantity, tco2, tce, figures FROM monitoring_region_totals"
        " WHERE industry_code = '*' AND figures <> 0 AND region_code = ANY(%s)", (regions,)).fetchall()}
    return expected, stored


def unit_totals(db: psycopg.Connection, codes: list[str]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    params = {"codes": codes}
    return (_keyed(db.execute(_EXPECTED_UNIT, params).fetchall(), 5),
            {tuple(row[:5]): tuple(row[5:]) for row in db.execute(_STORED_UNIT, params).fetchall()})


@pytest.fixture(scope="module")
def client(api_app_client: TestClient) -> TestClient:
    return api_app_client


def _unit_id(db: psycopg.Connection, code: str) -> int:
    return int(db.execute("SELECT unit_id FROM monitoring_units WHERE credit_code = %s", (code,)).fetchone()[0])  # type: ignore[index]


def test_totals_equal_the_figures_after_import_correction_and_repeat(client: TestClient,
                                                                     admin_headers: dict[str, str],
                                                                     db: psycopg.Connection) -> None:
    cement, glass = credit_code("330502"), credit_code("330503")
    lines = []
    for month in (1, 2, 3):
        lines += [f"{cement},Totals Cement,330502,301,2024-{month:02d},electricity,{1000 + month},MWh",
                  f"{cement},Totals Cement,330502,301,2024-{month:02d},coal,{400 + month},t",
                  f"{cement},Totals Cement,330502,301,2024-{month:02d},value_added,{900 + month},1e4CNY",
                  f"{glass},Totals Glass,330503,304,2024-{month:02d},natural_gas,{30 + month},1e4Nm3",
                  f"{glass},Totals Glass,330503,304,2024-{month:02d},other,{50 + month},tce"]
    data = csv_file(*lines)
    assert upload(client, admin_headers, data).status_code == 200
    cement_id = _unit_id(db, cement)
    r = client.put(f"/api/v1/monitoring/units/{cement_id}/figures/2024-02/coal", headers=admin_headers,
                   json={"quantity": 250, "unit": "t", "reason": "weighbridge error"})
    again = upload(client, admin_headers, data).json()  # restores 402 t: a correction of the correction
    expected, stored = region_totals(db, [cement, glass])
    expected_units, stored_units = unit_totals(db, [cement, glass])
    coal_feb = stored[("m", _date(2024, 2), "330502", "301", "coal")]
    expected_all, stored_all = all_industry_totals(db, ["330502", "330503"])
    assert stored_all == expected_all
    assert (r.status_code, again["stored"], stored, stored_units) == (200, 1, expected, expected_units)
    assert coal_feb[0] == pytest.approx(db.execute(
        "SELECT sum(f.quantity) FROM monitoring_figures f JOIN monitoring_units u USING (unit_id)"
        " WHERE u.region_code = '330502' AND u.industry_code = '301' AND f.item = 'coal'"
        " AND f.month = '2024-02-01'").fetchone()[0])  # type: ignore[index]


def _date(year: int, month: int) -> Any:
    from datetime import date

    return date(year, month, 1)


def test_a_unit_moved_to_another_county_takes_its_totals_along(client: TestClient, admin_headers: dict[str, str],
                                                               db: psycopg.Connection) -> None:
    code = credit_code("330521")
    upload(client, admin_headers, csv_file(f"{code},Moving Co,330521,313,2024-05,coal,700,t",
                                           f"{code},Moving Co,330521,313,2024-06,electricity,80,MWh"))
    unit_id = _unit_id(db, code)
    r = client.patch(f"/api/v1/monitoring/units/{unit_id}", headers=admin_headers,
                     json={"region_code": "330522", "industry_code": "312"})
    expected, stored = region_totals(db, [code], combos=("330521/313",))
    expected_units, stored_units = unit_totals(db, [code])
    assert all_industry_totals(db, ["330521", "330522"])[1] == all_industry_totals(db, ["330521", "330522"])[0]
    assert (r.status_code, stored, stored_units, {key[3] for key in stored_units}) == (
        200, expected, expected_units, {"330522"})


def test_a_ranking_page_is_the_slice_of_the_full_ranking(client: TestClient, admin_headers: dict[str, str]) -> None:
    codes = [credit_code("331100") for _ in range(4)]
    upload(client, admin_headers, csv_file(*[f"{code},Rank Co {i},331100,261,2023-07,coal,{100 * (i + 1)},t"
                                             for i, code in enumerate(codes)]))
    params: dict[str, Any] = {"region": "331100", "year": 2023, "by": "unit", "industry": "261"}
    full = client.get("/api/v1/monitoring/view", headers=admin_headers, params=params).json()
    page = client.get("/api/v1/monitoring/view", headers=admin_headers,
                      params={**params, "limit": 2, "offset": 1}).json()
    month = client.get("/api/v1/monitoring/view", headers=admin_headers,
                       params={**params, "month": 7, "limit": 1}).json()
    ranked = [(row["rank"], row["key"], row["tco2"]) for row in full["rows"]]
    assert ([row["credit_code"] for row in full["rows"] if row["credit_code"] in codes] == codes[::-1]
            and [(row["rank"], row["key"], row["tco2"]) for row in page["rows"]] == ranked[1:3]
            and (page["units_total"], month["rows"][0]["key"]) == (full["units_total"], ranked[0][1]))


def test_region_view_from_the_totals_equals_the_sum_over_figures(client: TestClient, admin_headers: dict[str, str],
                                                                 db: psycopg.Connection) -> None:
    code = credit_code("331100")
    upload(client, admin_headers, csv_file(f"{code},View Co,331100,441,2022-03,electricity,321,MWh",
                                           f"{code},View Co,331100,441,2022-04,heat,77,GJ"))
    view = client.get("/api/v1/monitoring/view", headers=admin_headers,
                      params={"region": "331100", "year": 2022, "by": "industry"}).json()
    month = client.get("/api/v1/monitoring/view", headers=admin_headers,
                       params={"region": "331100", "year": 2022, "month": 4}).json()
    year_tco2, april_tce = db.execute(
        "SELECT sum(f.tco2), sum(f.tce) FILTER (WHERE f.month = '2022-04-01') FROM monitoring_figures f"
        " JOIN monitoring_units u USING (unit_id) WHERE u.region_code LIKE '3311%' AND f.month >= '2022-01-01'"
        " AND f.month < '2023-01-01'").fetchone()  # type: ignore[misc]
    assert (view["total"]["tco2"], month["total"]["tce"], {"2022-03", "2022-04"} <= {t["month"] for t in view["trend"]}) == (
        pytest.approx(year_tco2), pytest.approx(april_tce), True)


def test_a_factor_change_recomputes_stored_figures_with_history_audit_and_totals(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    code = credit_code("330502")
    upload(client, admin_headers, csv_file(f"{code},Heat Co,330502,222,2014-03,heat,100,GJ"))
    unit_id = _unit_id(db, code)
    factor = {"factor_id": "heat.default@heat-default-2014", "key": "heat.default", "value": 0.2, "unit": "tCO2/GJ",
              "scope": "national", "scope_id": "cn", "valid_from": "2014-01-01", "valid_to": "2014-12-31",
              "series": "heat-default", "source": "a test's corrected heat factor for 2014"}
    added = client.post("/api/v1/factors", headers=admin_headers, json=factor)
    first = client.post("/api/v1/monitoring/recompute", headers=admin_headers,
                        json={"reason": "heat factor 2014 corrected"})
    assert first.status_code == 200, first.text
    first = first.json()
    again = client.post("/api/v1/monitoring/recompute", headers=admin_headers, json={"reason": "no change"}).json()
    history = client.get(f"/api/v1/monitoring/units/{unit_id}/figures/2014-03/heat/revisions",
                         headers=admin_headers).json()["revisions"]
    audit = db.execute("SELECT detail->>'reason' FROM audit_log WHERE action = 'monitoring.figures.recompute'"
                       " AND target = %s", (f"monitoring_batch:{first['batch_id']}",)).fetchall()
    expected, stored = region_totals(db, [code])
    assert (added.status_code, [(h["revision"], h["quantity"], h["source"], "heat.default@heat-default-2014" in h["factor_ids"])
                                for h in history], history[-1]["tco2"], again["changed"], audit, stored) == (
        201, [(1, 100.0, "file", False), (2, 100.0, "file", True)], pytest.approx(20.0), 0,
        [("heat factor 2014 corrected",)], expected)
    assert first["changed"] >= 1 and history[-1]["batch_id"] == first["batch_id"]


def _view_total(client: TestClient, headers: dict[str, str], region: str, industry: str, year: int) -> dict[str, Any]:
    """The region view of one industry and year, by unit; its total is zero when no figures are left."""
    view = client.get("/api/v1/monitoring/view", headers=headers,
                      params={"region": region, "year": year, "by": "unit", "industry": industry}).json()
    return {**view, "total": view["total"] or {"tco2": 0.0, "tce": 0.0}}


def _fresh_sums(db: psycopg.Connection, region: str, industry: str, year: int) -> tuple[float, float]:
    """tCO2 and tce of `region`'s figures of `industry` in `year`, added up now from the figures themselves."""
    row = db.execute("SELECT COALESCE(sum(f.tco2), 0), COALESCE(sum(f.tce), 0) FROM monitoring_figures f"
                     " JOIN monitoring_units u USING (unit_id) WHERE u.region_code LIKE %s AND u.industry_code = %s"
                     " AND f.month >= make_date(%s, 1, 1) AND f.month < make_date(%s + 1, 1, 1)",
                     (region_prefix_like(region), industry, year, year)).fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


def region_prefix_like(region: str) -> str:
    from carbon_domain.monitoring import region_prefix

    return region_prefix(region) + "%"


def test_a_deleted_unit_leaves_no_figures_in_the_totals_or_the_views(client: TestClient,
                                                                      admin_headers: dict[str, str],
                                                                      db: psycopg.Connection) -> None:
    staying, leaving = credit_code("330523"), credit_code("330523")
    upload(client, admin_headers, csv_file(f"{staying},Staying Co,330523,311,2021-02,coal,120,t",
                                           f"{leaving},Leaving Co,330523,311,2021-02,coal,900,t",
                                           f"{leaving},Leaving Co,330523,311,2021-03,electricity,40,MWh"))
    before = _view_total(client, admin_headers, "330523", "311", 2021)
    db.execute("DELETE FROM monitoring_units WHERE credit_code = %s", (leaving,))
    after = _view_total(client, admin_headers, "330523", "311", 2021)
    tco2, tce = _fresh_sums(db, "330523", "311", 2021)
    expected, stored = region_totals(db, [staying], combos=("330523/311",))
    expected_all, stored_all = all_industry_totals(db, ["330523"])
    assert before["total"]["tco2"] > after["total"]["tco2"]
    assert (after["total"]["tco2"], after["total"]["tce"]) == (pytest.approx(tco2), pytest.approx(tce))
    assert [row["credit_code"] for row in after["rows"]] == [staying]
    assert (stored, stored_all) == (expected, expected_all)


def test_figures_deleted_directly_leave_the_totals_equal_to_the_remaining_figures(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    code = credit_code("330523")
    upload(client, admin_headers, csv_file(f"{code},Pruned Co,330523,321,2021-04,coal,300,t",
                                           f"{code},Pruned Co,330523,321,2021-05,coal,310,t",
                                           f"{code},Pruned Co,330523,321,2021-05,value_added,50,1e4CNY"))
    db.execute("DELETE FROM monitoring_figures f USING monitoring_units u WHERE u.unit_id = f.unit_id"
               " AND u.credit_code = %s AND f.month = '2021-05-01'", (code,))
    view = _view_total(client, admin_headers, "330523", "321", 2021)
    tco2, tce = _fresh_sums(db, "330523", "321", 2021)
    assert (view["total"]["tco2"], view["total"]["tce"]) == (pytest.approx(tco2), pytest.approx(tce))
    assert region_totals(db, [code])[1] == region_totals(db, [code])[0]
    assert unit_totals(db, [code])[1] == unit_totals(db, [code])[0]


@pytest.mark.parametrize("change", [{"status": "closed"}, {"status": "suspended", "public": True},
                                    {"industry_code": "325"}, {"region_code": "330522"},
                                    {"region_code": "330522", "industry_code": "325", "status": "closed"}])
def test_a_unit_closed_or_moved_leaves_every_view_equal_to_its_figures(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection, change: dict[str, Any]) -> None:
    code = credit_code("330523")
    upload(client, admin_headers, csv_file(f"{code},Changing Co,330523,312,2021-06,coal,500,t",
                                           f"{code},Changing Co,330523,312,2021-07,heat,70,GJ"))
    r = client.patch(f"/api/v1/monitoring/units/{_unit_id(db, code)}", headers=admin_headers, json=change)
    assert r.status_code == 200, r.text
    for region, industry in (("330523", "312"), ("330523", "325"), ("330522", "312"), ("330522", "325")):
        view = _view_total(client, admin_headers, region, industry, 2021)
        tco2, tce = _fresh_sums(db, region, industry, 2021)
        assert (region, industry, view["total"]["tco2"], view["total"]["tce"]) == (
            region, industry, pytest.approx(tco2), pytest.approx(tce))
    expected, stored = region_totals(db, [code], combos=("330523/312", "330522/325"))
    assert (stored, unit_totals(db, [code])[1]) == (expected, unit_totals(db, [code])[0])
    assert all_industry_totals(db, ["330523", "330522"])[1] == all_industry_totals(db, ["330523", "330522"])[0]
