"""OpenID Connect relying party: discovery, PKCE, the token request and ID token verification.

No HTTP answers here: failures raise `LoginRefused` (the provider or its token said no) or `Unavailable`
(the provider cannot be reached or answers nonsense); the SSO router turns them into 4xx and 502.
Provider metadata and keys are cached for five minutes; an ID token signed with a key id that is not
in the cached key set triggers one refetch, so a provider's key rotation is picked up at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from api.errors import LoginRefused, Unavailable
from api.settings import OidcSettings

__all__ = ["ID_TOKEN_ALGORITHMS", "OidcClient", "ProviderMetadata", "new_pkce_pair", "parse_metadata",
           "verify_id_token"]

# asymmetric only: an HS256 token would be "signed" with the client secret, which a provider
# and every holder of the secret share
ID_TOKEN_ALGORITHMS = ("RS256", "ES256")
_CACHE_S = 300.0
_TIMEOUT_S = 10.0
_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat"]


@dataclass(frozen=True)
class ProviderMetadata:
    """What the relying party needs from the provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    id_token_algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier (RFC 7636: 43-128 unreserved characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return verifier, _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def parse_metadata(document: Any, *, issuer: str) -> ProviderMetadata:
    """The discovery document checked against the configured issuer (OIDC Discovery 4.3: they must match
    exactly, or a document from elsewhere could redirect logins); `Unavailable` when it is unusable."""
    if not isinstance(document, dict):
        raise Unavailable("the provider's discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise Unavailable(f"the provider's discovery document names issuer {document.get('issuer')!r}, "
                          f"configured is {issuer!r}: fix CARBONFLOW_OIDC_ISSUER")
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not isinstance(document.get(k), str)]
    if missing:
        raise Unavailable(f"the provider's discovery document lacks {', '.join(missing)}")
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise Unavailable("the provider does not support PKCE with S256")
    algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    usable = tuple(a for a in ID_TOKEN_ALGORITHMS if a in algorithms)
    if not usable:
        raise Unavailable(f"the provider signs ID tokens with {algorithms}; carbonflow accepts {list(ID_TOKEN_ALGORITHMS)}")
    auth_methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return ProviderMetadata(issuer=issuer, authorization_endpoint=document["authorization_endpoint"],
                            token_endpoint=document["token_endpoint"], jwks_uri=document["jwks_uri"],
                            id_token_algorithms=usable, token_auth_methods=tuple(auth_methods))


def _signing_key(jwks: dict[str, Any], *, kid: str | None, alg: str) -> jwt.PyJWK | None:
    kty = "RSA" if alg.startswith("RS") else "EC"
    candidates = []
    for entry in jwks.get("keys", []) if isinstance(jwks, dict) else []:
        if not isinstance(entry, dict) or entry.get("kty") != kty or entry.get("use", "sig") != "sig":
            continue
        if kid is not None and entry.get("kid") != kid:
            continue
        try:
            candidates.append(jwt.PyJWK(entry, algorithm=alg))
        except jwt.PyJWTError:
            continue
    # without a kid the key must be unambiguous
    return candidates[0] if len(candidates) == 1 or (candidates and kid is not None) else None


