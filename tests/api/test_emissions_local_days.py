"""GET /emissions?interval=1d: day buckets are the local days of `tz` (default Asia/Shanghai), as /series days are;
the factor rows used follow the same days, totals do not depend on the zone, and an unknown zone is a 422.

Emission rows of one site (interval end time, tCO2, factor row)::

    2026-05-10 14:20Z  1 f-a    Shanghai 05-10 22:20   Kolkata 05-10 19:50
    2026-05-10 15:30Z  2 f-a    Shanghai 05-10 23:30
    2026-05-10 16:30Z  4 f-b    Shanghai 05-11 00:30   (Shanghai midnight: 16:00Z)
    2026-05-10 17:10Z  8 f-b
    2026-05-10 18:20Z 16 f-b                           Kolkata 05-10 23:50
    2026-05-10 18:40Z 32 f-b                           Kolkata 05-11 00:10   (Kolkata midnight: 18:30Z)
    2026-03-28 22:30Z  1 f-a    Berlin 03-28 23:30 CET
    2026-03-28 23:30Z  2 f-a    Berlin 03-29 00:30 CET    (03-29 is 23 hours: DST starts 01:00Z)
    2026-03-29 21:30Z  4 f-b    Berlin 03-29 23:30 CEST
    2026-03-29 22:30Z  8 f-b    Berlin 03-30 00:30 CEST
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import unique

MAY = (datetime(2026, 5, 10, 12, tzinfo=UTC), datetime(2026, 5, 11, 12, tzinfo=UTC))
MARCH = (datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, 12, tzinfo=UTC))
ROWS = [  # (end time, tCO2, factor row)
    (datetime(2026, 5, 10, 14, 20, tzinfo=UTC), 1.0, "f-a"), (datetime(2026, 5, 10, 15, 30, tzinfo=UTC), 2.0, "f-a"),
    (datetime(2026, 5, 10, 16, 30, tzinfo=UTC), 4.0, "f-b"), (datetime(2026, 5, 10, 17, 10, tzinfo=UTC), 8.0, "f-b"),
    (datetime(2026, 5, 10, 18, 20, tzinfo=UTC), 16.0, "f-b"), (datetime(2026, 5, 10, 18, 40, tzinfo=UTC), 32.0, "f-b"),
    (datetime(2026, 3, 28, 22, 30, tzinfo=UTC), 1.0, "f-a"), (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), 2.0, "f-a"),
    (datetime(2026, 3, 29, 21, 30, tzinfo=UTC), 4.0, "f-b"), (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), 8.0, "f-b"),
]


@pytest.fixture(scope="module")
def site(database_url: str) -> Iterator[str]:
    """A site with the emission rows above and its scope rollups, rebuilt as `carbonflow recompute` does."""
    tag = unique("ld")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Local days', 'CN-SH')",
                     (f"{tag}-ent",))
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Local days')",
                     (tag, f"{tag}-ent"))
        conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, 'rolling')",
                     (f"{tag}-meter", tag))
        gateway = conn.execute("INSERT INTO gateways (gateway_id) VALUES (%s) RETURNING gateway_key",
                               (f"{tag}-gw",)).fetchone()[0]  # type: ignore[index]
        point = conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES"
                             " (%s, 'kwh', 'kWh', 'counter', 'electricity') RETURNING point_key",
                             (f"{tag}-meter",)).fetchone()[0]  # type: ignore[index]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
                " quantity_unit, tco2, factor_ids, formula, quality) VALUES"
                " (%s, %s, %s, %s, %s, %s, 'electricity', %s, 'MWh', %s, %s, 'electricity/test', 0)",
                [(gateway, seq, ts, ts - timedelta(minutes=10), point, tag, tco2 * 2, tco2, [factor])
                 for seq, (ts, tco2, factor) in enumerate(ROWS)])
        for lo, hi in (MAY, MARCH):
            conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)", (tag, lo, hi))
    yield tag


def _emissions(client: TestClient, headers: dict[str, str], site: str, window: tuple[datetime, datetime],
               **params: str) -> dict:
    r = client.get("/api/v1/emissions", headers=headers, params={
        "site": site, "start": window[0].isoformat(), "end": window[1].isoformat(), **params})
    assert r.status_code == 200, r.text
    return r.json()


def _buckets(body: dict) -> list[tuple[datetime, float, list[str]]]:
    return [(datetime.fromisoformat(r["ts"]), r["tco2"], r["factor_versions"]) for r in body["rows"]]


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_intervals_ending_at_1530_and_1630_utc_fall_on_different_shanghai_days(
        api_app_client: TestClient, admin_headers: dict[str, str], site: str) -> None:
    body = _emissions(api_app_client, admin_headers, site, MAY, interval="1d", tz="Asia/Shanghai")
    # a Shanghai day starts at 16:00 UTC; each day names the factor rows of its own intervals
    assert (body["timezone"], _buckets(body)) == ("Asia/Shanghai", [
        (_utc(2026, 5, 9, 16), 3.0, ["f-a"]), (_utc(2026, 5, 10, 16), 60.0, ["f-b"])])


def test_without_tz_days_are_shanghai_days(api_app_client: TestClient, admin_headers: dict[str, str],
                                           site: str) -> None:
    default = _emissions(api_app_client, admin_headers, site, MAY, interval="1d")
    shanghai = _emissions(api_app_client, admin_headers, site, MAY, interval="1d", tz="Asia/Shanghai")
    assert (default["timezone"], default["rows"]) == ("Asia/Shanghai", shanghai["rows"])


def test_utc_days_run_from_utc_midnight(api_app_client: TestClient, admin_headers: dict[str, str],
                                        site: str) -> None:
    body = _emissions(api_app_client, admin_headers, site, MAY, interval="1d", tz="UTC")
    assert _buckets(body) == [(_utc(2026, 5, 10), 63.0, ["f-a", "f-b"])]


def test_the_day_dst_starts_in_berlin_is_23_hours_long(api_app_client: TestClient, admin_headers: dict[str, str],
                                                       site: str) -> None:
    body = _emissions(api_app_client, admin_headers, site, MARCH, interval="1d", tz="Europe/Berlin")
    assert _buckets(body) == [(_utc(2026, 3, 27, 23), 1.0, ["f-a"]), (_utc(2026, 3, 28, 23), 6.0, ["f-a", "f-b"]),
                              (_utc(2026, 3, 29, 22), 8.0, ["f-b"])]


def test_kolkata_days_split_the_hour_their_midnight_falls_in(api_app_client: TestClient,
                                                             admin_headers: dict[str, str], site: str) -> None:
    # midnight at 18:30 UTC is inside an hourly bucket: those days are summed from the interval rows
    body = _emissions(api_app_client, admin_headers, site, MAY, interval="1d", tz="Asia/Kolkata")
    assert _buckets(body) == [(_utc(2026, 5, 9, 18, 30), 31.0, ["f-a", "f-b"]), (_utc(2026, 5, 10, 18, 30), 32.0,
                                                                                ["f-b"])]


@pytest.mark.parametrize(("tz", "window"), [("Asia/Shanghai", MAY), ("UTC", MAY), ("Europe/Berlin", MARCH),
                                            ("Asia/Shanghai", (_utc(2026, 5, 10, 15, 45), _utc(2026, 5, 10, 18, 25)))])
def test_a_day_is_the_sum_of_the_hours_of_that_local_day_and_totals_do_not_change(
        api_app_client: TestClient, admin_headers: dict[str, str], site: str, tz: str,
        window: tuple[datetime, datetime]) -> None:
    hours = _emissions(api_app_client, admin_headers, site, window, interval="1h", tz=tz)
    days = _emissions(api_app_client, admin_headers, site, window, interval="1d", tz=tz)
    by_day: dict[date, float] = defaultdict(float)
    for ts, tco2, _ in _buckets(hours):
        by_day[ts.astimezone(ZoneInfo(tz)).date()] += tco2
    assert {ts.astimezone(ZoneInfo(tz)).date(): tco2 for ts, tco2, _ in _buckets(days)} == by_day
    assert days["total_tco2"] == hours["total_tco2"] == sum(t for ts, t, _ in ROWS if window[0] <= ts < window[1])


def test_shanghai_days_are_read_from_the_hourly_rollup(api_app_client: TestClient, admin_headers: dict[str, str],
                                                       site: str, db: psycopg.Connection) -> None:
    hour = _utc(2026, 5, 10, 17)
    db.execute("UPDATE scope_rollup_1h SET tco2 = tco2 + 1000 WHERE level = 'site' AND scope_id = %s"
               " AND bucket = %s", (site, hour))
    try:
        body = _emissions(api_app_client, admin_headers, site, MAY, interval="1d", tz="Asia/Shanghai")
    finally:
        db.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)", (site, *MAY))
    assert [tco2 for _, tco2, _ in _buckets(body)] == [3.0, 1060.0]


@pytest.mark.parametrize("interval", ["1d", "1h"])
def test_an_unknown_time_zone_is_refused_with_422(api_app_client: TestClient, admin_headers: dict[str, str],
                                                  site: str, interval: str) -> None:
    r = api_app_client.get("/api/v1/emissions", headers=admin_headers, params={
        "site": site, "start": MAY[0].isoformat(), "end": MAY[1].isoformat(), "interval": interval,
        "tz": "Mars/Olympus_Mons"})
    assert r.status_code == 422
    assert "unknown time zone 'Mars/Olympus_Mons'" in r.json()["detail"]
