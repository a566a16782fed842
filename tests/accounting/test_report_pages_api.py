"""What the accounting pages ask of the API besides the inventory and workflow endpoints: what may be entered
(activity-options), the upload template (CSV and XLSX, which upload as they are), reading a stored version
back, the list of reports in scope, and who may enter activity data ('activity_data')."""

from __future__ import annotations

import io
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.auth.access import ROLE_PERMISSIONS
from carbon_domain.factors import FactorLibrary
from carbon_domain.reports.entry import TEMPLATE_COLUMNS, activity_options, template_rows
from tests.api.conftest import make_user

PAGES = "acc-pages"
YEAR = 2024


@pytest.fixture(scope="module")
def pages(client: TestClient, headers: dict[str, dict[str, str]], database_url: str) -> dict[str, dict[str, str]]:
    """acc-pages (CN-ZJ-HZ, two sites) and its enterprise user `ent_pages`."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region, industry) VALUES"
                     " (%s, 'Pages steel', 'CN-ZJ-HZ', 'steel') ON CONFLICT DO NOTHING", (PAGES,))
        for site, province in (("acc-pages-a", "zhejiang"), ("acc-pages-b", "zhejiang")):
            conn.execute("INSERT INTO sites (site_id, enterprise_id, name, province) VALUES (%s, %s, %s, %s)"
                         " ON CONFLICT DO NOTHING", (site, PAGES, site, province))
    return {"ent_pages": make_user(client, headers["admin"], "enterprise", enterprise_id=PAGES)[2]}


def test_activity_data_permission_is_the_enterprises_and_the_administrators() -> None:
    assert {role for role, granted in ROLE_PERMISSIONS.items() if "activity_data" in granted} == {"enterprise", "admin"}


def test_activity_options_list_the_factor_librarys_items_and_the_enterprises_sites(
    client: TestClient, headers: dict[str, dict[str, str]], pages: dict[str, dict[str, str]]
) -> None:
    r = client.get(f"/api/v1/inventory/{PAGES}/activity-options", headers=pages["ent_pages"])
    assert r.status_code == 200, r.text
    body = r.json()
    by_type = {s["source_type"]: s for s in body["source_types"]}
    gas = next(i for i in by_type["combustion"]["items"] if i["item"] == "natural_gas")
    expected = activity_options(FactorLibrary.default(), series="ndrc-steel-2013")
    assert ([s["site_id"] for s in body["sites"]], gas["unit"], gas["units"], by_type["electricity"]["directions"],
            by_type["fixed_carbon"]["directions"], body["qualities"]) == (
        ["acc-pages-a", "acc-pages-b"], "1e4Nm3", ["1e4Nm3", "Nm3"], ["in", "out"], ["out"],
        ["measured", "calculated", "estimated"])
    # the stored library starts as the default one: every default fuel is offered
    assert ({i["item"] for i in by_type["combustion"]["items"]}
            >= {i["item"] for i in expected["source_types"][0]["items"]})


@pytest.mark.parametrize(("path", "who", "status"), [
    (f"/api/v1/inventory/{PAGES}/activity-options", "tech", 403),
    (f"/api/v1/inventory/{PAGES}/activity-options", "gov_gd", 404),
    (f"/api/v1/inventory/{PAGES}/activity-options?series=no-such", "gov", 422),
    (f"/api/v1/inventory/{PAGES}/activity-template.csv?year=2024", "anonymous", 401),
    (f"/api/v1/inventory/{PAGES}/activity-template.pdf?year=2024", "gov", 422),
    (f"/api/v1/inventory/{PAGES}/activity-template.csv", "gov", 422),
    (f"/api/v1/inventory/{PAGES}/activity/999", "gov", 404),
    (f"/api/v1/inventory/{PAGES}/activity/0", "gov", 422),
    ("/api/v1/reports?year=1800", "gov", 422),
    ("/api/v1/reports", "tech", 403),
])
def test_page_endpoints_refuse_bad_requests_and_callers_with_4xx(
    client: TestClient, headers: dict[str, dict[str, str]], pages: dict[str, dict[str, str]], path: str, who: str,
    status: int
) -> None:
    r = client.get(path, headers=headers[who])
    assert (r.status_code, bool(r.json().get("detail"))) == (status, True)


def test_only_callers_with_activity_data_may_enter_data(client: TestClient, headers: dict[str, dict[str, str]],
                                                        pages: dict[str, dict[str, str]]) -> None:
    line = {"period": f"{YEAR}-02", "process": "rolling", "source_type": "heat", "item": "heat", "quantity": 10,
            "unit": "GJ", "direction": "in"}
    by_government = client.post(f"/api/v1/inventory/{PAGES}/activity", headers=headers["gov"], json={"lines": [line]})
    token = client.post("/api/v1/auth/tokens", headers=pages["ent_pages"],
                        json={"name": "erp without entry", "scopes": ["emissions"], "expires_in_days": 1})
    assert token.status_code == 201, token.text
    by_token = client.post(f"/api/v1/inventory/{PAGES}/activity",
                           headers={"Authorization": f"Bearer {token.json()['token']}"}, json={"lines": [line]})
    assert (by_government.status_code, by_token.status_code, by_token.json()["detail"]) == (
        403, 403, "this machine token lacks the 'activity_data' scope")


@pytest.fixture(scope="module")
def uploaded(client: TestClient, pages: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The CSV template uploaded as it is by the enterprise."""
    template = client.get(f"/api/v1/inventory/{PAGES}/activity-template.csv", headers=pages["ent_pages"],
                          params={"year": YEAR})
    assert template.status_code == 200, template.text
    r = client.post(f"/api/v1/inventory/{PAGES}/activity", headers=pages["ent_pages"],
                    files={"file": ("template.csv", template.content, "text/csv")}, data={"quality": "estimated"})
    assert r.status_code == 201, r.text
    return {"template": template, "stored": r.json()}


