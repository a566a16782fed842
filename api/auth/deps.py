"""FastAPI dependencies of auth as Annotated aliases: the caller and what the caller may see.

Status codes: 401 when a request carries no valid bearer token; 403 when the
caller's role (or a machine token's scopes) does not include the endpoint, or
a password change is pending; 404 (not 403) for an object outside the caller's
scope, so that its existence is not revealed; 429 when the caller's rate
limit is spent.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

import psycopg
from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import PoolTimeout

from api.auth import accounts, queries, security, tickets
from api.auth.access import ROLE_PERMISSIONS, Principal, Scope, scope_of
from api.deps import Conn
from api.deps import app_settings as _settings
from api.deps import client_ip as _client_ip
from api.ratelimit import TokenBuckets
from api.settings import ApiSettings

__all__ = [
    "AlarmActor",
    "AlarmsReader",
    "AnonymousRateLimit",
    "AnyCaller",
    "AuditReader",
    "BenchmarkAdmin",
    "Caller",
    "CredentialDigest",
    "DevicesReader",
    "EmissionsReader",
    "GatewaysReader",
    "HealthReader",
    "HierarchyAdmin",
    "IngestToken",
    "LiveReader",
    "LoginSession",
    "MaybeCaller",
    "PointRangeAdmin",
    "SeriesReader",
    "StreamAccess",
    "StreamCaller",
    "UserAdmin",
    "UserSession",
    "Via",
    "VisibleSites",
    "authenticate_digest",
    "caller_with",
    "require_permission",
    "scope_sites",
]


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

Via = Literal["session", "token"]
_bearer = HTTPBearer(auto_error=False, description="a session token from POST /api/v1/auth/login, or a machine token")
_Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_LOGIN_HINT = "log in with POST /api/v1/auth/login and send 'Authorization: Bearer <token>'"


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _principal(row: dict[str, Any], *, via: str, settings: ApiSettings) -> Principal:
    scope = scope_of(row["role"], region=row["region"], enterprise_id=row["enterprise_id"],
                     assigned=tuple(row["enterprises"]))
    permissions = ROLE_PERMISSIONS.get(row["role"], frozenset())
    if via == "token":
        permissions = permissions & frozenset(row["scopes"])
    expires = None
    must_change = False
    auth_method = row.get("auth_method", "password")
    # a session or machine token got by password follows the password's rules: refused (403) while a change is
    # due; an SSO session's rules are the provider's, a certificate's token rests on the certificate
    if auth_method == "password":
        if settings.password_max_age is not None:
            expires = row["password_changed_at"] + settings.password_max_age
        must_change = row["must_change_password"] or (expires is not None and expires <= row["db_now"])
    return Principal(
        user_id=row["user_id"], username=row["username"], role=row["role"], scope=scope, permissions=permissions,
        via=via,  # type: ignore[arg-type]
        credential_id=row["credential_id"], expires_at=row["expires_at"], auth_method=auth_method,
        must_change_password=must_change, password_expires_at=expires, region=row["region"],
        enterprise_id=row["enterprise_id"], enterprises=tuple(row["enterprises"]), token_name=row.get("token_name"),
        cert_common_name=row.get("cert_common_name"),
    )


async def _authenticate(request: Request, conn: psycopg.AsyncConnection,
                        credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller behind the bearer header. A request refused here (no, unknown, revoked or expired token)
    spends from its address's unauthenticated limit, so that guessing tokens is as slow as guessing passwords:
    429 instead of 401 once that is spent."""
    try:
        if credentials is None:
            raise _unauthorized(f"authentication required: {_LOGIN_HINT}")
        token = credentials.credentials
        via: Via = "token" if token.startswith(security.API_TOKEN_PREFIX) else "session"
        if not token.startswith((security.API_TOKEN_PREFIX, security.SESSION_PREFIX)):
            raise _unauthorized(f"unknown bearer token; {_LOGIN_HINT}")
        return await authenticate_digest(request, conn, via=via, digest=security.token_digest(token))
    except HTTPException as exc:
        if exc.status_code == 401:
            _anonymous_limit(request)
        raise


