"""The revocation signal: what a worker hears from the database's NOTIFY, and what it does when it cannot listen."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import psycopg
import pytest

from api.auth.revocations import CHANNEL, RevocationSignal
from tests.conftest import free_port


async def _until(condition: object, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition() and asyncio.get_running_loop().time() < deadline:  # type: ignore[operator]
        await asyncio.sleep(0.02)


async def _stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_notice_moves_its_users_version_only_and_clears_the_cache(database_url: str) -> None:
    forgotten: list[int] = []
    signal = RevocationSignal(forget=lambda: forgotten.append(1))
    before = (signal.version(7), signal.version(8))
    listening = asyncio.create_task(signal.listen(database_url))
    try:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            for _ in range(50):  # until the listener, connecting meanwhile, hears one
                await conn.execute(f"NOTIFY {CHANNEL}, '7'")
                await _until(lambda: signal.version(7) != before[0], timeout_s=0.1)
                if signal.version(7) != before[0]:
                    break
    finally:
        await _stopped(listening)
    assert (signal.version(7) != before[0], signal.version(8) == before[1], bool(forgotten)) == (True, True, True)


async def test_a_worker_that_cannot_listen_makes_every_stream_check() -> None:
    forgotten: list[int] = []
    signal = RevocationSignal(forget=lambda: forgotten.append(1), retry_s=0.05)
    before = signal.version(1)
    listening = asyncio.create_task(signal.listen(f"postgresql://127.0.0.1:{free_port()}/none?connect_timeout=1"))
    try:
        await _until(lambda: signal.version(1) != before)
    finally:
        await _stopped(listening)
    assert (signal.version(1) != before, bool(forgotten)) == (True, True)


@pytest.mark.parametrize(
    ("change", "heard"),
    [
        ("UPDATE sessions SET revoked_at = now() WHERE user_id = %(u)s", True),
        ("UPDATE api_tokens SET revoked_at = now() WHERE user_id = %(u)s", True),
        ("UPDATE users SET disabled = true WHERE user_id = %(u)s", True),
        ("UPDATE users SET password_changed_at = now() + interval '1 second' WHERE user_id = %(u)s", True),
        ("UPDATE users SET must_change_password = true WHERE user_id = %(u)s", True),
        ("UPDATE api_tokens SET last_used_at = now() WHERE user_id = %(u)s", False),
        ("UPDATE users SET totp_last_step = 1 WHERE user_id = %(u)s", False),
    ],
    ids=["session-revoked", "token-revoked", "disabled", "password-changed", "must-change", "token-used", "login"],
)
def test_the_database_announces_ended_credentials_and_nothing_else(database_url: str, change: str,
                                                                   heard: bool) -> None:
    with psycopg.connect(database_url, autocommit=True) as db, \
            psycopg.connect(database_url, autocommit=True) as listener:
        user = db.execute("INSERT INTO users (username, role, password_hash, must_change_password)"
                          " VALUES (%s, 'technician', 'x', false) RETURNING user_id",
                          (f"notify-{uuid.uuid4().hex[:8]}",)).fetchone()[0]  # type: ignore[index]
        db.execute("INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (%s, %s, now() + interval '1 hour')",
                   (uuid.uuid4().bytes, user))
        db.execute("INSERT INTO api_tokens (token_hash, user_id, name, scopes, expires_at)"
                   " VALUES (%s, %s, 't', '{devices}', now() + interval '1 hour')", (uuid.uuid4().bytes, user))
        listener.execute(f"LISTEN {CHANNEL}")
        db.execute(change, {"u": user})
        payloads = [n.payload for n in listener.notifies(timeout=0.5)]
    assert payloads == ([str(user)] if heard else [])
