"""Development PKI: a CA, a broker certificate and one client certificate per identity.

`carbonflow certs` writes them under `<home>/certs/`; nothing here is meant for
production, where the plant's own CA issues certificates.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertPaths", "ensure_ca", "ensure_server_cert", "ensure_client_cert", "ensure_dev_pki"]

_VALIDITY = dt.timedelta(days=825)


@dataclass(frozen=True)
class CertPaths:
    cert: Path
    key: Path
    ca: Path


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o600)
    tmp.replace(path)


def _load(cert_path: Path, key_path: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return cert, key


def ensure_ca(directory: Path) -> CertPaths:
    """Create the development CA once; later calls reuse it."""
    cert_path, key_path = directory / "ca.crt", directory / "ca.key"
    paths = CertPaths(cert_path, key_path, cert_path)
    if cert_path.exists() and key_path.exists():
        return paths
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "carbonflow dev CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return paths


def _issue(directory: Path, stem: str, common_name: str, *, server: bool) -> CertPaths:
    ca = ensure_ca(directory)
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    paths = CertPaths(cert_path, key_path, ca.cert)
    if cert_path.exists() and key_path.exists():
        return paths
    ca_cert, ca_key = _load(ca.cert, ca.key)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if server:
        sans: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        usage = ExtendedKeyUsageOID.SERVER_AUTH
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH
    builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return paths


def certificate_expiry(paths: CertPaths) -> dt.datetime:
    """When the certificate at `paths` stops being valid (UTC)."""
    return x509.load_pem_x509_certificate(paths.cert.read_bytes()).not_valid_after_utc


def ensure_server_cert(directory: Path) -> CertPaths:
    """Broker certificate for localhost / 127.0.0.1 / ::1."""
    return _issue(directory, "server", "localhost", server=True)


def ensure_client_cert(directory: Path, identity: str) -> CertPaths:
    """Client certificate whose CN is the gateway or service identity."""
    return _issue(directory, f"client-{identity}", identity, server=False)


def ensure_dev_pki(directory: Path, identities: list[str]) -> dict[str, CertPaths]:
    """CA, server certificate and one client certificate per identity."""
    result = {"server": ensure_server_cert(directory)}
    for identity in identities:
        result[identity] = ensure_client_cert(directory, identity)
    return result
