"""Build the FastAPI application."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from psycopg_pool import AsyncConnectionPool

from api.routers import devices, emissions, health, live, series

__all__ = ["create_app"]


def create_app(database_url: str | None = None) -> FastAPI:
    """The API app; the pool opens at startup and waits for the database."""
    url = database_url or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("api: set DATABASE_URL (postgresql://...)")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = AsyncConnectionPool(url, min_size=1, max_size=10, open=False, kwargs={"autocommit": True})
        await pool.open(wait=False)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="carbonflow API", version="0.1.0", lifespan=lifespan)
    for module in (health, devices, live, series, emissions):
        app.include_router(module.router, prefix="/api/v1")

    page = resources.files("api").joinpath("static/index.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return page

    return app
