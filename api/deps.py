"""FastAPI dependencies as Annotated aliases: the connection, the caller and what the caller may see.

Status codes: 401 when a request carries no valid bearer token; 403 when the
caller's role (or a machine token's scopes) does not include the endpoint, or
a password change is pending; 404 (not 403) for an object outside the caller's
scope, so that its existence is not revealed; 429 when the caller's rate
limit is spent.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import PoolTimeout

from api import accounts, queries, security
from api.access import ROLE_PERMISSIONS, Principal, scope_of
from api.ratelimit import TokenBuckets
from api.settings import ApiSettings

__all__ = [
    "AnonymousRateLimit",
    "AnyCaller",
    "AuditReader",
    "Caller",
    "ClientIP",
    "Conn",
    "DevicesReader",
    "EmissionsReader",
    "GatewaysReader",
    "HealthReader",
    "LiveReader",
    "LoginSession",
    "MaybeCaller",
    "SeriesReader",
    "Settings",
    "TimeParam",
    "UserAdmin",
    "UserSession",
    "VisibleSites",
    "get_conn",
    "parse_time",
]


async def get_conn(request: Request) -> AsyncIterator[psycopg.AsyncConnection]:
    pool = request.app.state.pool
    try:
        async with pool.connection() as conn:
            yield conn
    except psycopg.OperationalError as exc:
        raise HTTPException(503, f"database unavailable: {exc}") from exc


Conn = Annotated[psycopg.AsyncConnection, Depends(get_conn)]


def parse_time(name: str, value: str) -> datetime:
    """An ISO-8601 time with an offset; 422 with a message otherwise."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HTTPException(422, f"{name}: {value!r} is not an ISO-8601 time (e.g. 2026-11-24T08:00:00+08:00)") from exc
    if parsed.tzinfo is None:
        raise HTTPException(422, f"{name}: {value!r} needs a UTC offset (e.g. +08:00 or Z)")
    return parsed


TimeParam = Annotated[str, Query(description="ISO-8601 time with offset")]


def _settings(request: Request) -> ApiSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


Settings = Annotated[ApiSettings, Depends(_settings)]


def _client_ip(request: Request) -> str | None:
    """The peer address; behind a trusted proxy, the nearest untrusted address in X-Forwarded-For."""
    peer = request.client.host if request.client else None
    trusted = _settings(request).trusted_proxies
    if peer in trusted:
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if hop not in trusted:
                return hop
    return peer


ClientIP = Annotated[str | None, Depends(_client_ip)]


def _spend(limiter: TokenBuckets, key: str, who: str) -> None:
    wait = limiter.take(key)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise HTTPException(429, f"rate limit exceeded for {who}; retry in {seconds} s",
                            headers={"Retry-After": str(seconds)})


def _anonymous_limit(request: Request) -> None:
    ip = _client_ip(request) or "unknown"
    _spend(request.app.state.anonymous_limiter, f"ip:{ip}", f"unauthenticated requests from {ip}")


AnonymousRateLimit = Annotated[None, Depends(_anonymous_limit)]

_bearer = HTTPBearer(auto_error=False, description="a session token from POST /api/v1/auth/login, or a machine token")
_Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_LOGIN_HINT = "log in with POST /api/v1/auth/login and send 'Authorization: Bearer <token>'"


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _principal(row: dict[str, Any], *, via: str, settings: ApiSettings) -> Principal:
    scope = scope_of(row["role"], region=row["region"], enterprise_id=row["enterprise_id"],
                     assigned=tuple(row["enterprises"]))
    permissions = ROLE_PERMISSIONS.get(row["role"], frozenset())
    expires = None
    must_change = False
    if via == "token":
        permissions = permissions & frozenset(row["scopes"])
    else:
        if settings.password_max_age is not None:
            expires = row["password_changed_at"] + settings.password_max_age
        must_change = row["must_change_password"] or (expires is not None and expires <= row["db_now"])
    return Principal(
        user_id=row["user_id"], username=row["username"], role=row["role"], scope=scope, permissions=permissions,
        via=via,  # type: ignore[arg-type]
        credential_id=row["credential_id"], expires_at=row["expires_at"], must_change_password=must_change,
        password_expires_at=expires, region=row["region"], enterprise_id=row["enterprise_id"],
        enterprises=tuple(row["enterprises"]), token_name=row.get("token_name"),
    )


