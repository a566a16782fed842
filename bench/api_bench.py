"""API benchmark: 1,000 simulated dashboard users against uvicorn on loopback, and a 1-year hourly series.

Writes bench/results/api.json. Two load models, both with the calls the dashboard makes (web/src):

- online (the headline keys `concurrent_users`, `mean_ms`, `p99_ms`, `errors`, `login_mean_ms`): every user
  logs in, logins arriving evenly over a ramp (--ramp-s), and keeps the plant overview open as a browser
  does (app.js, views/overview.js, views/compare_panel.js, live.js): GET /auth/me, /sites, then /overview
  with the two month-to-date comparisons (/emissions/compare mom and yoy), one /series (last hour by minute,
  columns as api.js asks) per counted power meter of the overview, POST /live/ticket, then the live stream
  (server-sent events, held open); /overview again every REFRESH_MS and the comparisons every COMPARE_MS of
  overview.js (both read from that file). All users stay online for --hold-s after the last one arrived.
  A writer stores a new reading of every gauge every 10 s, so the streams carry real updates; `live_lag` is
  a reading's age when its event arrived.
- burst (under "burst"): the same users, already logged in, all released at one instant, each sending
  overview, live and a last-hour series in parallel; one connection per user.

series_1y_p95_ms: GET /series of one point for one year by hour (8,760 buckets from rollup_1h), one request at
a time after the load, and the query alone (point_series) for comparison.

The load generator is aiohttp on one event loop (uvloop when installed), in this process, on the same cores as
the server; its CPU use is reported per phase. A browser-like user has its own connection pool of 6.
PostgreSQL: $DATABASE_URL's server, else 127.0.0.1:5432, else embedded; a scratch database is created and dropped.
The API's rate limits are raised through its environment: 1,000 users from one address would otherwise meet the
anonymous (per address) limit at login.

Short run while developing: python bench/api_bench.py --users 100 --ramp-s 20 --hold-s 30 --out /tmp/api.json
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    cpu_seconds,
    create_scratch_database,
    free_port,
    machine_busy_s,
    wait_port,
    write_result,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from api import pgsession
from api.auth import security
from api.telemetry import queries
from stream_jobs.recompute import recompute_site

SITE = "bench-site"
ENTERPRISE = "bench-ent"
DEVICES = 10
GAUGES = {"active_power_kw": "kW", "current_a": "A", "voltage_v": "V", "temperature_c": "degC"}
SERIES_DEVICE, SERIES_POINT = "bench-dev-00", "active_power_kw"
YEAR_DEVICE, YEAR_POINT = "bench-dev-year", "active_power_kw"
PASSWORD = "Bench-Password-2026!"
TZ = "Asia/Shanghai"
WRITE_EVERY_S = 10.0
BROWSER_CONNECTIONS = 6  # HTTP/1.1 connections a browser opens to one host
RAISED_LIMITS = {
    "CARBONFLOW_RATE_PER_S": "100000",
    "CARBONFLOW_RATE_BURST": "100000",
    "CARBONFLOW_ANON_RATE_PER_S": "100000",
    "CARBONFLOW_ANON_RATE_BURST": "100000",
}
DASHBOARD_CALLS = ("me", "sites", "overview", "compare", "series_trend", "live_ticket", "stream_open", "overview_refresh",
                   "compare_refresh")


def dashboard_interval_s(name: str) -> float:
    """An interval of the overview as the dashboard itself has it (`const NAME = 30000;` or `5 * 60 * 1000` in
    OverviewView.vue), in seconds."""
    text = (ROOT / "web/src/views/emissions/OverviewView.vue").read_text()
    found = re.search(rf"const {name} = ([\d\s*]+);", text)
    if found is None:
        raise SystemExit(f"api_bench: {name} not found in web/src/views/emissions/OverviewView.vue")
    ms = 1
    for factor in found.group(1).split("*"):
        ms *= int(factor)
    return ms / 1000


async def _derive_intervals(db_url: str) -> None:
    conn = await psycopg.AsyncConnection.connect(db_url, autocommit=True)
    try:
        now = datetime.now(UTC)
        done = await recompute_site(conn, site=SITE, start=now - timedelta(hours=3), end=now + timedelta(minutes=1))
        cur = await conn.execute("SELECT count(*), COALESCE(sum(quantity), 0) FROM activity_intervals")
        intervals, tonnes = await cur.fetchone()  # type: ignore[misc]
        print(f"derived: {done['tco2_after']:.3f} tCO2, {intervals} production intervals ({tonnes:.1f} t)", flush=True)
    finally:
        await conn.close()


def _seed(conn: psycopg.Connection, users: int) -> list[str]:
    """A site with devices, today's readings (last 2 h every 10 s) with their rollups (emissions and production
    intervals are derived from the counters afterwards, by `_derive_intervals`), one point with a year of hourly rollups, and `users` enterprise users; their names."""
    conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Bench Steel', 'CN-ZJ')",
                 (ENTERPRISE,))
    conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Bench works')", (SITE, ENTERPRISE))
    gkey = conn.execute("INSERT INTO gateways (gateway_id, site_id) VALUES ('bench-gw', %s) RETURNING gateway_key",
                        (SITE,)).fetchone()[0]  # type: ignore[index]
    for d in range(DEVICES):
        device = f"bench-dev-{d:02d}"
        conn.execute("INSERT INTO devices (device_id, site_id, process, gateway_id, last_seen)"
                     " VALUES (%s, %s, %s, 'bench-gw', now())", (device, SITE, ("sinter", "bof", "rolling")[d % 3]))
        for point, unit in GAUGES.items():
            conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, %s, %s, 'gauge')",
                         (device, point, unit))
    conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES"
                 " ('bench-dev-00', 'energy_import_kwh', 'kWh', 'counter', 'electricity'),"
                 " ('bench-dev-01', 'crude_steel_t', 't', 'counter', 'production:crude_steel')")
    # today: every point every 10 s for the last 2 hours, counters rising
    # stored as the stream sink stores them: one hot batch per device and poll (085_reading_batches.sql)
    conn.execute(
        "INSERT INTO reading_batches (gateway_key, device_id, seq_lo, seq_hi, ts_lo, ts_hi, point_keys, seqs, times,"
        " vals, qualities)"
        " SELECT %s, device_id, min(seq), max(seq), t, t, array_agg(point_key), array_agg(seq), array_agg(t),"
        "  array_agg(value), array_agg(0::smallint) FROM (SELECT p.device_id, p.point_key, t,"
        "  row_number() OVER () AS seq,"
        "  CASE WHEN p.kind = 'counter' THEN extract(epoch FROM t - now() + interval '2 hours') / 10"
        "   ELSE 100 + 20 * sin(extract(epoch FROM t) / 600 + p.point_key) END AS value"
        "  FROM points p CROSS JOIN generate_series(now() - interval '2 hours', now(), interval '10 seconds') AS t) r"
        " GROUP BY device_id, t",
        (gkey,))
    # the rollups the stream job keeps for those readings
    for table, width in (("rollup_1m", "1 minute"), ("rollup_1h", "1 hour")):
        conn.execute(
            f"INSERT INTO {table} SELECT point_key, date_bin('{width}', ts, '2000-01-01T00:00:00Z'), count(*),"
            " count(*), sum(value), min(value), max(value), min(ts), (array_agg(value ORDER BY ts))[1], max(ts),"
            " (array_agg(value ORDER BY ts DESC))[1], max(quality) FROM all_readings GROUP BY 1, 2")
    conn.execute("INSERT INTO benchmarks (site_id, product, tco2_per_t, source, updated_by)"
                 " VALUES (%s, 'crude_steel', 0.045, 'bench', 'bench')", (SITE,))
    # one point with a year of hourly rollups (and no raw readings: only the rollup is read)
    conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, 'bof')", (YEAR_DEVICE, SITE))
    year_key = conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, %s, 'kW', 'gauge')"
                            " RETURNING point_key", (YEAR_DEVICE, YEAR_POINT)).fetchone()[0]  # type: ignore[index]
    conn.execute(
        "INSERT INTO rollup_1h SELECT %s, b, 360, 358, 358 * (500 + 100 * sin(extract(epoch FROM b) / 86400)),"
        " 380, 620, b, 500, b + interval '59 minutes 50 seconds', 510, 1"
        " FROM generate_series(date_bin('1 hour', now() - interval '366 days', '2000-01-01T00:00:00Z'),"
        "  now(), interval '1 hour') AS b", (year_key,))
    # one hash for every user: the server still does the full scrypt work per login
    password_hash = security.hash_password(PASSWORD)
    names = [f"bench-user-{i:04d}" for i in range(users)]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO users (username, role, enterprise_id, password_hash, must_change_password)"
                        " VALUES (%s, 'enterprise', %s, %s, false)", [(n, ENTERPRISE, password_hash) for n in names])
    conn.execute("ANALYZE")
    return names


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "mean_ms": round(statistics.fmean(values), 1), "p50_ms": round(_percentile(values, 0.5), 1),
            "p95_ms": round(_percentile(values, 0.95), 1), "p99_ms": round(_percentile(values, 0.99), 1),
            "max_ms": round(max(values), 1)}


class _Recorder:
    """Latencies (ms) per call type, and the calls that failed, by what went wrong."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    async def call(self, session: aiohttp.ClientSession, name: str, method: str, url: str,
                   **kwargs: Any) -> bytes | None:
        """The body of a 200 answer (the latency counted), else None (the failure counted)."""
        t0 = time.perf_counter()
        try:
            async with session.request(method, url, **kwargs) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.errors[f"{name}: {type(exc).__name__}"] += 1
            return None
        if status != 200:
            self.errors[f"{name}: HTTP {status}"] += 1
            return None
        self.latencies[name].append((time.perf_counter() - t0) * 1000)
        return body


