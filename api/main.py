"""Build the FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool

from api import assets, efficiency_code, groups, monitoring, projects
from api.accounting.routers import (
    activity_entry,
    benchmarks,
    calculations,
    factors,
    inventory,
    process_benchmarks,
    report_list,
    reports,
)
from api.alarms.routers import alarms, implausible
from api.analysis import router as analysis_router
from api.analysis.assessment import router as target_assessment_router
from api.analysis.enterprise_router import router as enterprise_analysis_router
from api.analysis.potential import router as reduction_potential_router
from api.audit import router as audit
from api.auth.bootstrap import ensure_admin
from api.auth.revocations import RevocationSignal
from api.auth.routers import certauth, login, sso, tokens, users
from api.caches import SessionCache, SharedCache
from api.emissions.routers import breakdown, compare, emissions, overview, provenance
from api.errors import BootstrapError
from api.grid_factors import router as grid_factors_router
from api.http_ingest import router as http_ingest
from api.http_ingest.kafka_link import KafkaLink
from api.metrics import RequestMetrics
from api.metrics import router as metrics_router
from api.pgsession import configure_session
from api.ratelimit import TokenBuckets
from api.registry.routers import devices, gateways, hierarchy, point_ranges, sites
from api.routers import health, pages
from api.settings import ApiSettings, load_api_settings
from api.telemetry.routers import export, export_scope, live, series
from api.telemetry.routers.live import LIVE_TICK_SHARE_S
from carbonflow.db.connect import connect_with_retry

__all__ = ["create_app"]

log = logging.getLogger("carbonflow.api")


def _bootstrap(url: str, settings: ApiSettings) -> None:
    with connect_with_retry(url, attempts=30, delay_s=1.0, autocommit=True) as conn:
        ensure_admin(conn, settings=settings)


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """A value PostgreSQL cannot take (a NUL character, a number out of range) is the caller's to change."""
    return JSONResponse({"detail": f"invalid value: {str(exc).splitlines()[0]}"}, status_code=422)


_ECHO_CHARS = 100  # of a string in the input a 422 echoes
_ECHO_ITEMS = 10  # of a list or object in it
_ECHO_DEPTH = 4


def _echo(value: Any, depth: int = 0) -> Any:
    """An excerpt of a request's input for a 422 to show: enough to find the value, never the whole of a
    megabyte-long name. JSON cannot carry NaN and Infinity back, which the body parser takes: those are written
    as text ("nan", "inf") rather than failing the answer with a 500."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value if len(value) <= _ECHO_CHARS else f"{value[:_ECHO_CHARS]}... ({len(value):,} characters)"
    if isinstance(value, dict):
        if depth >= _ECHO_DEPTH:
            return f"{{... {len(value)} keys}}"
        shown = {str(k)[:_ECHO_CHARS]: _echo(v, depth + 1) for k, v in list(value.items())[:_ECHO_ITEMS]}
        if len(value) > _ECHO_ITEMS:
            shown["..."] = f"{len(value) - _ECHO_ITEMS} more keys"
        return shown
    if isinstance(value, list | tuple):
        if depth >= _ECHO_DEPTH:
            return f"[... {len(value)} items]"
        items = [_echo(v, depth + 1) for v in value[:_ECHO_ITEMS]]
        return items + ([f"... {len(value) - _ECHO_ITEMS} more items"] if len(value) > _ECHO_ITEMS else [])
    return value


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 list of validation errors, each echoing at most an excerpt of the input (see `_echo`)."""
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder(exc.errors())  # plain JSON values from here: bytes are text, objects are dicts
    for error in errors:
        for key in ("input", "ctx"):
            if key in error:
                error[key] = _echo(error[key])
    return JSONResponse({"detail": errors}, status_code=422)


_ERROR = {"title": "Error", "type": "object", "required": ["detail"],
          "properties": {"detail": {"type": "string", "description": "what went wrong and what to change"}}}


