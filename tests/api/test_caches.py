"""The API's short-lived caches: shared overviews never cross data scopes, cached sessions still end at logout,
password change and expiry, and a revocation the worker did not see is honoured within the cache time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import security
from api.auth.revocations import RevocationSignal
from api.caches import SessionCache, SharedCache
from api.main import create_app
from tests.api.conftest import (
    ROOT,
    ROOT_PASSWORD,
    TEST_SETTINGS,
    login,
    make_user,
    new_password,
)

DAY = {"tz": "UTC", "day": "2026-03-01"}  # the day of the m- sites' emissions (conftest)


@pytest.fixture
def cached_client(database_url: str, api_app_client: TestClient) -> Iterator[TestClient]:
    """An app whose caches keep answers and sessions for a minute, so that a test sees what they hold."""
    settings = TEST_SETTINGS.model_copy(update={"dashboard_cache_s": 60.0, "session_cache_s": 60.0})
    with TestClient(create_app(database_url, settings=settings)) as client:
        yield client


def _bearer(client: TestClient, role: str, **scope: object) -> dict[str, str]:
    return make_user(client, login(client, ROOT, ROOT_PASSWORD), role, **scope)[2]


def _overview(client: TestClient, headers: dict[str, str], site: str) -> tuple[int, float | None]:
    r = client.get("/api/v1/overview", headers=headers, params={"site": site, **DAY})
    return r.status_code, r.json()["co2"]["total_tco2"] if r.status_code == 200 else None


def test_users_of_two_scopes_never_see_each_others_cached_overview(cached_client: TestClient) -> None:
    a = _bearer(cached_client, "enterprise", enterprise_id="m-ent-a")
    b = _bearer(cached_client, "enterprise", enterprise_id="m-ent-b")
    answers = [_overview(cached_client, a, "m-site-a"), _overview(cached_client, b, "m-site-a"),
               _overview(cached_client, b, "m-site-b"), _overview(cached_client, a, "m-site-b"),
               _overview(cached_client, a, "m-site-a"), _overview(cached_client, b, "m-site-b")]
    assert answers == [(200, 1.0), (404, None), (200, 2.0), (404, None), (200, 1.0), (200, 2.0)]


def test_live_values_and_sites_follow_each_callers_scope_with_the_caches_on(cached_client: TestClient) -> None:
    a = _bearer(cached_client, "enterprise", enterprise_id="m-ent-a")
    zj = _bearer(cached_client, "government", region="CN-ZJ")
    seen = []
    for headers in (a, zj, a, zj):
        sites = {s["site_id"] for s in cached_client.get("/api/v1/sites", headers=headers).json()["sites"]}
        devices = {v["device"] for v in cached_client.get("/api/v1/live", headers=headers).json()["values"]}
        seen.append((sorted(s for s in sites if s.startswith("m-")), sorted(d for d in devices if d.startswith("m-"))))
    only_a = (["m-site-a"], ["m-dev-a"])
    region = (["m-site-a", "m-site-c"], ["m-dev-a", "m-dev-c"])
    assert seen == [only_a, region, only_a, region]


def test_a_shared_overview_is_reused_until_a_write_clears_it(cached_client: TestClient,
                                                             db: psycopg.Connection) -> None:
    a = _bearer(cached_client, "enterprise", enterprise_id="m-ent-a")
    admin = login(cached_client, ROOT, ROOT_PASSWORD)
    before = _overview(cached_client, a, "m-site-a")
    key = db.execute("SELECT point_key FROM points WHERE device_id = 'm-dev-a'").fetchone()[0]  # type: ignore[index]
    gateway = db.execute("SELECT gateway_key FROM gateways WHERE gateway_id = 'm-key-a'").fetchone()[0]  # type: ignore[index]
    db.execute(
        "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity, quantity_unit,"
        " tco2, factor_ids, formula, quality) VALUES (%s, 900, '2026-03-01T09:00:00Z', '2026-03-01T08:45:00Z', %s,"
        " 'm-site-a', 'electricity', 1, 'MWh', 0.5, ARRAY['f@1'], 'electricity/test', 0)", (gateway, key))
    rebuild = ("SELECT cf_rebuild_scope_rollups('m-site-a', '2026-03-01T08:00:00Z', '2026-03-01T10:00:00Z')")
    db.execute(rebuild)  # written around the stream job: its scope rollups, as `carbonflow recompute` does
    try:
        cached = _overview(cached_client, a, "m-site-a")
        # any write through this worker (here a benchmark) clears its caches
        r = cached_client.put("/api/v1/benchmarks/m-site-a/crude_steel", headers=admin,
                              json={"tco2_per_t": 1.5, "source": "cache test"})
        after = _overview(cached_client, a, "m-site-a")
    finally:
        db.execute("DELETE FROM emissions WHERE gateway_key = %s AND seq = 900", (gateway,))
        db.execute(rebuild)
        db.execute("DELETE FROM benchmarks WHERE site_id = 'm-site-a'")
    assert (before, cached, r.status_code, after) == ((200, 1.0), (200, 1.0), 200, (200, 1.5))


def test_logout_ends_a_cached_session_at_once(cached_client: TestClient) -> None:
    headers = _bearer(cached_client, "technician")
    used = cached_client.get("/api/v1/devices", headers=headers).status_code
    out = cached_client.post("/api/v1/auth/logout", headers=headers).status_code
    after = cached_client.get("/api/v1/devices", headers=headers)
    assert (used, out, after.status_code, "revoked" in after.json()["detail"]) == (200, 200, 401, True)


def test_a_password_change_ends_the_other_cached_sessions_at_once(cached_client: TestClient) -> None:
    admin = login(cached_client, ROOT, ROOT_PASSWORD)
    name, password, first = make_user(cached_client, admin, "technician")
    second = login(cached_client, name, password)
    used = (cached_client.get("/api/v1/devices", headers=first).status_code,
            cached_client.get("/api/v1/devices", headers=second).status_code)
    changed = cached_client.post("/api/v1/auth/password", headers=second,
                                 json={"current_password": password, "new_password": new_password()}).status_code
    after = (cached_client.get("/api/v1/devices", headers=first).status_code,
             cached_client.get("/api/v1/devices", headers=second).status_code)
    assert (used, changed, after) == ((200, 200), 200, (401, 200))


def test_a_session_revoked_behind_the_workers_back_is_refused_once_the_database_says_so(
    database_url: str, api_app_client: TestClient, db: psycopg.Connection
) -> None:
    settings = TEST_SETTINGS.model_copy(update={"session_cache_s": 60.0})
    with TestClient(create_app(database_url, settings=settings)) as client:
        headers = _bearer(client, "technician")
        used = client.get("/api/v1/devices", headers=headers).status_code
        db.execute("UPDATE sessions SET revoked_at = now() WHERE token_hash = %s",
                   (security.token_digest(headers["Authorization"].removeprefix("Bearer ")),))
        deadline = time.monotonic() + 5  # the notification takes milliseconds; the cache would keep the row 60 s
        while (status := client.get("/api/v1/devices", headers=headers).status_code) == 200 and \
                time.monotonic() < deadline:
            time.sleep(0.05)
    assert (used, status) == (200, 401)


def test_a_session_revoked_behind_the_workers_back_is_refused_within_the_cache_time_without_the_signal(
    database_url: str, api_app_client: TestClient, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def deaf(self: RevocationSignal, url: str) -> None:  # a worker that cannot listen: the cache time bounds
        return None

    monkeypatch.setattr(RevocationSignal, "listen", deaf)
    settings = TEST_SETTINGS.model_copy(update={"session_cache_s": 0.5})
    with TestClient(create_app(database_url, settings=settings)) as client:
        headers = _bearer(client, "technician")
        used = client.get("/api/v1/devices", headers=headers).status_code
        # as another worker's logout would: the row changes, this worker is not told
        db.execute("UPDATE sessions SET revoked_at = now() WHERE token_hash = %s",
                   (security.token_digest(headers["Authorization"].removeprefix("Bearer ")),))
        still = client.get("/api/v1/devices", headers=headers).status_code
        time.sleep(0.6)
        later = client.get("/api/v1/devices", headers=headers).status_code
    assert (used, still, later) == (200, 200, 401)


def test_a_cached_session_expires_on_time(database_url: str, api_app_client: TestClient) -> None:
    settings = TEST_SETTINGS.model_copy(update={"session_cache_s": 60.0, "session_ttl": timedelta(seconds=2)})
    with TestClient(create_app(database_url, settings=settings)) as client:
        admin = login(client, ROOT, ROOT_PASSWORD)
        r = client.post("/api/v1/users", headers=admin, json={"username": f"exp-{time.time_ns()}", "role": "technician"})
        headers = login(client, r.json()["username"], r.json()["password"])
        fresh = client.get("/api/v1/auth/me", headers=headers).status_code
        time.sleep(2.2)
        late = client.get("/api/v1/auth/me", headers=headers)
    assert (fresh, late.status_code, "expired" in late.json()["detail"]) == (200, 401, True)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_callers_missing_the_same_key_share_one_computation() -> None:
    cache: SharedCache[int] = SharedCache(1.0)
    calls = []

    async def compute() -> int:
        calls.append(1)
        await asyncio.sleep(0.05)
        return len(calls)

    answers = await asyncio.gather(*(cache.get("k", compute) for _ in range(20)))
    assert (answers, len(calls)) == ([1] * 20, 1)


async def test_a_shared_answer_expires_and_a_failure_is_not_kept() -> None:
    clock = _Clock()
    cache: SharedCache[str] = SharedCache(2.0, clock=clock)
    results = iter(["first", "second"])

    async def compute() -> str:
        return next(results)

    async def fail() -> str:
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        await cache.get("k", fail)
    first = await cache.get("k", compute)
    clock.now = 1.9
    again = await cache.get("k", compute)
    clock.now = 2.1
    later = await cache.get("k", compute)
    assert (first, again, later) == ("first", "first", "second")


async def test_an_answer_computed_across_a_clear_is_not_kept() -> None:
    cache: SharedCache[str] = SharedCache(60.0)
    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "before the write"

    async def fresh() -> str:
        return "after the write"

    waiting = asyncio.ensure_future(cache.get("k", slow))
    await asyncio.sleep(0)
    cache.clear()
    gate.set()
    assert (await waiting, await cache.get("k", fresh)) == ("before the write", "after the write")


def test_a_session_row_read_before_a_clear_is_not_kept() -> None:
    clock = _Clock()
    cache = SessionCache(5.0, clock=clock)
    generation = cache.generation
    cache.clear()  # a logout answered while the row was being read
    cache.put(b"d", {"user_id": 1}, generation=generation)
    cache.put(b"e", {"user_id": 2}, generation=cache.generation)
    clock.now = 4.0
    kept = cache.get(b"e")
    clock.now = 5.0
    assert (cache.get(b"d"), kept, cache.get(b"e")) == (None, ({"user_id": 2}, 4.0), None)

