"""The API's Prometheus metrics: request latency by route template and status, authentication failures, GET /metrics.

Routes are labelled by their template (`/api/v1/devices/{device_id}`), never the raw
path, so a scanner cannot grow the label set; a path no route matches is `unmatched`.
With several uvicorn workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory
before they start: each worker writes its values there and GET /metrics adds them up
(prometheus_client's multiprocess mode). `carbonflow api` runs one worker.

GET /metrics answers callers with the 'health' permission: Prometheus scrapes with a machine
token of scope `health` (POST /api/v1/auth/tokens, revocable and audited like any token);
anonymous callers get 401, other roles 403.
"""

from __future__ import annotations

import asyncio
import os
import time
import urllib.request
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth.deps import HealthReader

__all__ = ["AUTH_FAILURES", "REQUEST_SECONDS", "RequestMetrics", "router", "scrape_heartbeat"]

REQUEST_SECONDS = Histogram("carbonflow_api_request_seconds", "Time to answer an HTTP request, by route template.",
                            ["method", "route", "status"],
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
AUTH_FAILURES = Counter("carbonflow_api_auth_failures_total",
                        "Requests refused with 401 (no, bad or expired credentials, failed logins), by route template.",
                        ["route"])
_UNMATCHED = "unmatched"

router = APIRouter(tags=["health"])


class RequestMetrics:
    """ASGI middleware timing every HTTP request; one histogram observation per request, after it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]  # what the client gets when the app raises before answering

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = _route_template(scope)
            REQUEST_SECONDS.labels(scope["method"], route, str(status[0])).observe(time.perf_counter() - started)
            if status[0] == 401:
                AUTH_FAILURES.labels(route).inc()


def _route_template(scope: Scope) -> str:
    """The matched route's template with the literal prefix it was included under (`/api/v1`).

    FastAPI hands the middleware the route as declared in its router, without the prefix, so the prefix is
    taken from the raw path: the segments before those the template accounts for, which are literal.
    """
    route = scope.get("route")  # set by the router once a route matched (also for a 405)
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return _UNMATCHED
    if isinstance(route, Mount):
        template = template.rstrip("/") + "/{path}"
    if ":path}" in template:  # a catch-all spans segments; such routes are included without a prefix here
        return template
    segments = scope["path"].split("/")
    prefix = segments[:max(0, len(segments) - len(template.split("/")) + 1)]
    return "/".join(prefix) + template if len(prefix) > 1 else template


def _exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@router.get("/metrics", include_in_schema=False)
async def metrics(caller: HealthReader) -> Response:
    """Prometheus exposition of this API process (and its sibling workers in multiprocess mode)."""
    return Response(_exposition(), media_type=CONTENT_TYPE_PLAIN_0_0_4)


def _fetch_heartbeat(url: str, timeout_s: float) -> float | None:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        text = response.read().decode("utf-8")
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "carbonflow_heartbeat_timestamp_seconds":
                return float(sample.value)
    return None


async def scrape_heartbeat(url: str, *, timeout_s: float = 1.5) -> dict[str, Any]:
    """A worker's state from its /metrics: reachable, and how old its main loop's heartbeat is."""
    try:
        beat = await asyncio.to_thread(_fetch_heartbeat, url, timeout_s)
    except (OSError, ValueError) as exc:
        return {"url": url, "status": "down", "error": str(getattr(exc, "reason", exc))[:200]}
    if beat is None:
        return {"url": url, "status": "down", "error": "no carbonflow_heartbeat_timestamp_seconds in its metrics"}
    age = max(0.0, time.time() - beat)
    return {"url": url, "status": "ok" if age < 60 else "stale", "heartbeat_age_s": round(age, 1)}
