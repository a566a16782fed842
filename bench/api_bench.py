"""API benchmark: 1,000 simulated dashboard users against uvicorn on loopback, and a 1-year hourly series.

Writes bench/results/api.json:
- login_mean_ms: POST /auth/login (scrypt, production cost) for every user, a few at a time (the
  concurrency the server's hashing threads take), so that it measures a login rather than a queue;
- concurrent_users, mean_ms, p99_ms, errors: every user, all started together, loads the energy
  manager's home page: overview, live values and the last hour of a point by minute, in parallel;
- series_1y_p95_ms: GET /series of one point for one year by hour (8,760 buckets from rollup_1h),
  one request at a time after the load, and the query alone (point_series) for comparison.
PostgreSQL: $DATABASE_URL's server, else 127.0.0.1:5432, else embedded; a scratch database is created and dropped.
The API's rate limits are raised through its environment: 1,000 users from one address would
otherwise meet the anonymous (per address) limit at login.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_seconds, create_scratch_database, free_port, wait_port, write_result  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from api import queries, security

SITE = "bench-site"
ENTERPRISE = "bench-ent"
DEVICES = 10
GAUGES = ("active_power_kw", "current_a", "voltage_v", "temperature_c")
SERIES_DEVICE, SERIES_POINT = "bench-dev-00", "active_power_kw"
YEAR_DEVICE, YEAR_POINT = "bench-dev-year", "active_power_kw"
PASSWORD = "Bench-Password-2026!"
RAISED_LIMITS = {
    "CARBONFLOW_RATE_PER_S": "100000",
    "CARBONFLOW_RATE_BURST": "100000",
    "CARBONFLOW_ANON_RATE_PER_S": "100000",
    "CARBONFLOW_ANON_RATE_BURST": "100000",
}


def _seed(conn: psycopg.Connection, users: int) -> list[str]:
    """A site with devices, today's readings (last 2 h every 10 s) with their rollups, emissions and production
    of today, one point with a year of hourly rollups, and `users` enterprise users; their names."""
    conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Bench Steel', 'CN-ZJ')",
                 (ENTERPRISE,))
    conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Bench works')", (SITE, ENTERPRISE))
    gkey = conn.execute("INSERT INTO gateways (gateway_id, site_id) VALUES ('bench-gw', %s) RETURNING gateway_key",
                        (SITE,)).fetchone()[0]  # type: ignore[index]
    for d in range(DEVICES):
        device = f"bench-dev-{d:02d}"
        conn.execute("INSERT INTO devices (device_id, site_id, process, gateway_id, last_seen)"
                     " VALUES (%s, %s, %s, 'bench-gw', now())", (device, SITE, ("sinter", "bof", "rolling")[d % 3]))
        for point in GAUGES:
            conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, %s, %s, 'gauge')",
                         (device, point, point.rsplit("_", 1)[1]))
    conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES"
                 " ('bench-dev-00', 'energy_import_kwh', 'kWh', 'counter', 'electricity'),"
                 " ('bench-dev-01', 'crude_steel_t', 't', 'counter', 'production:crude_steel')")
    # today: every point every 10 s for the last 2 hours, counters rising
    conn.execute(
        "INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
        " SELECT %s, row_number() OVER (), t, p.point_key,"
        "  CASE WHEN p.kind = 'counter' THEN extract(epoch FROM t - now() + interval '2 hours') / 10"
        "   ELSE 100 + 20 * sin(extract(epoch FROM t) / 600 + p.point_key) END, 0"
        " FROM points p CROSS JOIN generate_series(now() - interval '2 hours', now(), interval '10 seconds') AS t",
        (gkey,))
    # the rollups the stream job keeps for those readings
    for table, width in (("rollup_1m", "1 minute"), ("rollup_1h", "1 hour")):
        conn.execute(
            f"INSERT INTO {table} SELECT point_key, date_bin('{width}', ts, '2000-01-01T00:00:00Z'), count(*),"
            " count(*), sum(value), min(value), max(value), min(ts), (array_agg(value ORDER BY ts))[1], max(ts),"
            " (array_agg(value ORDER BY ts DESC))[1], max(quality) FROM readings GROUP BY 1, 2")
    conn.execute(
        "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
        " quantity_unit, tco2, factor_ids, formula, quality)"
        " SELECT %s, 10000000 + row_number() OVER (), t, t - interval '15 minutes', p.point_key, %s, 'electricity',"
        "  1.5, 'MWh', 1.5 * 0.5306, ARRAY['grid.cn.national_average@2023'], 'electricity/v1', 0"
        " FROM points p CROSS JOIN generate_series(now() - interval '2 hours', now(), interval '15 minutes') AS t"
        " WHERE p.point = 'energy_import_kwh'", (gkey, SITE))
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

    async def call(self, client: httpx.AsyncClient, name: str, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.errors[f"{name}: {type(exc).__name__}"] += 1
            return None
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            self.errors[f"{name}: HTTP {response.status_code}"] += 1
            return None
        self.latencies[name].append(elapsed)
        return response


async def _logins(rec: _Recorder, client: httpx.AsyncClient, names: list[str], concurrency: int) -> dict[str, str]:
    """Log every user in, `concurrency` at a time: bearer token by user name."""
    tokens: dict[str, str] = {}
    queue = list(reversed(names))

    async def worker() -> None:
        while queue:
            name = queue.pop()
            r = await rec.call(client, "login", "POST", "/api/v1/auth/login", json={"username": name, "password": PASSWORD})
            if r is not None:
                tokens[name] = r.json()["token"]

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return tokens


async def _dashboard(rec: _Recorder, client: httpx.AsyncClient, token: str, start: asyncio.Event) -> None:
    """One user's home page: the calls the overview view makes, in parallel as a browser does."""
    headers = {"Authorization": f"Bearer {token}"}
    now = datetime.now(UTC)
    await start.wait()
    t0 = time.perf_counter()
    results = await asyncio.gather(
        rec.call(client, "overview", "GET", "/api/v1/overview", params={"site": SITE}, headers=headers),
        rec.call(client, "live", "GET", "/api/v1/live", headers=headers),
        rec.call(client, "series_1h_by_minute", "GET", "/api/v1/series", headers=headers, params={
            "device": SERIES_DEVICE, "point": SERIES_POINT, "start": (now - timedelta(hours=1)).isoformat(),
            "end": now.isoformat(), "interval": "1m"}),
    )
    if all(r is not None for r in results):
        rec.latencies["home"].append((time.perf_counter() - t0) * 1000)


