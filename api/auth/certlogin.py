"""Client-certificate login by proof of possession: the chain check and the challenge signature; no I/O.

Uvicorn does not hand the TLS peer certificate to the application, so a gateway proves it holds the private
key of its certificate instead: it signs a one-time nonce from POST /api/v1/auth/cert/challenge and sends
the signature with its PEM chain to POST /api/v1/auth/cert/login. The signed message is
``carbonflow-cert-login-v1:<nonce>`` (a fixed prefix, so that the signature cannot be reused as anything
else); EC keys sign with ECDSA SHA-256, RSA keys with PSS SHA-256 (salt length 32), Ed25519 keys directly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from api.errors import LoginRefused

__all__ = ["CHALLENGE_PREFIX", "MAX_CHAIN", "challenge_message", "common_name", "fingerprint", "load_chain",
           "load_trusted", "sign_challenge", "verify_chain", "verify_signature"]

CHALLENGE_PREFIX = b"carbonflow-cert-login-v1:"
MAX_CHAIN = 4
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def challenge_message(nonce: str) -> bytes:
    """The bytes a client signs for `nonce`."""
    return CHALLENGE_PREFIX + nonce.encode("ascii")


def sign_challenge(key: SigningKey, nonce: str) -> str:
    """The base64 signature of the challenge `nonce` with the certificate's private key (for clients)."""
    message = challenge_message(nonce)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(message, _PSS, hashes.SHA256())
    else:
        signature = key.sign(message)
    return base64.b64encode(signature).decode("ascii")


def load_trusted(pem: bytes) -> list[x509.Certificate]:
    """The CA certificates of a PEM bundle."""
    return x509.load_pem_x509_certificates(pem)


def load_chain(pem: str) -> list[x509.Certificate]:
    """The certificates of a PEM chain, the client's own first; `LoginRefused` when there is none or too many."""
    try:
        chain = x509.load_pem_x509_certificates(pem.encode("ascii", "replace"))
    except ValueError as exc:
        raise LoginRefused("'certificate' holds no PEM certificate (-----BEGIN CERTIFICATE-----)") from exc
    if not chain:
        raise LoginRefused("'certificate' holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    if len(chain) > MAX_CHAIN:
        raise LoginRefused(f"the chain has {len(chain)} certificates; at most {MAX_CHAIN} are accepted")
    return chain


def common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if len(names) == 1 else None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, hex, as audit entries name it."""
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def _policies() -> tuple[ExtensionPolicy, ExtensionPolicy]:
    # RFC 5280 profile with two relaxations for private plant CAs such as `carbonflow certs`: the leaf need
    # not name its issuer's key (authority key identifier) nor carry a subject alternative name, as the
    # identity is its CN. Everything else (CA basic constraints and key usage, client-auth EKU) stays.
    leaf = (ExtensionPolicy.webpki_defaults_ee()
            .may_be_present(x509.AuthorityKeyIdentifier, Criticality.AGNOSTIC, None)
            .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None))
    return ExtensionPolicy.webpki_defaults_ca(), leaf


def verify_chain(chain: Sequence[x509.Certificate], *, trusted: Sequence[x509.Certificate],
                 now: datetime | None = None) -> x509.Certificate:
    """The client's certificate (`chain[0]`) once it chains to a `trusted` CA, is within its validity dates,
    allows client authentication and digital signatures; `LoginRefused` saying what fails otherwise."""
    leaf, intermediates = chain[0], list(chain[1:])
    when = now or datetime.now(UTC)
    if when < leaf.not_valid_before_utc:
        raise LoginRefused(f"the certificate is not valid before {leaf.not_valid_before_utc.isoformat()}")
    if when > leaf.not_valid_after_utc:
        raise LoginRefused(f"the certificate expired at {leaf.not_valid_after_utc.isoformat()}")
    try:
        usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise LoginRefused("the certificate has no extended key usage; it needs clientAuth") from exc
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise LoginRefused("the certificate is not for client authentication (no clientAuth extended key usage)")
    try:
        key_usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        key_usage = None
    if key_usage is not None and not key_usage.digital_signature:
        raise LoginRefused("the certificate's key usage does not allow digital signatures")
    ca_policy, leaf_policy = _policies()
    verifier = (PolicyBuilder().store(Store(list(trusted))).time(when.replace(tzinfo=None))
                .extension_policies(ca_policy=ca_policy, ee_policy=leaf_policy).build_client_verifier())
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        raise LoginRefused(f"the certificate does not chain to a trusted CA: {exc}") from exc
    return leaf


def verify_signature(cert: x509.Certificate, *, nonce: str, signature: str) -> None:
    """`LoginRefused` unless `signature` (base64) is the certificate key's signature of the challenge."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise LoginRefused("'signature' is not base64") from exc
    message = challenge_message(nonce)
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, message, _PSS, hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(raw, message)
        else:
            raise LoginRefused(f"certificates with {type(key).__name__} keys cannot log in (EC, RSA or Ed25519)")
    except InvalidSignature as exc:
        raise LoginRefused("the signature does not verify with the certificate's key: "
                           "sign the challenge with the certificate's own private key") from exc
