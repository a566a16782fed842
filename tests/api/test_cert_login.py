"""Client-certificate login (proof of possession) against the dev PKI of `carbonflow certs`.

A gateway signs a one-time challenge with its certificate's key and gets a machine token scoped to
'ingest' and 'health'; expired certificates, certificates of another CA or without clientAuth, signatures by
another key, reused challenges and unregistered CNs are refused with a message, and every attempt is audited.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi.testclient import TestClient

from api.auth.certlogin import sign_challenge
from api.main import create_app
from carbon_domain.schemas import Envelope, Reading
from carbonflow.cert_login import CertLoginError, login_with_certificate
from carbonflow.certs import ensure_dev_pki
from carbonflow.cli import main as cli_main
from carbonflow.topics import kafka_readings
from ingest.bridge import ensure_topics
from tests.api.conftest import TEST_SETTINGS, unique
from tests.api.kafka_reads import batches_on
from tests.api.serving import serve
from tests.conftest import free_port

NOW = dt.datetime.now(dt.UTC)


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _issue(ca_dir: Path, cn: str, key: Any, *, days: tuple[int, int] = (-1, 30),
           usage: x509.ObjectIdentifier = ExtendedKeyUsageOID.CLIENT_AUTH) -> x509.Certificate:
    """A certificate from the dev CA in `ca_dir`, for variants `carbonflow certs` does not make."""
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), password=None)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW + dt.timedelta(days=days[0])).not_valid_after(NOW + dt.timedelta(days=days[1]))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The trusted dev PKI (gateway 'gw-cert-1') and a second, untrusted one with a 'gw-cert-1' of its own."""
    trusted, rogue = tmp_path_factory.mktemp("trusted-pki"), tmp_path_factory.mktemp("rogue-pki")
    return {"dir": trusted, "made": ensure_dev_pki(trusted, ["gw-cert-1"]),
            "rogue": ensure_dev_pki(rogue, ["gw-cert-1"])}


@pytest.fixture(scope="module")
def cert_app(database_url: str, pki: dict[str, Any], api_app_client: TestClient) -> Iterator[TestClient]:
    settings = TEST_SETTINGS.model_copy(update={"cert_login_ca": pki["made"]["server"].ca})
    with TestClient(create_app(database_url, settings=settings)) as client:
        yield client


@pytest.fixture(scope="module")
def service_account(api_app_client: TestClient, admin_headers: dict[str, str]) -> str:
    """A technician service account; certificates with CN gw-cert-1, gw-rsa and gw-ed act for it."""
    name = unique("svc-gateways")
    r = api_app_client.post("/api/v1/users", headers=admin_headers, json={"username": name, "role": "technician"})
    assert r.status_code == 201, r.text
    for cn in ("gw-cert-1", "gw-rsa", "gw-ed", "gw-old", "gw-server"):
        r = api_app_client.post("/api/v1/auth/cert/identities", headers=admin_headers,
                                json={"common_name": cn, "username": name})
        assert r.status_code == 201, r.text
    return name


def _key(paths: Any) -> Any:
    return serialization.load_pem_private_key(paths.key.read_bytes(), password=None)


def _login(client: TestClient, certificate: str, key: Any, *, nonce: str | None = None) -> Any:
    nonce = nonce or client.post("/api/v1/auth/cert/challenge").json()["nonce"]
    return client.post("/api/v1/auth/cert/login", json={"certificate": certificate, "nonce": nonce,
                                                        "signature": sign_challenge(key, nonce)})


