"""The HTTP API against a real PostgreSQL: answers, bucketing, and 4xx (never 500) for bad input.

Requests are made as the test administrator; access control has its own tests (test_access.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import ROOT, ROOT_PASSWORD, TEST_SETTINGS, ensure_root, login

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[TestClient]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises VALUES ('api-ent', 'API test', 'CN', NULL) ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO sites VALUES ('api-site', 'api-ent', 'API site', NULL, NULL) ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES ('api-meter', 'api-site', 'rolling')"
                     " ON CONFLICT DO NOTHING")
        key = conn.execute("INSERT INTO gateways (gateway_id) VALUES ('api-gw') RETURNING gateway_key").fetchone()[0]
        pkey = conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES ('api-meter', 'power_kw', 'kW',"
                            " 'gauge') RETURNING point_key").fetchone()[0]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality) VALUES (%s, %s, %s, %s, %s, %s)",
                [(key, i, T0 + timedelta(seconds=30 * i), pkey, float(i), 2 if i == 5 else 0) for i in range(240)],
            )
            cur.executemany(
                "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
                " quantity_unit, tco2, factor_ids, formula, quality) VALUES"
                " (%s, %s, %s, %s, %s, 'api-site', 'electricity', %s, 'MWh', %s, %s, 'electricity/test', 0)",
                [(key, 1000 + i, T0 + timedelta(minutes=20 * i), T0, pkey, 1.0, 0.5306,
                  ["grid.cn.national_average@2023"]) for i in range(6)],
            )
        # written around the stream job: its scope rollups, rebuilt as `carbonflow recompute` does
        conn.execute("SELECT cf_rebuild_scope_rollups('api-site', %s, %s)", (T0, T0 + timedelta(hours=2)))
    ensure_root(database_url)
    with TestClient(create_app(database_url, settings=TEST_SETTINGS)) as c:
        c.headers.update(login(c, ROOT, ROOT_PASSWORD))
        yield c


def _iso(t: datetime) -> str:
    return t.isoformat()


def test_raw_series_returns_every_reading_with_quality(client: TestClient) -> None:
    r = client.get("/api/v1/series", params={"device": "api-meter", "point": "power_kw", "start": _iso(T0),
                                             "end": _iso(T0 + timedelta(minutes=5)), "interval": "raw"})
    body = r.json()
    assert (len(body["points"]), body["points"][5]["quality"]) == (10, "bad")


def test_minute_series_averages_good_readings_per_bucket(client: TestClient) -> None:
    r = client.get("/api/v1/series", params={"device": "api-meter", "point": "power_kw", "start": _iso(T0),
                                             "end": _iso(T0 + timedelta(minutes=3)), "interval": "1m"})
    assert [(p["value"], p["count"]) for p in r.json()["points"]] == [(0.5, 2), (2.5, 2), (4.0, 2)]


def test_hourly_emissions_sum_by_source_with_factor_version(client: TestClient) -> None:
    r = client.get("/api/v1/emissions", params={"site": "api-site", "start": _iso(T0),
                                                "end": _iso(T0 + timedelta(hours=3)), "interval": "1h"})
    rows = r.json()["rows"]
    assert [(row["tco2"], row["factor_versions"]) for row in rows] == [
        (pytest.approx(3 * 0.5306), ["grid.cn.national_average@2023"]),
        (pytest.approx(3 * 0.5306), ["grid.cn.national_average@2023"]),
    ]


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/api/v1/series", {"device": "api-meter", "point": "power_kw", "start": "yesterday", "end": "2026-03-02T00:00:00Z"}, 422, "not an ISO-8601"),
        ("/api/v1/series", {"device": "api-meter", "point": "power_kw", "start": "2026-03-01T00:00:00", "end": "2026-03-02T00:00:00Z"}, 422, "needs a UTC offset"),
        ("/api/v1/series", {"device": "api-meter", "point": "power_kw", "start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, 422, "end must be after start"),
        ("/api/v1/series", {"device": "api-meter", "point": "nope", "start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"}, 404, "no point"),
        ("/api/v1/series", {"device": "api-meter", "point": "power_kw", "start": "2026-01-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"}, 422, "limited to 7 days"),
        ("/api/v1/series", {"device": "api-meter", "point": "power_kw", "start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z", "interval": "5s"}, 422, "interval"),
        ("/api/v1/emissions", {"site": "api-site", "start": "2026-03-01T00:00:00Z"}, 422, "end"),
    ],
    ids=["bad-time", "naive-time", "reversed", "unknown-point", "raw-too-long", "bad-interval", "missing-end"],
)
def test_bad_requests_get_4xx_with_message(client: TestClient, path: str, params: dict, status: int, message: str) -> None:
    r = client.get(path, params=params)
    assert (r.status_code, message in r.text) == (status, True)


def test_devices_lists_points_and_health_reports_database(client: TestClient) -> None:
    devices = {d["device_id"]: d for d in client.get("/api/v1/devices").json()["devices"]}
    health = client.get("/api/v1/health").json()
    assert (devices["api-meter"]["points"][0]["point"], health["components"]["database"]["status"]) == ("power_kw", "ok")


