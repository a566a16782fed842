"""GET /api/v1/health: what this API can see of the pipeline; details only for operators."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request

from api import health_queries
from api.auth.deps import MaybeCaller
from api.metrics import scrape_heartbeat

router = APIRouter(tags=["health"])
_STALE_S = 60


async def _tcp_ok(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=1.0)
    except (TimeoutError, OSError):
        return False
    writer.close()
    return True


@router.get("/health")
async def health(request: Request, caller: MaybeCaller) -> dict[str, Any]:
    """Public status; the components only for callers with the 'health' permission (technician, admin)."""
    components: dict[str, Any] = {}
    status = "ok"
    try:
        async with request.app.state.pool.connection(timeout=2) as conn:
            fresh = await health_queries.pipeline_freshness(conn)
        components["database"] = {"status": "ok"}
        last = fresh["last_reading_at"]
        age = (datetime.now(UTC) - last).total_seconds() if last else None
        components["pipeline"] = {
            "status": "ok" if age is not None and age < _STALE_S else "stale",
            "devices": fresh["devices"],
            "last_reading_at": last,
            "last_reading_age_s": age,
        }
    except Exception as exc:  # noqa: BLE001 - report any failure, never fail the health endpoint itself
        components["database"] = {"status": "down", "error": str(exc)[:200]}
        status = "degraded"
    for name, env in (("kafka", "KAFKA_BOOTSTRAP"), ("mqtt", "MQTT_URL")):
        target = os.environ.get(env)
        if not target:
            continue
        parsed = urlsplit(target if "://" in target else f"tcp://{target}")
        up = await _tcp_ok(parsed.hostname or "127.0.0.1", parsed.port or 0)
        components[name] = {"status": "ok" if up else "down", "address": f"{parsed.hostname}:{parsed.port}"}
    # the workers' heartbeats, from their /metrics (CARBONFLOW_INGEST_METRICS_URLS, CARBONFLOW_STREAM_METRICS_URLS)
    for service, urls in request.app.state.settings.component_metrics.items():
        if not urls:
            continue
        workers = await asyncio.gather(*(scrape_heartbeat(url) for url in urls))
        components[service] = {"status": "ok" if all(w["status"] == "ok" for w in workers) else "down",
                               "workers": list(workers)}
    if any(c.get("status") != "ok" for c in components.values()):
        status = "degraded"
    if caller is None or caller.must_change_password or "health" not in caller.permissions:
        return {"status": status}
    return {"status": status, "components": components}