def _last_failure(db: psycopg.Connection) -> dict[str, Any]:
    row = db.execute("SELECT detail FROM audit_log WHERE action = 'auth.login_failed' ORDER BY audit_id DESC"
                     " LIMIT 1").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def test_gateway_certificate_logs_in_with_a_token_for_ingest_and_health_only(
        cert_app: TestClient, pki: dict[str, Any], service_account: str, db: psycopg.Connection) -> None:
    gw = pki["made"]["gw-cert-1"]
    r = _login(cert_app, gw.cert.read_text(), _key(gw))
    assert r.status_code == 200, r.text
    answer = r.json()
    headers = {"Authorization": f"Bearer {answer['token']}"}
    health = cert_app.get("/api/v1/health", headers=headers)
    devices = cert_app.get("/api/v1/devices", headers=headers)
    assert (answer["scopes"], answer["username"], answer["token"][:4], "components" in health.json(),
            devices.status_code) == (["health", "ingest"], service_account, "cft_", True, 403)
    entry = db.execute("SELECT actor, target, detail FROM audit_log WHERE action = 'auth.login' AND target = 'gw-cert-1'"
                       " ORDER BY audit_id DESC LIMIT 1").fetchone()
    assert entry is not None
    assert (entry[0], entry[2]["method"], entry[2]["token_id"]) == (service_account, "certificate", answer["token_id"])


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_rsa_and_ed25519_certificates_log_in(cert_app: TestClient, pki: dict[str, Any], service_account: str,
                                             kind: str) -> None:
    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ed25519.Ed25519PrivateKey.generate()
    cn = "gw-rsa" if kind == "rsa" else "gw-ed"
    r = _login(cert_app, _pem(_issue(pki["dir"], cn, key)), key)
    assert (r.status_code, r.json().get("common_name")) == (200, cn), r.text


def test_certificate_with_its_ca_in_the_chain_logs_in(cert_app: TestClient, pki: dict[str, Any],
                                                      service_account: str) -> None:
    gw = pki["made"]["gw-cert-1"]
    r = _login(cert_app, gw.cert.read_text() + gw.ca.read_text(), _key(gw))
    assert r.status_code == 200, r.text


def test_expired_certificate_is_refused(cert_app: TestClient, pki: dict[str, Any], service_account: str,
                                        db: psycopg.Connection) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _issue(pki["dir"], "gw-old", key, days=(-400, -35))
    r = _login(cert_app, _pem(cert), key)
    expected = f"the certificate expired at {cert.not_valid_after_utc.isoformat()}"
    assert (r.status_code, r.json()["detail"]) == (401, expected)
    assert _last_failure(db)["common_name"] == "gw-old"


def test_certificate_of_another_ca_is_refused(cert_app: TestClient, pki: dict[str, Any], service_account: str,
                                              db: psycopg.Connection) -> None:
    rogue = pki["rogue"]["gw-cert-1"]  # same CN, issued by a CA the API does not trust
    r = _login(cert_app, rogue.cert.read_text() + rogue.ca.read_text(), _key(rogue))
    assert (r.status_code, r.json()["detail"].startswith("the certificate does not chain to a trusted CA")) == (401, True)
    assert _last_failure(db)["reason"] == "the certificate does not chain to a trusted CA"


def test_signature_by_another_key_is_refused(cert_app: TestClient, pki: dict[str, Any], service_account: str) -> None:
    stolen_cert = pki["made"]["gw-cert-1"].cert.read_text()  # a certificate is public; its key is not
    r = _login(cert_app, stolen_cert, ec.generate_private_key(ec.SECP256R1()))
    assert (r.status_code, r.json()["detail"].startswith("the signature does not verify")) == (401, True)


def test_reused_challenge_is_refused(cert_app: TestClient, pki: dict[str, Any], service_account: str) -> None:
    gw = pki["made"]["gw-cert-1"]
    nonce = cert_app.post("/api/v1/auth/cert/challenge").json()["nonce"]
    first = _login(cert_app, gw.cert.read_text(), _key(gw), nonce=nonce)
    again = _login(cert_app, gw.cert.read_text(), _key(gw), nonce=nonce)
    assert (first.status_code, again.status_code, again.json()["detail"]) == (
        200, 401, "unknown, used or expired challenge: get a new one with POST /api/v1/auth/cert/challenge")


