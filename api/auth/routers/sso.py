"""/api/v1/auth/sso: single sign-on through an OpenID Connect provider, and its links to carbonflow users.

The browser goes to GET /start, which remembers state, nonce and PKCE verifier server side, binds them to
this browser with a cookie and redirects to the provider. The provider sends the browser back to GET
/callback with a code: the state is spent (one use), the code traded for tokens, the ID token verified and
the identity mapped to a user by its link (see docs/auth.md). The callback then redirects to the page with a
one-time handoff code in the URL fragment, which the page trades at POST /exchange (same browser, within
60 s) for an ordinary session token; so the token itself never appears in a URL.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.audit import auditlog
from api.auth import accounts, security, sso_queries
from api.auth.deps import AnonymousRateLimit, UserAdmin
from api.auth.oidc import OidcClient, new_pkce_pair
from api.deps import ClientIP, Conn, Settings
from api.errors import Conflict, LoginRefused, NotFound, Unavailable

router = APIRouter(prefix="/auth/sso", tags=["auth"])

COOKIE = "cf_sso"
REQUEST_TTL = timedelta(minutes=10)
HANDOFF_TTL = timedelta(seconds=60)
_COOKIE_PATH = "/api/v1/auth/sso"
_NOT_CONFIGURED = "single sign-on is not configured on this server (CARBONFLOW_OIDC_* settings)"
_RESTART = "start again at /api/v1/auth/sso/start"
BindingCookie = Annotated[str | None, Cookie(alias=COOKIE, include_in_schema=False)]


class ExchangeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handoff: str = Field(min_length=20, max_length=100, description="the code the callback put after #sso=")


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=128)
    subject: str | None = Field(None, min_length=1, max_length=255, description="the provider's 'sub' of the person")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$", max_length=254,
                              description="or: a verified email the provider will present; bound to the subject "
                                          "at its first login")
    issuer: str | None = Field(None, max_length=500, description="default: the configured provider")

    @model_validator(mode="after")
    def _one_of(self) -> LinkCreate:
        if (self.subject is None) == (self.email is None):
            raise ValueError("give exactly one of 'subject' and 'email'")
        return self


def _oidc(request: Request) -> OidcClient:
    """The process's OIDC client; 404 when SSO is not configured."""
    settings = request.app.state.settings
    if settings.oidc is None:
        raise HTTPException(404, _NOT_CONFIGURED)
    client = getattr(request.app.state, "oidc_client", None)
    if client is None or client.settings is not settings.oidc:
        client = request.app.state.oidc_client = OidcClient(settings.oidc)
    return client  # type: ignore[no-any-return]


def _matches(binding: str | None, stored: bytes) -> bool:
    return binding is not None and hmac.compare_digest(security.token_digest(binding), stored)


@router.get("/status")
async def sso_status(settings: Settings, _: AnonymousRateLimit) -> dict[str, Any]:
    """Whether single sign-on is configured (the login page shows its button only then)."""
    if settings.oidc is None:
        return {"enabled": False}
    return {"enabled": True, "name": settings.oidc.display_name, "start": "/api/v1/auth/sso/start"}


@router.get("/start", status_code=302, responses={302: {"description": "to the provider's login"}})
async def sso_start(request: Request, conn: Conn, settings: Settings, _: AnonymousRateLimit) -> RedirectResponse:
    """Redirect to the provider's login (authorization code flow, PKCE S256, state and nonce)."""
    client = _oidc(request)
    state, nonce, binding = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier, challenge = new_pkce_pair()
    try:
        url = await client.authorization_url(state=state, nonce=nonce, code_challenge=challenge)
    except Unavailable as exc:
        raise HTTPException(502, str(exc)) from exc
    await sso_queries.create_request(conn, state_hash=security.token_digest(state),
                                     binding_hash=security.token_digest(binding), nonce=nonce, code_verifier=verifier,
                                     ttl=REQUEST_TTL)
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(COOKIE, binding, max_age=int(REQUEST_TTL.total_seconds()), path=_COOKIE_PATH, httponly=True,
                        samesite="lax", secure=settings.oidc.redirect_url.startswith("https:"))  # type: ignore[union-attr]
    return response


