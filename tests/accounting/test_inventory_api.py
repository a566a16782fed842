"""Entered activity data and the inventory through the API: METHODS section 1 worked example, versions,
CSV/XLSX uploads with line-numbered errors, and 4xx (never 500) for bad input."""

from __future__ import annotations

import io
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from tests.accounting.conftest import audit_actions

WORKED = "acc-worked"
# METHODS section 1: one month of a light-industry plant
SECTION_1 = [
    {"period": "2025-03", "process": "auxiliary", "source_type": "combustion", "item": "natural_gas",
     "quantity": 500_000, "unit": "Nm3", "direction": "in"},
    {"period": "2025-03", "process": "auxiliary", "source_type": "electricity", "item": "grid",
     "quantity": 2_000, "unit": "MWh", "direction": "in"},
    {"period": "2025-03", "process": "auxiliary", "source_type": "heat", "item": "heat",
     "quantity": 1_000, "unit": "GJ", "direction": "in"},
]
CSV_HEADER = "period,process,source_type,item,quantity,unit,direction\n"


def _inventory(client: TestClient, headers: dict[str, str], enterprise: str, **params: Any) -> dict[str, Any]:
    r = client.get(f"/api/v1/inventory/{enterprise}", headers=headers, params={"year": 2025, **params})
    assert r.status_code == 200, r.text
    return r.json()


def _sources(document: dict[str, Any]) -> dict[str, float]:
    return {row["source_type"]: round(row["tco2"], 1) for row in document["by_source"]}


@pytest.fixture(scope="module")
def worked(client: TestClient, headers: dict[str, dict[str, str]]) -> dict[str, Any]:
    r = client.post(f"/api/v1/inventory/{WORKED}/activity", headers=headers["admin"],
                    json={"lines": SECTION_1, "note": "METHODS section 1"})
    assert r.status_code == 201, r.text
    return r.json()


def test_methods_section_1_worked_example_through_the_api(client: TestClient, headers: dict[str, dict[str, str]],
                                                          worked: dict[str, Any]) -> None:
    """METHODS §1: gas 50×10^4 Nm3 → 1,081.1 t; 2,000 MWh → 1,061.2 t; 1,000 GJ → 110.0 t; total 2,252.3 t
    (with the national average, as METHODS does)."""
    document = _inventory(client, headers["gov"], WORKED, month=3, grid_series="national")
    assert _sources(document) == {"combustion": 1081.1, "process": 0.0, "electricity": 1061.2, "heat": 110.0,
                                  "fixed_carbon": 0.0}
    assert round(document["total_tco2"], 1) == 2252.3
    assert document["by_month"] == [{"period": "2025-03", "tco2": document["total_tco2"]}]
    assert [(line["item"], line["quantity"], line["unit"], line["factor_ids"]) for line in document["lines"]] == [
        ("natural_gas", 50.0, "1e4Nm3", ["fuel.natural_gas.ncv@ndrc-steel-2013", "fuel.natural_gas.cc@ndrc-steel-2013",
                                         "fuel.natural_gas.of@ndrc-steel-2013"]),
        ("grid", 2000.0, "MWh", ["grid.cn.national_average@2023"]),
        ("heat", 1000.0, "GJ", ["heat.default@heat-default"]),
    ]
    assert {line["data_source"] for line in document["lines"]} == {"entered"}
    assert {line["quality"] for line in document["lines"]} == {"measured"}
    assert document["intensity_tco2_per_t_crude_steel"] is None  # a light-industry plant makes no steel
    assert {f["factor_id"]: f["value"] for f in document["factors"]}["grid.cn.national_average@2023"] == 0.5306


# acc-worked's site is in Zhejiang: 2,000 MWh of 2025-03 under each series
GRID_SERIES = [
    ("enterprise", "grid.province.zhejiang@2023", 0.4974, "province"),  # the default: no enterprise row
    ("province", "grid.province.zhejiang@2023", 0.4974, "province"),
    ("national", "grid.cn.national_average@2023", 0.5306, "national"),
    ("carbon-market", "grid.cn.carbon_market@2022", 0.5703, "carbon_market"),
]