def test_failed_attempt_spends_the_challenge(cert_app: TestClient, pki: dict[str, Any], service_account: str) -> None:
    gw = pki["made"]["gw-cert-1"]
    nonce = cert_app.post("/api/v1/auth/cert/challenge").json()["nonce"]
    wrong = _login(cert_app, gw.cert.read_text(), ec.generate_private_key(ec.SECP256R1()), nonce=nonce)
    right = _login(cert_app, gw.cert.read_text(), _key(gw), nonce=nonce)
    assert (wrong.status_code, right.status_code) == (401, 401)


def test_server_certificate_is_not_for_client_login(cert_app: TestClient, pki: dict[str, Any],
                                                    service_account: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    r = _login(cert_app, _pem(_issue(pki["dir"], "gw-server", key, usage=ExtendedKeyUsageOID.SERVER_AUTH)), key)
    assert (r.status_code, r.json()["detail"]) == (
        401, "the certificate is not for client authentication (no clientAuth extended key usage)")


def test_unregistered_common_name_is_refused(cert_app: TestClient, pki: dict[str, Any], service_account: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    r = _login(cert_app, _pem(_issue(pki["dir"], "gw-unknown", key)), key)
    assert (r.status_code, r.json()["detail"].startswith("no identity is registered for certificate CN 'gw-unknown'")
            ) == (403, True)


@pytest.mark.parametrize(("certificate", "message"), [
    ("not a certificate", "'certificate' holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
])
def test_garbage_certificate_is_refused(cert_app: TestClient, certificate: str, message: str) -> None:
    r = _login(cert_app, certificate, ec.generate_private_key(ec.SECP256R1()))
    assert (r.status_code, r.json()["detail"]) == (401, message)


def test_certificate_login_is_off_without_a_ca_bundle(api_app_client: TestClient) -> None:
    r = api_app_client.post("/api/v1/auth/cert/challenge")
    assert (r.status_code, "not configured" in r.json()["detail"]) == (404, True)


def test_deleting_an_identity_revokes_its_tokens(cert_app: TestClient, pki: dict[str, Any], service_account: str,
                                                 admin_headers: dict[str, str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cn = unique("gw-gone")
    assert cert_app.post("/api/v1/auth/cert/identities", headers=admin_headers,
                         json={"common_name": cn, "username": service_account, "scopes": ["health"]}).status_code == 201
    token = _login(cert_app, _pem(_issue(pki["dir"], cn, key)), key).json()["token"]
    before = cert_app.get("/api/v1/health", headers={"Authorization": f"Bearer {token}"}).status_code
    deleted = cert_app.delete(f"/api/v1/auth/cert/identities/{cn}", headers=admin_headers)
    after = cert_app.get("/api/v1/health", headers={"Authorization": f"Bearer {token}"}).status_code
    assert (before, deleted.status_code, deleted.json()["tokens_revoked"], after) == (200, 200, 1, 401)


def test_identity_scopes_stay_within_the_role(api_app_client: TestClient, admin_headers: dict[str, str]) -> None:
    name = unique("svc-auditor")
    api_app_client.post("/api/v1/users", headers=admin_headers,
                        json={"username": name, "role": "auditor", "enterprises": ["m-ent-a"]})
    outside = api_app_client.post("/api/v1/auth/cert/identities", headers=admin_headers,
                                  json={"common_name": unique("gw-x"), "username": name})
    broader = api_app_client.post("/api/v1/auth/cert/identities", headers=admin_headers,
                                  json={"common_name": unique("gw-y"), "username": "root", "scopes": ["users"]})
    twice = api_app_client.post("/api/v1/auth/cert/identities", headers=admin_headers,
                                json={"common_name": "gw-cert-1", "username": "root"})
    assert (outside.status_code, broader.status_code, twice.status_code) == (422, 422, 409)
    assert "does not include ['health', 'ingest']" in outside.json()["detail"]


def test_cli_login_prints_a_token_from_a_live_api(database_url: str, pki: dict[str, Any], service_account: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    settings = TEST_SETTINGS.model_copy(update={"cert_login_ca": pki["made"]["server"].ca})
    gw = pki["made"]["gw-cert-1"]
    with serve(create_app(database_url, settings=settings), free_port()) as api:
        code = cli_main(["login", "--cert", str(gw.cert), "--key", str(gw.key), "--api", api])
        printed = capsys.readouterr()
        with pytest.raises(CertLoginError) as refused:
            login_with_certificate(api, cert=pki["rogue"]["gw-cert-1"].cert, key=pki["rogue"]["gw-cert-1"].key)
    assert (code, printed.out.startswith("cft_"), "scopes health,ingest" in printed.err) == (0, True, True)
    assert "401 from /api/v1/auth/cert/login: the certificate does not chain to a trusted CA" in str(refused.value)


# --- POST /api/v1/ingest with a certificate's token: its own gateway's envelopes only ----------------------------

def _envelope(gateway: str, first: int = 1) -> bytes:
    ts = dt.datetime.now(dt.UTC)
    readings = [Reading(seq=first, device=f"{gateway}-meter", point="power_kw", value=1.5, unit="kW", source_ts=ts,
                        gateway_ts=ts)]
    return Envelope(gateway=gateway, seq_first=first, seq_last=first, sent_at=ts,
                    readings=readings).model_dump_json().encode()


def _active(db: psycopg.Connection, gateway: str) -> str:
    """An active gateway with its meter (the device `_envelope` sends) bound to it."""
    db.execute("INSERT INTO gateways (gateway_id, site_id, status, registered_at) VALUES (%s, 'm-site-a', 'active',"
               " now()) ON CONFLICT (gateway_id) DO UPDATE SET status = 'active'", (gateway,))
    db.execute("INSERT INTO devices (device_id, site_id, gateway_id) VALUES (%s, 'm-site-a', %s)"
               " ON CONFLICT (device_id) DO NOTHING", (f"{gateway}-meter", gateway))
    return gateway


def _cert_token(client: TestClient, pki: dict[str, Any]) -> dict[str, str]:
    gw = pki["made"]["gw-cert-1"]
    r = _login(client, gw.cert.read_text(), _key(gw))
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}", "Content-Type": "application/json"}


def test_certificate_token_posts_only_the_envelopes_of_its_cns_gateway(
        database_url: str, pki: dict[str, Any], service_account: str, db: psycopg.Connection,
        kafka_bootstrap: str) -> None:
    own, other = _active(db, "gw-cert-1"), _active(db, unique("gw-other"))
    prefix = unique("certingest")
    asyncio.run(ensure_topics(kafka_bootstrap, prefix))
    settings = TEST_SETTINGS.model_copy(update={"cert_login_ca": pki["made"]["server"].ca,
                                                "kafka_bootstrap": kafka_bootstrap, "topic_prefix": prefix})
    with TestClient(create_app(database_url, settings=settings)) as client:
        headers = _cert_token(client, pki)
        foreign = client.post("/api/v1/ingest", headers=headers, content=_envelope(other))
        accepted = client.post("/api/v1/ingest", headers=headers, content=_envelope(own))
    on_kafka = {b.gateway for b in asyncio.run(batches_on(kafka_bootstrap, kafka_readings(prefix), wait_for_one=True))}
    denied = db.execute("SELECT actor_kind, outcome, detail FROM audit_log WHERE action = 'ingest.envelope'"
                        " AND target = %s", (f"gateway:{other}",)).fetchall()
    refusal = "this token comes from the certificate with CN 'gw-cert-1': it posts envelopes of gateway 'gw-cert-1'"
    assert (foreign.status_code, foreign.json()["detail"]) == (403, refusal + f" only, not of {other!r}")
    assert (accepted.status_code, accepted.json()["gateway"]) == (202, own)
    assert on_kafka == {own}  # the refused envelope went nowhere
    assert denied == [("token", "denied", {"reason": "not the certificate's gateway", "common_name": "gw-cert-1"})]


def test_a_token_people_create_keeps_posting_for_any_active_gateway(
        cert_app: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    # named like a certificate's token, but created by a person: the name does not bind it to a gateway
    r = cert_app.post("/api/v1/auth/tokens", headers=admin_headers, json={"name": "cert:gw-cert-1",
                                                                          "scopes": ["ingest"]})
    assert r.status_code == 201, r.text
    other = _active(db, unique("gw-other"))
    posted = cert_app.post("/api/v1/ingest", content=_envelope(other),
                           headers={"Authorization": f"Bearer {r.json()['token']}", "Content-Type": "application/json"})
    assert (posted.status_code, "KAFKA_BOOTSTRAP" in posted.json()["detail"]) == (503, True)  # past every check


def test_certificate_token_cannot_write_a_device_of_another_enterprise(
        cert_app: TestClient, pki: dict[str, Any], service_account: str, db: psycopg.Connection) -> None:
    _active(db, "gw-cert-1")
    enterprise, site, gateway = unique("ent-c"), unique("site-c"), unique("gw-c")
    db.execute("INSERT INTO enterprises (enterprise_id, name) VALUES (%s, 'C')", (enterprise,))
    db.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'C')", (site, enterprise))
    db.execute("INSERT INTO gateways (gateway_id, site_id, status) VALUES (%s, %s, 'active')", (gateway, site))
    db.execute("INSERT INTO devices (device_id, site_id, gateway_id) VALUES (%s, %s, %s)",
               (f"{gateway}-meter", site, gateway))
    # gw-cert-1's own envelope, but of enterprise C's meter
    body = _envelope(gateway).replace(f'"gateway":"{gateway}"'.encode(), b'"gateway":"gw-cert-1"')
    r = cert_app.post("/api/v1/ingest", content=body, headers=_cert_token(cert_app, pki))
    assert r.status_code == 403
    assert f"device '{gateway}-meter' is bound to gateway {gateway!r}, not 'gw-cert-1'" in r.json()["detail"]
    assert db.execute("SELECT gateway_id FROM devices WHERE device_id = %s", (f"{gateway}-meter",)).fetchone() == (
        gateway,)


def test_certificate_token_of_an_unregistered_gateway_is_told_to_register_it(
        cert_app: TestClient, pki: dict[str, Any], service_account: str, admin_headers: dict[str, str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cn = unique("gw-new")
    assert cert_app.post("/api/v1/auth/cert/identities", headers=admin_headers,
                         json={"common_name": cn, "username": service_account}).status_code == 201
    token = _login(cert_app, _pem(_issue(pki["dir"], cn, key)), key).json()["token"]
    r = cert_app.post("/api/v1/ingest", content=_envelope(cn),
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert (r.status_code, f"carbonflow gateways add {cn}" in r.json()["detail"]) == (403, True)


def test_migration_binds_certificate_tokens_issued_before_it(
        cert_app: TestClient, pki: dict[str, Any], service_account: str, admin_headers: dict[str, str],
        db: psycopg.Connection, owner_database_url: str) -> None:
    gw = pki["made"]["gw-cert-1"]
    issued = _login(cert_app, gw.cert.read_text(), _key(gw)).json()["token_id"]
    person = cert_app.post("/api/v1/auth/tokens", headers=admin_headers,
                           json={"name": "cert:gw-cert-1", "scopes": ["ingest"]}).json()["token_id"]
    db.execute("UPDATE api_tokens SET cert_common_name = NULL WHERE token_id = %s", (issued,))  # as before 065
    with psycopg.connect(owner_database_url, autocommit=True) as owner:  # migrations run as the tables' owner
        owner.execute(resources.files("carbonflow.db").joinpath("migrations/065_cert_token_identity.sql").read_text())
    bound = dict(db.execute("SELECT token_id, cert_common_name FROM api_tokens WHERE token_id = ANY(%s)",
                            ([issued, person],)).fetchall())
    assert bound == {issued: "gw-cert-1", person: None}
