"""/api/v1/users: user management for administrators; every change lands in the audit log."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.audit import auditlog
from api.auth import accounts, security, throttle
from api.auth.access import ROLE_PERMISSIONS, Principal, Role, scope_problem
from api.auth.deps import UserAdmin
from api.deps import ClientIP, Conn, Settings
from api.errors import Conflict, NotFound

router = APIRouter(prefix="/users", tags=["auth"])

_USERNAME = r"^[a-z0-9][a-z0-9._@-]{2,63}$"
_CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScopeBody(_Body):
    region: str | None = Field(None, pattern=_CODE, description="government: region code, e.g. CN-ZJ")
    enterprise_id: str | None = Field(None, pattern=_CODE, description="enterprise: its enterprise")
    enterprises: list[str] = Field(default_factory=list, max_length=1000, description="auditor: assigned enterprises")


class UserCreate(ScopeBody):
    username: str = Field(pattern=_USERNAME, description="3-64 of a-z 0-9 . _ @ -")
    role: Role
    password: str | None = Field(None, max_length=security.MAX_PASSWORD_LENGTH,
                                 description="omit to get a generated one-time password in the answer")

    @model_validator(mode="after")
    def _scope_fits_role(self) -> UserCreate:
        problem = scope_problem(self.role, region=self.region, enterprise_id=self.enterprise_id,
                                enterprises=tuple(self.enterprises))
        if problem:
            raise ValueError(problem)
        return self


class RoleChange(ScopeBody):
    role: Role

    @model_validator(mode="after")
    def _scope_fits_role(self) -> RoleChange:
        problem = scope_problem(self.role, region=self.region, enterprise_id=self.enterprise_id,
                                enterprises=tuple(self.enterprises))
        if problem:
            raise ValueError(problem)
        return self


class PasswordReset(_Body):
    password: str | None = Field(None, max_length=security.MAX_PASSWORD_LENGTH,
                                 description="omit to get a generated one-time password in the answer")


async def _checked_password(password: str | None, username: str) -> tuple[str, bool]:
    """The password to set and whether it was generated; 422 saying why when a given one breaks the policy."""
    if password is None:
        return security.generate_password(), True
    problems = await asyncio.to_thread(security.password_problems, password, username=username)
    if problems:
        raise HTTPException(422, "password rejected: " + "; ".join(problems))
    return password, False


async def _user(conn: Any, username: str) -> dict[str, Any]:
    user = await accounts.get_user(conn, username=username)
    if user is None:
        raise HTTPException(404, f"no user {username!r}")
    return user


@router.post("", status_code=201)
async def create_user(body: UserCreate, admin: UserAdmin, conn: Conn, settings: Settings, ip: ClientIP) -> dict[str, Any]:
    """Create a user; it must change the password at first login."""
    password, generated = await _checked_password(body.password, body.username)
    password_hash = await asyncio.to_thread(security.hash_password, password, n=settings.scrypt_n)
    try:
        async with conn.transaction():
            user = await accounts.create_user(
                conn, username=body.username, role=body.role, password_hash=password_hash, must_change_password=True,
                region=body.region, enterprise_id=body.enterprise_id, enterprises=body.enterprises)
            await auditlog.record(conn, action="user.create", client_ip=ip, principal=admin, target=body.username,
                                  after=user)
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    except NotFound as exc:
        raise HTTPException(422, str(exc)) from exc
    return {**user, **({"password": password, "note": "one-time password: shown once"} if generated else {})}


@router.get("")
async def list_users(admin: UserAdmin, conn: Conn) -> dict[str, Any]:
    return {"users": await accounts.list_users(conn)}


@router.get("/{username}")
async def get_user(username: str, admin: UserAdmin, conn: Conn) -> dict[str, Any]:
    return accounts.user_view(await _user(conn, username))


async def _set_disabled(username: str, admin: Principal, conn: Any, ip: str | None, disabled: bool) -> dict[str, Any]:
    user = await _user(conn, username)
    if disabled and user["user_id"] == admin.user_id:
        raise HTTPException(409, "you cannot disable your own account")
    async with conn.transaction():
        after = await accounts.set_disabled(conn, user_id=user["user_id"], disabled=disabled)
        await auditlog.record(conn, action="user.disable" if disabled else "user.enable", client_ip=ip,
                              principal=admin, target=username, before=accounts.user_view(user), after=after)
    return after


@router.post("/{username}/disable")
async def disable_user(username: str, admin: UserAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Disable a user: its sessions end and its machine tokens stop working."""
    return await _set_disabled(username, admin, conn, ip, True)


