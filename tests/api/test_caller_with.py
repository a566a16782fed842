"""api/auth/deps.caller_with: one dependency factory for "needs this permission (and one of these roles)"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import HTTPException

from api.auth.access import ROLE_PERMISSIONS, Principal, scope_of
from api.auth.deps import caller_with

PLANNER = caller_with("monitoring_data", roles=("admin", "government"),
                      may_not="set targets; a government user of the region or an administrator may")


def _principal(role: str, *, via: str = "session", scopes: frozenset[str] | None = None) -> Principal:
    held = ROLE_PERMISSIONS[role] if scopes is None else ROLE_PERMISSIONS[role] & scopes
    return Principal(user_id=1, username=f"u-{role}", role=role, via=via,  # type: ignore[arg-type]
                     scope=scope_of(role, region="CN-ZJ", enterprise_id="e-1", assigned=()), permissions=held,
                     credential_id=1, expires_at=datetime(2030, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("role", ["admin", "government"])
async def test_a_named_role_holding_the_permission_passes(role: str) -> None:
    caller = _principal(role)
    assert await PLANNER(caller) is caller


@pytest.mark.parametrize(("caller", "detail"), [
    (_principal("enterprise"),
     "role 'enterprise' may not set targets; a government user of the region or an administrator may"),
    (_principal("technician"), "role 'technician' may not use this endpoint (needs 'monitoring_data')"),
    (_principal("government", via="token", scopes=frozenset({"monitoring"})),
     "this machine token lacks the 'monitoring_data' scope"),
])
async def test_a_missing_permission_or_role_is_403_saying_which(caller: Principal, detail: str) -> None:
    with pytest.raises(HTTPException) as refused:
        await PLANNER(caller)
    assert (refused.value.status_code, refused.value.detail) == (403, detail)


async def test_without_roles_the_permission_alone_decides() -> None:
    reader = caller_with("monitoring")
    caller = _principal("enterprise")
    with pytest.raises(HTTPException) as refused:
        await reader(_principal("auditor"))
    assert (await reader(caller) is caller, refused.value.status_code) == (True, 403)