def test_the_csv_template_uploads_as_it_is_and_reads_back_line_by_line(
    client: TestClient, pages: dict[str, dict[str, str]], uploaded: dict[str, Any]
) -> None:
    template = uploaded["template"]
    version = uploaded["stored"]["version"]
    back = client.get(f"/api/v1/inventory/{PAGES}/activity/{version}", headers=pages["ent_pages"]).json()
    expected = template_rows(activity_options(FactorLibrary.default(), series="ndrc-steel-2013"), year=YEAR,
                             site="acc-pages-a")
    header = template.content.decode("utf-8-sig").splitlines()[0]
    assert (template.headers["content-disposition"], header, back["origin"], back["filename"]) == (
        f'attachment; filename="{PAGES}-activity-template-{YEAR}.csv"', ",".join(TEMPLATE_COLUMNS), "csv",
        "template.csv")
    # line numbers are the file's own: the header is line 1
    assert [{k: row[k] for k in (*TEMPLATE_COLUMNS, "line", "quality")} for row in back["lines"]] == [
        {**line, "line": n, "quality": "estimated"} for n, line in enumerate(expected, start=2)]


def test_the_xlsx_template_uploads_as_it_is_and_lists_what_is_allowed(
    client: TestClient, pages: dict[str, dict[str, str]]
) -> None:
    r = client.get(f"/api/v1/inventory/{PAGES}/activity-template.xlsx", headers=pages["ent_pages"],
                   params={"year": YEAR + 1})
    assert r.status_code == 200, r.text
    book = load_workbook(io.BytesIO(r.content))
    allowed = [tuple(row) for row in book["allowed"].iter_rows(min_row=2, max_col=3, values_only=True)]
    upload = client.post(f"/api/v1/inventory/{PAGES}/activity", headers=pages["ent_pages"],
                         files={"file": ("t.xlsx", r.content, "application/octet-stream")})
    assert (book.sheetnames, ("combustion", "natural_gas", "1e4Nm3") in allowed, upload.status_code) == (
        ["activity", "allowed"], True, 201), upload.text


def test_reports_list_the_enterprise_years_in_scope_with_their_state(
    client: TestClient, headers: dict[str, dict[str, str]], pages: dict[str, dict[str, str]],
    uploaded: dict[str, Any]
) -> None:
    before = client.get("/api/v1/reports", headers=headers["gov"], params={"enterprise": PAGES, "year": YEAR}).json()
    submit = client.post(f"/api/v1/reports/{PAGES}/{YEAR}/actions/submit", headers=pages["ent_pages"], json={})
    assert submit.status_code == 200, submit.text
    after = client.get("/api/v1/reports", headers=pages["ent_pages"]).json()
    hidden = client.get("/api/v1/reports", headers=headers["gov_gd"], params={"enterprise": PAGES}).json()
    row = next(r for r in after["reports"] if r["year"] == YEAR)
    assert ([(r["enterprise_id"], r["year"], r["state"], r["snapshot_id"], r["lines"]) for r in before["reports"]],
            (row["state"], row["snapshot_id"], row["total_tco2"], row["snapshots"], row["sites"]),
            {r["enterprise_id"] for r in after["reports"]}, hidden["reports"]) == (
        [(PAGES, YEAR, "draft", None, uploaded["stored"]["lines"])],
        ("submitted", submit.json()["snapshot"]["snapshot_id"], submit.json()["snapshot"]["total_tco2"], 1,
         ["acc-pages-a", "acc-pages-b"]),
        {PAGES}, [])


def test_a_snapshots_frozen_document_is_read_back_as_submitted(
    client: TestClient, headers: dict[str, dict[str, str]], pages: dict[str, dict[str, str]],
    uploaded: dict[str, Any]
) -> None:
    flow = client.get(f"/api/v1/reports/{PAGES}/{YEAR}/workflow", headers=headers["gov"]).json()
    if flow["snapshot_id"] is None:  # run alone: submit here
        submitted = client.post(f"/api/v1/reports/{PAGES}/{YEAR}/actions/submit", headers=pages["ent_pages"], json={})
        assert submitted.status_code == 200, submitted.text
        flow = client.get(f"/api/v1/reports/{PAGES}/{YEAR}/workflow", headers=headers["gov"]).json()
    snapshot = flow["snapshots"][-1]
    r = client.get(f"/api/v1/reports/{PAGES}/{YEAR}/snapshots/{snapshot['snapshot_id']}", headers=headers["gov"])
    missing = client.get(f"/api/v1/reports/{PAGES}/{YEAR - 1}/snapshots/{snapshot['snapshot_id']}",
                         headers=headers["gov"])
    hidden = client.get(f"/api/v1/reports/{PAGES}/{YEAR}/snapshots/{snapshot['snapshot_id']}",
                        headers=headers["gov_gd"])
    body = r.json()
    assert (r.status_code, body["document_sha256"], body["total_tco2"], body["document"]["total_tco2"],
            len(body["document"]["lines"]), missing.status_code, hidden.status_code) == (
        200, snapshot["document_sha256"], snapshot["total_tco2"], snapshot["total_tco2"],
        uploaded["stored"]["lines"], 404, 404)