async def _session_row(request: Request, conn: psycopg.AsyncConnection, digest: bytes) -> dict[str, Any] | None:
    """The session row, from this worker's short cache when it read the row within its time (api/caches.py);
    the database clock (`db_now`) moves on with the time since the row was read, so expiry stays exact."""
    cache = request.app.state.sessions
    hit = cache.get(digest)
    if hit is not None:
        row, age = hit
        return {**row, "db_now": row["db_now"] + timedelta(seconds=age)}
    generation = cache.generation
    row = await accounts.find_session(conn, token_hash=digest)
    if row is not None and row["revoked_at"] is None:
        cache.put(digest, row, generation=generation)
    return row


async def authenticate_digest(request: Request, conn: psycopg.AsyncConnection, *, via: Via, digest: bytes,
                              spend: bool = True) -> Principal:
    """The caller behind a stored credential digest (a session or machine token); 401 when it is unknown,
    revoked, expired or its account disabled. `spend` takes one request from the caller's rate limit."""
    row: dict[str, Any] | None
    if via == "token":
        row = await accounts.find_api_token(conn, token_hash=digest)
    else:
        row = await _session_row(request, conn, digest)
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
    if spend:
        key = f"token:{principal.credential_id}" if via == "token" else f"user:{principal.user_id}"
        _spend(request.app.state.limiter, key, f"{what} of {principal.username!r}")
    return principal


async def _any_caller(request: Request, conn: Conn, credentials: _Credentials) -> Principal:
    return await _authenticate(request, conn, credentials)


AnyCaller = Annotated[Principal, Depends(_any_caller)]


async def _caller(principal: AnyCaller) -> Principal:
    if principal.must_change_password:
        if principal.via == "token":
            raise HTTPException(403, f"the password of {principal.username!r}, this machine token's owner, must be "
                                     "changed (first login, reset or expiry): log in and POST /api/v1/auth/password")
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


def require_permission(principal: Principal, permission: str) -> Principal:
    """`principal` when it holds `permission`; 403 saying what is missing otherwise."""
    if permission in principal.permissions:
        return principal
    if principal.via == "token" and permission in ROLE_PERMISSIONS.get(principal.role, frozenset()):
        raise HTTPException(403, f"this machine token lacks the {permission!r} scope")
    raise HTTPException(403, f"role {principal.role!r} may not use this endpoint (needs {permission!r})")


