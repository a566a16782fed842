"""Build the FastAPI application."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from psycopg_pool import AsyncConnectionPool

from api.bootstrap import ensure_admin
from api.errors import BootstrapError
from api.ratelimit import TokenBuckets
from api.routers import (
    audit,
    auth,
    devices,
    emissions,
    gateways,
    health,
    live,
    series,
    tokens,
    users,
)
from api.settings import ApiSettings, load_api_settings
from carbonflow.db.connect import connect_with_retry

__all__ = ["create_app"]

log = logging.getLogger("carbonflow.api")
# the page keeps a bearer token in sessionStorage: allow no script but our own, and no framing
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
                               " frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _bootstrap(url: str, settings: ApiSettings) -> None:
    with connect_with_retry(url, attempts=30, delay_s=1.0, autocommit=True) as conn:
        ensure_admin(conn, settings=settings)


def create_app(database_url: str | None = None, *, settings: ApiSettings | None = None) -> FastAPI:
    """The API app. At start-up it waits for the database (bounded retries) and creates the first
    administrator when none exists (see `api.bootstrap`); settings default to the environment's."""
    url = database_url or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("api: set DATABASE_URL (postgresql://...)")
    settings = settings or load_api_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.bootstrap_admin:
            try:
                await asyncio.to_thread(_bootstrap, url, settings)
            except BootstrapError as exc:
                log.error("api: cannot start: %s", exc)
                raise
        pool = AsyncConnectionPool(url, min_size=1, max_size=10, open=False, kwargs={"autocommit": True})
        await pool.open(wait=False)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="carbonflow API", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.limiter = TokenBuckets(settings.rate_per_s, settings.rate_burst)
    app.state.anonymous_limiter = TokenBuckets(settings.anonymous_rate_per_s, settings.anonymous_rate_burst)
    for module in (health, auth, tokens, users, audit, devices, gateways, live, series, emissions):
        app.include_router(module.router, prefix="/api/v1")

    static = resources.files("api").joinpath("static")
    page = static.joinpath("index.html").read_text(encoding="utf-8")
    script = static.joinpath("app.js").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers=_PAGE_HEADERS)

    @app.get("/app.js", include_in_schema=False)
    async def app_js() -> Response:
        return Response(script, media_type="text/javascript; charset=utf-8", headers=_PAGE_HEADERS)

    return app
