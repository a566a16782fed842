"""Credentials that ended, as the database announces them, for the live streams of this worker.

A trigger (migration 092) sends ``NOTIFY carbonflow_credentials, '<user_id>'`` when a session or machine
token is revoked, or a user is disabled, changes password or role. Each API worker listens on one
connection of its own; a stream compares the `version` of its user on every tick and checks its credential
again when it moved, so a logout through any worker (or a revocation in the database) ends the stream
within a tick instead of at its next periodic check. While the listening connection is down, notifications
may be missed: every version moves once it is back, so every stream checks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg

__all__ = ["CHANNEL", "RevocationSignal"]

CHANNEL = "carbonflow_credentials"
log = logging.getLogger("carbonflow.api")


class RevocationSignal:
    """Per-user counters of announced revocations; `forget` runs on each one (the worker's session cache,
    which would otherwise answer a stream's check with the row it read before the revocation)."""

    def __init__(self, *, forget: Callable[[], None] = lambda: None, retry_s: float = 1.0,
                 heartbeat_s: float = 30.0) -> None:
        self._forget = forget
        self._retry_s = retry_s
        self._heartbeat_s = heartbeat_s
        self._epoch = 0  # moves when notifications may have been missed
        self._users: dict[int, int] = {}

    def version(self, user_id: int) -> tuple[int, int]:
        """What a stream of `user_id` remembers and compares on each tick."""
        return self._epoch, self._users.get(user_id, 0)

    def announce(self, user_id: int) -> None:
        self._users[user_id] = self._users.get(user_id, 0) + 1
        self._forget()

    def _missed(self) -> None:
        self._epoch += 1
        self._forget()

    async def listen(self, url: str) -> None:
        """Listen until cancelled, reconnecting after `retry_s` when the connection fails."""
        down = False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if down:
                        log.warning("api: listening for revoked credentials again")
                        down = False
                        self._missed()
                    while True:
                        async for notice in conn.notifies(timeout=self._heartbeat_s):
                            if notice.payload.isdigit():
                                self.announce(int(notice.payload))
                        await conn.execute("SELECT 1")  # a quiet connection may be a dead one: find out
            except psycopg.OperationalError as exc:
                if not down:  # say it once, not every second
                    log.warning("api: cannot listen for revoked credentials (%s); retrying every %.0f s",
                                str(exc).splitlines()[0] if str(exc) else type(exc).__name__, self._retry_s)
                    down = True
                    self._missed()
            await asyncio.sleep(self._retry_s)