def verify_id_token(token: str, *, jwks: dict[str, Any], issuer: str, client_id: str, nonce: str,
                    algorithms: tuple[str, ...] = ID_TOKEN_ALGORITHMS, now: float | None = None,
                    leeway_s: int = 60) -> dict[str, Any]:
    """The claims of an ID token whose signature verifies with a key of `jwks` and whose iss, aud, exp,
    iat, azp and nonce are right (OIDC Core 3.1.3.7); `LoginRefused` saying what is wrong otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise LoginRefused(f"the ID token is not a signed JWT: {exc}") from exc
    alg = header.get("alg")
    if alg not in algorithms:
        raise LoginRefused(f"the ID token is signed with {alg!r}; accepted: {', '.join(algorithms)}")
    key = _signing_key(jwks, kid=header.get("kid"), alg=alg)
    if key is None:
        raise LoginRefused(f"no key of the provider matches the ID token's key id {header.get('kid')!r}")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=[alg], audience=client_id, issuer=issuer,
            # time claims are checked below against `now`, so that tests and clocks can be explicit
            options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False, "verify_nbf": False})
    except jwt.InvalidSignatureError as exc:
        raise LoginRefused("the ID token's signature does not verify with the provider's key") from exc
    except jwt.InvalidAudienceError as exc:
        raise LoginRefused(f"the ID token was issued for another client (audience is not {client_id!r})") from exc
    except jwt.InvalidIssuerError as exc:
        raise LoginRefused(f"the ID token's issuer is not {issuer!r}") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise LoginRefused(f"the ID token lacks the {exc.claim!r} claim") from exc
    except jwt.PyJWTError as exc:
        raise LoginRefused(f"the ID token is invalid: {exc}") from exc
    current = time.time() if now is None else now
    if not isinstance(claims["exp"], (int, float)) or claims["exp"] + leeway_s <= current:
        raise LoginRefused("the ID token has expired")
    if not isinstance(claims["iat"], (int, float)) or claims["iat"] - leeway_s > current:
        raise LoginRefused("the ID token is issued in the future; check the clocks of provider and API")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise LoginRefused(f"the ID token has several audiences and its azp is not {client_id!r}")
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
        raise LoginRefused("the ID token's nonce does not match this login (replayed or injected token)")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise LoginRefused("the ID token's subject is empty")
    return claims


class OidcClient:
    """The provider configured in `OidcSettings`: its metadata and keys (cached), the authorization URL and
    the token request. One per API process."""

    def __init__(self, settings: OidcSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._jwks: tuple[float, dict[str, Any]] | None = None

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=_TIMEOUT_S, transport=self._transport, follow_redirects=False)

    async def _get_json(self, url: str, what: str) -> Any:
        try:
            async with self._client() as client:
                response = await client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise Unavailable(f"the SSO provider cannot be reached for its {what} ({url}): {exc}") from exc
        if response.status_code != 200:
            raise Unavailable(f"the SSO provider answered {response.status_code} for its {what} ({url})")
        try:
            return response.json()
        except ValueError as exc:
            raise Unavailable(f"the SSO provider's {what} is not JSON") from exc

    async def metadata(self) -> ProviderMetadata:
        """The discovery document of the configured issuer (`/.well-known/openid-configuration`)."""
        if self._metadata is not None and time.monotonic() - self._metadata[0] < _CACHE_S:
            return self._metadata[1]
        url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
        metadata = parse_metadata(await self._get_json(url, "discovery document"), issuer=self.settings.issuer)
        self._metadata = (time.monotonic(), metadata)
        return metadata

    async def jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        """The provider's public keys."""
        if not refresh and self._jwks is not None and time.monotonic() - self._jwks[0] < _CACHE_S:
            return self._jwks[1]
        keys = await self._get_json((await self.metadata()).jwks_uri, "signing keys")
        if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
            raise Unavailable("the SSO provider's key set is not a JWKS document")
        self._jwks = (time.monotonic(), keys)
        return keys

    async def authorization_url(self, *, state: str, nonce: str, code_challenge: str) -> str:
        """Where to send the browser: the provider's login for this client, code flow with PKCE (S256)."""
        metadata = await self.metadata()
        query = urlencode({
            "response_type": "code", "client_id": self.settings.client_id, "redirect_uri": self.settings.redirect_url,
            "scope": self.settings.scopes, "state": state, "nonce": nonce, "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        })
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return f"{metadata.authorization_endpoint}{separator}{query}"

    async def exchange_code(self, *, code: str, code_verifier: str) -> dict[str, Any]:
        """The token endpoint's answer for an authorization code; `LoginRefused` when the provider refuses it
        (used twice, expired, wrong verifier), `Unavailable` when it cannot be asked."""
        metadata = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.settings.redirect_url,
                "code_verifier": code_verifier}
        auth: httpx.BasicAuth | None = None
        if "client_secret_basic" in metadata.token_auth_methods:
            # RFC 6749 2.3.1: id and secret are form-urlencoded before they go into Basic
            auth = httpx.BasicAuth(_form_escape(self.settings.client_id), _form_escape(self.settings.client_secret))
        elif "client_secret_post" in metadata.token_auth_methods:
            form |= {"client_id": self.settings.client_id, "client_secret": self.settings.client_secret}
        else:
            raise Unavailable(f"the provider's token endpoint takes none of client_secret_basic, client_secret_post "
                              f"(it offers {list(metadata.token_auth_methods)})")
        try:
            async with self._client() as client:
                response = await client.post(metadata.token_endpoint, data=form, auth=auth,
                                             headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise Unavailable(f"the SSO provider's token endpoint cannot be reached: {exc}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise Unavailable(f"the SSO provider's token endpoint answered {response.status_code} without JSON") from exc
        if response.status_code != 200:
            error = body.get("error", "error") if isinstance(body, dict) else "error"
            description = body.get("error_description", "") if isinstance(body, dict) else ""
            if response.status_code in (400, 401):
                raise LoginRefused(f"the provider refused the authorization code: {error}"
                                   + (f" ({description})" if description else ""))
            raise Unavailable(f"the SSO provider's token endpoint answered {response.status_code}: {error}")
        if not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
            raise LoginRefused("the provider's token answer has no ID token (is 'openid' among the scopes?)")
        return body

    async def verify(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """`verify_id_token` against the provider's current keys, refetched once for an unknown key id."""
        metadata = await self.metadata()
        kwargs = {"issuer": metadata.issuer, "client_id": self.settings.client_id, "nonce": nonce,
                  "algorithms": metadata.id_token_algorithms}
        keys = await self.jwks()
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise LoginRefused(f"the ID token is not a signed JWT: {exc}") from exc
        known = {k.get("kid") for k in keys.get("keys", []) if isinstance(k, dict)}
        if header.get("kid") is not None and header.get("kid") not in known:
            keys = await self.jwks(refresh=True)
        return verify_id_token(id_token, jwks=keys, **kwargs)  # type: ignore[arg-type]


def _form_escape(value: str) -> str:
    return urlencode({"": value})[1:]
