"""What the monitoring pages ask of the API beyond the views (api/monitoring/): a unit archive's year totals and
its metered sites, names in the caller's language, the scope flag of regions, the synthetic flag, public
institutions in scope, and the map's boundary files.

Units are the tests' own (fresh credit codes) in Taizhou (331000), which no other test writes to.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_user
from tests.api.test_monitoring import credit_code, csv_file, upload

REGION = "331000"


@pytest.fixture(scope="module")
def client(api_app_client: TestClient) -> TestClient:
    return api_app_client


def test_unit_archive_year_total_adds_up_its_months_once_after_a_correction(
        client: TestClient, admin_headers: dict[str, str]) -> None:
    code = credit_code(REGION)
    upload(client, admin_headers, csv_file(f"{code},Archive Co,{REGION},313,2025-01,electricity,100,MWh",
                                           f"{code},Archive Co,{REGION},313,2025-02,electricity,200,MWh",
                                           f"{code},Archive Co,{REGION},313,2025-03,electricity,300,MWh",
                                           f"{code},Archive Co,{REGION},313,2025-01,value_added,50,1e4CNY",
                                           f"{code},Archive Co,{REGION},313,2025-02,value_added,50,1e4CNY",
                                           f"{code},Archive Co,{REGION},313,2024-02,electricity,400,MWh"))
    unit_id = client.get("/api/v1/monitoring/units", headers=admin_headers,
                         params={"region": REGION}).json()["units"]
    unit_id = next(u["unit_id"] for u in unit_id if u["credit_code"] == code)
    fixed = client.put(f"/api/v1/monitoring/units/{unit_id}/figures/2025-02/electricity", headers=admin_headers,
                       json={"quantity": 250, "unit": "MWh", "reason": "meter reading corrected"})
    body = client.get(f"/api/v1/monitoring/units/{unit_id}", headers=admin_headers, params={"year": 2025}).json()
    electricity = body["total"]["energy"]["electricity"]
    monthly_tco2 = sum(m["energy"]["electricity"]["tco2"] for m in body["months"])
    assert (fixed.status_code, len(fixed.json()["revisions"]), electricity["quantity"], body["total"]["tco2"],
            body["total"]["value_added_1e4_cny"], body["total"]["yoy_tco2"]) == (
        200, 2, 650.0, pytest.approx(monthly_tco2), 100.0, pytest.approx(650 / 400 - 1))


def test_unit_archive_lists_its_site_with_meters_and_whether_it_is_live(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    tag = f"arch-{uuid.uuid4().hex[:8]}"
    db.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Archive Steel', 'CN-ZJ-TZ')", (tag,))
    db.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Archive works')", (f"{tag}-s", tag))
    db.execute("INSERT INTO devices (device_id, site_id, process, last_seen) VALUES (%s, %s, 'rolling', now())",
               (f"{tag}-m", f"{tag}-s"))
    db.execute("INSERT INTO points (device_id, point, unit, kind, activity)"
               " VALUES (%s, 'kwh', 'kWh', 'counter', 'electricity')", (f"{tag}-m",))
    code = credit_code(REGION)
    upload(client, admin_headers, csv_file(f"{code},Archive Steel,{REGION},312,2025-01,coal,10,t"))
    unit_id = db.execute("UPDATE monitoring_units SET enterprise_id = %s WHERE credit_code = %s RETURNING unit_id",
                         (tag, code)).fetchone()[0]  # type: ignore[index]
    body = client.get(f"/api/v1/monitoring/units/{unit_id}", headers=admin_headers,
                      params={"year": 2025, "lang": "en"}).json()
    site = body["sites"][0]
    assert (len(body["sites"]), site["site_id"], site["live"], [m["device_id"] for m in site["meters"]],
            [p["point"] for p in site["meters"][0]["points"]], body["unit"]["region_name"],
            body["unit"]["high_energy"], body["synthetic"]) == (
        1, f"{tag}-s", True, [f"{tag}-m"], ["kwh"], "Taizhou", "steel", False)


def test_names_come_in_the_language_asked_for(client: TestClient, admin_headers: dict[str, str]) -> None:
    code = credit_code(REGION)
    upload(client, admin_headers, csv_file(f"{code},Lang Co,{REGION},221,2025-05,heat,10,GJ"))
    english = client.get("/api/v1/monitoring/view", headers=admin_headers,
                         params={"region": REGION, "year": 2025, "by": "industry", "lang": "en"}).json()
    chinese = client.get("/api/v1/monitoring/view", headers=admin_headers,
                         params={"region": REGION, "year": 2025, "by": "industry"}).json()
    industries = client.get("/api/v1/monitoring/industries", headers=admin_headers, params={"lang": "en"}).json()
    paper = next(c for c in industries["industries"] if c["code"] == "22")
    assert (english["region"]["display_name"], chinese["region"]["display_name"],
            next(r["display_name"] for r in english["rows"] if r["key"] == "22"),
            next(r["display_name"] for r in chinese["rows"] if r["key"] == "22"), paper["high_energy"]) == (
        "Taizhou", "台州市", paper["name_en"], paper["name"], "paper")


def test_unknown_language_is_refused(client: TestClient, admin_headers: dict[str, str]) -> None:
    r = client.get("/api/v1/monitoring/regions", headers=admin_headers, params={"lang": "fr"})
    assert (r.status_code, "lang" in r.text) == (422, True)


def test_regions_say_which_are_in_the_callers_scope(client: TestClient, admin_headers: dict[str, str]) -> None:
    _, _, huzhou = make_user(client, admin_headers, "government", region="CN-ZJ-HU")
    regions = {r["code"]: r["in_scope"] for r in client.get("/api/v1/monitoring/regions", headers=huzhou).json()[
        "regions"]}
    assert (regions["330000"], regions["330500"], regions["330521"], regions["331000"]) == (False, True, True, False)


def test_view_trend_carries_each_energy_type_and_the_synthetic_flag(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    code = credit_code(REGION)
    upload(client, admin_headers, csv_file(f"{code},Trend Co,{REGION},265,2023-07,natural_gas,3,1e4Nm3",
                                           f"{code},Trend Co,{REGION},265,2023-07,electricity,40,MWh"))
    before = client.get("/api/v1/monitoring/view", headers=admin_headers,
                        params={"region": REGION, "year": 2023}).json()
    db.execute("UPDATE monitoring_units SET synthetic = true WHERE credit_code = %s", (code,))
    after = client.get("/api/v1/monitoring/view", headers=admin_headers,
                       params={"region": REGION, "year": 2023}).json()
    db.execute("UPDATE monitoring_units SET synthetic = false WHERE credit_code = %s", (code,))
    july = next(m for m in after["trend"] if m["month"] == "2023-07")
    assert (before["synthetic"], after["synthetic"], sorted(july["energy"]), july["energy"]["electricity"]["quantity"],
            july["tco2"]) == (False, True, ["electricity", "natural_gas"], 40.0,
                              pytest.approx(sum(e["tco2"] for e in july["energy"].values())))


def test_institutions_view_lists_the_public_institutions_in_scope_with_their_reduction(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    school, hospital = credit_code(REGION), credit_code(REGION)
    upload(client, admin_headers, csv_file(f"{school},Scope School,{REGION},832,2024-04,electricity,100,MWh",
                                           f"{school},Scope School,{REGION},832,2025-04,electricity,90,MWh",
                                           f"{hospital},Scope Hospital,{REGION},841,2025-04,electricity,50,MWh"))
    db.execute("UPDATE monitoring_units SET kind = 'public_institution', public = (credit_code = %s)"
               " WHERE credit_code IN (%s, %s)", (school, school, hospital))
    _, _, taizhou = make_user(client, admin_headers, "government", region="CN-ZJ-TZ")
    _, _, hangzhou = make_user(client, admin_headers, "government", region="CN-ZJ-HZ")
    own = client.get("/api/v1/monitoring/institutions", headers=taizhou, params={"year": 2025, "lang": "en"}).json()
    other = client.get("/api/v1/monitoring/institutions", headers=hangzhou, params={"year": 2025}).json()
    rows = {r["name"]: r for r in own["institutions"]}
    assert (sorted(rows), rows["Scope School"]["reduction_tco2"], rows["Scope School"]["public"],
            rows["Scope Hospital"]["public"], rows["Scope School"]["region_name"],
            own["totals"]["institutions"], [r["name"] for r in other["institutions"]
                                            if r["name"].startswith("Scope")]) == (
        ["Scope Hospital", "Scope School"], pytest.approx(10 * 0.5306), True, False, "Taizhou", 2, [])


def test_public_page_names_regions_in_english_when_asked(client: TestClient, admin_headers: dict[str, str],
                                                         db: psycopg.Connection) -> None:
    code = credit_code(REGION)
    upload(client, admin_headers, csv_file(f"{code},Open Library,{REGION},922,2025-06,electricity,10,MWh"))
    db.execute("UPDATE monitoring_units SET kind = 'public_institution', public = true WHERE credit_code = %s",
               (code,))
    body = client.get("/api/v1/monitoring/public/institutions", params={"year": 2025, "lang": "en"}).json()
    library = next(r for r in body["institutions"] if r["name"] == "Open Library")
    assert (library["region_name"], body["totals"]["institutions"] == len(body["institutions"])) == ("Taizhou", True)


def test_demo_prefecture_boundary_is_a_labelled_schematic_of_its_five_counties(
        client: TestClient, admin_headers: dict[str, str]) -> None:
    r = client.get("/api/v1/monitoring/boundaries/330500", headers=admin_headers)
    body = r.json()
    assert (r.status_code, body["schematic"], sorted(f["properties"]["code"] for f in body["features"])) == (
        200, True, ["330502", "330503", "330521", "330522", "330523"])


def test_missing_boundary_file_says_where_it_looked(client: TestClient, admin_headers: dict[str, str]) -> None:
    r = client.get("/api/v1/monitoring/boundaries/331000", headers=admin_headers)
    assert (r.status_code, "331000.geojson" in r.json()["detail"]) == (404, True)


def test_a_real_boundary_file_is_read_from_the_configured_folder_and_a_bad_one_refused(
        client: TestClient, admin_headers: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    square = [[[121.0, 28.5], [121.5, 28.5], [121.5, 29.0], [121.0, 29.0], [121.0, 28.5]]]
    (tmp_path / "331000.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": 331002}, "geometry": {"type": "Polygon", "coordinates": square}}]}))
    (tmp_path / "330100.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "no code"}, "geometry": None}]}))
    monkeypatch.setenv("CARBONFLOW_BOUNDARIES_DIR", str(tmp_path))
    good = client.get("/api/v1/monitoring/boundaries/331000", headers=admin_headers)
    bad = client.get("/api/v1/monitoring/boundaries/330100", headers=admin_headers)
    assert (good.status_code, good.json()["schematic"], good.json()["features"][0]["properties"]["code"],
            bad.status_code, "properties.code" in bad.json()["detail"]) == (200, False, "331002", 422, True)


def test_boundaries_need_the_monitoring_permission(client: TestClient,
                                                   role_headers: dict[str, dict[str, str]]) -> None:
    assert [client.get("/api/v1/monitoring/boundaries/330500", headers=role_headers[r]).status_code
            for r in ("anonymous", "auditor")] == [401, 403]


def test_anomaly_list_says_when_its_reminders_are_of_synthetic_units(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    code = credit_code(REGION)
    upload(client, admin_headers, csv_file(f"{code},Flag Co,{REGION},313,2025-08,electricity,10,MWh"))
    unit_id = db.execute("UPDATE monitoring_units SET synthetic = true WHERE credit_code = %s RETURNING unit_id",
                         (code,)).fetchone()[0]  # type: ignore[index]
    db.execute("INSERT INTO monitoring_anomalies (unit_id, month, rule, item, detail) VALUES"
               " (%s, '2025-07-01', 'missing_month', 'energy', 'no energy figures for 2025-07')", (unit_id,))
    flagged = client.get("/api/v1/monitoring/anomalies", headers=admin_headers, params={"unit_id": unit_id}).json()
    db.execute("UPDATE monitoring_units SET synthetic = false WHERE unit_id = %s", (unit_id,))
    plain = client.get("/api/v1/monitoring/anomalies", headers=admin_headers, params={"unit_id": unit_id}).json()
    assert (flagged["synthetic"], flagged["anomalies"][0]["synthetic"], plain["synthetic"]) == (True, True, False)