@router.post("/{username}/enable")
async def enable_user(username: str, admin: UserAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    return await _set_disabled(username, admin, conn, ip, False)


@router.post("/{username}/password")
async def reset_password(username: str, body: PasswordReset, admin: UserAdmin, conn: Conn, settings: Settings,
                         ip: ClientIP) -> dict[str, Any]:
    """Set a new password that must be changed at next login; ends the user's sessions and password-made
    machine tokens, and forgets its failed logins (from every address)."""
    user = await _user(conn, username)
    password, generated = await _checked_password(body.password, username)
    password_hash = await asyncio.to_thread(security.hash_password, password, n=settings.scrypt_n)
    async with conn.transaction():
        after = await accounts.set_password(conn, user_id=user["user_id"], password_hash=password_hash,
                                            must_change_password=True)
        await throttle.forget_user(conn, username=username)
        await auditlog.record(conn, action="user.password_reset", client_ip=ip, principal=admin, target=username,
                              before=accounts.user_view(user), after=after)
    return {**after, **({"password": password, "note": "one-time password: shown once"} if generated else {})}


@router.put("/{username}/scope")
async def assign_scope(username: str, body: ScopeBody, admin: UserAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Replace what a user sees: a region (government), an enterprise (enterprise) or enterprises (auditor)."""
    user = await _user(conn, username)
    problem = scope_problem(user["role"], region=body.region, enterprise_id=body.enterprise_id,
                            enterprises=tuple(body.enterprises))
    if problem:
        raise HTTPException(422, problem)
    try:
        async with conn.transaction():
            after = await accounts.set_scope(conn, user_id=user["user_id"], region=body.region,
                                             enterprise_id=body.enterprise_id, enterprises=body.enterprises)
            await auditlog.record(conn, action="user.scope", client_ip=ip, principal=admin, target=username,
                                  before=accounts.user_view(user), after=after)
    except NotFound as exc:
        raise HTTPException(422, str(exc)) from exc
    return after


def _privileges_drop(old: str, new: str) -> bool:
    """True unless the new role may do all the old one could, on every site (admin, technician)."""
    return not (ROLE_PERMISSIONS[old] <= ROLE_PERMISSIONS[new] and new in ("admin", "technician"))


@router.put("/{username}/role", responses={409: {"description": "it would leave no enabled administrator"},
                                           422: {"description": "the scope does not fit the role"}})
async def change_role(username: str, body: RoleChange, admin: UserAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Give a user another role, with the scope that role takes. When its privileges drop, its sessions end and
    its machine tokens are revoked; the last enabled administrator keeps its role."""
    user = await _user(conn, username)
    revoke = user["role"] != body.role and _privileges_drop(user["role"], body.role)
    try:
        async with conn.transaction():
            after = await accounts.set_role(conn, user_id=user["user_id"], role=body.role, region=body.region,
                                            enterprise_id=body.enterprise_id, enterprises=body.enterprises,
                                            revoke=revoke)
            await auditlog.record(conn, action="user.role", client_ip=ip, principal=admin, target=username,
                                  before=accounts.user_view(user), after=after,
                                  detail={"credentials_revoked": revoke})
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    except NotFound as exc:
        raise HTTPException(422, str(exc)) from exc
    return {**after, "credentials_revoked": revoke}


@router.delete("/{username}/totp")
async def reset_totp(username: str, admin: UserAdmin, conn: Conn, ip: ClientIP) -> dict[str, Any]:
    """Remove a user's second factor (lost device); the user can enrol again."""
    user = await _user(conn, username)
    async with conn.transaction():
        after = await accounts.clear_totp(conn, user_id=user["user_id"])
        await auditlog.record(conn, action="user.totp_reset", client_ip=ip, principal=admin, target=username,
                              before=accounts.user_view(user), after=after)
    return after
