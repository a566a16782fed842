"""/api/v1/projects and /api/v1/assets (docs/projects.md): the full lifecycle of a grid-connected PV project
through the API (create -> meter -> compute -> verify -> certify -> hold -> surrender), scoped by role and audited,
and an enterprise's allowances, transactions and compliance position.

Metering data: the pipeline's hourly rollups of three counters of device ``pj-meter`` (written as the stream job
writes them), whose January 2025 increases are the worked example of docs/projects.md: 215.40 MWh exported,
3.25 MWh imported, 0.12 t diesel."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_user, unique

PROJECTS = "/api/v1/projects"
# (point, unit, [(UTC hour, first, last, n_uncertain)]): the December hour is the reading before the period
COUNTERS = [
    ("export_kwh", "kWh", [(datetime(2024, 12, 31, 10, tzinfo=UTC), 1000.0, 1000.0, 0),
                           (datetime(2025, 1, 10, 0, tzinfo=UTC), 1000.0, 100000.0, 0),
                           (datetime(2025, 1, 20, 0, tzinfo=UTC), 100000.0, 216400.0, 0)]),
    ("import_kwh", "kWh", [(datetime(2024, 12, 31, 10, tzinfo=UTC), 500.0, 500.0, 0),
                           (datetime(2025, 1, 10, 0, tzinfo=UTC), 500.0, 3750.0, 0)]),
    ("diesel_t", "t", [(datetime(2024, 12, 31, 10, tzinfo=UTC), 10.0, 10.0, 0),
                       (datetime(2025, 1, 15, 0, tzinfo=UTC), 10.0, 10.12, 1)]),
]


def _seed(conn: psycopg.Connection) -> None:
    for tag, region in (("pj-ent", "CN-ZJ-HZ"), ("pj-ent2", "CN-ZJ"), ("pj-ent3", "CN-GD")):
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, %s, %s)",
                     (tag, f"Project owner {tag}", region))
    conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES ('pj-site', 'pj-ent', 'Rooftop PV')")
    conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES ('pj-meter', 'pj-site', 'pv')")
    for point, unit, hours in COUNTERS:
        key = conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES ('pj-meter', %s, %s, 'counter')"
                           " RETURNING point_key", (point, unit)).fetchone()[0]  # type: ignore[index]
        for hour, first, last, uncertain in hours:
            conn.execute(
                "INSERT INTO rollup_1h (point_key, bucket, n, n_valid, sum, min, max, first_ts, first_value, last_ts,"
                " last_value, worst_quality, n_uncertain, n_bad) VALUES (%s, %s, 2, 2, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s, 0)",
                (key, hour, first + last, first, last, hour + timedelta(minutes=1), first,
                 hour + timedelta(minutes=59), last, 1 if uncertain else 0, uncertain))


@pytest.fixture(scope="module")
def seeded(database_url: str, api_app_client: TestClient) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM enterprises WHERE enterprise_id = 'pj-ent'").fetchone() is None:
            with conn.transaction():
                _seed(conn)


@pytest.fixture(scope="module")
def users(api_app_client: TestClient, admin_headers: dict[str, str], role_headers: dict[str, dict[str, str]],
          seeded: None) -> dict[str, Any]:
    owner = make_user(api_app_client, admin_headers, "enterprise", enterprise_id="pj-ent")
    verifier = make_user(api_app_client, admin_headers, "auditor", enterprises=["pj-ent"])
    government = make_user(api_app_client, admin_headers, "government", region="CN-ZJ")
    elsewhere = make_user(api_app_client, admin_headers, "government", region="CN-GD")
    return {"owner": owner[2], "verifier_name": verifier[0], "verifier": verifier[2], "government": government[2],
            "elsewhere": elsewhere[2], "other_enterprise": role_headers["enterprise"], "admin": admin_headers}


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _audit(client: TestClient, admin: dict[str, str], action: str, target: str) -> list[dict[str, Any]]:
    entries = _ok(client.get("/api/v1/audit", headers=admin, params={"action": action, "limit": 200}))["entries"]
    return [e for e in entries if e["target"] == target]


def test_pv_project_lifecycle_create_meter_compute_verify_certify_hold_surrender(
        api_app_client: TestClient, users: dict[str, Any]) -> None:
    c, owner, admin = api_app_client, users["owner"], users["admin"]
    # create, seen by its region's government, not by another enterprise, another region or an unassigned verifier
    project = _ok(c.post(PROJECTS, headers=owner, json={
        "enterprise_id": "pj-ent", "name": unique("rooftop-pv"), "kind": "grid_pv", "grid_region": "east",
        "budget": 5000, "capacity_kw": 2000}), 201)
    pid, url = project["project_id"], f"{PROJECTS}/{project['project_id']}"
    assert (project["stage"], project["spent"]) == ("initiated", 0)
    assert _ok(c.get(url, headers=users["government"]))["next_stages"] == ["implementing"]
    for outsider in ("other_enterprise", "elsewhere", "verifier"):
        assert c.get(url, headers=users[outsider]).status_code == 404, outsider
    assert c.post(f"{url}/stage", headers=users["government"], json={"to_stage": "implementing"}).status_code == 403

    # lifecycle one stage at a time, audited with its comment
    r = c.post(f"{url}/stage", headers=owner, json={"to_stage": "accepted"})
    assert r.status_code == 409 and "moves next to implementing" in r.json()["detail"]
    _ok(c.post(f"{url}/stage", headers=owner, json={"to_stage": "implementing", "comment": "EPC signed"}))
    [change] = _audit(c, admin, "projects.stage", f"project:{pid}")
    assert (change["before"], change["after"], change["detail"]) == (
        {"stage": "initiated"}, {"stage": "implementing"}, {"comment": "EPC signed"})

    # a document with its hash, spending against the budget, a settled fee
    content = "并网验收报告 acceptance report".encode()
    doc = _ok(c.post(f"{url}/documents", headers=owner, files={"file": ("acceptance.txt", content, "text/plain")}),
              201)
    assert (doc["sha256"], doc["stage"], doc["size_bytes"]) == (hashlib.sha256(content).hexdigest(),
                                                                "implementing", len(content))
    got = c.get(f"{url}/documents/{doc['document_id']}", headers=users["government"])
    assert got.content == content and got.headers["x-content-sha256"] == doc["sha256"]
    assert _ok(c.post(f"{url}/spending", headers=owner, json={"amount": 1200.5, "spent_on": "2025-01-05"}),
               201)["spent"] == 1200.5
    assert _ok(c.put(f"{url}/fees/2025-01", headers=owner, json={"energy_mwh": 212.15, "amount_yuan": 84860}))[
        "fees"][0]["month"] == "2025-01"

    # meter: the plant's counters, bound by role
    for point, role in (("export_kwh", "export"), ("import_kwh", "import"), ("diesel_t", "diesel")):
        _ok(c.put(f"{url}/points", headers=owner, json={"device_id": "pj-meter", "point": point, "role": role}))
    r = c.put(f"{url}/points", headers=owner, json={"device_id": "m-dev-a", "point": "power_kw", "role": "export"})
    assert r.status_code == 422 and "not a device of enterprise 'pj-ent'" in r.json()["detail"]

    # compute: the worked example's figures, with provenance and the readings' quality
    period = _ok(c.post(f"{url}/periods", headers=owner, json={"month_from": "2025-01", "month_to": "2025-01"}), 201)
    assert (round(period["be_tco2"], 3), round(period["pe_tco2"], 3), round(period["er_tco2"], 3)) == (
        146.559, 0.372, 146.187)
    assert {"grid.margin.om.east@2019", "grid.margin.bm.east@2019"} <= set(period["provenance"]["factor_ids"])
    assert period["provenance"]["formula_version"] == "gbt33760-2017/er-v1"
    assert any("diesel pj-meter/diesel_t" in i and "uncertain 1" in i for i in period["provenance"]["inputs"])
    assert c.post(f"{url}/periods", headers=owner,
                  json={"month_from": "2025-01", "month_to": "2025-01"}).status_code == 409
    first = f"{url}/periods/{period['period_id']}"

    # verify: submitted, refused with a finding (kept), recomputed, submitted and verified by the assigned verifier
    _ok(c.post(f"{first}/submit", headers=owner, json={"comment": "January"}))
    assert c.post(f"{first}/verdict", headers=users["verifier"],
                  json={"verdict": "verify", "comment": "ok"}).status_code == 404  # not assigned yet
    _ok(c.post(f"{url}/verifiers", headers=admin, json={"username": users["verifier_name"]}), 201)
    assert _ok(c.get(url, headers=owner))["verifiers"] == [users["verifier_name"]]
    refused = _ok(c.post(f"{first}/verdict", headers=users["verifier"],
                         json={"verdict": "refuse", "comment": "export meter calibration certificate missing"}))
    assert refused["status"] == "refused"
    again = _ok(c.post(f"{url}/periods", headers=owner, json={"month_from": "2025-01", "month_to": "2025-01"}), 201)
    second = f"{url}/periods/{again['period_id']}"
    _ok(c.post(f"{second}/submit", headers=owner, json={"comment": "certificate uploaded"}))
    assert c.post(f"{second}/certify", headers=admin, json={}).status_code == 409  # not verified yet
    _ok(c.post(f"{second}/verdict", headers=users["verifier"], json={"verdict": "verify", "comment": "checked"}))
    kept = _ok(c.get(first, headers=owner))
    assert [(e["action"], e["comment"]) for e in kept["events"]] == [
        ("submit", "January"), ("refuse", "export meter calibration certificate missing")]

    # certify (an administrator), which issues whole tonnes into the owner's holdings
    assert c.post(f"{second}/certify", headers=owner, json={}).status_code == 403
    certified = _ok(c.post(f"{second}/certify", headers=admin, json={"comment": "certified"}))
    assert (certified["status"], certified["issued_tco2"]) == ("certified", 146)
    holdings = _ok(c.get("/api/v1/assets/pj-ent/holdings", headers=owner))["holdings"]
    assert holdings == [{"instrument": "certified_reduction", "vintage": 2025, "quantity": 146.0}]

    # hold -> surrender, never below zero; the ledger exports as CSV; every step audited
    surrender = {"kind": "surrender", "instrument": "certified_reduction", "vintage": 2025, "quantity": 100,
                 "compliance_year": 2025}
    _ok(c.post("/api/v1/assets/pj-ent/transactions", headers=owner, json=surrender), 201)
    r = c.post("/api/v1/assets/pj-ent/transactions", headers=owner, json={**surrender, "quantity": 50})
    assert r.status_code == 422 and "exceeds the balance 46" in r.json()["detail"]
    rows = list(csv.DictReader(io.StringIO(c.get("/api/v1/assets/pj-ent/ledger", headers=owner,
                                                 params={"format": "csv"}).text)))
    assert [(row["kind"], row["quantity"]) for row in rows] == [("issue", "146.0"), ("surrender", "100.0")]
    assert rows[0]["reference"] == f"project:{pid}:period:{again['period_id']}"
    for action, which in (("compute", period), ("refuse", period), ("compute", again), ("verify", again),
                          ("certify", again)):
        assert len(_audit(c, admin, f"projects.period.{action}", f"project:{pid}:period:{which['period_id']}")) == 1
    assert len(_audit(c, admin, "assets.surrender", "enterprise:pj-ent")) == 1


def test_allowances_transactions_and_compliance_position_by_role(api_app_client: TestClient,
                                                                  users: dict[str, Any]) -> None:
    c, year = api_app_client, 2030
    ent2 = make_user(c, users["admin"], "enterprise", enterprise_id="pj-ent2")[2]
    base = "/api/v1/assets/pj-ent2"
    benchmark = {"method": "benchmark", "benchmark": 0.8, "output": 1000}
    assert c.put(f"{base}/allowances/{year}", headers=ent2, json=benchmark).status_code == 403
    assert c.put(f"{base}/allowances/{year}", headers=users["elsewhere"], json=benchmark).status_code == 404
    allocated = _ok(c.put(f"{base}/allowances/{year}", headers=users["government"], json=benchmark), 201)
    assert (allocated["method"], allocated["amount"]) == ("benchmark", 800)
    assert c.put(f"{base}/allowances/{year}", headers=users["government"], json=benchmark).status_code == 409

    _ok(c.post(f"{base}/transactions", headers=ent2, json={
        "kind": "buy", "instrument": "ccer", "vintage": 2029, "quantity": 60, "price": 65, "counterparty": "CEEX"}),
        201)
    r = c.post(f"{base}/transactions", headers=ent2, json={"kind": "buy", "instrument": "ccer", "vintage": 2029,
                                                           "quantity": 1})
    assert r.status_code == 422 and "price and counterparty" in r.text
    moved = _ok(c.post(f"{base}/transactions", headers=ent2, json={
        "kind": "transfer", "instrument": "allowance", "vintage": year, "quantity": 10, "counterparty": "pj-ent3"}), 201)
    assert {"instrument": "allowance", "vintage": year, "quantity": 790.0} in moved["holdings"]
    assert _ok(c.get("/api/v1/assets/pj-ent3/holdings", headers=users["admin"]))["holdings"] == [
        {"instrument": "allowance", "vintage": year, "quantity": 10.0}]
    assert c.get("/api/v1/assets/pj-ent3/holdings", headers=users["government"]).status_code == 404  # CN-GD

    for month in (1, 2, 3):
        _ok(c.put(f"{base}/emissions/{year}", headers=ent2, params={"month": month}, json={"tco2": 70}))
    assert c.put(f"{base}/emissions/{year}", headers=ent2, json={"tco2": 900}).status_code == 403
    _ok(c.put(f"{base}/emissions/{year}", headers=users["government"], json={"tco2": 900}))
    got = _ok(c.get(f"{base}/compliance/{year}", headers=users["government"], params={
        "scenario": ["low:60", "high:100"], "current_price": 70, "months_to_deadline": 6}))
    # allowances 790, offsets 60 capped at 5 % of 900 = 45: 790 + 45 - 900 = -65
    assert got["position"] == {"verified_tco2": 900, "usable_offsets": 45, "position": -65, "status": "deficit"}
    # run rate 3 x 70 -> 840 projected; 790 + min(60, 42) - 840 = -8
    assert (got["projection"]["projected_tco2"], got["projection"]["gap"]) == (840, -8)
    assert [(t["scenario"], t["cost"]) for t in got["trading_costs"]] == [("low", 3900), ("high", 6500)]
    assert (got["strategy"]["action"], got["strategy"]["quantity"], got["strategy"]["timing"]) == ("buy", 65, "now")
    looser = _ok(c.get(f"{base}/compliance/{year}", headers=ent2, params={"offset_cap": 0.1}))
    assert looser["position"]["position"] == -50
    assert len(_audit(c, users["admin"], "assets.allocate", f"enterprise:pj-ent2:{year}")) == 1


def test_two_high_project_archive_warns_when_actual_exceeds_approved(api_app_client: TestClient,
                                                                     users: dict[str, Any]) -> None:
    c, owner = api_app_client, users["owner"]
    project = _ok(c.post(PROJECTS, headers=owner, json={"enterprise_id": "pj-ent", "name": unique("kiln"),
                                                        "kind": "two_high", "grid_region": "east"}), 201)
    url = f"{PROJECTS}/{project['project_id']}/two-high"
    approved = _ok(c.put(f"{url}/2025", headers=owner, json={"approved_tce": 1000, "approved_tco2": 2500}))
    assert approved["warnings"] == []
    r = c.put(f"{url}/2025", headers=owner, json={"actual_tce": 1100})
    assert r.status_code == 422 and "actual_source" in r.text
    actual = _ok(c.put(f"{url}/2025", headers=owner, json={"actual_tce": 1100, "actual_tco2": 2400,
                                                            "actual_source": "meters"}))
    assert (actual["approved_tce"], actual["warnings"]) == (
        1000, ["actual energy 1100 tce exceeds the approved 1000 tce (10.0% over)"])
    seen = _ok(c.get(url, headers=users["government"]))["years"]
    assert [(y["year"], len(y["warnings"])) for y in seen] == [(2025, 1)]
    assert c.put(f"{url}/2025", headers=users["government"], json={"approved_tce": 1}).status_code == 403
    [entry] = [e for e in _audit(c, users["admin"], "projects.two_high", f"project:{project['project_id']}:2025")
               if e["before"] is not None and e["before"]["actual_tce"] is None]
    assert entry["after"]["actual_tce"] == 1100
    pv = _ok(c.post(PROJECTS, headers=owner, json={"enterprise_id": "pj-ent", "name": unique("pv"),
                                                   "kind": "grid_pv", "grid_region": "east"}), 201)
    r = c.put(f"{PROJECTS}/{pv['project_id']}/two-high/2025", headers=owner, json={"approved_tce": 1})
    assert r.status_code == 422 and "两高" in r.json()["detail"]