@pytest.mark.parametrize(("series", "factor_id", "value", "step"), GRID_SERIES)
def test_the_grid_series_chooses_the_electricity_factor_and_the_document_says_why(
        client: TestClient, headers: dict[str, dict[str, str]], worked: dict[str, Any], series: str, factor_id: str,
        value: float, step: str) -> None:
    document = _inventory(client, headers["gov"], WORKED, month=3, grid_series=series)
    assert _sources(document)["electricity"] == round(2_000 * value, 1)
    assert document["series"]["grid"] == series
    [use] = document["grid_factors"]
    assert (use["site_id"], use["factor_id"], use["value"], use["step"], use["periods"]) == (
        None, factor_id, value, step, ["2025-03"])
    assert use["reason"].startswith(f"series {series}") and factor_id in use["reason"]
    grid = next(line for line in document["lines"] if line["item"] == "grid")
    assert (grid["factor_ids"], grid["factor_step"]) == ([factor_id], step)


def test_the_default_grid_series_follows_the_site_province(client: TestClient, headers: dict[str, dict[str, str]],
                                                          worked: dict[str, Any]) -> None:
    document = _inventory(client, headers["gov"], WORKED, month=3)
    assert document["series"]["grid"] == "enterprise"
    assert document["grid_factors"][0]["reason"] == (
        "series enterprise; enterprise-specific factor of acc-worked: none valid on 2025-03-01; the works in "
        "province zhejiang: provincial average: grid.province.zhejiang@2023 = 0.4974 tCO2/MWh")


def test_an_unknown_grid_series_is_422_with_the_choices(client: TestClient, headers: dict[str, dict[str, str]],
                                                        worked: dict[str, Any]) -> None:
    r = client.get(f"/api/v1/inventory/{WORKED}", headers=headers["gov"], params={"year": 2025, "grid_series": "x"})
    assert r.status_code == 422 and "carbon-market" in r.text


def test_a_submission_is_versioned_and_audited(client: TestClient, headers: dict[str, dict[str, str]],
                                               worked: dict[str, Any], db: psycopg.Connection) -> None:
    assert (worked["version"], worked["lines"], worked["origin"]) == (1, 3, "json")
    assert "activity.submit" in audit_actions(db, WORKED)
    r = client.get(f"/api/v1/inventory/{WORKED}/activity", headers=headers["admin"])
    assert r.status_code == 200
    assert [s["version"] for s in r.json()["submissions"]][:1] == [1]