def _document_errors(app: FastAPI) -> None:
    """Describe error bodies as they are: routes answer {"detail": "<message>"}, also for a 422 they raise
    themselves, next to FastAPI's list of validation errors."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = _ERROR
        if "HTTPValidationError" in schemas:
            schemas["HTTPValidationError"]["properties"]["detail"] = {"title": "Detail", "anyOf": [
                {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}, {"type": "string"}]}
        for methods in document.get("paths", {}).values():
            for operation in methods.values():
                for code, response in operation.get("responses", {}).items():
                    if code[:1] in ("4", "5") and "content" not in response:
                        # a 422 may also be FastAPI's own list of validation errors
                        name = "HTTPValidationError" if code == "422" else "Error"
                        response["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
        return document

    app.openapi = openapi  # type: ignore[method-assign]


# writes that change nothing a cache holds: a login adds a session no cache has yet, a stream ticket and
# ingested readings (which reach the database through Kafka and the stream job) change no answer either
_WRITES_KEEPING_CACHES = frozenset({"/api/v1/auth/login", "/api/v1/live/ticket", "/api/v1/ingest"})
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class _ForgetOnWrite:
    """Clears the app's caches when a write request is answered, before its answer leaves, so that the
    writer's next request (and everyone's on this worker) sees the write: a logout ends the session here
    at once."""

    def __init__(self, app: Any, forget: Any) -> None:
        self.app = app
        self.forget = forget

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (scope["type"] != "http" or scope["method"] in _READS
                or scope["path"].rstrip("/") in _WRITES_KEEPING_CACHES):
            await self.app(scope, receive, send)
            return

        async def forget_then_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.forget()
            await send(message)

        try:
            await self.app(scope, receive, forget_then_send)
        finally:
            self.forget()


def create_app(database_url: str | None = None, *, settings: ApiSettings | None = None) -> FastAPI:
    """The API app. At start-up it waits for the database (bounded retries) and creates the first
    administrator when none exists (see `api.auth.bootstrap`); settings default to the environment's."""
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
        pool = AsyncConnectionPool(url, min_size=1, max_size=settings.db_pool_max, open=False,
                                   kwargs={"autocommit": True}, configure=configure_session)
        await pool.open(wait=False)
        app.state.pool = pool
        listening = asyncio.create_task(app.state.revocations.listen(url), name="revocation-listener")
        try:
            yield
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
            await app.state.kafka.close()
            await pool.close()

    app = FastAPI(title="carbonflow API", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.limiter = TokenBuckets(settings.rate_per_s, settings.rate_burst)
    app.state.anonymous_limiter = TokenBuckets(settings.anonymous_rate_per_s, settings.anonymous_rate_burst)
    app.state.kafka = KafkaLink(settings.kafka_bootstrap, settings.topic_prefix)
    # per-worker caches of the dashboards' hot paths (api/caches.py, docs/performance.md)
    app.state.sessions = SessionCache(settings.session_cache_s)
    app.state.scope_sites = SharedCache(settings.session_cache_s)
    app.state.dashboard_cache = SharedCache(settings.dashboard_cache_s)
    app.state.live_ticks = SharedCache(LIVE_TICK_SHARE_S)

    def forget() -> None:
        for cache in (app.state.sessions, app.state.scope_sites, app.state.dashboard_cache, app.state.live_ticks):
            cache.clear()

    # a credential revoked through another worker, or in the database, ends this worker's streams at once
    app.state.revocations = RevocationSignal(forget=app.state.sessions.clear)
    app.add_middleware(_ForgetOnWrite, forget=forget)
    app.add_middleware(RequestMetrics)  # outermost: times everything, the other middlewares included
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    for module in (health, login, tokens, users, audit, sites, devices, gateways, live, series, emissions, overview,
                   benchmarks, export, export_scope, compare, breakdown, provenance, alarms, http_ingest):
        app.include_router(module.router, prefix="/api/v1")
    for module in (factors, inventory, activity_entry, reports, report_list, process_benchmarks,
                   calculations):  # GHG accounting
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(hierarchy.router, prefix="/api/v1")  # after devices: /devices/health stays a route
    app.include_router(point_ranges.router, prefix="/api/v1")  # a point's range for out_of_range, set by hand
    app.include_router(implausible.router, prefix="/api/v1")  # implausible counter readings, accepting a rise
    app.include_router(sso.router, prefix="/api/v1")  # single sign-on
    app.include_router(certauth.router, prefix="/api/v1")  # client-certificate login
    app.include_router(efficiency_code.router, prefix="/api/v1")  # 碳效码 configuration versions and codes
    app.include_router(grid_factors_router, prefix="/api/v1")  # electricity-carbon factors (issue 19)
    app.include_router(monitoring.router, prefix="/api/v1")  # government monitoring (api/monitoring/)
    app.include_router(groups.router, prefix="/api/v1")  # enterprise groups that hold targets (api/groups/)
    app.include_router(analysis_router, prefix="/api/v1")  # analysis and planning (api/analysis/)
    app.include_router(target_assessment_router, prefix="/api/v1")  # target assessment (api/analysis/assessment.py)
    app.include_router(reduction_potential_router, prefix="/api/v1")  # per-process reduction potential
    app.include_router(enterprise_analysis_router, prefix="/api/v1")  # by-process LMDI, enterprise forecast
    app.include_router(projects.router, prefix="/api/v1")  # reduction projects (api/projects/)
    app.include_router(assets.router, prefix="/api/v1")  # carbon assets (api/assets/)
    app.include_router(metrics_router)  # GET /metrics, for Prometheus (api/metrics.py says who may read it)
    app.include_router(pages.router)  # the web app (api/web_dist, built from web/)
    _document_errors(app)
    return app
