"""FastAPI dependencies every service shares, as Annotated aliases: the connection, the settings, the client's
address and times in query parameters. Who the caller is and what it may see are auth's (`api.auth.deps`).

Status codes: 503 when the database cannot be reached; 422 for a time that is not ISO-8601 with an offset.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Query, Request

from api.settings import ApiSettings

__all__ = [
    "ClientIP",
    "Conn",
    "Settings",
    "TimeParam",
    "app_settings",
    "client_ip",
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
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HTTPException(422, f"{name}: {value!r} is not an ISO-8601 time (e.g. 2026-11-24T08:00:00+08:00)") from exc
    if parsed.tzinfo is None:
        raise HTTPException(422, f"{name}: {value!r} needs a UTC offset (e.g. +08:00 or Z)")
    return parsed


TimeParam = Annotated[str, Query(description="ISO-8601 time with offset")]


def app_settings(request: Request) -> ApiSettings:
    """The app's settings (`api.settings`)."""
    return request.app.state.settings  # type: ignore[no-any-return]


Settings = Annotated[ApiSettings, Depends(app_settings)]


def client_ip(request: Request) -> str | None:
    """The peer address; behind a trusted proxy, the nearest untrusted address in X-Forwarded-For."""
    peer = request.client.host if request.client else None
    trusted = app_settings(request).trusted_proxies
    if peer in trusted:
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if hop not in trusted:
                return hop
    return peer


ClientIP = Annotated[str | None, Depends(client_ip)]