@router.get("/callback", status_code=303, responses={
    303: {"description": "to the page, with a one-time handoff code after #sso="},
    400: {"description": "unknown, used or expired state; another browser; the provider reported an error"},
    401: {"description": "the code or the ID token was refused"},
    403: {"description": "no carbonflow account is linked to this identity, or it is disabled"},
    502: {"description": "the provider cannot be reached"}})
async def sso_callback(request: Request, conn: Conn, ip: ClientIP, _: AnonymousRateLimit, binding: BindingCookie = None,
                       code: Annotated[str | None, Query(max_length=2048)] = None,
                       state: Annotated[str | None, Query(max_length=256)] = None,
                       iss: Annotated[str | None, Query(max_length=500)] = None,
                       error: Annotated[str | None, Query(max_length=256)] = None,
                       error_description: Annotated[str | None, Query(max_length=1024)] = None) -> RedirectResponse:
    """Finish a login the provider sent back: verify it, map the identity, hand the page a one-time code."""
    client = _oidc(request)
    issuer = client.settings.issuer
    identity: dict[str, Any] = {}

    async def refuse(status: int, message: str, reason: str) -> HTTPException:
        await auditlog.record(conn, action="auth.login_failed", client_ip=ip, actor=identity.get("username"),
                              target=identity.get("username"), outcome="denied",
                              detail={"method": "sso", "reason": reason, "issuer": issuer,
                                      **{k: v for k, v in identity.items() if k != "username"}})
        return HTTPException(status, message)

    if not state:
        raise await refuse(400, f"the callback has no state; {_RESTART}", "no state")
    request_row = await sso_queries.take_request(conn, state_hash=security.token_digest(state))
    if request_row is None:
        raise await refuse(400, f"unknown or already used login state; {_RESTART}", "bad state")
    if request_row["expired"]:
        raise await refuse(400, f"this login took longer than {int(REQUEST_TTL.total_seconds() // 60)} min; {_RESTART}",
                           "expired state")
    if not _matches(binding, request_row["binding_hash"]):
        raise await refuse(400, f"this login was started in another browser (its cookie is missing); {_RESTART}",
                           "browser mismatch")
    if error:
        raise await refuse(400, f"the provider ended the login: {error}"
                           + (f" ({error_description})" if error_description else ""), f"provider: {error}")
    if iss is not None and iss != issuer:  # RFC 9207: an answer from another provider (mix-up attack)
        raise await refuse(400, f"the answer comes from issuer {iss!r}, not {issuer!r}", "issuer mismatch")
    if not code:
        raise await refuse(400, f"the callback has no authorization code; {_RESTART}", "no code")
    try:
        tokens = await client.exchange_code(code=code, code_verifier=request_row["code_verifier"])
        claims = await client.verify(tokens["id_token"], nonce=request_row["nonce"])
    except LoginRefused as exc:
        raise await refuse(401, str(exc), "token refused") from exc
    except Unavailable as exc:
        raise await refuse(502, str(exc), "provider unavailable") from exc
    subject = claims["sub"]
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    identity.update(subject=subject, email=email)
    link = await sso_queries.find_link(conn, issuer=issuer, subject=subject)
    if link is None and email and claims.get("email_verified") is True:
        async with conn.transaction():
            link = await sso_queries.bind_email_link(conn, issuer=issuer, email=email, subject=subject)
            if link is not None:
                await auditlog.record(conn, action="sso.link_bind", client_ip=ip, actor=link["username"],
                                      actor_kind="user", target=link["username"],
                                      after={"link_id": link["link_id"], "issuer": issuer, "subject": subject,
                                             "email": email})
    if link is None:
        raise await refuse(403, f"no carbonflow account is linked to this sign-in (subject {subject!r}"
                           + (f", email {email!r}" if email else "") + "); ask an administrator to link it",
                           "unlinked identity")
    identity["username"] = link["username"]
    if link["disabled"]:
        raise await refuse(403, "account disabled; ask an administrator", "disabled")
    handoff = secrets.token_urlsafe(32)
    async with conn.transaction():
        await sso_queries.complete_request(conn, state_hash=security.token_digest(state), user_id=link["user_id"],
                                           issuer=issuer, subject=subject, handoff_hash=security.token_digest(handoff),
                                           ttl=HANDOFF_TTL)
        await sso_queries.touch_link(conn, link_id=link["link_id"])
    return RedirectResponse(f"/#sso={handoff}", status_code=303)


