"""/api/v1/auth/tokens: machine tokens of the logged-in user (shown once, stored hashed, scoped, expiring)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from api.audit import auditlog
from api.auth import accounts, security
from api.auth.access import Permission
from api.auth.deps import UserSession
from api.deps import ClientIP, Conn
from api.errors import NotFound

router = APIRouter(prefix="/auth/tokens", tags=["auth"])

class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="what the machine is, e.g. 'ERP export'")
    scopes: list[Permission] = Field(min_length=1, description="endpoints the token may call; within your role")
    expires_in_days: int = Field(90, ge=1, le=366)


@router.post("", status_code=201)
async def create_token(body: TokenCreate, principal: UserSession, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """A new machine token; the secret is in this answer only."""
    outside = sorted(set(body.scopes) - principal.permissions)
    if outside:
        raise HTTPException(422, f"scopes {outside} are not available to role {principal.role!r}; "
                                 f"choose from {sorted(principal.permissions)}")
    token = security.new_token(security.API_TOKEN_PREFIX)
    async with conn.transaction():
        row = await accounts.create_api_token(
            conn, user_id=principal.user_id, name=body.name, token_hash=security.token_digest(token),
            scopes=sorted(set(body.scopes)), expires_at=datetime.now(UTC) + timedelta(days=body.expires_in_days),
            auth_method=principal.auth_method)
        await auditlog.record(conn, action="token.create", client_ip=ip, principal=principal,
                              target=f"token:{row['token_id']}", after=row)
    return {**row, "token": token, "note": "store this token now: it is not shown again"}


@router.get("")
async def list_tokens(principal: UserSession, conn: Conn) -> dict[str, Any]:
    return {"tokens": await accounts.list_api_tokens(conn, user_id=principal.user_id)}


@router.delete("/{token_id}")
async def revoke_token(token_id: int, principal: UserSession, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    try:
        async with conn.transaction():
            row = await accounts.revoke_api_token(conn, user_id=principal.user_id, token_id=token_id)
            await auditlog.record(conn, action="token.revoke", client_ip=ip, principal=principal,
                                  target=f"token:{token_id}", after=row)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    return row
