"""CSV / XLSX exports of /api/v1/projects and /api/v1/assets: the projects in scope, a project's monitoring periods
with their provenance, an enterprise's allowances per year and its ledger; the same figures as the JSON answers,
and only in the caller's scope."""

from __future__ import annotations

import csv
import io
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.api.conftest import make_user, unique
from tests.api.test_projects_assets import seeded, users  # noqa: F401  # the module's fixtures, shared

PROJECTS = "/api/v1/projects"


def _csv(r: Any) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


def _xlsx(r: Any) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"] and r.headers["content-disposition"].endswith('.xlsx"')
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_projects_and_their_periods_export_as_csv_and_xlsx_with_provenance(
        api_app_client: TestClient, users: dict[str, Any]) -> None:  # noqa: F811
    c, owner = api_app_client, users["owner"]
    name = unique("export-pv")
    project = c.post(PROJECTS, headers=owner, json={"enterprise_id": "pj-ent", "name": name, "kind": "grid_pv",
                                                    "grid_region": "east", "budget": 900}).json()
    url = f"{PROJECTS}/{project['project_id']}"
    for point, role in (("export_kwh", "export"), ("import_kwh", "import")):
        assert c.put(f"{url}/points", headers=owner,
                     json={"device_id": "pj-meter", "point": point, "role": role}).status_code == 200
    period = c.post(f"{url}/periods", headers=owner, json={"month_from": "2025-01", "month_to": "2025-01"}).json()

    listed = {row["name"]: row for row in _csv(c.get(PROJECTS, headers=owner, params={"format": "csv"}))}
    assert (listed[name]["kind"], listed[name]["stage"], float(listed[name]["budget"])) == ("grid_pv", "initiated", 900)
    assert name not in {row["name"] for row in _csv(c.get(PROJECTS, headers=users["elsewhere"],
                                                          params={"format": "csv"}))}
    assert name in {row["name"] for row in _xlsx(c.get(PROJECTS, headers=owner, params={"format": "xlsx"}))}

    assert c.get(f"{url}/periods", headers=owner).json()["periods"][0]["er_tco2"] == period["er_tco2"]
    assert c.get(url, headers=owner).json()["verifiers"] == []
    [row] = _xlsx(c.get(f"{url}/periods", headers=users["government"], params={"format": "xlsx"}))
    assert (row["er_tco2"], row["status"], row["formula_version"]) == (
        period["er_tco2"], "computed", period["provenance"]["formula_version"])
    assert set(row["factor_ids"].split("; ")) == set(period["provenance"]["factor_ids"])
    [row] = _csv(c.get(f"{url}/periods", headers=owner, params={"format": "csv"}))
    assert float(row["be_tco2"]) == period["be_tco2"] and "export pj-meter/export_kwh" in row["inputs"]
    assert c.get(f"{url}/periods", headers=users["elsewhere"]).status_code == 404
    assert c.get(f"{url}/periods", headers=owner, params={"format": "pdf"}).status_code == 422


def test_allowances_by_year_and_the_ledger_export_in_scope(api_app_client: TestClient, database_url: str,
                                                           users: dict[str, Any]) -> None:  # noqa: F811
    c = api_app_client
    enterprise = unique("pjx")  # of its own (the ledger is append-only), in CN-GD
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Export test', 'CN-GD')",
                     (enterprise,))
    owner = make_user(c, users["admin"], "enterprise", enterprise_id=enterprise)[2]
    base = f"/api/v1/assets/{enterprise}"
    assert c.put(f"{base}/allowances/2041", headers=users["admin"],
                 json={"method": "benchmark", "benchmark": 0.5, "output": 300, "adjustment": 0.9}).status_code == 201
    assert c.put(f"{base}/allowances/2042", headers=users["admin"],
                 json={"method": "entered", "amount": 120}).status_code == 201
    years = c.get(f"{base}/allowances", headers=owner).json()["allowances"]
    assert [(a["year"], a["method"], a["amount"]) for a in years] == [
        (2042, "entered", 120), (2041, "benchmark", 135)]
    exported = {int(r["year"]): r for r in _csv(c.get(f"{base}/allowances", headers=owner, params={"format": "csv"}))}
    assert (exported[2041]["method"], float(exported[2041]["amount"]), float(exported[2041]["output"])) == (
        "benchmark", 135, 300)
    assert {r["year"]: r["amount"] for r in _xlsx(c.get(f"{base}/allowances", headers=owner,
                                                        params={"format": "xlsx"}))}[2042] == 120
    assert c.get(f"{base}/allowances", headers=users["government"]).status_code == 404  # the government user's CN-ZJ does not cover CN-GD

    assert c.post(f"{base}/transactions", headers=owner, json={
        "kind": "sell", "instrument": "allowance", "vintage": 2041, "quantity": 35, "price": 70,
        "counterparty": "CEEX"}).status_code == 201
    entries = c.get(f"{base}/ledger", headers=owner).json()["entries"]
    sheet = _xlsx(c.get(f"{base}/ledger", headers=owner, params={"format": "xlsx"}))
    assert [(r["kind"], r["quantity"], r["price"]) for r in sheet] == [
        (e["kind"], e["quantity"], e["price"] if e["price"] is not None else None) for e in entries]
    assert ("sell", 35, 70) in [(r["kind"], r["quantity"], r["price"]) for r in sheet]
