"""The gateway registry through the API (POST /gateways, POST /gateways/{id}/revoke, GET /gateways/{id}/certificate):
the same operations as `carbonflow gateways`, with the broker ACL rewritten, the certificate's expiry listed and
every change audited; technicians and administrators only."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from tests.api.conftest import TEST_SETTINGS, unique

ACL = TEST_SETTINGS.gateway_home / "mqtt" / "mosquitto.acl"  # type: ignore[operator]


def _listed(client: TestClient, headers: dict[str, str], gateway: str) -> dict[str, Any]:
    r = client.get("/api/v1/gateways", headers=headers)
    assert r.status_code == 200, r.text
    return next(g for g in r.json()["gateways"] if g["gateway_id"] == gateway)


def _audit(db: psycopg.Connection, gateway: str) -> list[tuple[str, str]]:
    return db.execute("SELECT action, actor FROM audit_log WHERE target = %s ORDER BY audit_id",
                      (f"gateway:{gateway}",)).fetchall()


def test_technician_registers_a_certificate_gateway_which_is_listed_active_with_its_expiry_and_in_the_acl(
        api_app_client: TestClient, role_headers: dict[str, dict[str, str]], db: psycopg.Connection) -> None:
    gateway = unique("gw-reg")
    r = api_app_client.post("/api/v1/gateways", headers=role_headers["technician"],
                            json={"gateway_id": gateway, "site_id": "m-site-a"})
    assert r.status_code == 201, r.text
    assert (r.json()["password"], r.json()["gateway"]["status"]) == (None, "active")
    row = _listed(api_app_client, role_headers["technician"], gateway)
    expires = datetime.fromisoformat(row["cert_expires_at"])
    assert (row["status"], row["auth"], row["site_id"], expires > datetime.now(UTC)) == (
        "active", "certificate", "m-site-a", True)
    assert f"user {gateway}" in ACL.read_text().splitlines()
    assert _audit(db, gateway)[-1][0] == "gateway.add"


def test_certificate_download_is_a_zip_whose_certificate_names_the_gateway_and_is_audited(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    gateway = unique("gw-dl")
    assert api_app_client.post("/api/v1/gateways", headers=admin_headers,
                               json={"gateway_id": gateway}).status_code == 201
    r = api_app_client.get(f"/api/v1/gateways/{gateway}/certificate", headers=admin_headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(bundle.namelist()) == sorted(["ca.crt", f"{gateway}.crt", f"{gateway}.key"])
    cert = x509.load_pem_x509_certificate(bundle.read(f"{gateway}.crt"))
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == gateway
    assert ("gateway.certificate_download", "root") in _audit(db, gateway)


def test_revoking_removes_the_gateway_from_the_acl_and_refuses_a_second_revoke_and_the_download(
        api_app_client: TestClient, role_headers: dict[str, dict[str, str]], db: psycopg.Connection) -> None:
    tech = role_headers["technician"]
    gateway = unique("gw-rev")
    assert api_app_client.post("/api/v1/gateways", headers=tech, json={"gateway_id": gateway}).status_code == 201
    r = api_app_client.post(f"/api/v1/gateways/{gateway}/revoke", headers=tech)
    assert (r.status_code, r.json()["gateway"]["status"]) == (200, "revoked"), r.text
    assert f"user {gateway}" not in ACL.read_text().splitlines()
    assert _listed(api_app_client, tech, gateway)["status"] == "revoked"
    again = api_app_client.post(f"/api/v1/gateways/{gateway}/revoke", headers=tech)
    assert (again.status_code, "already revoked" in again.json()["detail"]) == (409, True)
    download = api_app_client.get(f"/api/v1/gateways/{gateway}/certificate", headers=tech)
    assert (download.status_code, "revoked" in download.json()["detail"]) == (409, True)
    assert [a for a, _ in _audit(db, gateway)] == ["gateway.add", "gateway.revoke"]


def test_a_revoked_gateway_registers_again_but_an_active_one_is_refused(
        api_app_client: TestClient, admin_headers: dict[str, str]) -> None:
    gateway = unique("gw-again")
    add = {"gateway_id": gateway}
    assert api_app_client.post("/api/v1/gateways", headers=admin_headers, json=add).status_code == 201
    twice = api_app_client.post("/api/v1/gateways", headers=admin_headers, json=add)
    assert (twice.status_code, "already registered" in twice.json()["detail"]) == (409, True)
    assert api_app_client.post(f"/api/v1/gateways/{gateway}/revoke", headers=admin_headers).status_code == 200
    r = api_app_client.post("/api/v1/gateways", headers=admin_headers, json=add)
    assert (r.status_code, r.json()["gateway"]["status"], r.json()["gateway"]["revoked_at"]) == (201, "active", None)


def test_a_password_gateway_gets_its_password_once_and_has_no_certificate_to_download(
        api_app_client: TestClient, admin_headers: dict[str, str]) -> None:
    gateway = unique("gw-pw")
    r = api_app_client.post("/api/v1/gateways", headers=admin_headers,
                            json={"gateway_id": gateway, "auth": "password"})
    assert r.status_code == 201, r.text
    assert len(r.json()["password"]) >= 20
    passwords = (TEST_SETTINGS.gateway_home / "mqtt" / "mosquitto.passwd").read_text()  # type: ignore[operator]
    assert f"{gateway}:" in passwords
    download = api_app_client.get(f"/api/v1/gateways/{gateway}/certificate", headers=admin_headers)
    assert (download.status_code, "password" in download.json()["detail"]) == (409, True)


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"gateway_id": "bad id"}, 422, "gateway_id"),
    ({"gateway_id": "gw-x", "auth": "token"}, 422, "auth"),
    ({"gateway_id": "gw-x", "site_id": "no-such-site"}, 409, "no site 'no-such-site'"),
    ({"gateway_id": "gw-x", "colour": "red"}, 422, "colour"),
])
def test_bad_registrations_are_refused_with_a_message(api_app_client: TestClient, admin_headers: dict[str, str],
                                                       body: dict[str, Any], status: int, words: str) -> None:
    r = api_app_client.post("/api/v1/gateways", headers=admin_headers, json=body)
    assert (r.status_code, words in r.text) == (status, True)


def test_unknown_gateways_answer_404(api_app_client: TestClient, admin_headers: dict[str, str]) -> None:
    missing = unique("gw-none")
    assert api_app_client.post(f"/api/v1/gateways/{missing}/revoke", headers=admin_headers).status_code == 404
    assert api_app_client.get(f"/api/v1/gateways/{missing}/certificate", headers=admin_headers).status_code == 404


@pytest.mark.parametrize("role", ["government", "enterprise", "auditor", "anonymous"])
def test_only_technicians_and_administrators_change_the_registry(
        api_app_client: TestClient, role_headers: dict[str, dict[str, str]], role: str) -> None:
    headers = role_headers[role]
    expected = 401 if role == "anonymous" else 403
    assert api_app_client.post("/api/v1/gateways", headers=headers,
                               json={"gateway_id": unique("gw-no")}).status_code == expected
    assert api_app_client.post("/api/v1/gateways/m-gw-a/revoke", headers=headers).status_code == expected
    assert api_app_client.get("/api/v1/gateways/m-gw-a/certificate", headers=headers).status_code == expected
