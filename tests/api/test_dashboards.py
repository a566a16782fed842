"""The dashboards' endpoints against a real PostgreSQL: overview, sites, device health, benchmarks and the CSV
export, with figures worked out by hand from the seeded rows below; bad input is 4xx, never 500.

Site o-site, day 2026-03-02 in Asia/Shanghai = [2026-03-01T16:00Z, 2026-03-02T16:00Z)::

    emissions  o-elec (steelmaking) electricity 3 x 1.0 t, o-gas (rolling) natural_gas 2 x 0.5 t,
               and 10 t the day before (left out)                                       -> 4.0 tCO2
    production o-plc crude_steel_t: 100 before the day, then 110, 130, reset to 5, 25;
               a bad 9999 in between is left out              -> 10 + 20 + 5 + 20    = 55 t
    intensity  4.0 / 55 = 0.072727 tCO2/t; benchmark 0.1       -> 27.27 % below
    power now  o-elec 2400 kW good + o-aux 0.5 MW uncertain; o-aux 999 kW bad and o-plc 30 min old
               are left out                                                            -> 2900 kW
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from carbon_domain.counters import CounterState, counter_delta
from tests.api.conftest import TEST_SETTINGS, make_user

DAY = "2026-03-02"
D0 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 2026-03-02 00:00 in Asia/Shanghai
GRID = "grid.cn.national_average@2023"
POINTS = {  # (device, point): (unit, kind, activity)
    ("o-elec", "active_power_kw"): ("kW", "gauge", None),
    ("o-elec", "energy_import_kwh"): ("kWh", "counter", "electricity"),
    ("o-gas", "volume_total_nm3"): ("Nm3", "counter", "natural_gas"),
    ("o-plc", "crude_steel_t"): ("t", "counter", "production:crude_steel"),
    ("o-plc", "drive_kw"): ("kW", "gauge", None),
    ("o-aux", "feeder_mw"): ("MW", "gauge", None),
    ("o-aux", "spare_kw"): ("kW", "gauge", None),
}
PROCESS = {"o-elec": "steelmaking", "o-gas": "rolling", "o-plc": "steelmaking", "o-aux": "auxiliary"}


def _seed(conn: psycopg.Connection) -> None:
    now = datetime.now(UTC)
    conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES ('o-ent', 'Overview Steel', 'CN-SH')")
    conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES ('o-site', 'o-ent', 'Overview works')")
    for device, process in PROCESS.items():
        conn.execute("INSERT INTO devices (device_id, site_id, process, gateway_id, last_seen)"
                     " VALUES (%s, 'o-site', %s, 'o-gw', %s)", (device, process, now - timedelta(seconds=20)))
    key = conn.execute("INSERT INTO gateways (gateway_id, site_id) VALUES ('o-gw', 'o-site') RETURNING gateway_key"
                       ).fetchone()[0]  # type: ignore[index]
    pk = {}
    for (device, point), (unit, kind, activity) in POINTS.items():
        pk[device, point] = conn.execute(
            "INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, %s, %s, %s, %s)"
            " RETURNING point_key", (device, point, unit, kind, activity)).fetchone()[0]  # type: ignore[index]
    seq = iter(range(1, 10_000))
    readings = [
        (pk["o-elec", "active_power_kw"], now - timedelta(minutes=5), 1000.0, 0),
        (pk["o-elec", "active_power_kw"], now - timedelta(seconds=30), 2400.0, 0),
        (pk["o-aux", "feeder_mw"], now - timedelta(seconds=40), 0.5, 1),
        (pk["o-aux", "spare_kw"], now - timedelta(seconds=40), 999.0, 2),
        (pk["o-plc", "drive_kw"], now - timedelta(minutes=30), 700.0, 0),
        (pk["o-plc", "crude_steel_t"], D0 - timedelta(minutes=10), 100.0, 0),
        (pk["o-plc", "crude_steel_t"], D0 + timedelta(minutes=10), 110.0, 0),
        (pk["o-plc", "crude_steel_t"], D0 + timedelta(hours=1), 130.0, 0),
        (pk["o-plc", "crude_steel_t"], D0 + timedelta(hours=1, minutes=30), 9999.0, 2),
        (pk["o-plc", "crude_steel_t"], D0 + timedelta(hours=2), 5.0, 0),
        (pk["o-plc", "crude_steel_t"], D0 + timedelta(hours=3), 25.0, 0),
        (pk["o-elec", "energy_import_kwh"], D0 - timedelta(minutes=30), 10_000.0, 0),
        (pk["o-elec", "energy_import_kwh"], D0 + timedelta(minutes=30), 11_000.0, 0),
        (pk["o-elec", "energy_import_kwh"], D0 + timedelta(minutes=50), 12_000.0, 0),
        (pk["o-elec", "energy_import_kwh"], D0 + timedelta(hours=1, minutes=30), 13_000.0, 0),
    ]
    with conn.cursor() as cur:
        stored = [(key, next(seq), *r) for r in readings]
        cur.executemany("INSERT INTO readings (gateway_key, seq, point_key, ts, value, quality)"
                        " VALUES (%s, %s, %s, %s, %s, %s)", stored)
        # the steel counter's intervals as the stream job derives them (a reset flags its interval)
        steel, previous, produced = pk["o-plc", "crude_steel_t"], None, []
        for gateway_key, n, point_key, ts, value, quality in stored:
            if point_key != steel or quality == 2:
                continue
            delta = counter_delta(previous, ts, value)
            previous = CounterState(ts, value)
            if delta is not None:
                produced.append((gateway_key, n, ts, delta.start_ts, steel, delta.amount, 1 if delta.note else 0))
        cur.executemany("INSERT INTO activity_intervals (gateway_key, seq, ts, start_ts, point_key, site_id, activity,"
                        " quantity, quantity_unit, quality) VALUES (%s, %s, %s, %s, %s, 'o-site',"
                        " 'production:crude_steel', %s, 't', %s)", produced)
        emissions = [
            (pk["o-elec", "energy_import_kwh"], D0 + timedelta(minutes=30), "electricity", 1.0, "MWh", 1.0, [GRID]),
            (pk["o-elec", "energy_import_kwh"], D0 + timedelta(minutes=50), "electricity", 1.0, "MWh", 1.0, [GRID]),
            (pk["o-elec", "energy_import_kwh"], D0 + timedelta(hours=1, minutes=30), "electricity", 1.0, "MWh", 1.0,
             [GRID]),
            (pk["o-gas", "volume_total_nm3"], D0 + timedelta(hours=2), "natural_gas", 0.1, "1e4Nm3", 0.5,
             ["fuel.natural_gas.ncv@ndrc-steel-2013"]),
            (pk["o-gas", "volume_total_nm3"], D0 + timedelta(hours=3), "natural_gas", 0.1, "1e4Nm3", 0.5,
             ["fuel.natural_gas.ncv@ndrc-steel-2013"]),
            (pk["o-elec", "energy_import_kwh"], D0 - timedelta(hours=1), "electricity", 10.0, "MWh", 10.0, [GRID]),
        ]
        cur.executemany(
            "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
            " quantity_unit, tco2, factor_ids, formula, quality) VALUES"
            " (%s, %s, %s, %s, %s, 'o-site', %s, %s, %s, %s, %s, 'test/formula', 0)",
            [(key, next(seq), ts, ts - timedelta(minutes=20), p, a, q, u, t, f) for p, ts, a, q, u, t, f in emissions],
        )
    # written around the stream job: its scope rollups, rebuilt as `carbonflow recompute` does
    conn.execute("SELECT cf_rebuild_scope_rollups('o-site', %s, %s)", (D0 - timedelta(days=1), D0 + timedelta(days=1)))


@pytest.fixture(scope="module")
def plant(api_app_client: TestClient, database_url: str) -> Iterator[None]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM sites WHERE site_id = 'o-site'").fetchone() is None:
            with conn.transaction():
                _seed(conn)
    yield


@pytest.fixture(scope="module")
def manager(api_app_client: TestClient, admin_headers: dict[str, str], plant: None) -> dict[str, str]:
    """An energy manager: enterprise role on o-ent."""
    return make_user(api_app_client, admin_headers, "enterprise", enterprise_id="o-ent")[2]


def _overview(client: TestClient, headers: dict[str, str], **params: str) -> dict:
    r = client.get("/api/v1/overview", headers=headers, params={"site": "o-site", "day": DAY, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_overview_sums_the_days_co2_by_source_and_by_process(api_app_client: TestClient,
                                                             manager: dict[str, str]) -> None:
    co2 = _overview(api_app_client, manager)["co2"]
    assert (co2["total_tco2"], [(s["source"], s["tco2"]) for s in co2["by_source"]],
            [(p["process"], p["tco2"]) for p in co2["by_process"]], co2["factor_versions"]) == (
        pytest.approx(4.0), [("electricity", 3.0), ("natural_gas", 1.0)], [("steelmaking", 3.0), ("rolling", 1.0)],
        ["fuel.natural_gas.ncv@ndrc-steel-2013", GRID])


def test_overview_counts_production_through_a_counter_reset_and_skips_bad_readings(
    api_app_client: TestClient, manager: dict[str, str]
) -> None:
    body = _overview(api_app_client, manager)
    assert ([(p["product"], p["amount"], p["unit"]) for p in body["production"]],
            body["intensity"]["production_t"], body["intensity"]["value"]) == (
        [("crude_steel", 55.0, "t")], 55.0, pytest.approx(4.0 / 55))


def test_overview_compares_intensity_with_the_sites_benchmark(
    api_app_client: TestClient, admin_headers: dict[str, str], manager: dict[str, str]
) -> None:
    r = api_app_client.put("/api/v1/benchmarks/o-site/crude_steel", headers=admin_headers,
                           json={"tco2_per_t": 0.1, "source": "test target"})
    assert r.status_code == 200, r.text
    intensity = _overview(api_app_client, manager)["intensity"]
    assert (intensity["benchmark"]["tco2_per_t"], intensity["benchmark"]["source"], intensity["status"],
            intensity["vs_benchmark_pct"]) == (0.1, "test target", "at_or_below_benchmark",
                                               pytest.approx((4.0 / 55 / 0.1 - 1) * 100))


def test_overview_adds_the_newest_good_and_uncertain_power_readings(api_app_client: TestClient,
                                                                   manager: dict[str, str]) -> None:
    power = _overview(api_app_client, manager)["power"]
    counted = sorted((p["device"], p["point"], p["value_kw"]) for p in power["points"] if p["counted"])
    assert (power["total_kw"], counted) == (2900.0, [("o-aux", "feeder_mw", 500.0),
                                                     ("o-elec", "active_power_kw", 2400.0)])


def test_overview_day_follows_the_time_zone(api_app_client: TestClient, manager: dict[str, str]) -> None:
    utc = _overview(api_app_client, manager, tz="UTC", day="2026-03-01")
    # every seeded interval ends on 2026-03-01 in UTC, the 10 t of 15:00Z included: 10 + 3 x 1 + 2 x 0.5
    assert (utc["start"], utc["co2"]["total_tco2"]) == ("2026-03-01T00:00:00Z", pytest.approx(14.0))


def test_overview_lists_the_sites_active_alarms_newest_first(
    api_app_client: TestClient, manager: dict[str, str], db: psycopg.Connection
) -> None:
    if db.execute("SELECT to_regclass('alarms')").fetchone()[0] is None:  # type: ignore[index]
        assert _overview(api_app_client, manager)["alarms"] == []
        return
    rule = f"test-{datetime.now(UTC).timestamp()}"
    db.execute(
        "INSERT INTO alarms (rule, device_id, point, severity, state, detail, raised_at, cleared_at) VALUES"
        " (%(r)s, 'o-gas', 'volume_total_nm3', 'warning', 'active', 'older', now() - interval '1 hour', NULL),"
        " (%(r)s, 'o-elec', 'active_power_kw', 'critical', 'active', 'newer', now(), NULL),"
        " (%(r)s, 'o-plc', 'crude_steel_t', 'info', 'cleared', 'cleared', now(), now()),"
        " (%(r)s, 'm-dev-a', 'power_kw', 'warning', 'active', 'elsewhere', now(), NULL)", {"r": rule})
    try:
        alarms = [(a["device_id"], a["detail"]) for a in _overview(api_app_client, manager)["alarms"]
                  if a["rule"] == rule]
    finally:
        db.execute("DELETE FROM alarms WHERE rule = %s", (rule,))
    assert alarms == [("o-elec", "newer"), ("o-gas", "older")]


def test_overview_without_live_permission_leaves_power_out(
    api_app_client: TestClient, manager: dict[str, str]
) -> None:
    r = api_app_client.post("/api/v1/auth/tokens", headers=manager, json={"name": "erp", "scopes": ["emissions"]})
    token = {"Authorization": f"Bearer {r.json()['token']}"}
    body = _overview(api_app_client, token)
    assert (body["power"], body["co2"]["total_tco2"]) == (None, pytest.approx(4.0))


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("technician", 403), ("enterprise", 404), ("government", 404)],
)
def test_overview_is_refused_or_hidden_outside_the_callers_scope(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], plant: None, role: str, status: int
) -> None:
    r = api_app_client.get("/api/v1/overview", headers=role_headers[role], params={"site": "o-site"})
    assert r.status_code == status


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/api/v1/overview", {"site": "o-site", "tz": "Mars/Olympus"}, 422, "unknown time zone"),
        ("/api/v1/overview", {"site": "o-site", "tz": "../../etc/passwd"}, 422, "unknown time zone"),
        ("/api/v1/overview", {"site": "o-site", "day": "yesterday"}, 422, "day"),
        ("/api/v1/overview", {"site": "o-site", "product": "Crude Steel"}, 422, "product"),
        ("/api/v1/overview", {"site": "nowhere"}, 404, "no site"),
        ("/api/v1/overview", {}, 422, "site"),
        ("/api/v1/export/series.csv", {"device": "o-elec", "point": "energy_import_kwh", "start": "2026-03-01T00:00Z",
                                       "end": "2026-06-01T00:00Z", "interval": "1m"}, 422, "at most 31 days"),
        ("/api/v1/export/series.csv", {"device": "o-elec", "point": "energy_import_kwh", "start": "2026-03-02T00:00Z",
                                       "end": "2026-03-01T00:00Z"}, 422, "end must be after start"),
        ("/api/v1/export/series.csv", {"device": "o-elec", "point": "energy_import_kwh", "start": "soon",
                                       "end": "2026-03-01T00:00Z"}, 422, "not an ISO-8601"),
        ("/api/v1/export/series.csv", {"device": "o-elec", "point": "energy_import_kwh", "start": "2026-03-01T00:00Z",
                                       "end": "2026-03-02T00:00Z", "tz": "Nowhere/City"}, 422, "unknown time zone"),
        ("/api/v1/export/series.csv", {"device": "o-elec", "point": "nope", "start": "2026-03-01T00:00Z",
                                       "end": "2026-03-02T00:00Z"}, 404, "no point"),
        ("/api/v1/export/series.csv", {"device": "o-elec", "point": "energy_import_kwh", "start": "2026-03-01T00:00Z",
                                       "end": "2026-03-02T00:00Z", "interval": "raw"}, 422, "interval"),
        ("/api/v1/devices/health", {"hours": "0"}, 422, "hours"),
        ("/api/v1/devices/health", {"hours": "many"}, 422, "hours"),
    ],
    ids=["bad-tz", "path-tz", "bad-day", "bad-product", "unknown-site", "missing-site", "export-too-long",
         "export-reversed", "export-bad-time", "export-bad-tz", "export-unknown-point", "export-raw",
         "health-zero-hours", "health-bad-hours"],
)
def test_bad_dashboard_requests_get_4xx_with_a_message(
    api_app_client: TestClient, admin_headers: dict[str, str], plant: None, path: str, params: dict, status: int,
    message: str,
) -> None:
    r = api_app_client.get(path, headers=admin_headers, params=params)
    assert (r.status_code, message in r.text) == (status, True)


@pytest.mark.parametrize(
    ("body", "path", "status"),
    [({"tco2_per_t": 0, "source": "x"}, "o-site/crude_steel", 422),
     ({"tco2_per_t": 1.8, "source": ""}, "o-site/crude_steel", 422),
     ({"tco2_per_t": 1.8, "source": "x", "extra": 1}, "o-site/crude_steel", 422),
     ({"tco2_per_t": 1.8, "source": "x"}, "o-site/Crude%20Steel", 422),
     ({"tco2_per_t": 1.8, "source": "x"}, "nowhere/crude_steel", 404)],
    ids=["zero", "no-source", "unknown-key", "bad-product", "unknown-site"],
)
def test_bad_benchmarks_are_refused(api_app_client: TestClient, admin_headers: dict[str, str], plant: None,
                                    body: dict, path: str, status: int) -> None:
    assert api_app_client.put(f"/api/v1/benchmarks/{path}", headers=admin_headers, json=body).status_code == status


def test_only_administrators_set_benchmarks_and_each_change_is_audited(
    api_app_client: TestClient, admin_headers: dict[str, str], manager: dict[str, str]
) -> None:
    refused = api_app_client.put("/api/v1/benchmarks/o-site/billet", headers=manager,
                                 json={"tco2_per_t": 1.0, "source": "mine"})
    api_app_client.put("/api/v1/benchmarks/o-site/billet", headers=admin_headers,
                       json={"tco2_per_t": 1.5, "source": "first"})
    api_app_client.put("/api/v1/benchmarks/o-site/billet", headers=admin_headers,
                       json={"tco2_per_t": 1.4, "source": "second"})
    entries = api_app_client.get("/api/v1/audit", headers=admin_headers,
                                 params={"action": "benchmark.set", "limit": 50}).json()["entries"]
    changes = [((e["before"] or {}).get("tco2_per_t"), e["after"]["tco2_per_t"]) for e in reversed(entries)
               if e["target"] == "o-site/billet"]
    listed = api_app_client.get("/api/v1/benchmarks", headers=manager, params={"site": "o-site"}).json()
    assert (refused.status_code, changes, "billet" in {b["product"] for b in listed["benchmarks"]}) == (
        403, [(None, 1.5), (1.5, 1.4)], True)


def test_sites_lists_what_the_caller_may_see(api_app_client: TestClient, manager: dict[str, str],
                                             admin_headers: dict[str, str]) -> None:
    mine = [s["site_id"] for s in api_app_client.get("/api/v1/sites", headers=manager).json()["sites"]]
    every = {s["site_id"] for s in api_app_client.get("/api/v1/sites", headers=admin_headers).json()["sites"]}
    assert (mine, {"o-site", "m-site-a", "m-site-b"} <= every) == (["o-site"], True)


def test_sites_names_the_configured_default_site_to_those_who_may_see_it(
    database_url: str, api_app_client: TestClient, manager: dict[str, str], admin_headers: dict[str, str]
) -> None:
    settings = TEST_SETTINGS.model_copy(update={"default_site": "m-site-a"})  # as the demo sets its scenario's site
    with TestClient(create_app(database_url, settings=settings)) as client:
        for_admin = client.get("/api/v1/sites", headers=admin_headers).json()["default_site"]
        for_manager = client.get("/api/v1/sites", headers=manager).json()["default_site"]
    unset = api_app_client.get("/api/v1/sites", headers=admin_headers).json()["default_site"]
    assert (for_admin, for_manager, unset) == ("m-site-a", None, None)


def test_device_health_counts_readings_by_quality_and_says_when_a_device_was_last_seen(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], plant: None
) -> None:
    r = api_app_client.get("/api/v1/devices/health", headers=role_headers["technician"], params={"hours": 1})
    devices = {d["device_id"]: d for d in r.json()["devices"]}
    aux = devices["o-aux"]
    assert (aux["status"], aux["quality"], sorted(p["point"] for p in aux["points"]),
            devices["o-plc"]["quality"]) == (
        "online", {"good": 0, "uncertain": 1, "bad": 1}, ["feeder_mw", "spare_kw"],
        {"good": 1, "uncertain": 0, "bad": 0})


def _csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    comments = [line for line in text.splitlines() if line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))
    return comments, rows


def test_export_streams_hourly_buckets_with_increase_emissions_and_factor_versions(
    api_app_client: TestClient, manager: dict[str, str]
) -> None:
    r = api_app_client.get("/api/v1/export/series.csv", headers=manager, params={
        "device": "o-elec", "point": "energy_import_kwh", "start": "2026-03-02T00:00:00+08:00",
        "end": "2026-03-02T03:00:00+08:00", "interval": "1h", "tz": "Asia/Shanghai"})
    comments, rows = _csv(r.text)
    factor_line = next(c for c in comments if c.startswith("# factor versions:"))
    assert (r.status_code, r.headers["content-type"], GRID in factor_line, "0.5306 tCO2/MWh" in factor_line,
            [(row["bucket_start"], row["last"], row["increase"], row["tco2"]) for row in rows]) == (
        200, "text/csv; charset=utf-8", True, True,
        [("2026-03-02T00:00:00+08:00", "12000.0", "2000.0", "2.0"),
         ("2026-03-02T01:00:00+08:00", "13000.0", "1000.0", "1.0")])


def test_export_of_a_point_without_activity_says_no_factor_applies(
    api_app_client: TestClient, manager: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    r = api_app_client.get("/api/v1/export/series.csv", headers=manager, params={
        "device": "o-elec", "point": "active_power_kw", "start": (now - timedelta(hours=2)).isoformat(),
        "end": now.isoformat()})
    comments, rows = _csv(r.text)
    assert ("# factor versions: none (the point feeds no accounting activity)" in comments,
            sum(int(row["readings"]) for row in rows), {row["increase"] for row in rows}) == (True, 2, {""})


def test_export_of_a_hidden_point_is_not_found(api_app_client: TestClient,
                                               role_headers: dict[str, dict[str, str]], plant: None) -> None:
    r = api_app_client.get("/api/v1/export/series.csv", headers=role_headers["enterprise"], params={
        "device": "o-elec", "point": "energy_import_kwh", "start": "2026-03-01T00:00Z", "end": "2026-03-02T00:00Z"})
    assert r.status_code == 404
