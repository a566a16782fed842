"""/api/v1/auth/cert: client-certificate login for gateways and service accounts (proof of possession).

POST /challenge gives a one-time nonce (2 minutes); POST /login takes the PEM chain and the signature of
the nonce by the certificate's key (see `api.auth.certlogin`), checks the chain against the CA bundle in
CARBONFLOW_CERT_LOGIN_CA, and maps the certificate's CN to a registered identity: a user it acts for and
the scopes of the machine token it receives. The scopes are at most 'ingest' and 'health' (least
privilege: a gateway posts envelopes and reads health, nothing else), cut further to the user's role.
Administrators register identities under /identities.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from api.audit import auditlog
from api.auth import accounts, cert_queries, certlogin, security
from api.auth.access import ROLE_PERMISSIONS
from api.auth.deps import AnonymousRateLimit, UserAdmin
from api.deps import ClientIP, Conn, Settings
from api.errors import Conflict, LoginRefused, NotFound

router = APIRouter(prefix="/auth/cert", tags=["auth"])

CHALLENGE_TTL = timedelta(minutes=2)
CERT_SCOPES = ("health", "ingest")
_NOT_CONFIGURED = "certificate login is not configured on this server (CARBONFLOW_CERT_LOGIN_CA)"
_CN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$"


class CertLogin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    certificate: str = Field(min_length=1, max_length=32_000, description="PEM chain, the client's certificate first")
    nonce: str = Field(min_length=20, max_length=100, description="from POST /api/v1/auth/cert/challenge")
    signature: str = Field(min_length=1, max_length=2_000,
                           description="base64 signature of 'carbonflow-cert-login-v1:' + nonce with the cert's key")


class IdentityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    common_name: str = Field(pattern=_CN, description="the certificate subject's CN, e.g. the gateway id")
    username: str = Field(min_length=1, max_length=128, description="the service account it acts for")
    scopes: list[Literal["health", "ingest"]] = Field(default_factory=lambda: list(CERT_SCOPES), min_length=1)


def _trusted(request: Request) -> list[Any]:
    path = request.app.state.settings.cert_login_ca
    if path is None:
        raise HTTPException(404, _NOT_CONFIGURED)
    # read at each login (a few kB): a renewed bundle takes effect without a restart
    try:
        return certlogin.load_trusted(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise HTTPException(503, f"the certificate-login CA bundle {str(path)!r} cannot be read") from exc


@router.post("/challenge")
async def cert_challenge(request: Request, conn: Conn, _: AnonymousRateLimit) -> dict[str, Any]:
    """A one-time nonce to sign with the certificate's private key."""
    _trusted(request)
    nonce = secrets.token_urlsafe(32)
    expires_at = await cert_queries.create_challenge(conn, nonce_hash=security.token_digest(nonce), ttl=CHALLENGE_TTL)
    return {"nonce": nonce, "expires_at": expires_at,
            "sign": f"{certlogin.CHALLENGE_PREFIX.decode()}<nonce>: ECDSA SHA-256 (EC keys), PSS SHA-256 (RSA) "
                    "or Ed25519; send base64 to POST /api/v1/auth/cert/login"}


