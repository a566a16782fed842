"""/api/v1/efficiency-code: codes computed from the monitoring figures of the synthetic prefecture (seeded with its
codes), computation jobs with progress and recorded recomputations after a corrected figure or a new unit, carbon
accounts traced to the figures and factor rows, distributions and the watch list in the caller's scope, CSV and
XLSX exports, and certificates verified publicly without figures."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from carbonflow.demo.region_seed import generate
from tests.api.conftest import make_user
from tests.api.efficiency_seed import METER, STEEL, seed_prefecture
from tests.api.test_monitoring import credit_code

BASE = "/api/v1/efficiency-code"


@pytest.fixture(scope="module")
def seeded(database_url: str, api_app_client: TestClient) -> dict[str, int]:
    return seed_prefecture(database_url)


@pytest.fixture(scope="module")
def huzhou(api_app_client: TestClient, admin_headers: dict[str, str]) -> dict[str, str]:
    return make_user(api_app_client, admin_headers, "government", region="CN-ZJ-HU")[2]


def _units(client: TestClient, headers: dict[str, str], period: str = "2025") -> dict[str, dict[str, Any]]:
    r = client.get(f"{BASE}/units", headers=headers, params={"period": period})
    assert r.status_code == 200, r.text
    return {row["credit_code"]: row for row in r.json()["units"]}


def test_seeding_codes_every_unit_of_the_prefecture_or_says_why_not(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    rows = _units(api_app_client, huzhou)
    prefecture = generate().units
    mine = [rows[u.credit_code] for u in prefecture]
    reasons = {(u.kind, u.industry_code[:2], rows[u.credit_code]["excluded_reason"]) for u in prefecture
               if rows[u.credit_code]["grade"] is None}
    assert (all(r["computed"] for r in mine), sum(r["grade"] is not None for r in mine) > 250,
            rows[STEEL.credit_code]["code"] is not None, all(r["synthetic"] for r in mine),
            {reason for _, _, reason in reasons} <= {"excluded_industry", "no_value_added", "missing_months"},
            ("enterprise", "44", "excluded_industry") in reasons,
            ("public_institution", "83", "no_value_added") in reasons) == (True, True, True, True, True, True, True)


def test_the_steelworks_account_traces_its_code_to_the_figures_factor_rows_and_metered_activities(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    unit_id = seeded[STEEL.credit_code]
    r = api_app_client.get(f"{BASE}/units/{unit_id}/account", headers=huzhou, params={"period": "2025"})
    assert r.status_code == 200, r.text
    body = r.json()
    inputs = body["result"]["provenance"]["inputs"]
    energy = [f for f in body["figures"] if f["tco2"] is not None]
    generation = sum(f["quantity"] for f in body["figures"] if f["item"] == "own_generation")
    value_added = sum(f["quantity"] for f in body["figures"] if f["item"] == "value_added")
    industry = body["result"]["provenance"]["industry"]
    step = body["next_grade"]
    assert (math.isclose(inputs["energy_co2_t"], sum(f["tco2"] for f in energy), rel_tol=1e-9),
            math.isclose(inputs["own_generation_mwh"], generation, rel_tol=1e-9) and generation > 0,
            math.isclose(inputs["value_added_10k_yuan"], value_added, rel_tol=1e-9),
            math.isclose(body["result"]["intensity"], inputs["net_co2_t"] / value_added, rel_tol=1e-9),
            math.isclose(body["result"]["efficiency"], body["result"]["intensity"] / industry["intensity"],
                         rel_tol=1e-9),
            all(f["factor_ids"] for f in energy),
            [h["period"] for h in body["history"]], body["unit"]["enterprise_id"],
            METER in body["meters"],
            len(body["drivers"]["months"]), math.isclose(sum(e["share"] for e in body["drivers"]["energy"]), 1.0),
            step is None or step["target_grade"] == body["result"]["grade"] - 1) == (
        True, True, True, True, True, True, ["2023", "2024", "2025"], "demo-steel", True, 12, True, True)


def test_a_corrected_monthly_figure_recomputes_its_year_as_a_recorded_run_naming_the_unit(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    unit_id = seeded[STEEL.credit_code]
    before = api_app_client.get(f"{BASE}/recomputations", headers=huzhou, params={"period": "2024"}).json()["runs"]
    r = api_app_client.put(f"/api/v1/monitoring/units/{unit_id}/figures/2024-03/value_added", headers=huzhou,
                           json={"quantity": 123456.0, "unit": "1e4CNY", "reason": "statistics bureau correction"})
    assert r.status_code == 200, r.text
    runs = api_app_client.get(f"{BASE}/recomputations", headers=huzhou, params={"period": "2024"}).json()["runs"]
    account = api_app_client.get(f"{BASE}/units/{unit_id}/account", headers=huzhou, params={"period": "2024"}).json()
    assert (len(runs) - len(before), "corrected monthly figures" in runs[0]["reason"],
            str(unit_id) in runs[0]["reason"], runs[0]["computed_by"] == r.json()["revisions"][-1]["recorded_by"],
            account["result"]["run_id"], account["result"]["provenance"]["inputs"]["value_added_10k_yuan"] > 123456) \
        == (1, True, True, True, runs[0]["run_id"], True)


def test_computation_is_a_job_with_progress_that_skips_years_whose_inputs_are_unchanged(
        api_app_client: TestClient, admin_headers: dict[str, str], huzhou: dict[str, str],
        seeded: dict[str, int]) -> None:
    r = api_app_client.post(f"{BASE}/compute", headers=huzhou, json={"periods": ["2023", "2024"]})
    assert r.status_code == 202, r.text
    forced = api_app_client.get(f"{BASE}/jobs/{r.json()['job_id']}", headers=huzhou).json()
    r = api_app_client.post(f"{BASE}/compute", headers=huzhou, json={"periods": ["2023"], "only_changed": True})
    skipped = api_app_client.get(f"{BASE}/jobs/{r.json()['job_id']}", headers=huzhou).json()
    runs = api_app_client.get(f"{BASE}/recomputations", headers=huzhou, params={"period": "2023"}).json()["runs"]
    audited = api_app_client.get("/api/v1/audit", headers=admin_headers,
                                 params={"action": "efficiency_code.compute", "limit": 20}).json()["entries"]
    assert ((forced["state"], forced["done"], forced["total"], len(forced["run_ids"])),
            (skipped["state"], skipped["done"], skipped["run_ids"], "inputs unchanged" in skipped["message"]),
            runs[0]["run_id"] == forced["run_ids"][0],
            f"efficiency_code_job:{forced['job_id']}" in [e["target"] for e in audited]) == (
        ("done", 2, 2, 2), ("done", 1, [], True), True, True)


def test_a_new_unit_in_an_industry_imported_recomputes_the_year_and_the_run_names_it(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    code = credit_code("330502")
    lines = "\n".join(f"{code},Test new mill,330502,312,2025-{m:02d},{item},{qty},{unit}" for m in range(1, 13)
                      for item, qty, unit in (("coal", 500, "t"), ("value_added", 400, "1e4CNY")))
    data = ("credit_code,unit_name,region_code,industry_code,month,item,quantity,unit\n" + lines + "\n").encode()
    r = api_app_client.post("/api/v1/monitoring/imports", headers=huzhou,
                            files={"file": ("f.csv", data, "text/csv")}, data={"take_valid": "false"})
    assert r.status_code in (200, 201), r.text
    runs = api_app_client.get(f"{BASE}/recomputations", headers=huzhou, params={"period": "2025"}).json()["runs"]
    new = _units(api_app_client, huzhou)[code]
    assert (f"new unit(s) in industry 312: {new['unit_id']}" in runs[0]["reason"], new["grade"] is not None,
            new["region_code"]) == (True, True, "330502")


def test_a_unit_registered_under_a_section_letter_only_is_left_out_and_the_others_are_computed(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    code = credit_code("330521")
    r = api_app_client.post("/api/v1/monitoring/units", headers=huzhou, json={
        "credit_code": code, "name": "Test section-only unit", "region_code": "330521", "industry_code": "C"})
    assert r.status_code == 201, r.text
    r = api_app_client.post(f"{BASE}/compute", headers=huzhou, json={"periods": ["2025"]})
    job = api_app_client.get(f"{BASE}/jobs/{r.json()['job_id']}", headers=huzhou).json()
    rows = _units(api_app_client, huzhou)
    assert (job["state"], rows[code]["computed"], rows[STEEL.credit_code]["code"] is not None) == (
        "done", False, True)


def test_a_government_user_sees_the_distribution_of_its_region_only(
        api_app_client: TestClient, admin_headers: dict[str, str], huzhou: dict[str, str],
        seeded: dict[str, int]) -> None:
    lishui = make_user(api_app_client, admin_headers, "government", region="CN-ZJ-LS")[2]
    mine = api_app_client.get(f"{BASE}/distribution", headers=huzhou, params={"period": "2025", "by": "region"})
    theirs = api_app_client.get(f"{BASE}/distribution", headers=lishui, params={"period": "2025", "by": "region"})
    industry = api_app_client.get(f"{BASE}/distribution", headers=huzhou, params={"period": "2025", "by": "industry"})
    assert mine.status_code == theirs.status_code == industry.status_code == 200
    groups = {g["key"]: g["counts"] for g in mine.json()["groups"]}
    in_scope = _units(api_app_client, huzhou)
    assert (set(groups) >= {"330502", "330521", "330522"}, all(k.startswith("3305") for k in groups),
            sum(c["total"] for c in groups.values()) == len(in_scope), mine.json()["synthetic"],
            [g for g in theirs.json()["groups"] if g["key"].startswith("3305")],
            sum(g["counts"]["total"] for g in industry.json()["groups"]) == len(in_scope)) == (
        True, True, True, True, [], True)


def test_the_watch_list_holds_units_whose_grade_worsened_or_intensity_rose(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    r = api_app_client.get(f"{BASE}/watch", headers=huzhou, params={"rising": 2})
    assert r.status_code == 200, r.text
    listed = r.json()["units"]

    def deserves(unit: dict[str, Any]) -> bool:
        marks = unit["history"]
        worse = len(marks) >= 2 and None not in (marks[-1]["grade"], marks[-2]["grade"]) \
            and marks[-1]["grade"] > marks[-2]["grade"]
        rises = len(marks) >= 3 and all(marks[i]["intensity"] is not None and marks[i + 1]["intensity"] is not None
                                        and marks[i + 1]["intensity"] > marks[i]["intensity"] for i in (-3, -2))
        return worse or rises

    assert (len(listed) > 0, all(deserves(u) for u in listed), all(u["reasons"] for u in listed)) == (True, True, True)


def test_exports_as_csv_and_xlsx_hold_the_units_in_scope(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    in_scope = _units(api_app_client, huzhou)
    as_csv = api_app_client.get(f"{BASE}/export", headers=huzhou, params={"period": "2025", "format": "csv"})
    as_xlsx = api_app_client.get(f"{BASE}/export", headers=huzhou, params={"period": "2025", "format": "xlsx"})
    assert as_csv.status_code == as_xlsx.status_code == 200
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(as_xlsx.content))["codes"]
    steel = next(r for r in rows if r["credit_code"] == STEEL.credit_code)
    assert (len(rows), sheet.max_row - 1, steel["code"], as_xlsx.headers["content-type"].endswith(".sheet")) == (
        len(in_scope), len(in_scope), in_scope[STEEL.credit_code]["code"], True)


def test_a_certificate_carries_a_qr_code_to_a_public_verification_without_figures(
        api_app_client: TestClient, huzhou: dict[str, str], admin_headers: dict[str, str],
        seeded: dict[str, int]) -> None:
    unit_id = seeded[STEEL.credit_code]
    r = api_app_client.post(f"{BASE}/units/{unit_id}/certificate", headers=huzhou, params={"period": "2025"})
    assert r.status_code == 200, r.text
    token = r.headers["x-verify-url"].rsplit("/", 1)[1]
    public = api_app_client.get(f"{BASE}/public/certificates/{token}")
    unknown = api_app_client.get(f"{BASE}/public/certificates/{'x' * 24}")
    audited = api_app_client.get("/api/v1/audit", headers=admin_headers,
                                 params={"action": "efficiency_code.certificate.issue", "limit": 20}).json()
    body = public.json()
    assert (r.content[:5], public.status_code, body["credit_code"], body["period"], body["code"] is not None,
            sorted(body), unknown.status_code,
            any(e["after"]["token"] == token for e in audited["entries"])) == (
        b"%PDF-", 200, STEEL.credit_code, "2025", True,
        ["code", "credit_code", "issued_at", "period", "synthetic", "unit_name", "valid"], 404, True)


def test_a_unit_without_a_code_gets_no_certificate_and_is_told_why(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    power = next(u for u in generate().units if u.industry_code == "441")
    r = api_app_client.post(f"{BASE}/units/{seeded[power.credit_code]}/certificate", headers=huzhou,
                            params={"period": "2025"})
    assert (r.status_code, "GB/T 4754" in r.json()["detail"]) == (404, True)


def test_an_enterprise_sees_only_its_own_unit_and_cannot_compute(
        api_app_client: TestClient, admin_headers: dict[str, str], seeded: dict[str, int]) -> None:
    steel = make_user(api_app_client, admin_headers, "enterprise", enterprise_id="demo-steel")[2]
    other = next(u for u in generate().units if u.kind == "enterprise" and u.enterprise_id is None)
    rows = _units(api_app_client, steel)
    outside = api_app_client.get(f"{BASE}/units/{seeded[other.credit_code]}/account", headers=steel)
    compute = api_app_client.post(f"{BASE}/compute", headers=steel, json={"periods": ["2025"]})
    assert (list(rows), outside.status_code, compute.status_code) == ([STEEL.credit_code], 404, 403)


@pytest.mark.parametrize(("role", "path", "status"), [
    ("anonymous", "/units", 401), ("auditor", "/units", 403), ("technician", "/distribution", 403),
    ("auditor", "/watch", 403),
])
def test_roles_without_the_view_permission_are_refused(api_app_client: TestClient,
                                                       role_headers: dict[str, dict[str, str]], role: str, path: str,
                                                       status: int) -> None:
    assert api_app_client.get(f"{BASE}{path}", headers=role_headers[role]).status_code == status


@pytest.mark.parametrize(("body", "needle"), [
    ({"periods": ["2025-13"]}, "period"), ({"periods": []}, "periods"), ({"periods": ["2025"], "x": 1}, "x"),
    ({"periods": ["2024-08..2025-06"]}, "12 months"),
])
def test_a_bad_computation_request_is_a_422_that_says_why(api_app_client: TestClient, huzhou: dict[str, str],
                                                          body: dict[str, Any], needle: str) -> None:
    r = api_app_client.post(f"{BASE}/compute", headers=huzhou, json=body)
    assert (r.status_code, needle in r.text) == (422, True)
