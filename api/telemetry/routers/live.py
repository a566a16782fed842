"""/api/v1/live: the newest value of every point the caller may see, once or as a server-sent event stream.

The stream (``GET /api/v1/live/stream``) is for browsers: EventSource cannot send
an Authorization header, so a page first gets a single-use ticket with its
bearer header (``POST /api/v1/live/ticket``) and opens the stream with
``?ticket=``; other clients may send the header instead. Bearer tokens are
never accepted in the query string. Events::

    event: values   data: {"at", "values": [changed points], "power": {...} | null}   on change, checked every second
    event: end      data: {"reason", "status"}   the credential was revoked (within about a second) or expired,
                                                 or the stream's time is up
    event: unavailable   data: {"reason"}        the database cannot be reached; the stream keeps trying
    : keep-alive                                 a comment every 15 s without events

The first ``values`` event carries every point; ``power`` (with ``?site=``) is
the site's live power, computed as in ``GET /api/v1/overview``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from psycopg_pool import PoolTimeout

from api.auth import tickets
from api.auth.deps import CredentialDigest, LiveReader, StreamAccess, StreamCaller, VisibleSites, stream_access
from api.deps import Conn
from api.fastjson import dumps
from api.registry import queries as registry_queries
from api.telemetry import figures, queries

router = APIRouter(tags=["telemetry"])

LIVE_WITHIN = timedelta(minutes=10)
_TICK_S = 1.0
_KEEP_ALIVE_S = 15.0
_RECHECK_S = 30.0
_MAX_STREAM_S = 30 * 60.0
# the streams of one worker that show the same points share one look at the database per this many seconds
# (a thousand open dashboards would otherwise query a thousand times a second); a value is then at most
# _TICK_S + LIVE_TICK_SHARE_S old when its stream checks
LIVE_TICK_SHARE_S = 0.5


@router.get("/live")
async def live(request: Request, caller: LiveReader, conn: Conn, sites: VisibleSites) -> dict[str, Any]:
    """The newest value (within 10 minutes) of every point the caller may see."""

    async def look() -> bytes:
        return dumps({"values": await queries.latest_values(conn, within=LIVE_WITHIN, sites=sites)})

    # shared for a moment by the callers of this worker with the same sites (CARBONFLOW_DASHBOARD_CACHE_S)
    body = await request.app.state.dashboard_cache.get(("live", None if sites is None else tuple(sites)), look)
    return Response(body, media_type="application/json")  # type: ignore[return-value]


@router.post("/live/ticket")
async def live_ticket(caller: LiveReader, conn: Conn, digest: CredentialDigest) -> dict[str, Any]:
    """A single-use ticket, valid for 60 s, that opens one live stream for this caller:
    ``new EventSource('/api/v1/live/stream?ticket=' + ticket)``."""
    ticket, expires_at = await tickets.issue_ticket(conn, via=caller.via, credential_hash=digest)
    return {"ticket": ticket, "expires_at": expires_at, "stream": f"/api/v1/live/stream?ticket={ticket}"}


def _event(name: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {dumps(data).decode()}\n\n"


async def _tick_values(request: Request, sites: list[str] | None, site: str | None) -> tuple[list[dict[str, Any]], Any]:
    """The newest values of the points of `sites` (or of the one `site`) and the site's live power, shared by
    the streams of this worker that show the same points. Raises what the database raises."""

    async def look() -> tuple[list[dict[str, Any]], Any]:
        async with request.app.state.pool.connection(timeout=5) as conn:
            values = await queries.latest_point_values(conn, within=LIVE_WITHIN, sites=sites, site=site)
        return values, (figures.power_summary(values) if site is not None else None)

    key = ("live-stream", None if sites is None else tuple(sites), site)
    return await request.app.state.live_ticks.get(key, look)  # type: ignore[no-any-return]


async def _events(request: Request, access: StreamAccess, site: str | None) -> AsyncIterator[str]:
    sent: dict[tuple[str, str], tuple[Any, ...]] = {}
    last_power: Any = object()
    started = checked = quiet_since = time.monotonic()
    event_id = 0
    database_down = False
    revocations = request.app.state.revocations
    seen = revocations.version(access.principal.user_id)
    while True:
        now = time.monotonic()
        if now - started > _MAX_STREAM_S:
            yield _event("end", {"reason": "stream time limit reached; open a new stream", "status": 200})
            return
        # checked again when a credential of the user ended (logout, revocation, password, disabled: within a
        # tick) and every _RECHECK_S anyway (expiry, scope)
        announced = revocations.version(access.principal.user_id)
        if now - checked > _RECHECK_S or announced != seen:
            checked, seen = now, announced
            try:
                access = await stream_access(request, via=access.via, digest=access.digest)
            except HTTPException as exc:
                if exc.status_code != 503:
                    yield _event("end", {"reason": exc.detail, "status": exc.status_code})
                    return
        try:
            values, power = await _tick_values(request, access.sites, site)
            database_down = False
        except (psycopg.OperationalError, PoolTimeout) as exc:
            if not database_down:  # say it once, not every second
                database_down = True
                yield _event("unavailable", {"reason": f"database unavailable: {str(exc)[:200]}"})
            values = None
        if values is not None:
            changed = []
            for row in values:
                key = (row["device"], row["point"])
                state = (row["ts"], row["value"], row["quality"])
                if sent.get(key) != state:
                    sent[key] = state
                    changed.append(row)
            power_state = None if power is None else (power["total_kw"], power["points_counted"])
            if changed or power_state != last_power:
                last_power = power_state
                event_id += 1
                quiet_since = time.monotonic()
                yield _event("values", {"at": datetime.now(UTC), "values": changed, "power": power}, event_id)
        if time.monotonic() - quiet_since > _KEEP_ALIVE_S:
            quiet_since = time.monotonic()
            yield ": keep-alive\n\n"
        await asyncio.sleep(_TICK_S)


_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "a text/event-stream of `values`, `end` and `unavailable` events (see the module text)",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    401: {"description": "no bearer header and no valid ticket"},
    404: {"description": "unknown site, or one outside the caller's scope"},
}


@router.get("/live/stream", response_class=StreamingResponse, responses=_STREAM_RESPONSES)
async def live_stream(
    request: Request, access: StreamCaller,
    site: Annotated[str | None, Query(max_length=128, description="only this site's points, with its live power")]
    = None,
) -> StreamingResponse:
    """Server-sent events with the newest value of every point the caller may see; authenticate with
    ``?ticket=`` (from ``POST /api/v1/live/ticket``) or an Authorization header."""
    if site is not None:
        if access.sites is None:
            try:
                async with request.app.state.pool.connection(timeout=5) as conn:
                    known = await registry_queries.site_exists(conn, site=site)
            except (psycopg.OperationalError, PoolTimeout) as exc:
                raise HTTPException(503, f"database unavailable: {exc}") from exc
        else:
            known = site in access.sites
        if not known:
            raise HTTPException(404, f"no site {site!r}; see /api/v1/sites")
    return StreamingResponse(_events(request, access, site), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
