"""FastAPI dependencies as Annotated aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Query, Request

__all__ = ["Conn", "get_conn", "parse_time"]


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
