"""Administrators edit the hierarchy: enterprises (region code, industry class), sites, devices and point
bindings. Changes are audited with before and after; deleting what data depends on is a 409 saying what."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import unique


def _ok(r, status: int = 200) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def _audit(client: TestClient, admin: dict, action: str, target: str) -> list[dict]:
    entries = _ok(client.get("/api/v1/audit", headers=admin, params={"action": action}))["entries"]
    return [e for e in entries if e["target"] == target]


@pytest.fixture
def chain(api_app_client: TestClient, admin_headers: dict) -> dict[str, str]:
    """A new enterprise with one site and one device (no data)."""
    ids = {"enterprise": unique("h-ent"), "site": unique("h-site"), "device": unique("h-dev")}
    _ok(api_app_client.post("/api/v1/enterprises", headers=admin_headers, json={
        "enterprise_id": ids["enterprise"], "name": "Hierarchy Steel", "region": "CN-JS-SZ", "industry": "steel"}),
        201)
    _ok(api_app_client.post("/api/v1/sites", headers=admin_headers, json={
        "site_id": ids["site"], "enterprise_id": ids["enterprise"], "name": "Plant 1", "province": "Jiangsu"}), 201)
    _ok(api_app_client.post("/api/v1/devices", headers=admin_headers, json={
        "device_id": ids["device"], "site_id": ids["site"], "process": "rolling", "profile": "acrel-dtsd1352"}), 201)
    return ids


def test_created_hierarchy_is_visible_and_audited(api_app_client: TestClient, admin_headers: dict,
                                                  chain: dict) -> None:
    enterprise = _ok(api_app_client.get(f"/api/v1/enterprises/{chain['enterprise']}", headers=admin_headers))
    assert enterprise == {"enterprise_id": chain["enterprise"], "name": "Hierarchy Steel", "region": "CN-JS-SZ",
                          "industry": "steel", "credit_code": None}
    listed = _ok(api_app_client.get("/api/v1/enterprises", headers=admin_headers, params={"region": "CN-JS"}))
    assert {"sites": 1, **enterprise} in listed["enterprises"]
    device = _ok(api_app_client.get(f"/api/v1/devices/{chain['device']}", headers=admin_headers))
    assert (device["site_id"], device["process"], device["points"]) == (chain["site"], "rolling", [])
    sites = _ok(api_app_client.get("/api/v1/sites", headers=admin_headers))["sites"]
    assert chain["site"] in {s["site_id"] for s in sites}
    [created] = _audit(api_app_client, admin_headers, "site.create", f"site:{chain['site']}")
    assert created["before"] is None and created["after"]["enterprise_id"] == chain["enterprise"]


def test_patch_changes_only_what_is_sent_and_audits_before_and_after(api_app_client: TestClient,
                                                                     admin_headers: dict, chain: dict) -> None:
    path = f"/api/v1/enterprises/{chain['enterprise']}"
    after = _ok(api_app_client.patch(path, headers=admin_headers, json={"region": "CN-ZJ", "industry": None}))
    assert (after["name"], after["region"], after["industry"]) == ("Hierarchy Steel", "CN-ZJ", None)
    [entry] = _audit(api_app_client, admin_headers, "enterprise.update", f"enterprise:{chain['enterprise']}")
    assert (entry["before"]["region"], entry["after"]["region"]) == ("CN-JS-SZ", "CN-ZJ")
    other = _ok(api_app_client.post("/api/v1/sites", headers=admin_headers, json={
        "site_id": unique("h-site"), "enterprise_id": chain["enterprise"], "name": "Plant 2"}), 201)
    moved = _ok(api_app_client.patch(f"/api/v1/devices/{chain['device']}", headers=admin_headers,
                                     json={"site_id": other["site_id"], "profile": None}))
    assert (moved["site_id"], moved["process"], moved["profile"]) == (other["site_id"], "rolling", None)


def test_an_enterprise_records_its_credit_code_after_checking_its_check_character(
        api_app_client: TestClient, admin_headers: dict, chain: dict) -> None:
    path = f"/api/v1/enterprises/{chain['enterprise']}"
    after = _ok(api_app_client.patch(path, headers=admin_headers, json={"credit_code": "91350100M000100Y43"}))
    assert after["credit_code"] == "91350100M000100Y43"
    [entry] = _audit(api_app_client, admin_headers, "enterprise.update", f"enterprise:{chain['enterprise']}")
    assert (entry["before"]["credit_code"], entry["after"]["credit_code"]) == (None, "91350100M000100Y43")
    wrong = api_app_client.patch(path, headers=admin_headers, json={"credit_code": "91350100M000100Y44"})
    assert wrong.status_code == 422 and "check character is '4'" in wrong.text and "credit_code" in wrong.text
    letter = api_app_client.patch(path, headers=admin_headers, json={"credit_code": "91350100M000100I43"})
    assert letter.status_code == 422 and "credit_code" in letter.text


def test_point_binding_is_created_then_rebound(api_app_client: TestClient, admin_headers: dict, chain: dict) -> None:
    path = f"/api/v1/devices/{chain['device']}/points/energy_kwh"
    first = _ok(api_app_client.put(path, headers=admin_headers,
                                   json={"activity": "electricity", "unit": "kWh", "kind": "counter"}))
    assert (first["unit"], first["kind"], first["activity"]) == ("kWh", "counter", "electricity")
    second = _ok(api_app_client.put(path, headers=admin_headers, json={"activity": "production:crude_steel"}))
    assert (second["unit"], second["kind"], second["activity"]) == ("kWh", "counter", "production:crude_steel")
    [bind] = [e for e in _audit(api_app_client, admin_headers, "point.bind", f"point:{chain['device']}/energy_kwh")
              if e["before"] is not None]
    assert (bind["before"]["activity"], bind["after"]["activity"]) == ("electricity", "production:crude_steel")
    device = _ok(api_app_client.get(f"/api/v1/devices/{chain['device']}", headers=admin_headers))
    assert [p["point"] for p in device["points"]] == ["energy_kwh"]


def test_deleting_an_empty_chain_bottom_up(api_app_client: TestClient, admin_headers: dict, chain: dict) -> None:
    api_app_client.put(f"/api/v1/devices/{chain['device']}/points/p1", headers=admin_headers,
                       json={"activity": None})
    r = api_app_client.delete(f"/api/v1/enterprises/{chain['enterprise']}", headers=admin_headers)
    assert r.status_code == 409 and "1 sites" in r.json()["detail"]
    r = api_app_client.delete(f"/api/v1/sites/{chain['site']}", headers=admin_headers)
    assert r.status_code == 409 and "1 devices" in r.json()["detail"]
    _ok(api_app_client.delete(f"/api/v1/devices/{chain['device']}/points/p1", headers=admin_headers))
    for kind in ("devices", "sites", "enterprises"):
        key = chain[kind[:-1] if kind != "enterprises" else "enterprise"]
        deleted = _ok(api_app_client.delete(f"/api/v1/{kind}/{key}", headers=admin_headers))
        assert deleted["deleted"]
        assert api_app_client.get(f"/api/v1/{kind}/{key}", headers=admin_headers).status_code == 404
    [entry] = _audit(api_app_client, admin_headers, "device.delete", f"device:{chain['device']}")
    assert entry["before"]["site_id"] == chain["site"] and entry["after"] is None


@pytest.mark.parametrize(("path", "words"), [
    ("/api/v1/devices/m-dev-a", "readings"),
    ("/api/v1/devices/m-dev-a/points/power_kw", "readings"),
    ("/api/v1/sites/m-site-a", "devices"),
    ("/api/v1/enterprises/m-ent-a", "sites"),
])
def test_deleting_what_has_data_is_409_with_a_message(api_app_client: TestClient, admin_headers: dict, path: str,
                                                      words: str) -> None:
    r = api_app_client.delete(path, headers=admin_headers)
    assert r.status_code == 409
    assert words in r.json()["detail"]
    assert api_app_client.get(path.split("/points")[0], headers=admin_headers).status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "status", "words"), [
    ("POST", "/api/v1/enterprises", {"enterprise_id": "m-ent-a", "name": "x", "region": "CN"}, 409, "already exists"),
    ("POST", "/api/v1/enterprises", {"enterprise_id": "e1", "name": "x", "region": "zhejiang"}, 422, "region"),
    ("POST", "/api/v1/sites", {"site_id": "s-nowhere", "enterprise_id": "no-such-ent", "name": "x"}, 422,
     "no-such-ent"),
    ("POST", "/api/v1/devices", {"device_id": "d 1", "site_id": "m-site-a"}, 422, "device_id"),
    ("PATCH", "/api/v1/enterprises/m-ent-a", {"name": None}, 422, "name cannot be null"),
    ("PATCH", "/api/v1/devices/m-dev-a", {"site_id": "no-such-site"}, 422, "no-such-site"),
    ("PATCH", "/api/v1/sites/no-such-site", {"name": "x"}, 404, "no site"),
    ("PUT", "/api/v1/devices/no-such-dev/points/p", {"activity": "electricity"}, 404, "no device"),
    ("PUT", "/api/v1/devices/m-dev-a/points/p", {"activity": "Electricity!"}, 422, "activity"),
])
def test_bad_hierarchy_input_is_4xx_with_a_message(api_app_client: TestClient, admin_headers: dict, method: str,
                                                   path: str, body: dict, status: int, words: str) -> None:
    r = api_app_client.request(method, path, headers=admin_headers, json=body)
    assert r.status_code == status, r.text
    assert words in str(r.json()["detail"])


@pytest.mark.parametrize("role", ["technician", "government", "enterprise", "auditor"])
def test_only_administrators_edit_the_hierarchy(api_app_client: TestClient, role_headers: dict, role: str) -> None:
    r = api_app_client.post("/api/v1/enterprises", headers=role_headers[role],
                            json={"enterprise_id": unique("h-ent"), "name": "x", "region": "CN"})
    assert r.status_code == 403
    assert "hierarchy" in r.json()["detail"]
    assert api_app_client.delete("/api/v1/devices/m-dev-a", headers=role_headers[role]).status_code == 403