@router.post("/exchange")
async def sso_exchange(body: ExchangeBody, conn: Conn, settings: Settings, ip: ClientIP, _: AnonymousRateLimit,
                       binding: BindingCookie = None) -> JSONResponse:
    """Trade the callback's one-time handoff code for a bearer session token."""
    row = await sso_queries.take_handoff(conn, handoff_hash=security.token_digest(body.handoff))
    if row is None or not _matches(binding, row["binding_hash"]):
        why = "unknown, used or expired handoff code" if row is None else "handoff code from another browser"
        await auditlog.record(conn, action="auth.login_failed", client_ip=ip, outcome="denied",
                              detail={"method": "sso", "reason": why})
        raise HTTPException(400, f"{why}; sign in again with single sign-on")
    user = await accounts.get_user(conn, user_id=row["user_id"])
    if user is None or user["disabled"]:
        raise HTTPException(403, "account disabled; ask an administrator")
    token = security.new_token(security.SESSION_PREFIX)
    expires_at = datetime.now(UTC) + settings.session_ttl
    async with conn.transaction():
        session_id = await accounts.create_session(conn, user_id=user["user_id"], token_hash=security.token_digest(token),
                                                   expires_at=expires_at, client_ip=ip, auth_method="sso")
        await auditlog.record(conn, action="auth.login", client_ip=ip, actor=user["username"], actor_kind="user",
                              target=user["username"], detail={"session_id": session_id, "method": "sso",
                                                               "issuer": row["issuer"], "subject": row["subject"]})
    response = JSONResponse(jsonable_encoder({"token": token, "token_type": "bearer", "expires_at": expires_at,
                                      "must_change_password": False, "username": user["username"],
                                      "role": user["role"]}))
    response.delete_cookie(COOKIE, path=_COOKIE_PATH)
    return response


@router.get("/links")
async def list_links(principal: UserAdmin, conn: Conn, username: str | None = None) -> dict[str, Any]:
    """Every link from an OIDC identity to a user (administrators)."""
    return {"links": await sso_queries.list_links(conn, username=username)}


@router.post("/links", status_code=201)
async def create_link(body: LinkCreate, principal: UserAdmin, conn: Conn, settings: Settings,
                      ip: ClientIP) -> dict[str, Any]:
    """Link a provider's subject, or pre-link a verified email, to a user (administrators)."""
    issuer = body.issuer or (settings.oidc.issuer if settings.oidc else None)
    if issuer is None:
        raise HTTPException(422, "single sign-on is not configured: give 'issuer'")
    user = await accounts.get_user(conn, username=body.username)
    if user is None:
        raise HTTPException(404, f"no user {body.username!r}")
    try:
        async with conn.transaction():
            link = await sso_queries.create_link(conn, user_id=user["user_id"], issuer=issuer, subject=body.subject,
                                                 email=body.email, created_by=principal.username)
            await auditlog.record(conn, action="sso.link", client_ip=ip, principal=principal, target=user["username"],
                                  after=link)
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return link


@router.delete("/links/{link_id}")
async def delete_link(link_id: int, principal: UserAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Remove a link; the user's open sessions stay until they end (administrators)."""
    try:
        async with conn.transaction():
            row = await sso_queries.delete_link(conn, link_id=link_id)
            await auditlog.record(conn, action="sso.unlink", client_ip=ip, principal=principal,
                                  target=f"sso-link:{link_id}", before=row)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    return {"status": "unlinked", **row}