@dataclass
class _Online:
    """What the online users hold: open streams now, tokens, live lags, events."""

    streams: int = 0
    tokens: list[str] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)
    first_event_ms: list[float] = field(default_factory=list)
    events: int = 0
    fewest_streams_in_hold: int | None = None


def _series_params(device: str, point: str, span: timedelta, interval: str, fmt: str = "rows") -> dict[str, str]:
    """/series parameters; the dashboards ask for columns (api.js getSeries), other clients get rows by default."""
    now = datetime.now(UTC)
    return {"device": device, "point": point, "start": (now - span).isoformat(), "end": now.isoformat(),
            "interval": interval, "format": fmt}


async def _stream(rec: _Recorder, session: aiohttp.ClientSession, headers: dict[str, str], stop_at: float,
                  online: _Online) -> None:
    """The overview's live stream (live.js): a ticket, then EventSource until `stop_at`."""
    loop = asyncio.get_running_loop()
    body = await rec.call(session, "live_ticket", "POST", "/api/v1/live/ticket", headers=headers)
    if body is None:
        return
    ticket = orjson.loads(body)["ticket"]
    t0 = time.perf_counter()
    opened = False
    try:
        async with session.get("/api/v1/live/stream", params={"ticket": ticket, "site": SITE},
                               timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as response:
            if response.status != 200:
                rec.errors[f"stream_open: HTTP {response.status}"] += 1
                return
            rec.latencies["stream_open"].append((time.perf_counter() - t0) * 1000)
            online.streams += 1
            opened = True
            newest: datetime | None = None
            event = None
            async with asyncio.timeout_at(stop_at):
                while line := await response.content.readline():
                    if line.startswith(b"event: "):
                        event = line[7:].strip()
                    elif line.startswith(b"data: ") and event == b"values":
                        online.events += 1
                        values = orjson.loads(line[6:])["values"]
                        stamps = [datetime.fromisoformat(v["ts"]) for v in values if v.get("ts")]
                        if newest is None:
                            online.first_event_ms.append((time.perf_counter() - t0) * 1000)
                        elif stamps and max(stamps) > newest:
                            online.lag_ms.append((datetime.now(UTC) - max(stamps)).total_seconds() * 1000)
                        if stamps:
                            newest = max(stamps + [newest] if newest else stamps)
                    elif line.startswith(b"data: ") and event == b"end":
                        rec.errors["stream: ended by the server"] += 1
                        return
                if loop.time() < stop_at:
                    rec.errors["stream: closed early"] += 1
    except TimeoutError:
        pass  # the user closes the page at the end of the run
    except aiohttp.ClientError as exc:
        rec.errors[f"stream: {type(exc).__name__}"] += 1
    finally:
        if opened:
            online.streams -= 1


def _comparisons(rec: _Recorder, session: aiohttp.ClientSession, headers: dict[str, str],
                 name: str) -> list[Awaitable[bytes | None]]:
    """The overview's month-to-date comparisons (views/compare_panel.js): month on month and year on year."""
    now = datetime.now(ZoneInfo(TZ))
    params = {"site": SITE, "period": now.strftime("%Y-%m"), "tz": TZ, "to": datetime.now(UTC).isoformat()}
    return [rec.call(session, name, "GET", "/api/v1/emissions/compare", headers=headers,
                     params={"basis": basis, **params}) for basis in ("mom", "yoy")]


async def _online_user(rec: _Recorder, base_url: str, name: str, start_at: float, stop_at: float, refresh_s: float,
                       compare_s: float, online: _Online, timeout_s: float) -> None:
    """One browser with the plant overview open, as app.js and views/overview.js drive it."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, start_at - loop.time()))
    connector = aiohttp.TCPConnector(limit=BROWSER_CONNECTIONS)
    async with aiohttp.ClientSession(base_url, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:
        t0 = time.perf_counter()
        body = await rec.call(session, "login", "POST", "/api/v1/auth/login",
                              json={"username": name, "password": PASSWORD})
        if body is None:
            return
        token = orjson.loads(body)["token"]
        online.tokens.append(token)
        headers = {"Authorization": f"Bearer {token}"}
        if await rec.call(session, "me", "GET", "/api/v1/auth/me", headers=headers) is None:
            return
        if await rec.call(session, "sites", "GET", "/api/v1/sites", headers=headers) is None:
            return
        body, *_ = await asyncio.gather(
            rec.call(session, "overview", "GET", "/api/v1/overview", headers=headers, params={"site": SITE, "tz": TZ}),
            *_comparisons(rec, session, headers, "compare"))
        if body is None:
            return
        power = orjson.loads(body)["power"] or {"points": []}
        meters = [p for p in power["points"] if p["counted"]]
        await asyncio.gather(*(rec.call(session, "series_trend", "GET", "/api/v1/series", headers=headers,
                                        params=_series_params(p["device"], p["point"], timedelta(hours=1), "1m",
                                                              "columns"))
                               for p in meters))
        rec.latencies["page_open"].append((time.perf_counter() - t0) * 1000)
        stream = asyncio.create_task(_stream(rec, session, headers, stop_at, online))

        async def every(seconds: float, *calls: Callable[[], Awaitable[Any]]) -> None:
            while loop.time() + seconds < stop_at:
                await asyncio.sleep(seconds)
                await asyncio.gather(*(call() for call in calls))

        await asyncio.gather(
            every(refresh_s, lambda: rec.call(session, "overview_refresh", "GET", "/api/v1/overview", headers=headers,
                                              params={"site": SITE, "tz": TZ})),
            every(compare_s, lambda: asyncio.gather(*_comparisons(rec, session, headers, "compare_refresh"))),
            stream)


async def _writer(db_url: str, stop: asyncio.Event) -> int:
    """A new reading of every gauge every WRITE_EVERY_S, as the pipeline would store them; rows written."""
    written = 0
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        tick = 0
        while not stop.is_set():
            tick += 1
            cur = await conn.execute(
                "INSERT INTO reading_batches (gateway_key, device_id, seq_lo, seq_hi, ts_lo, ts_hi, point_keys, seqs,"
                " times, vals, qualities)"
                " SELECT gateway_key, device_id, min(seq), max(seq), now(), now(), array_agg(point_key), array_agg(seq),"
                "  array_agg(now()), array_agg(value), array_agg(0::smallint) FROM (SELECT g.gateway_key, p.device_id,"
                "  p.point_key, 100000000 + %s * 1000 + row_number() OVER () AS seq,"
                "  100 + 20 * sin(extract(epoch FROM now()) / 600 + p.point_key) AS value"
                "  FROM points p JOIN devices d USING (device_id) JOIN gateways g ON g.gateway_id = d.gateway_id"
                "  WHERE p.kind = 'gauge') r GROUP BY gateway_key, device_id RETURNING cardinality(seqs)", (tick,))
            written += sum(n for (n,) in await cur.fetchall())
            try:
                await asyncio.wait_for(stop.wait(), WRITE_EVERY_S)
            except TimeoutError:
                pass
    return written


async def _burst_user(rec: _Recorder, session: aiohttp.ClientSession, token: str, start: asyncio.Event) -> None:
    """One user's home page: overview, live values and the last hour of a point by minute, in parallel."""
    headers = {"Authorization": f"Bearer {token}"}
    params = _series_params(SERIES_DEVICE, SERIES_POINT, timedelta(hours=1), "1m")
    await start.wait()
    t0 = time.perf_counter()
    results = await asyncio.gather(
        rec.call(session, "overview", "GET", "/api/v1/overview", params={"site": SITE, "tz": TZ}, headers=headers),
        rec.call(session, "live", "GET", "/api/v1/live", headers=headers),
        rec.call(session, "series_1h_by_minute", "GET", "/api/v1/series", headers=headers, params=params),
    )
    if all(r is not None for r in results):
        rec.latencies["home"].append((time.perf_counter() - t0) * 1000)


class _Meter:
    """CPU cores used by the server, PostgreSQL, this load generator and the whole machine over a phase."""

    def __init__(self, server_cpu: Callable[[], float], db_cpu: Callable[[], float]) -> None:
        self._server, self._db = server_cpu, db_cpu
        self._t0 = time.perf_counter()
        self._start = (server_cpu(), db_cpu(), time.process_time(), machine_busy_s())

    def cores(self) -> dict[str, float]:
        seconds = time.perf_counter() - self._t0
        server, db, client, busy = self._start
        return {"server": round((self._server() - server) / seconds, 2), "postgres": round((self._db() - db) / seconds, 2),
                "load_generator": round((time.process_time() - client) / seconds, 2),
                "whole_machine": round((machine_busy_s() - busy) / seconds, 2), "seconds": round(seconds, 1)}


async def _online_phase(base_url: str, db_url: str, names: list[str], args: argparse.Namespace, refresh_s: float,
                        compare_s: float, meter: Callable[[], _Meter]) -> dict[str, Any]:
    rec, online = _Recorder(), _Online()
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 1.0
    hold_at, stop_at = t0 + args.ramp_s, t0 + args.ramp_s + args.hold_s
    stop_writer = asyncio.Event()
    writer = asyncio.create_task(_writer(db_url, stop_writer))
    print(f"online: {len(names)} users arriving over {args.ramp_s:.0f} s, then {args.hold_s:.0f} s all online;"
          f" overview refresh every {refresh_s:.0f} s, comparisons every {compare_s:.0f} s ...", flush=True)
    users = [asyncio.create_task(_online_user(rec, base_url, name, t0 + i * args.ramp_s / len(names), stop_at,
                                              refresh_s, compare_s, online, args.request_timeout_s))
             for i, name in enumerate(names)]
    ramp = meter()
    await asyncio.sleep(max(0.0, hold_at - loop.time()))
    ramp_cores = ramp.cores()
    hold = meter()
    at_hold = online.streams
    print(f"  ramp done: {at_hold} streams open; cores {ramp_cores}", flush=True)
    while loop.time() < stop_at - 0.5:
        await asyncio.sleep(0.5)
        online.fewest_streams_in_hold = min(online.streams, online.fewest_streams_in_hold or online.streams)
    hold_cores = hold.cores()
    await asyncio.wait_for(asyncio.gather(*users), args.phase_timeout_s)
    stop_writer.set()
    written = await writer
    print(f"  hold done: fewest open streams {online.fewest_streams_in_hold}; cores {hold_cores}", flush=True)
    return {"rec": rec, "online": online, "streams_at_hold_start": at_hold, "ramp_cores": ramp_cores,
            "hold_cores": hold_cores, "readings_written": written}


async def _burst_phase(base_url: str, tokens: list[str], args: argparse.Namespace,
                       meter: Callable[[], _Meter]) -> dict[str, Any]:
    rec = _Recorder()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base_url, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=args.request_timeout_s)) as session:
        print(f"burst: {len(tokens)} users at once ...", flush=True)
        start = asyncio.Event()
        users = [asyncio.create_task(_burst_user(rec, session, token, start)) for token in tokens]
        await asyncio.sleep(0.5)  # every user is waiting at the start line
        phase = meter()
        start.set()
        await asyncio.wait_for(asyncio.gather(*users), args.phase_timeout_s)
        cores = phase.cores()
    print(f"  done in {cores['seconds']} s; cores {cores}", flush=True)
    return {"rec": rec, "cores": cores}


