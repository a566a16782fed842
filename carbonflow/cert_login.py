"""Log in to the API with a client certificate: fetch a challenge, sign it with the key, get a machine token.

`carbonflow login --cert F --key K --api URL` prints the token; gateways and service scripts call
`login_with_certificate` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization

from api.auth.certlogin import sign_challenge

__all__ = ["CertLoginError", "login_with_certificate"]


class CertLoginError(Exception):
    """The API refused the login or could not be reached; the message says why."""


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:200]}
    if response.status_code != 200:
        raise CertLoginError(f"{response.status_code} from {response.url.path}: {body.get('detail', body)}")
    return body  # type: ignore[no-any-return]


def login_with_certificate(api_url: str, *, cert: Path, key: Path, key_password: bytes | None = None,
                           verify: bool | str = True, timeout_s: float = 10.0) -> dict[str, Any]:
    """The API's answer to a certificate login (``token``, ``expires_at``, ``scopes``...); `cert` is the PEM chain
    (the client's certificate first), `key` its private key. `verify` is httpx's: a CA file for a private API CA."""
    try:
        chain = cert.read_text(encoding="ascii")
        private_key = serialization.load_pem_private_key(key.read_bytes(), password=key_password)
    except (OSError, ValueError, TypeError) as exc:
        raise CertLoginError(f"cannot read the certificate or key: {exc}") from exc
    base = api_url.rstrip("/") + "/api/v1/auth/cert"
    try:
        with httpx.Client(timeout=timeout_s, verify=verify) as client:
            nonce = _answer(client.post(f"{base}/challenge"))["nonce"]
            signature = sign_challenge(private_key, nonce)  # type: ignore[arg-type]
            return _answer(client.post(f"{base}/login", json={"certificate": chain, "nonce": nonce,
                                                              "signature": signature}))
    except httpx.HTTPError as exc:
        raise CertLoginError(f"cannot reach {api_url}: {exc}") from exc
