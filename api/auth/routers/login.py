"""/api/v1/auth: log in and out, who am I, change my password, enrol a TOTP second factor."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from api.audit import auditlog
from api.auth import accounts, security, throttle
from api.auth.access import Principal
from api.auth.deps import AnonymousRateLimit, AnyCaller, LoginSession, UserSession
from api.deps import ClientIP, Conn, Settings, get_conn
from api.errors import Conflict
from api.settings import ApiSettings

router = APIRouter(prefix="/auth", tags=["auth"])

TOTP_HEADER = "X-Carbonflow-TOTP"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginBody(_Body):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=security.MAX_PASSWORD_LENGTH)
    totp: str | None = Field(None, pattern=r"^\d{6}$", description="6-digit code, required once TOTP is enabled")


class PasswordChange(_Body):
    current_password: str = Field(min_length=1, max_length=security.MAX_PASSWORD_LENGTH)
    new_password: str = Field(min_length=1, max_length=security.MAX_PASSWORD_LENGTH)


class TotpCode(_Body):
    code: str = Field(pattern=r"^\d{6}$", description="the 6-digit code the authenticator shows now")


def _me(principal: Principal, user: dict[str, Any]) -> dict[str, Any]:
    return {
        **accounts.user_view(user),
        "permissions": sorted(principal.permissions),
        "authenticated_via": principal.via,
        "token_name": principal.token_name,
        "credential_expires_at": principal.expires_at,
        "must_change_password": principal.must_change_password,
        "password_expires_at": principal.password_expires_at,
    }


# `Conn`'s pooled connection (503 when the database cannot be reached), held for one step of a login only
_pooled = asynccontextmanager(get_conn)
_BAD_CREDENTIALS = "invalid user name or password"


def _throttled(wait_s: int) -> HTTPException:
    # the same for every user name, known or not: it tells nothing about the account
    return HTTPException(429, f"too many failed logins for this user name from your address; retry in {wait_s} s",
                         headers={"Retry-After": str(wait_s)})


async def _count_failure(conn: psycopg.AsyncConnection, settings: ApiSettings, *, username: str,
                         ip: str | None) -> None:
    """Count a failed login of (`username`, `ip`) and audit the start of a delay; inside a transaction."""
    failures, delay = await throttle.record_failure(
        conn, username=username, client_ip=ip, free=settings.login_free_failures, first=settings.login_first_delay,
        longest=settings.login_max_delay)
    if delay:
        await auditlog.record(conn, action="auth.login_throttle", client_ip=ip, actor_kind="system", target=username,
                              detail={"failures": failures, "delay_s": delay.total_seconds()})


@router.post("/login", responses={429: {"description": "too many failed logins of this user name from this "
                                                     "address, or too many requests from it: see Retry-After"}})
async def login(body: LoginBody, request: Request, settings: Settings, ip: ClientIP,
                _: AnonymousRateLimit) -> dict[str, Any]:
    """Exchange user name, password (and TOTP code once enrolled) for a bearer session token.

    Failed logins are throttled per (user name, client address) with a growing delay, the same for names
    that exist and names that do not (see README, Security)."""
    attempted = body.username[:64]
    # a connection only to read the user and, later, to store the outcome: not while scrypt hashes (about 80 ms
    # of a core), or a crowd of logins holds every pooled connection and the worker's other requests wait
    async with _pooled(request) as conn:
        wait_s = await throttle.blocked_for(conn, username=body.username, client_ip=ip)
        user = None if wait_s else await accounts.get_user(conn, username=body.username)
    if wait_s:
        async with _pooled(request) as conn:
            await auditlog.record(conn, action="auth.login_failed", client_ip=ip, actor=attempted, target=attempted,
                                  outcome="denied", detail={"reason": "throttled"})
        raise _throttled(wait_s)

    async def refuse(status: int, message: str, reason: str, *, count: bool,
                     headers: dict[str, str] | None = None) -> HTTPException:
        async with _pooled(request) as conn, conn.transaction():
            if count:
                await _count_failure(conn, settings, username=body.username, ip=ip)
            await auditlog.record(conn, action="auth.login_failed", client_ip=ip, actor=attempted, target=attempted,
                                  outcome="denied", detail={"reason": reason})
        return HTTPException(status, message, headers=headers)

    # an unknown name takes the path of a wrong password: a hash of the same cost, a failure counted, one answer
    if user is None:
        await asyncio.to_thread(security.verify_unknown_user, body.password, n=settings.scrypt_n)
        raise await refuse(401, _BAD_CREDENTIALS, "unknown user", count=True)
    if not await asyncio.to_thread(security.verify_password, body.password, user["password_hash"]):
        raise await refuse(401, _BAD_CREDENTIALS, "wrong password", count=True)
    if user["disabled"]:
        raise await refuse(403, "account disabled; ask an administrator", "disabled", count=False)
    step = None
    if user["totp_enabled"]:
        if body.totp is None:
            raise await refuse(401, "this account needs a TOTP code: send 'totp' with the 6-digit code", "totp missing",
                               count=False, headers={TOTP_HEADER: "required"})
        step = security.match_totp(user["totp_secret"], body.totp, time.time(), last_step=user["totp_last_step"])
        if step is None:
            raise await refuse(401, "invalid or already used TOTP code", "wrong totp", count=True,
                               headers={TOTP_HEADER: "required"})
    rehash = None
    if security.needs_rehash(user["password_hash"], n=settings.scrypt_n):
        rehash = await asyncio.to_thread(security.hash_password, body.password, n=settings.scrypt_n)
    token = security.new_token(security.SESSION_PREFIX)
    now = datetime.now(UTC)
    expires_at = now + settings.session_ttl
    async with _pooled(request) as conn, conn.transaction():
        await accounts.record_login(conn, user_id=user["user_id"], totp_step=step, password_hash=rehash)
        await throttle.forget(conn, username=body.username, client_ip=ip)
        session_id = await accounts.create_session(conn, user_id=user["user_id"], token_hash=security.token_digest(token),
                                                   expires_at=expires_at, client_ip=ip)
        await auditlog.record(conn, action="auth.login", client_ip=ip, actor=user["username"], actor_kind="user",
                              target=user["username"], detail={"session_id": session_id, "totp": step is not None})
    must_change = user["must_change_password"] or (
        settings.password_max_age is not None and user["password_changed_at"] + settings.password_max_age <= now)
    return {"token": token, "token_type": "bearer", "expires_at": expires_at, "must_change_password": must_change,
            "username": user["username"], "role": user["role"]}


@router.post("/logout")
async def logout(principal: LoginSession, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """End the session whose token is sent."""
    async with conn.transaction():
        await accounts.revoke_session(conn, session_id=principal.credential_id)
        await auditlog.record(conn, action="auth.logout", client_ip=ip, principal=principal, target=principal.username,
                              detail={"session_id": principal.credential_id})
    return {"status": "logged out"}


@router.get("/me")
async def me(principal: AnyCaller, conn: Conn) -> dict[str, Any]:
    """The caller: role, scope, permissions, and whether a password change is due."""
    user = await accounts.get_user(conn, user_id=principal.user_id)
    return _me(principal, user)  # type: ignore[arg-type]


@router.post("/password")
async def change_password(body: PasswordChange, principal: LoginSession, conn: Conn, settings: Settings,
                          ip: ClientIP) -> dict[str, Any]:
    """Change my password (policy, last 5 refused). My other sessions and my machine tokens made after a
    password login end; this session stays, as it has just proved the old password."""
    user = await accounts.get_user(conn, user_id=principal.user_id)
    assert user is not None
    # guessing the current password through a stolen session is throttled like guessing it at login
    wait_s = await throttle.blocked_for(conn, username=user["username"], client_ip=ip)
    if wait_s:
        raise _throttled(wait_s)
    if not await asyncio.to_thread(security.verify_password, body.current_password, user["password_hash"]):
        async with conn.transaction():
            await _count_failure(conn, settings, username=user["username"], ip=ip)
            await auditlog.record(conn, action="auth.password_change", client_ip=ip, principal=principal,
                                  target=principal.username, outcome="denied", detail={"reason": "wrong password"})
        raise HTTPException(403, "current password is wrong")
    problems = await asyncio.to_thread(security.password_problems, body.new_password, username=user["username"])
    if problems:
        raise HTTPException(422, "new password rejected: " + "; ".join(problems))
    recent = await accounts.recent_password_hashes(conn, user_id=user["user_id"])

    def reused() -> bool:
        return any(security.verify_password(body.new_password, h) for h in recent)

    if await asyncio.to_thread(reused):
        raise HTTPException(422, f"new password rejected: must differ from your last {accounts.PASSWORD_HISTORY} passwords")
    new_hash = await asyncio.to_thread(security.hash_password, body.new_password, n=settings.scrypt_n)
    async with conn.transaction():
        after = await accounts.set_password(conn, user_id=user["user_id"], password_hash=new_hash,
                                            must_change_password=False, keep_session=principal.credential_id)
        await auditlog.record(conn, action="auth.password_change", client_ip=ip, principal=principal,
                              target=principal.username, before=accounts.user_view(user), after=after)
    return {"status": "password changed", "password_changed_at": after["password_changed_at"]}


@router.post("/totp/enroll")
async def totp_enroll(principal: UserSession, conn: Conn, settings: Settings, ip: ClientIP) -> dict[str, Any]:
    """A new TOTP secret and its otpauth:// URI; it takes effect after POST /auth/totp/confirm."""
    secret = security.new_totp_secret()
    try:
        async with conn.transaction():
            await accounts.set_totp_secret(conn, user_id=principal.user_id, secret=secret)
            await auditlog.record(conn, action="auth.totp_enroll", client_ip=ip, principal=principal,
                                  target=principal.username)
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"secret": secret, "otpauth_uri": security.totp_uri(secret, username=principal.username,
                                                                 issuer=settings.totp_issuer),
            "next": "POST /api/v1/auth/totp/confirm with the code your authenticator shows"}


@router.post("/totp/confirm")
async def totp_confirm(body: TotpCode, principal: UserSession, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Turn TOTP on with a first valid code; from then on login needs a code."""
    user = await accounts.get_user(conn, user_id=principal.user_id)
    assert user is not None
    if user["totp_enabled"]:
        raise HTTPException(409, "TOTP is already enabled")
    if not user["totp_secret"]:
        raise HTTPException(409, "no TOTP secret yet: POST /api/v1/auth/totp/enroll first")
    step = security.match_totp(user["totp_secret"], body.code, time.time(), last_step=None)
    if step is None:
        raise HTTPException(422, "the code does not match the enrolled secret; check the device's clock and retry")
    async with conn.transaction():
        await accounts.enable_totp(conn, user_id=principal.user_id, step=step)
        await auditlog.record(conn, action="auth.totp_enable", client_ip=ip, principal=principal,
                              target=principal.username, before={"totp_enabled": False}, after={"totp_enabled": True})
    return {"status": "TOTP enabled"}