async def _alone(base_url: str, args: argparse.Namespace, name: str) -> tuple[_Recorder, str]:
    """One user alone before the load: login, home pages one at a time; the token."""
    rec = _Recorder()
    async with aiohttp.ClientSession(base_url, timeout=aiohttp.ClientTimeout(total=args.request_timeout_s)) as session:
        body = await rec.call(session, "login", "POST", "/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        if body is None:
            raise SystemExit(f"api_bench: the probe user cannot log in: {dict(rec.errors)}")
        token = orjson.loads(body)["token"]
        released = asyncio.Event()
        released.set()
        for _ in range(args.idle_repeats):
            await _burst_user(rec, session, token, released)
    return rec, token


async def _year_series(base_url: str, token: str, repeats: int) -> tuple[_Recorder, dict[str, int]]:
    """A year by hour, one request at a time, as the series explorer asks (columns) and as rows; buckets seen."""
    rec = _Recorder()
    headers = {"Authorization": f"Bearer {token}"}
    buckets: dict[str, int] = {}
    async with aiohttp.ClientSession(base_url) as session:
        for fmt in ("columns", "rows"):
            for _ in range(repeats):
                body = await rec.call(session, f"series_1y_by_hour_{fmt}", "GET", "/api/v1/series", headers=headers,
                                      params=_series_params(YEAR_DEVICE, YEAR_POINT, timedelta(days=365), "1h", fmt))
                if body is not None:
                    answer = orjson.loads(body)
                    buckets[fmt] = len(answer["columns"]["ts"] if fmt == "columns" else answer["points"])
    return rec, buckets


async def _year_query(db_url: str, repeats: int) -> list[float]:
    """point_series alone (SQL and rows to Python), without HTTP and JSON."""
    out = []
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        await pgsession.configure_session(conn)  # as the API's pool does
        for _ in range(repeats):
            now = datetime.now(UTC)
            t0 = time.perf_counter()
            await queries.point_series(conn, device=YEAR_DEVICE, point=YEAR_POINT, start=now - timedelta(days=365),
                                       end=now, interval="1h", sites=[SITE])
            out.append((time.perf_counter() - t0) * 1000)
    return out


async def _run(base_url: str, db_url: str, names: list[str], probe: str, args: argparse.Namespace,
               meter: Callable[[], _Meter]) -> dict[str, Any]:
    refresh_s, compare_s = dashboard_interval_s("REFRESH_MS"), dashboard_interval_s("COMPARE_MS")
    alone, probe_token = await _alone(base_url, args, probe)
    online = await _online_phase(base_url, db_url, names, args, refresh_s, compare_s, meter)
    burst = await _burst_phase(base_url, online["online"].tokens, args, meter) if args.burst else None
    year, buckets = await _year_series(base_url, probe_token, args.series_repeats)
    query_ms = await _year_query(db_url, args.series_repeats)
    return {"alone": alone, "online": online, "burst": burst, "year": year, "buckets": buckets, "query_ms": query_ms,
            "refresh_s": refresh_s, "compare_s": compare_s}


async def _run_series_only(base_url: str, db_url: str, names: list[str], probe: str, args: argparse.Namespace,
                           meter: Callable[[], _Meter]) -> dict[str, Any]:
    """--series-only: the probe user logs in, then the year by hour over HTTP and as a query alone."""
    rec = _Recorder()
    async with aiohttp.ClientSession(base_url) as session:
        body = await rec.call(session, "login", "POST", "/api/v1/auth/login", json={"username": probe, "password": PASSWORD})
    if body is None:
        raise SystemExit(f"api_bench: the probe user cannot log in: {dict(rec.errors)}")
    phase = meter()
    year, buckets = await _year_series(base_url, orjson.loads(body)["token"], args.series_repeats)
    cores = phase.cores()
    query_ms = await _year_query(db_url, args.series_repeats)
    return {"year": year, "buckets": buckets, "query_ms": query_ms, "cores": cores}


def _series_report(out: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    year: _Recorder = out["year"]
    return {
        "series_1y_p95_ms": _summary(year.latencies["series_1y_by_hour_columns"]).get("p95_ms"),
        "series_1y_rows_p95_ms": _summary(year.latencies["series_1y_by_hour_rows"]).get("p95_ms"),
        "series_1y_query_p95_ms": round(_percentile(out["query_ms"], 0.95), 1),
        "series_1y_query": _summary(out["query_ms"]),
        "series_1y_buckets": out["buckets"],
        "series_1y_by_hour": _by_call(year, ("series_1y_by_hour_columns", "series_1y_by_hour_rows")),
        "errors": dict(year.errors),
        "cpu_cores": out["cores"],
        "command": "python bench/api_bench.py " + " ".join(sys.argv[1:]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _by_call(rec: _Recorder, names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    return {name: _summary(rec.latencies[name]) for name in names if rec.latencies.get(name)}


def _report(out: dict[str, Any], args: argparse.Namespace, users: int) -> dict[str, Any]:
    online = out["online"]
    rec: _Recorder = online["rec"]
    state: _Online = online["online"]
    page = [ms for name in DASHBOARD_CALLS for ms in rec.latencies[name]]
    errors = sum(rec.errors.values())
    result: dict[str, Any] = {
        "concurrent_users": users,
        "mean_ms": round(statistics.fmean(page), 1) if page else None,
        "p99_ms": round(_percentile(page, 0.99), 1) if page else None,
        "errors": errors,
        "login_mean_ms": _summary(rec.latencies["login"]).get("mean_ms"),
        "series_1y_p95_ms": _summary(out["year"].latencies["series_1y_by_hour_columns"]).get("p95_ms"),
        "series_1y_rows_p95_ms": _summary(out["year"].latencies["series_1y_by_hour_rows"]).get("p95_ms"),
        "series_1y_query_p95_ms": round(_percentile(out["query_ms"], 0.95), 1),
        "series_1y_buckets": out["buckets"],
        "online": {
            "users": users, "ramp_s": args.ramp_s, "hold_s": args.hold_s, "overview_refresh_s": out["refresh_s"],
            "comparisons_refresh_s": out["compare_s"],
            "streams_open_when_all_had_arrived": online["streams_at_hold_start"],
            "fewest_streams_open_in_hold": state.fewest_streams_in_hold,
            "by_call": _by_call(rec, ("login", *DASHBOARD_CALLS, "page_open")),
            "stream_first_event": _summary(state.first_event_ms),
            "live_lag": _summary(state.lag_ms),
            "stream_events": state.events,
            "readings_written": online["readings_written"],
            "error_kinds": dict(rec.errors),
            "cpu_cores": {"ramp": online["ramp_cores"], "hold": online["hold_cores"]},
        },
        "one_user_alone": _by_call(out["alone"], ("login", "home", "overview", "live", "series_1h_by_minute")),
        "series_1y_by_hour": _by_call(out["year"], ("series_1y_by_hour_columns", "series_1y_by_hour_rows")),
    }
    if out["burst"] is not None:
        burst: _Recorder = out["burst"]["rec"]
        calls = [ms for name in ("overview", "live", "series_1h_by_minute") for ms in burst.latencies[name]]
        seconds = out["burst"]["cores"]["seconds"]
        result["burst"] = {
            "users": len(state.tokens),
            "mean_ms": round(statistics.fmean(calls), 1) if calls else None,
            "p99_ms": round(_percentile(calls, 0.99), 1) if calls else None,
            "errors": sum(burst.errors.values()),
            "by_call": _by_call(burst, ("home", "overview", "live", "series_1h_by_minute")),
            "requests_per_s": round(len(calls) / seconds, 1) if seconds else None,
            "error_kinds": dict(burst.errors),
            "cpu_cores": out["burst"]["cores"],
        }
    result["what"] = {
        "concurrent_users": "users online at once in the online model: each logged in, its overview open with a live "
                            "stream, refreshing the overview as the dashboard does",
        "mean_ms, p99_ms": "online model: over every dashboard HTTP call of every user during ramp and hold: "
                           f"{', '.join(DASHBOARD_CALLS)} (stream_open: until the stream's response headers; "
                           "series_trend: one last-hour-by-minute /series per counted power meter, in parallel, "
                           f"at most {BROWSER_CONNECTIONS} connections per user as a browser)",
        "errors": "online model: failed calls (non-200 or transport errors), logins included, and live streams "
                  "that ended before the user left",
        "login_mean_ms": "online model: POST /auth/login as users arrive over the ramp, under the load of those "
                         "already online; scrypt N=2**15 as in production",
        "page_open": "online model, per user: from login until the overview and its power trend are loaded",
        "live_lag": "age of the newest reading in a live stream event when it arrived (readings written every "
                    f"{WRITE_EVERY_S:.0f} s; the server looks every second)",
        "burst": "the same users, logged in, all released at one instant, each sending overview, live and a "
                 "last-hour series in parallel over one shared connection pool without a limit (up to 3 connections "
                 "per user): the worst case, not a dashboard's behaviour",
        "one_user_alone": f"{args.idle_repeats} burst-style home page loads by one user, one at a time, before the load",
        "series_1y": f"GET /series, one point, 365 days by hour, {args.series_repeats} requests one at a time after "
                     "the load: series_1y_p95_ms with format=columns, as the dashboards ask (api.js getSeries), "
                     "series_1y_rows_p95_ms with the default one object per hour; series_1y_query_p95_ms is "
                     "point_series (rows) alone on one connection, without HTTP and JSON",
        "cpu_cores": "CPU cores used per phase by the API server (all workers), PostgreSQL backends of the bench "
                     "database, the load generator (this process) and the whole machine: what the whole machine used "
                     "beyond those three was other work on this shared 2-core machine",
    }
    result["server"] = {"uvicorn_workers": args.workers, "db_pool_max_per_worker": args.pool_max,
                        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
                        "http": "httptools" if importlib.util.find_spec("httptools") else "h11"}
    result["client"] = ("aiohttp on one event loop (uvloop when installed) in the bench process, on the same 2 "
                        "cores as the server; online: one session of 6 connections per user; burst: one shared "
                        "unlimited pool; loopback. httpx.AsyncClient, used before, spent 17-23 ms of CPU per request "
                        "at 100-300 open connections and more than 200 ms at 1,000 (docs/performance.md)")
    result["rate_limits"] = f"raised through the environment for the bench: {RAISED_LIMITS}"
    result["command"] = "python bench/api_bench.py" + ("" if args.full_defaults else " " + " ".join(sys.argv[1:]))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--ramp-s", type=float, default=300.0,
                        help="the users' logins arrive evenly over this time (default 5 minutes)")
    parser.add_argument("--hold-s", type=float, default=120.0, help="time all users stay online after the ramp")
    parser.add_argument("--no-burst", dest="burst", action="store_false", help="skip the burst model")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pool-max", type=int, default=20, help="database connections per worker (the API's default)")
    parser.add_argument("--series-repeats", type=int, default=100)
    parser.add_argument("--idle-repeats", type=int, default=20, help="page loads of one user alone, before the load")
    parser.add_argument("--request-timeout-s", type=float, default=60.0)
    parser.add_argument("--phase-timeout-s", type=float, default=300.0)
    parser.add_argument("--out", type=Path, help="write the result here instead of bench/results/api.json")
    parser.add_argument("--series-only", action="store_true",
                        help="only the one-year hourly series (HTTP and query alone), no users' load; prints the "
                             "result and writes it only with --out (a minute instead of ten)")
    args = parser.parse_args()
    args.full_defaults = len(sys.argv) == 1
    db_url, drop_database = create_scratch_database("cf_bench")
    proc: subprocess.Popen[bytes] | None = None
    log_path = Path(tempfile.mkdtemp(prefix="cf-api-bench-")) / "uvicorn.log"
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            print("seeding ...", flush=True)
            names = _seed(conn, 1 if args.series_only else args.users + 1)
        # emissions, production intervals and scope rollups of the seeded counters, as the stream job derives them
        asyncio.run(_derive_intervals(db_url))
        probe, names = names[-1], names[:-1]
        port = free_port()
        env = {**os.environ, **RAISED_LIMITS, "DATABASE_URL": db_url, "CARBONFLOW_ADMIN_PASSWORD": "Bench-Admin-2026!x",
               "CARBONFLOW_DB_POOL_MAX": str(args.pool_max), "PYTHONPATH": str(ROOT)}
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
                 "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
                 "--backlog", "4096", "--no-access-log"],
                env=env, stdout=log, stderr=log, cwd=ROOT)
        wait_port(port, timeout_s=60)
        time.sleep(2)  # every worker up
        api_pid = proc.pid
        dbname = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]

        def meter() -> _Meter:
            return _Meter(lambda: _tree_cpu(api_pid), lambda: _postgres_cpu(str(dbname)))

        run = _run_series_only if args.series_only else _run
        try:
            import uvloop
            out = uvloop.run(run(f"http://127.0.0.1:{port}", db_url, names, probe, args, meter))
        except ImportError:
            out = asyncio.run(run(f"http://127.0.0.1:{port}", db_url, names, probe, args, meter))
        if args.series_only:
            result = _series_report(out, args)
            print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
            if args.out:
                args.out.write_text(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
            return 0 if out["year"].errors == {} else 1
        result = _report(out, args, len(names))
        print(orjson.dumps({k: v for k, v in result.items() if k != "what"}, option=orjson.OPT_INDENT_2).decode())
        if args.out:
            from common import machine
            args.out.write_text(orjson.dumps({**result, "machine": machine(),
                                              "measured_at": datetime.now(UTC).isoformat(timespec="seconds")},
                                             option=orjson.OPT_INDENT_2).decode() + "\n")
            path = args.out
        else:
            path = write_result("api", result)
        print(f"wrote {path}")
        return 0 if result["errors"] == 0 else 1
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        drop_database()


def _postgres_cpu(dbname: str) -> float:
    """CPU seconds of the PostgreSQL backends serving `dbname` (the API's pool connections)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if f" {dbname} ".encode() in (proc / "cmdline").read_bytes():
                total += cpu_seconds(int(proc.name))
        except (OSError, ValueError, IndexError):
            pass
    return total


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (uvicorn's workers)."""
    total = cpu_seconds(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        try:
            total += _tree_cpu(int(child))
        except (OSError, ValueError):
            pass
    return total


if __name__ == "__main__":
    sys.exit(main())