async def _authenticate(request: Request, conn: psycopg.AsyncConnection,
                        credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None:
        raise _unauthorized(f"authentication required: {_LOGIN_HINT}")
    token = credentials.credentials
    digest = security.token_digest(token)
    row: dict[str, Any] | None = None
    via = "session"
    if token.startswith(security.API_TOKEN_PREFIX):
        via = "token"
        row = await accounts.find_api_token(conn, token_hash=digest)
    elif token.startswith(security.SESSION_PREFIX):
        row = await accounts.find_session(conn, token_hash=digest)
    what = "machine token" if via == "token" else "session"
    if row is None:
        raise _unauthorized(f"unknown bearer token; {_LOGIN_HINT}")
    if row["revoked_at"] is not None:
        raise _unauthorized(f"this {what} was revoked (logout, password change, reset or disabled account); "
                            + ("create a new token" if via == "token" else "log in again"))
    if row["expires_at"] <= row["db_now"]:
        raise _unauthorized(f"this {what} expired at {row['expires_at'].isoformat()}; "
                            + ("create a new token" if via == "token" else "log in again"))
    if row["disabled"]:
        raise _unauthorized(f"account {row['username']!r} is disabled")
    principal = _principal(row, via=via, settings=_settings(request))
    key = f"token:{principal.credential_id}" if via == "token" else f"user:{principal.user_id}"
    _spend(request.app.state.limiter, key, f"{what} of {principal.username!r}")
    return principal


async def _any_caller(request: Request, conn: Conn, credentials: _Credentials) -> Principal:
    return await _authenticate(request, conn, credentials)


AnyCaller = Annotated[Principal, Depends(_any_caller)]


async def _caller(principal: AnyCaller) -> Principal:
    if principal.must_change_password:
        raise HTTPException(403, "password change required (first login, reset or expiry): POST /api/v1/auth/password")
    return principal


Caller = Annotated[Principal, Depends(_caller)]


def _session_only(principal: Principal) -> Principal:
    if principal.via != "session":
        raise HTTPException(403, "this endpoint needs an interactive session; machine tokens cannot use it")
    return principal


async def _login_session(principal: AnyCaller) -> Principal:
    return _session_only(principal)


async def _user_session(principal: Caller) -> Principal:
    return _session_only(principal)


LoginSession = Annotated[Principal, Depends(_login_session)]
UserSession = Annotated[Principal, Depends(_user_session)]


def _require(permission: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def dependency(principal: Caller) -> Principal:
        if permission in principal.permissions:
            return principal
        if principal.via == "token" and permission in ROLE_PERMISSIONS.get(principal.role, frozenset()):
            raise HTTPException(403, f"this machine token lacks the {permission!r} scope")
        raise HTTPException(403, f"role {principal.role!r} may not use this endpoint (needs {permission!r})")

    return dependency


HealthReader = Annotated[Principal, Depends(_require("health"))]
DevicesReader = Annotated[Principal, Depends(_require("devices"))]
GatewaysReader = Annotated[Principal, Depends(_require("gateways"))]
LiveReader = Annotated[Principal, Depends(_require("live"))]
SeriesReader = Annotated[Principal, Depends(_require("series"))]
EmissionsReader = Annotated[Principal, Depends(_require("emissions"))]
AuditReader = Annotated[Principal, Depends(_require("audit"))]
UserAdmin = Annotated[Principal, Depends(_require("users"))]


async def _visible_sites(conn: Conn, principal: Caller) -> list[str] | None:
    return await queries.visible_sites(conn, scope=principal.scope)


VisibleSites = Annotated[list[str] | None, Depends(_visible_sites)]


async def _maybe_caller(request: Request, credentials: _Credentials) -> Principal | None:
    """The caller when a token is sent (401 if it is not valid), else None; None as well when the
    database cannot be reached to check the token, so that health still answers."""
    if credentials is None:
        _anonymous_limit(request)
        return None
    try:
        async with request.app.state.pool.connection(timeout=2) as conn:
            return await _authenticate(request, conn, credentials)
    except (psycopg.OperationalError, PoolTimeout):
        return None


MaybeCaller = Annotated[Principal | None, Depends(_maybe_caller)]