def caller_with(permission: str, *, roles: tuple[str, ...] = (),
                may_not: str = "use this endpoint") -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency answering the caller when it holds `permission` and, where `roles` are named, has one of
    them; 403 otherwise, a refused role told "role 'enterprise' may not <may_not>". For example::

        Planner = Annotated[Principal, Depends(caller_with(
            "monitoring_data", roles=("admin", "government"),
            may_not="set targets; a government user of the region or an administrator may"))]
    """
    async def dependency(principal: Caller) -> Principal:
        require_permission(principal, permission)
        if roles and principal.role not in roles:
            raise HTTPException(403, f"role {principal.role!r} may not {may_not}")
        return principal

    return dependency


HealthReader = Annotated[Principal, Depends(caller_with("health"))]
DevicesReader = Annotated[Principal, Depends(caller_with("devices"))]
GatewaysReader = Annotated[Principal, Depends(caller_with("gateways"))]
LiveReader = Annotated[Principal, Depends(caller_with("live"))]
SeriesReader = Annotated[Principal, Depends(caller_with("series"))]
EmissionsReader = Annotated[Principal, Depends(caller_with("emissions"))]
AuditReader = Annotated[Principal, Depends(caller_with("audit"))]
UserAdmin = Annotated[Principal, Depends(caller_with("users"))]
BenchmarkAdmin = Annotated[Principal, Depends(caller_with("benchmarks"))]
AlarmsReader = Annotated[Principal, Depends(caller_with("alarms"))]
AlarmActor = Annotated[Principal, Depends(caller_with("alarm_actions"))]
HierarchyAdmin = Annotated[Principal, Depends(caller_with("hierarchy"))]
PointRangeAdmin = Annotated[Principal, Depends(caller_with("point_ranges"))]


async def _ingest_token(principal: Caller) -> Principal:
    if principal.via != "token":
        raise HTTPException(403, "ingest needs a machine token with the 'ingest' scope "
                                 "(POST /api/v1/auth/tokens), not an interactive session")
    return require_permission(principal, "ingest")


IngestToken = Annotated[Principal, Depends(_ingest_token)]


async def scope_sites(request: Request, conn: psycopg.AsyncConnection, scope: Scope) -> list[str] | None:
    """`queries.visible_sites`, shared for a short time by the callers of this worker with the same scope."""
    return await request.app.state.scope_sites.get(  # type: ignore[no-any-return]
        scope, lambda: queries.visible_sites(conn, scope=scope))


async def _visible_sites(request: Request, conn: Conn, principal: Caller) -> list[str] | None:
    return await scope_sites(request, conn, principal.scope)


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


async def _credential_digest(principal: Caller, credentials: _Credentials) -> bytes:
    """The stored digest of the (already authenticated) bearer credential of this request."""
    assert credentials is not None
    return security.token_digest(credentials.credentials)


CredentialDigest = Annotated[bytes, Depends(_credential_digest)]


@dataclass(frozen=True)
class StreamAccess:
    """Who opened a live stream, through which credential (to check it again while streaming), and what
    the caller may see."""

    principal: Principal
    via: Via
    digest: bytes
    sites: list[str] | None


async def stream_access(request: Request, *, via: Via, digest: bytes) -> StreamAccess:
    """Check a stream's credential (again): 401/403 as for any request, 503 when the database is away."""
    try:
        async with request.app.state.pool.connection(timeout=5) as conn:
            principal = await authenticate_digest(request, conn, via=via, digest=digest, spend=False)
            if principal.must_change_password:
                raise HTTPException(403, "password change required (first login, reset or expiry)")
            require_permission(principal, "live")
            sites = await scope_sites(request, conn, principal.scope)
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise HTTPException(503, f"database unavailable: {exc}") from exc
    return StreamAccess(principal=principal, via=via, digest=digest, sites=sites)


_TicketParam = Annotated[str | None, Query(max_length=128, description=(
    "a stream ticket from POST /api/v1/live/ticket (for EventSource, which cannot send headers); "
    "single use, valid for 60 s; not needed with an Authorization header"))]


async def _stream_caller(request: Request, credentials: _Credentials, ticket: _TicketParam = None) -> StreamAccess:
    """The caller of a stream, by bearer header or by ticket. It does not hold a pooled connection for the
    life of the stream: the stream takes one for each look at the database. A refused credential or ticket
    spends from the address's unauthenticated limit, as in `_authenticate`."""
    try:
        access = await _stream_credential(request, credentials, ticket)
    except HTTPException as exc:
        if exc.status_code == 401:
            _anonymous_limit(request)
        raise
    key = f"token:{access.principal.credential_id}" if access.via == "token" else f"user:{access.principal.user_id}"
    _spend(request.app.state.limiter, key, f"{access.principal.username!r}")
    return access


async def _stream_credential(request: Request, credentials: HTTPAuthorizationCredentials | None,
                             ticket: str | None) -> StreamAccess:
    if credentials is not None:
        token = credentials.credentials
        via: Via = "token" if token.startswith(security.API_TOKEN_PREFIX) else "session"
        return await stream_access(request, via=via, digest=security.token_digest(token))
    if ticket:
        try:
            async with request.app.state.pool.connection(timeout=5) as conn:
                redeemed = await tickets.redeem_ticket(conn, ticket=ticket)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise HTTPException(503, f"database unavailable: {exc}") from exc
        if redeemed is None:
            raise _unauthorized("unknown, used or expired stream ticket; get a new one with POST /api/v1/live/ticket")
        return await stream_access(request, via=redeemed[0], digest=redeemed[1])  # type: ignore[arg-type]
    raise _unauthorized("authentication required: send 'Authorization: Bearer <token>' or "
                        "?ticket= from POST /api/v1/live/ticket")


StreamCaller = Annotated[StreamAccess, Depends(_stream_caller)]
