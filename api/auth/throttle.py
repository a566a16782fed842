"""Login throttling: failed logins per (user name, client address), answered with a growing delay.

The first `free` failures of a pair cost nothing; each one after that blocks the pair for twice as long as
the one before (`first`, 2 x `first`, 4 x `first`, ...) up to `longest`. A success, or a quiet day, forgets
the pair. The user name is counted as typed, whether such a user exists or not, so that the answers (status,
body, timing) are the same for both and do not tell which names exist. The address is part of the key, so
that guesses from elsewhere do not lock the user out of its own address.

    >>> [login_delay(n, free=5, first=timedelta(seconds=1), longest=timedelta(minutes=15)).seconds
    ...  for n in (1, 4, 5, 6, 7, 16)]
    [0, 0, 1, 2, 4, 900]
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

__all__ = ["FORGET_AFTER", "blocked_for", "forget", "forget_user", "login_delay", "record_failure"]

FORGET_AFTER = timedelta(days=1)
_NO_ADDRESS = "-"  # a peer without an address (a test client, a Unix socket): one key for all of them


def login_delay(failures: int, *, free: int, first: timedelta, longest: timedelta) -> timedelta:
    """How long a pair is blocked after its `failures`-th failure in a row."""
    if failures < free:
        return timedelta(0)
    doublings = min(failures - free, 40)  # 2**40 seconds is far beyond any cap: bounds the number
    return min(first * 2**doublings, longest)


async def blocked_for(conn: psycopg.AsyncConnection, *, username: str, client_ip: str | None) -> int | None:
    """Whole seconds until the pair may try again, or None when it may now."""
    cur = await conn.execute(
        "SELECT ceil(extract(epoch FROM blocked_until - now()))::int FROM login_throttle"
        " WHERE username = %s AND client_ip = %s AND blocked_until > now()",
        (username, client_ip or _NO_ADDRESS),
    )
    row = await cur.fetchone()
    return None if row is None else max(1, row[0])


async def record_failure(conn: psycopg.AsyncConnection, *, username: str, client_ip: str | None, free: int,
                         first: timedelta, longest: timedelta) -> tuple[int, timedelta]:
    """Count a failed login of the pair: (failures in a row, delay now imposed). Call inside a transaction."""
    # rows of pairs that went quiet: bounded by the per-address rate limit, swept on the way
    await conn.execute("DELETE FROM login_throttle WHERE last_failed_at < now() - %s", (FORGET_AFTER,))
    cur = await conn.execute(
        "INSERT INTO login_throttle AS t (username, client_ip, failures, last_failed_at) VALUES (%s, %s, 1, now())"
        " ON CONFLICT (username, client_ip) DO UPDATE SET failures = t.failures + 1, last_failed_at = now()"
        " RETURNING failures",
        (username, client_ip or _NO_ADDRESS),
    )
    failures = (await cur.fetchone())[0]  # type: ignore[index]
    delay = login_delay(failures, free=free, first=first, longest=longest)
    if delay:
        await conn.execute("UPDATE login_throttle SET blocked_until = now() + %s WHERE username = %s AND client_ip = %s",
                           (delay, username, client_ip or _NO_ADDRESS))
    return failures, delay


async def forget(conn: psycopg.AsyncConnection, *, username: str, client_ip: str | None) -> None:
    """Forget the failures of the pair, after its successful login."""
    await conn.execute("DELETE FROM login_throttle WHERE username = %s AND client_ip = %s",
                       (username, client_ip or _NO_ADDRESS))


async def forget_user(conn: psycopg.AsyncConnection, *, username: str) -> None:
    """Forget the failures of the user name from every address, when an administrator resets its password."""
    await conn.execute("DELETE FROM login_throttle WHERE username = %s", (username,))
