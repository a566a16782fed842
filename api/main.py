"""Build the FastAPI application."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from api.bootstrap import ensure_admin
from api.errors import BootstrapError
from api.ratelimit import TokenBuckets
from api.routers import (
    audit,
    auth,
    benchmarks,
    benchmarks_admin,
    calculations,
    devices,
    emissions,
    export,
    factors,
    gateways,
    health,
    inventory,
    live,
    overview,
    pages,
    reports,
    series,
    sites,
    tokens,
    users,
)
from api.settings import ApiSettings, load_api_settings
from carbonflow.db.connect import connect_with_retry

__all__ = ["create_app"]

log = logging.getLogger("carbonflow.api")


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
    for module in (health, auth, tokens, users, audit, sites, devices, gateways, live, series, emissions, overview,
                   benchmarks, export):
        app.include_router(module.router, prefix="/api/v1")
    for module in (factors, inventory, reports, benchmarks_admin, calculations):  # GHG accounting
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(pages.router)  # the dashboards (api/static)
    return app
