"""GET /api/v1/series?interval=1mo: calendar months in a time zone from hourly rollups, against a real PostgreSQL.
Figures worked out by hand from the hourly rows seeded below (device mo-meter of site mo-site)::

    power_kw (gauge)     UTC hour          n valid  sum    min  max  last  worst  uncertain bad   Shanghai month
                         2026-10-15 02:00  4  4     400    90   110  105   good   0  0            October
                         2026-10-31 15:00  6  5     1000   150  250  240   bad    0  1            October (23:00)
                         2026-10-31 16:00  2  2     600    280  320  310   unc.   2  0            November (00:00)
                         2026-11-20 08:00  3  0     -      -    -    -     bad    0  3            November
        October  mean 1400 / 9, min 90, max 250, last 240, 10 readings, 1 bad
        November mean 600 / 2 = 300, min 280, max 320, last 310 (the all-bad hour has none), 2 uncertain, 3 bad

    energy_kwh (counter) UTC hour          first  min   last
                         2026-09-30 10:00  1000   1000  1200   September: the base of October's first step
                         2026-10-10 00:00  1300   1300  1500   +100 (from 1200) +200
                         2026-10-31 15:00  1500   1500  1800   +0 +300                  October  600
                         2026-10-31 16:00  1850   1850  1900   +50 +50
                         2026-11-12 00:00  20     20    70     fell from 1900: reset, +20 +50
                         2026-11-13 00:00  100    5     45     +30, fell inside the hour: reset, +45
                                                                                        November 100 + 70 + 75 = 245
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.telemetry.monthly_queries import month_windows
from tests.api.conftest import make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCT_1 = "2026-10-01T00:00:00+08:00"
DEC_1 = "2026-12-01T00:00:00+08:00"
# (UTC hour, n, n_valid, sum, min, max, first, last, worst quality, n_uncertain, n_bad)
GAUGE = [
    (datetime(2026, 10, 15, 2, tzinfo=UTC), 4, 4, 400.0, 90.0, 110.0, 95.0, 105.0, 0, 0, 0),
    (datetime(2026, 10, 31, 15, tzinfo=UTC), 6, 5, 1000.0, 150.0, 250.0, 160.0, 240.0, 2, 0, 1),
    (datetime(2026, 10, 31, 16, tzinfo=UTC), 2, 2, 600.0, 280.0, 320.0, 290.0, 310.0, 1, 2, 0),
    (datetime(2026, 11, 20, 8, tzinfo=UTC), 3, 0, None, None, None, None, None, 2, 0, 3),
]
COUNTER = [
    (datetime(2026, 9, 30, 10, tzinfo=UTC), 5, 5, 5500.0, 1000.0, 1200.0, 1000.0, 1200.0, 0, 0, 0),
    (datetime(2026, 10, 10, 0, tzinfo=UTC), 5, 5, 7000.0, 1300.0, 1500.0, 1300.0, 1500.0, 0, 0, 0),
    (datetime(2026, 10, 31, 15, tzinfo=UTC), 4, 4, 6600.0, 1500.0, 1800.0, 1500.0, 1800.0, 0, 0, 0),
    (datetime(2026, 10, 31, 16, tzinfo=UTC), 2, 2, 3750.0, 1850.0, 1900.0, 1850.0, 1900.0, 0, 0, 0),
    (datetime(2026, 11, 12, 0, tzinfo=UTC), 2, 2, 90.0, 20.0, 70.0, 20.0, 70.0, 0, 0, 0),
    (datetime(2026, 11, 13, 0, tzinfo=UTC), 3, 3, 150.0, 5.0, 100.0, 100.0, 45.0, 1, 1, 0),
]


def _seed(conn: psycopg.Connection) -> None:
    conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES ('mo-ent', 'Monthly Steel', 'CN-SH')")
    conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES ('mo-site', 'mo-ent', 'Monthly works')")
    conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES ('mo-meter', 'mo-site', 'rolling')")
    for point, unit, kind, rows in (("power_kw", "kW", "gauge", GAUGE), ("energy_kwh", "kWh", "counter", COUNTER)):
        key = conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES ('mo-meter', %s, %s, %s)"
                           " RETURNING point_key", (point, unit, kind)).fetchone()[0]  # type: ignore[index]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO rollup_1h (point_key, bucket, n, n_valid, sum, min, max, first_ts, first_value, last_ts,"
                " last_value, worst_quality, n_uncertain, n_bad)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(key, hour, n, valid, total, lo, hi, None if first is None else hour + timedelta(minutes=1), first,
                  None if last is None else hour + timedelta(minutes=59), last, worst, uncertain, bad)
                 for hour, n, valid, total, lo, hi, first, last, worst, uncertain, bad in rows])


@pytest.fixture(scope="module")
def seeded(database_url: str, api_app_client: TestClient) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM sites WHERE site_id = 'mo-site'").fetchone() is None:
            with conn.transaction():
                _seed(conn)


def _months(client: TestClient, headers: dict[str, str], point: str, start: str = OCT_1, end: str = DEC_1,
            **params: str) -> dict[str, Any]:
    r = client.get("/api/v1/series", headers=headers, params={
        "device": "mo-meter", "point": point, "start": start, "end": end, "interval": "1mo", **params})
    assert r.status_code == 200, r.text
    return r.json()


_GAUGE_KEYS = ("month", "ts", "value", "mean", "min", "max", "last", "count", "valid", "hours", "quality",
               "quality_counts", "increase", "partial")


def test_gauge_months_follow_shanghai_calendar_with_weighted_means_and_quality(
    api_app_client: TestClient, admin_headers: dict[str, str], seeded: None
) -> None:
    body = _months(api_app_client, admin_headers, "power_kw")
    rows = [tuple(p[k] for k in _GAUGE_KEYS) for p in body["points"]]
    assert (body["interval"], body["timezone"], body["kind"], body["unit"]) == ("1mo", "Asia/Shanghai", "gauge", "kW")
    assert rows == [
        ("2026-10", OCT_1, 1400 / 9, 1400 / 9, 90.0, 250.0, 240.0, 10, 9, 2, "bad",
         {"good": 9, "uncertain": 0, "bad": 1}, None, False),
        ("2026-11", "2026-11-01T00:00:00+08:00", 300.0, 300.0, 280.0, 320.0, 310.0, 5, 2, 2, "bad",
         {"good": 0, "uncertain": 2, "bad": 3}, None, False),
    ]


def test_utc_months_put_the_midnight_hour_of_1_november_in_shanghai_into_october(
    api_app_client: TestClient, admin_headers: dict[str, str], seeded: None
) -> None:
    body = _months(api_app_client, admin_headers, "power_kw", start="2026-10-01T00:00:00Z",
                   end="2026-12-01T00:00:00Z", tz="UTC")
    assert [(p["month"], p["ts"], p["mean"], p["hours"]) for p in body["points"]] == [
        ("2026-10", "2026-10-01T00:00:00+00:00", 2000 / 11, 3), ("2026-11", "2026-11-01T00:00:00+00:00", None, 1)]


def test_counter_months_add_up_increases_across_the_month_boundary_and_resets(
    api_app_client: TestClient, admin_headers: dict[str, str], seeded: None
) -> None:
    body = _months(api_app_client, admin_headers, "energy_kwh")
    assert [(p["month"], p["increase"], p["value"], p["last"], p["counter_drops"], p["quality"], p["quality_counts"])
            for p in body["points"]] == [
        ("2026-10", 600.0, 1800.0, 1800.0, 0, "good", {"good": 9, "uncertain": 0, "bad": 0}),
        ("2026-11", 245.0, 45.0, 45.0, 2, "uncertain", {"good": 6, "uncertain": 1, "bad": 0}),
    ]


def test_a_range_starting_inside_a_month_gives_a_partial_month_based_on_the_reading_before(
    api_app_client: TestClient, admin_headers: dict[str, str], seeded: None
) -> None:
    body = _months(api_app_client, admin_headers, "energy_kwh", start="2026-10-19T16:00:00Z",
                   end="2026-11-12T12:00:00+08:00")
    assert [(p["month"], p["start"], p["end"], p["partial"], p["increase"], p["hours"]) for p in body["points"]] == [
        ("2026-10", "2026-10-20T00:00:00+08:00", "2026-11-01T00:00:00+08:00", True, 300.0, 1),
        ("2026-11", "2026-11-01T00:00:00+08:00", "2026-11-12T12:00:00+08:00", True, 100.0 + 70.0, 2),
    ]


def test_ten_years_of_months_are_answered(api_app_client: TestClient, admin_headers: dict[str, str],
                                          seeded: None) -> None:
    body = _months(api_app_client, admin_headers, "power_kw", start="2017-01-01T00:00:00+08:00",
                   end="2027-01-01T00:00:00+08:00")
    assert [p["month"] for p in body["points"]] == ["2026-10", "2026-11"]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [({"start": "2016-12-31T15:59:00Z", "end": "2027-01-01T00:00:00+08:00"}, 422, "limited to 120 months"),
     ({"tz": "Mars/Base"}, 422, "unknown time zone"), ({"tz": "Asia"}, 422, "unknown time zone"),
     ({"interval": "1y"}, 422, "1mo"), ({"end": OCT_1}, 422, "end must be after start"),
     ({"point": "nothing"}, 404, "no point 'nothing'")],
    ids=["eleven-years", "unknown-zone", "zone-directory", "bad-interval", "empty-range", "unknown-point"],
)
def test_bad_monthly_requests_get_a_4xx_with_a_message(api_app_client: TestClient, admin_headers: dict[str, str],
                                                       seeded: None, params: dict[str, str], status: int,
                                                       message: str) -> None:
    r = api_app_client.get("/api/v1/series", headers=admin_headers, params={
        "device": "mo-meter", "point": "power_kw", "start": OCT_1, "end": DEC_1, "interval": "1mo", **params})
    assert (r.status_code, message in r.text) == (status, True)


def test_monthly_series_outside_the_callers_scope_are_not_found(
    api_app_client: TestClient, admin_headers: dict[str, str], seeded: None
) -> None:
    other = make_user(api_app_client, admin_headers, "enterprise", enterprise_id="m-ent-a")[2]
    r = api_app_client.get("/api/v1/series", headers=other, params={
        "device": "mo-meter", "point": "power_kw", "start": OCT_1, "end": DEC_1, "interval": "1mo"})
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("zone", "start", "end", "expected"),
    [("Asia/Shanghai", datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC),
      [("2026-11", "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00", False)]),
     ("America/New_York", datetime(2026, 3, 1, 5, tzinfo=UTC), datetime(2026, 4, 1, 4, tzinfo=UTC),
      [("2026-03", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00", False)]),
     ("Asia/Shanghai", datetime(2026, 12, 15, tzinfo=UTC), datetime(2027, 1, 1, 1, tzinfo=UTC),
      [("2026-12", "2026-12-15T08:00:00+08:00", "2027-01-01T00:00:00+08:00", True),
       ("2027-01", "2027-01-01T00:00:00+08:00", "2027-01-01T09:00:00+08:00", True)])],
    ids=["one-shanghai-month", "new-york-dst-month", "across-new-year"],
)
def test_month_windows_are_local_calendar_months_cut_to_the_range(zone: str, start: datetime, end: datetime,
                                                                  expected: list[tuple[Any, ...]]) -> None:
    got = month_windows(start, end, ZoneInfo(zone))
    assert [(m.period.label, m.start.isoformat(), m.end.isoformat(), m.partial) for m in got] == expected


def test_monthly_columns_hold_the_same_figures_as_the_rows(api_app_client: TestClient, admin_headers: dict[str, str],
                                                           seeded: None) -> None:
    rows = _months(api_app_client, admin_headers, "energy_kwh")["points"]
    columns = _months(api_app_client, admin_headers, "energy_kwh", format="columns")["columns"]
    counts = columns.pop("quality_counts")
    assert [dict(zip(columns, values, strict=True)) | {"quality_counts": dict(zip(counts, c, strict=True))}
            for values, c in zip(zip(*columns.values(), strict=True), zip(*counts.values(), strict=True),
                                 strict=True)] == rows