@router.post("/login")
async def cert_login(body: CertLogin, request: Request, conn: Conn, settings: Settings, ip: ClientIP,
                     _: AnonymousRateLimit) -> dict[str, Any]:
    """A machine token for a registered certificate that proved possession of its key."""
    trusted = _trusted(request)
    seen: dict[str, Any] = {}

    async def refuse(status: int, message: str, reason: str) -> HTTPException:
        await auditlog.record(conn, action="auth.login_failed", client_ip=ip, actor=seen.get("username"),
                              target=seen.get("common_name"), outcome="denied",
                              detail={"method": "certificate", "reason": reason,
                                      **{k: v for k, v in seen.items() if k != "username"}})
        return HTTPException(status, message)

    # the nonce is spent first, so a failed attempt cannot be retried with it
    if not await cert_queries.take_challenge(conn, nonce_hash=security.token_digest(body.nonce)):
        raise await refuse(401, "unknown, used or expired challenge: get a new one with POST /api/v1/auth/cert/challenge",
                           "bad challenge")
    try:
        chain = certlogin.load_chain(body.certificate)
        seen.update(common_name=certlogin.common_name(chain[0]), fingerprint=certlogin.fingerprint(chain[0]))
        leaf = certlogin.verify_chain(chain, trusted=trusted)
        certlogin.verify_signature(leaf, nonce=body.nonce, signature=body.signature)
    except LoginRefused as exc:
        raise await refuse(401, str(exc), str(exc).split(":")[0]) from exc
    cn = seen["common_name"]
    identity = await cert_queries.find_identity(conn, common_name=cn) if cn else None
    if identity is None:
        raise await refuse(403, f"no identity is registered for certificate CN {cn!r}; "
                                "an administrator registers it at POST /api/v1/auth/cert/identities", "unregistered")
    seen["username"] = identity["username"]
    if identity["disabled"]:
        raise await refuse(403, f"account {identity['username']!r} is disabled", "disabled")
    scopes = sorted(set(identity["scopes"]) & set(CERT_SCOPES) & ROLE_PERMISSIONS.get(identity["role"], frozenset()))
    if not scopes:
        raise await refuse(403, f"role {identity['role']!r} of {identity['username']!r} allows none of the scopes "
                                f"{identity['scopes']}", "no scopes")
    token = security.new_token(security.API_TOKEN_PREFIX)
    async with conn.transaction():
        row = await accounts.create_api_token(conn, user_id=identity["user_id"], name=f"cert:{cn}",
                                              token_hash=security.token_digest(token), scopes=scopes,
                                              expires_at=datetime.now(UTC) + settings.cert_token_ttl,
                                              cert_common_name=cn)  # ingest: its gateway only
        await cert_queries.touch_identity(conn, common_name=cn)
        await auditlog.record(conn, action="auth.login", client_ip=ip, actor=identity["username"], actor_kind="token",
                              target=cn, detail={"method": "certificate", "common_name": cn,
                                                 "fingerprint": seen["fingerprint"], "token_id": row["token_id"],
                                                 "scopes": scopes})
    return {"token": token, "token_type": "bearer", "expires_at": row["expires_at"], "token_id": row["token_id"],
            "scopes": scopes, "username": identity["username"], "common_name": cn}


@router.get("/identities")
async def list_identities(principal: UserAdmin, conn: Conn) -> dict[str, Any]:
    """The certificate CNs allowed to log in, with their user and scopes (administrators)."""
    return {"identities": await cert_queries.list_identities(conn)}


@router.post("/identities", status_code=201)
async def create_identity(body: IdentityCreate, principal: UserAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Let certificates with this CN log in as a user (a technician service account, say) (administrators)."""
    user = await accounts.get_user(conn, username=body.username)
    if user is None:
        raise HTTPException(404, f"no user {body.username!r}")
    outside = sorted(set(body.scopes) - ROLE_PERMISSIONS.get(user["role"], frozenset()))
    if outside:
        raise HTTPException(422, f"role {user['role']!r} of {body.username!r} does not include {outside}; "
                                 "use a technician service account")
    try:
        async with conn.transaction():
            row = await cert_queries.create_identity(conn, common_name=body.common_name, user_id=user["user_id"],
                                                     scopes=body.scopes, created_by=principal.username)
            await auditlog.record(conn, action="cert.identity_create", client_ip=ip, principal=principal,
                                  target=body.common_name, after=row)
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return row


@router.delete("/identities/{common_name}")
async def delete_identity(common_name: str, principal: UserAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Stop a CN from logging in and revoke the tokens it got (administrators)."""
    try:
        async with conn.transaction():
            row = await cert_queries.delete_identity(conn, common_name=common_name)
            await auditlog.record(conn, action="cert.identity_delete", client_ip=ip, principal=principal,
                                  target=common_name, before=row)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    return {"status": "deleted", **row}
