"""Connections that wait for PostgreSQL with bounded retries."""

from __future__ import annotations

import asyncio
import time

import psycopg

__all__ = ["connect_with_retry", "async_connect_with_retry"]


def connect_with_retry(url: str, *, attempts: int = 30, delay_s: float = 1.0, **kwargs: object) -> psycopg.Connection:
    """Connect, retrying while the server starts; raise with the last error after `attempts`."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            return psycopg.connect(url, **kwargs)  # type: ignore[arg-type]
        except psycopg.OperationalError as exc:
            last = exc
            time.sleep(delay_s)
    raise RuntimeError(f"PostgreSQL at {_safe(url)} not reachable after {attempts} attempts: {last}") from last


async def async_connect_with_retry(
    url: str, *, attempts: int = 30, delay_s: float = 1.0, **kwargs: object
) -> psycopg.AsyncConnection:
    """Async variant of connect_with_retry."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            return await psycopg.AsyncConnection.connect(url, **kwargs)  # type: ignore[arg-type]
        except psycopg.OperationalError as exc:
            last = exc
            await asyncio.sleep(delay_s)
    raise RuntimeError(f"PostgreSQL at {_safe(url)} not reachable after {attempts} attempts: {last}") from last


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}@{host}"
    return url