async def _year_series(rec: _Recorder, client: httpx.AsyncClient, token: str, repeats: int) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    buckets = 0
    for _ in range(repeats):
        now = datetime.now(UTC)
        r = await rec.call(client, "series_1y_by_hour", "GET", "/api/v1/series", headers=headers, params={
            "device": YEAR_DEVICE, "point": YEAR_POINT, "start": (now - timedelta(days=365)).isoformat(),
            "end": now.isoformat(), "interval": "1h"})
        if r is not None:
            buckets = len(r.json()["points"])
    return buckets


async def _year_query(db_url: str, repeats: int) -> list[float]:
    """point_series alone (SQL and rows to dicts), without HTTP and JSON."""
    out = []
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        for _ in range(repeats):
            now = datetime.now(UTC)
            t0 = time.perf_counter()
            await queries.point_series(conn, device=YEAR_DEVICE, point=YEAR_POINT, start=now - timedelta(days=365),
                                       end=now, interval="1h", sites=[SITE])
            out.append((time.perf_counter() - t0) * 1000)
    return out


async def _run(base_url: str, db_url: str, names: list[str], args: argparse.Namespace,
               server_cpu: Callable[[], float], db_cpu: Callable[[], float]) -> dict[str, Any]:
    rec, idle = _Recorder(), _Recorder()
    limits = httpx.Limits(max_connections=args.users + 10, max_keepalive_connections=args.users + 10)
    timeout = httpx.Timeout(args.request_timeout_s, pool=args.request_timeout_s)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        print(f"logins: {len(names)} users, {args.login_concurrency} at a time ...", flush=True)
        t0 = time.perf_counter()
        tokens = await asyncio.wait_for(_logins(rec, client, names, args.login_concurrency), args.phase_timeout_s)
        login_s = time.perf_counter() - t0
        print(f"  {len(tokens)} logged in in {login_s:.1f} s", flush=True)
        released = asyncio.Event()
        released.set()
        for token in list(tokens.values())[:args.idle_repeats]:  # one user alone: the cost of a page
            await _dashboard(idle, client, token, released)
        print(f"dashboards: {len(tokens)} users at once ...", flush=True)
        start = asyncio.Event()
        users = [asyncio.create_task(_dashboard(rec, client, token, start)) for token in tokens.values()]
        await asyncio.sleep(0.5)  # every user is waiting at the start line
        t0, cpu0, client0, db0, machine0 = (time.perf_counter(), server_cpu(), time.process_time(), db_cpu(),
                                            _busy_cores()[0])
        start.set()
        await asyncio.wait_for(asyncio.gather(*users), args.phase_timeout_s)
        dashboard_s = time.perf_counter() - t0
        cores = {"server": round((server_cpu() - cpu0) / dashboard_s, 2),
                 "client": round((time.process_time() - client0) / dashboard_s, 2),
                 "postgres": round((db_cpu() - db0) / dashboard_s, 2),
                 "whole_machine": round((_busy_cores()[0] - machine0) / dashboard_s, 2)}
        print(f"  done in {dashboard_s:.1f} s; CPU cores used: {cores}", flush=True)
        buckets = await _year_series(rec, client, next(iter(tokens.values())), args.series_repeats)
    query_ms = await _year_query(db_url, args.series_repeats)
    return {"rec": rec, "idle": idle, "cores": cores, "login_s": login_s, "dashboard_s": dashboard_s, "buckets": buckets, "query_ms": query_ms,
            "logged_in": len(tokens)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--login-concurrency", type=int, default=os.cpu_count() or 2,
                        help="logins in flight at once (default: one per core, as scrypt is CPU-bound)")
    parser.add_argument("--series-repeats", type=int, default=100)
    parser.add_argument("--idle-repeats", type=int, default=20, help="page loads of one user alone, before the load")
    parser.add_argument("--request-timeout-s", type=float, default=60.0)
    parser.add_argument("--phase-timeout-s", type=float, default=300.0)
    args = parser.parse_args()
    db_url, drop_database = create_scratch_database("cf_bench")
    proc: subprocess.Popen[bytes] | None = None
    log_path = Path(tempfile.mkdtemp(prefix="cf-api-bench-")) / "uvicorn.log"
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:
            print("seeding ...", flush=True)
            names = _seed(conn, args.users)
        port = free_port()
        env = {**os.environ, **RAISED_LIMITS, "DATABASE_URL": db_url, "CARBONFLOW_ADMIN_PASSWORD": "Bench-Admin-2026!x",
               "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
                 "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
                 "--backlog", "4096", "--no-access-log"],
                env=env, stdout=log, stderr=log, cwd=Path(__file__).resolve().parent.parent)
        wait_port(port, timeout_s=60)
        time.sleep(2)  # every worker up
        api_pid = proc.pid
        out = asyncio.run(_run(f"http://127.0.0.1:{port}", db_url, names, args, lambda: _tree_cpu(api_pid),
                               lambda: _postgres_cpu(psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])))
        rec: _Recorder = out["rec"]
        page = [ms for name in ("overview", "live", "series_1h_by_minute") for ms in rec.latencies[name]]
        by_call = {name: _summary(rec.latencies[name])
                   for name in ("login", "home", "overview", "live", "series_1h_by_minute", "series_1y_by_hour")}
        errors = sum(rec.errors.values())
        alone = {name: _summary(out["idle"].latencies[name])
                 for name in ("home", "overview", "live", "series_1h_by_minute")}
        for name, summary in by_call.items():
            print(f"  {name:22s} {summary}")
        for name, summary in alone.items():
            print(f"  alone {name:16s} {summary}")
        print(f"  errors: {dict(rec.errors) or 0}")
        path = write_result("api", {
            "concurrent_users": len(names),
            "mean_ms": round(statistics.fmean(page), 1) if page else None,
            "p99_ms": round(_percentile(page, 0.99), 1) if page else None,
            "errors": errors,
            "login_mean_ms": by_call["login"].get("mean_ms"),
            "series_1y_p95_ms": by_call["series_1y_by_hour"].get("p95_ms"),
            "home_mean_ms": by_call["home"].get("mean_ms"),
            "series_1y_query_p95_ms": round(_percentile(out["query_ms"], 0.95), 1),
            "series_1y_buckets": out["buckets"],
            "by_call": by_call,
            "one_user_alone": alone,
            "requests_per_s_under_load": round(3 * len(names) / out["dashboard_s"], 1),
            "error_kinds": dict(rec.errors),
            "what": {
                "mean_ms, p99_ms": "over every dashboard call (overview, live, series of the last hour by minute) of "
                                   "all users; each user sends its 3 calls in parallel, all users released together",
                "home": "per user, from release until its 3 calls answered",
                "one_user_alone": f"{args.idle_repeats} home page loads, one user at a time, before the load",
                "logins": f"every user logged in once before the dashboard phase, {args.login_concurrency} logins in "
                          f"flight at a time ({out['login_s']:.1f} s for all); scrypt N=2**15 as in production",
                "series_1y": f"GET /series, one point, 365 days by hour, {args.series_repeats} requests one at a time "
                             "after the load; *_query_* is point_series alone on one connection",
            },
            "dashboard_phase_s": round(out["dashboard_s"], 1),
            "server": {"uvicorn_workers": args.workers, "pool_max_per_worker": 10,
                       "loop": "asyncio, h11 (no uvloop/httptools installed)",
                       "cpu_cores_used_in_dashboard_phase": out["cores"]},
            "client": "asyncio + httpx.AsyncClient on the same machine, one connection per user, loopback",
            "rate_limits": f"raised through the environment for the bench: {RAISED_LIMITS}",
            "command": "python bench/api_bench.py",
        })
        print(f"wrote {path}")
        return 0 if errors == 0 else 1
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


def _busy_cores() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK"), sum(fields) / os.sysconf("SC_CLK_TCK")


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
