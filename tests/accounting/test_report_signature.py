"""The approved report signed with the platform's key: a viewer (here pyHanko's validator) finds the signature
intact, valid and covering the whole file, and the signed file begins with the submitted bytes."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import TEST_SETTINGS

ENTERPRISE, YEAR = "acc-flow", 2018
CASE = f"/api/v1/reports/{ENTERPRISE}/{YEAR}"
LINE = {"period": "2018-06", "process": "steelmaking_eaf", "source_type": "process", "item": "electrode",
        "quantity": 10, "unit": "t", "direction": "in"}


@pytest.fixture(scope="module")
def signing_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed key pair standing for the platform's (a real deployment uses one its CA issued)."""
    folder = tmp_path_factory.mktemp("signing")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "carbonflow report signing (test)")])
    now = datetime.now(UTC)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(usage, critical=True).sign(key, hashes.SHA256()))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return folder / "key.pem", folder / "cert.pem"


@pytest.fixture(scope="module")
def signing_client(client: TestClient, signing_pair: tuple[Path, Path], database_url: str) -> Iterator[TestClient]:
    settings = TEST_SETTINGS.model_copy(update={"report_signing_key": signing_pair[0],
                                                "report_signing_cert": signing_pair[1]})
    with TestClient(create_app(database_url, settings=settings)) as test_client:
        yield test_client


def _ok(r: object, status: int = 200) -> dict:  # type: ignore[type-arg]
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    return r.json()  # type: ignore[attr-defined,no-any-return]


def _validate(pdf: bytes, cert: Path) -> object:
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="DSA is deprecated", category=UserWarning)
        from pyhanko.keys import load_cert_from_pemder
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[load_cert_from_pemder(str(cert))]))


def test_the_approved_report_is_signed_and_the_signature_verifies(
        client: TestClient, signing_client: TestClient, headers: dict[str, dict[str, str]],
        signing_pair: tuple[Path, Path]) -> None:
    ent, gov, admin = headers["ent"], headers["gov"], headers["admin"]
    _ok(client.post(f"/api/v1/inventory/{ENTERPRISE}/activity", headers=ent, json={"lines": [LINE]}), 201)
    snapshot = _ok(client.post(f"{CASE}/actions/submit", headers=ent))["snapshot"]
    signed_url = f"{CASE}.pdf"
    params = {"snapshot": snapshot["snapshot_id"], "signed": "true"}
    early = signing_client.get(signed_url, headers=gov, params=params)
    assert early.status_code == 409 and "only the approved snapshot is signed" in early.text
    _ok(client.post(f"{CASE}/actions/first_review", headers=gov))
    _ok(client.post(f"{CASE}/actions/final_review", headers=admin))  # four eyes: not the first reviewer

    r = signing_client.get(signed_url, headers=gov, params=params)
    assert r.status_code == 200, r.text
    status = _validate(r.content, signing_pair[1])
    assert (status.intact, status.valid, status.trusted) == (True, True, True)  # type: ignore[attr-defined]
    assert status.coverage.name == "ENTIRE_FILE"  # type: ignore[attr-defined]
    submitted = client.get(signed_url, headers=gov, params={"snapshot": snapshot["snapshot_id"]}).content
    assert hashlib.sha256(submitted).hexdigest() == snapshot["pdf_sha256"] == r.headers["x-submitted-sha256"]
    assert r.content.startswith(submitted)  # the signature is appended; the submitted bytes are untouched

    tampered = r.content.replace(b"AAAAAA+", b"AAAAAB+", 1)
    assert not _validate(tampered, signing_pair[1]).intact  # type: ignore[attr-defined]
    unsigned_platform = client.get(signed_url, headers=gov, params=params)
    assert unsigned_platform.status_code == 409 and "CARBONFLOW_REPORT_SIGNING_KEY" in unsigned_platform.text
    english = signing_client.get(signed_url, headers=gov, params={**params, "lang": "en"})
    assert english.status_code == 422 and "only the submitted report" in english.text


def test_the_signing_key_and_certificate_are_set_together(signing_pair: tuple[Path, Path], tmp_path: Path) -> None:
    from api.settings import load_api_settings

    key, cert = signing_pair
    settings = load_api_settings({"CARBONFLOW_REPORT_SIGNING_KEY": str(key), "CARBONFLOW_REPORT_SIGNING_CERT": str(cert)})
    assert (settings.report_signing_key, settings.report_signing_cert) == (key, cert)
    with pytest.raises(SystemExit, match="needs both CARBONFLOW_REPORT_SIGNING_KEY and CARBONFLOW_REPORT_SIGNING_CERT"):
        load_api_settings({"CARBONFLOW_REPORT_SIGNING_KEY": str(key)})
    with pytest.raises(SystemExit, match="report signing file .*missing.pem.* does not exist"):
        load_api_settings({"CARBONFLOW_REPORT_SIGNING_KEY": str(key),
                           "CARBONFLOW_REPORT_SIGNING_CERT": str(tmp_path / "missing.pem")})