def test_a_new_version_replaces_its_keys_and_keeps_the_old_lines_listed(
        client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    enterprise = "acc-gd"
    first = [{**SECTION_1[1], "period": "2024-06"}, {**SECTION_1[2], "period": "2024-06"}]
    correction = [{**SECTION_1[1], "period": "2024-06", "quantity": 2_500, "quality": "estimated"}]
    versions = []
    for lines in (first, correction):
        r = client.post(f"/api/v1/inventory/{enterprise}/activity", headers=headers["ent_gd"], json={"lines": lines})
        assert r.status_code == 201, r.text
        versions.append(r.json()["version"])
    assert r.json()["replaces_lines"] == 1
    old, new = versions
    assert new == old + 1
    document = _inventory(client, headers["ent_gd"], enterprise, year=2024)
    assert [(line["item"], line["quantity"], line["version"], line["quality"]) for line in document["lines"]] == [
        ("grid", 2500.0, new, "estimated"), ("heat", 1000.0, old, "measured")]
    assert [(s["item"], s["quantity"], s["version"], s["replaced_by_version"]) for s in document["superseded"]] == [
        ("grid", 2000.0, old, new)]
    assert document["data_quality"]["superseded_lines"] == 1
    assert "estimated_data" in {f["code"] for f in document["findings"]}
    # 2,500 MWh at the site's provincial factor (Guangdong, newest published data year 2023, 0.4419)
    # + 1,000 GJ at 0.11
    assert round(document["total_tco2"], 1) == round(2500 * 0.4419 + 110.0, 1)


def test_a_csv_upload_is_read_with_the_inventory_file_reader(client: TestClient,
                                                              headers: dict[str, dict[str, str]]) -> None:
    text = CSV_HEADER + "2023-02,rolling,combustion,natural_gas,500000,Nm3,in\n"
    r = client.post("/api/v1/inventory/acc-gd/activity", headers=headers["admin"],
                    files={"file": ("feb.csv", text.encode(), "text/csv")}, data={"quality": "calculated"})
    assert r.status_code == 201, r.text
    assert (r.json()["origin"], r.json()["filename"], r.json()["lines"]) == ("csv", "feb.csv", 1)
    document = _inventory(client, headers["gov_gd"], "acc-gd", year=2023, month=2)
    assert [(line["quality"], round(line["tco2"], 1)) for line in document["lines"]] == [("calculated", 1081.1)]


def test_an_xlsx_upload_is_accepted(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(CSV_HEADER.strip().split(","))
    sheet.append(["2023-04", "sintering", "process", "limestone", 1000, "t", "in"])
    sheet.append(["2023-04", "sintering", "production", "sinter", 50_000, "t", "out"])
    data = io.BytesIO()
    workbook.save(data)
    r = client.post("/api/v1/inventory/acc-gd/activity", headers=headers["ent_gd"],
                    files={"file": ("april.xlsx", data.getvalue(), "application/octet-stream")})
    assert r.status_code == 201, r.text
    document = _inventory(client, headers["ent_gd"], "acc-gd", year=2023, month=4)
    assert round(document["total_tco2"], 1) == 440.0
    assert document["outputs"] == [{"process": "sintering", "product": "sinter", "quantity_t": 50000.0}]


def test_bad_csv_rows_are_reported_with_their_file_line_numbers_and_nothing_is_stored(
        client: TestClient, headers: dict[str, dict[str, str]], db: psycopg.Connection) -> None:
    before = db.execute("SELECT count(*) FROM activity_submissions WHERE enterprise_id = 'acc-gd'").fetchone()
    text = (CSV_HEADER
            + "2025-01,rolling,combustion,natural_gas,600000,m3,in\n"
            + "2025-01,rolling,combustion,natural_gas,,Nm3,in\n"
            + "# a comment line\n"
            + "2025-01,steelmaking_bof,fixed_carbon,crude_steel,1000,t,in\n"
            + "2025-1,rolling,heat,heat,10,GJ,in\n"
            + "2025-01,rolling,production,sinter,5,MWh,out\n")
    r = client.post("/api/v1/inventory/acc-gd/activity", headers=headers["ent_gd"],
                    files={"file": ("bad.csv", text.encode(), "text/csv")})
    assert r.status_code == 422
    problems = {p["line"]: p["reason"] for p in r.json()["detail"]["problems"]}
    assert sorted(problems) == [2, 3, 5, 6, 7]
    assert "cannot convert m3 to 1e4Nm3" in problems[2]
    assert "quantity" in problems[3]
    assert "direction 'in' is not allowed" in problems[5]
    assert "YYYY-MM" in problems[6]
    assert "mass" in problems[7]
    after = db.execute("SELECT count(*) FROM activity_submissions WHERE enterprise_id = 'acc-gd'").fetchone()
    assert after == before


@pytest.mark.parametrize(("kwargs", "status", "message"), [
    ({"json": {"lines": []}}, 422, "at least 1"),
    ({"json": {"lines": [{**SECTION_1[0], "quality": "guessed"}]}}, 422, "quality must be one of"),
    ({"json": {"lines": [{**SECTION_1[0], "item": "unobtainium"}]}}, 422, "unknown fuel 'unobtainium'"),
    ({"json": {"lines": [{**SECTION_1[0], "colour": "red"}]}}, 422, "colour"),
    ({"json": {"lines": [SECTION_1[0]], "extra": 1}}, 422, "extra"),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "invalid submission"),
    ({"content": b"period,process", "headers": {"content-type": "text/csv"}}, 415, "multipart"),
    ({"files": {"file": ("data.txt", b"x", "text/plain")}}, 415, ".csv or .xlsx"),
    ({"files": {"file": ("data.xlsx", b"not a zip", "application/octet-stream")}}, 422, "cannot read"),
    ({"files": {"file": ("data.csv", "ü".encode("latin-1"), "text/csv")}}, 422, "UTF-8"),
    ({"files": {"file": ("data.csv", CSV_HEADER.encode(), "text/csv")}}, 422, "no activity rows"),
    ({"files": {"file": ("data.csv", b"period,stuff\n2025-01,1\n", "text/csv")}}, 422, "bad header"),
    ({"data": {"note": "no file"}, "files": {"other": ("a.csv", b"", "text/csv")}}, 422, "'file' field"),
])
def test_bad_submissions_get_a_4xx_with_a_message(client: TestClient, headers: dict[str, dict[str, str]],
                                                   kwargs: dict[str, Any], status: int, message: str) -> None:
    r = client.post("/api/v1/inventory/acc-gd/activity", headers={**headers["admin"], **kwargs.pop("headers", {})},
                    **kwargs)
    assert r.status_code == status, r.text
    assert message in r.text


@pytest.mark.parametrize(("params", "message"), [
    ({"year": 1800}, "greater than or equal"),
    ({"year": 2025, "month": 13}, "less than or equal"),
    ({"year": "soon"}, "valid integer"),
    ({"year": 2025, "basis": "guess"}, "entered"),
    ({"year": 2025, "tolerance": 0}, "greater than 0"),
    ({"year": 2025, "series": "general-industry"}, "cannot be computed"),
])
def test_bad_inventory_queries_get_a_422(client: TestClient, headers: dict[str, dict[str, str]], worked: Any,
                                         params: dict[str, Any], message: str) -> None:
    r = client.get(f"/api/v1/inventory/{WORKED}", headers=headers["admin"], params=params)
    assert r.status_code == 422, r.text
    assert message in r.text


def test_an_unknown_series_is_refused_at_submission(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    r = client.post("/api/v1/inventory/acc-gd/activity", headers=headers["admin"], params={"series": "no-such"},
                    json={"lines": SECTION_1})
    assert r.status_code == 422
    assert "unknown factor series 'no-such'" in r.text


def test_a_quantity_too_large_for_any_plant_is_a_422_not_a_500(client: TestClient,
                                                               headers: dict[str, dict[str, str]]) -> None:
    for quantity, unit in ((1e308, "GWh"), ("2e15", "MWh")):
        line = {**SECTION_1[1], "period": "2021-11", "quantity": quantity, "unit": unit}
        r = client.post("/api/v1/inventory/acc-gd/activity", headers=headers["admin"], json={"lines": [line]})
        assert r.status_code == 422, r.text
        assert "exceeds 1e+15; check the unit and the exponent" in r.text


def test_an_entered_line_may_name_one_of_the_enterprises_sites(client: TestClient,
                                                               headers: dict[str, dict[str, str]]) -> None:
    line = {**SECTION_1[1], "period": "2023-07", "site": "acc-worked-s1"}
    r = client.post(f"/api/v1/inventory/{WORKED}/activity", headers=headers["admin"], json={"lines": [line]})
    assert r.status_code == 201, r.text
    document = _inventory(client, headers["gov"], WORKED, year=2023, month=7)
    [use] = document["grid_factors"]
    assert (use["site_id"], use["factor_id"]) == ("acc-worked-s1", "grid.province.zhejiang@2023")
    assert "site acc-worked-s1 in province zhejiang" in use["reason"]
    r = client.post(f"/api/v1/inventory/{WORKED}/activity", headers=headers["admin"],
                    json={"lines": [{**line, "site": "acc-gd-s1"}]})
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["problems"] == [
        {"line": 1, "reason": "site 'acc-gd-s1' is not a site of this enterprise (its sites: acc-worked-s1)"}]


def test_an_uploaded_file_may_carry_a_site_column(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    text = "period,process,source_type,item,quantity,unit,direction,site\n2023-08,auxiliary,electricity,grid,10,MWh,in,acc-worked-s1\n"
    r = client.post(f"/api/v1/inventory/{WORKED}/activity", headers=headers["admin"],
                    files={"file": ("sites.csv", text.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    document = _inventory(client, headers["gov"], WORKED, year=2023, month=8)
    assert [line["site"] for line in document["lines"]] == ["acc-worked-s1"]
