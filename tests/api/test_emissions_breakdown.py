"""GET /emissions/breakdown, /emissions/provenance and /emissions/provenance/hour against intervals written as the
stream job writes them (`emission_for_activity` with the shipped factor rows).

The site (Asia/Shanghai, UTC+08:00) has two meters, each with 20-minute intervals ending 2026-04-30 21:20 to
2026-05-01 02:40 local time (13:20Z to 18:40Z), so its figures fall on two local days and in two months:

    meter          process   activity      per interval            readings
    pv-elec        rolling   electricity   0.5 MWh (500 kWh)       a kWh counter every 10 minutes
    pv-gas         heating   natural_gas   0.02 1e4Nm3 (200 Nm3)   a Nm3 counter every 20 minutes
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from carbon_domain.accounting import emission_for_activity
from carbon_domain.factors import FactorLibrary
from carbon_domain.formulas import FORMULA_VERSION
from tests.api.conftest import make_user, unique

FIRST, LAST = datetime(2026, 4, 30, 13, 20, tzinfo=UTC), datetime(2026, 4, 30, 18, 40, tzinfo=UTC)
RANGE = {"start": "2026-04-30T21:00:00+08:00", "end": "2026-05-01T03:00:00+08:00"}
MINUTES = 20
METERS = {  # device -> (process, point, reading unit, activity, amount per interval in the reading unit)
    "elec": ("rolling", "kwh", "kWh", "electricity", 500.0),
    "gas": ("heating", "nm3", "Nm3", "natural_gas", 200.0),
}


def _ends() -> list[datetime]:
    return [FIRST + timedelta(minutes=MINUTES * n) for n in range(int((LAST - FIRST) / timedelta(minutes=MINUTES)) + 1)]


@pytest.fixture(scope="module")
def plant(database_url: str) -> Iterator[dict[str, Any]]:
    """The site above; its id, the interval rows written ((device, end) -> row) and the tCO2 per interval."""
    tag = unique("pv")
    library = FactorLibrary.default()
    written: dict[tuple[str, datetime], dict[str, Any]] = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Provenance', 'CN-GD')",
                     (f"{tag}-ent",))
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Provenance works')",
                     (tag, f"{tag}-ent"))
        gateway = conn.execute("INSERT INTO gateways (gateway_id) VALUES (%s) RETURNING gateway_key",
                               (f"{tag}-gw",)).fetchone()[0]  # type: ignore[index]
        seq = iter(range(1, 100_000))
        for device, (process, point, unit, activity, step) in METERS.items():
            conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, %s)",
                         (f"{tag}-{device}", tag, process))
            key = conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES"
                               " (%s, %s, %s, 'counter', %s) RETURNING point_key",
                               (f"{tag}-{device}", point, unit, activity)).fetchone()[0]  # type: ignore[index]
            every = 10 if device == "elec" else MINUTES
            counter = 1000.0
            ts = FIRST - timedelta(minutes=MINUTES)
            readings = [(gateway, next(seq), ts, key, counter, 0)]
            while ts < LAST:
                ts += timedelta(minutes=every)
                counter += step * every / MINUTES
                readings.append((gateway, next(seq), ts, key, counter, 0))
            conn.cursor().executemany("INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
                                      " VALUES (%s, %s, %s, %s, %s, %s)", readings)
            for end in _ends():
                result = emission_for_activity(activity, step, unit, end, library)
                row = {"start_ts": end - timedelta(minutes=MINUTES), "quantity": result.quantity,
                       "unit": result.quantity_unit, "tco2": result.tco2, "factor_ids": list(result.factor_ids),
                       "formula": result.formula}
                written[device, end] = row
                conn.execute(
                    "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
                    " quantity_unit, tco2, factor_ids, formula, quality) VALUES"
                    " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)",
                    (gateway, next(seq), end, row["start_ts"], key, tag, activity, row["quantity"], row["unit"],
                     row["tco2"], row["factor_ids"], row["formula"]))
        conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)", (tag, FIRST - timedelta(hours=1),
                                                                       LAST + timedelta(hours=1)))
    yield {"site": tag, "written": written}


def _get(client: TestClient, headers: dict[str, str], path: str, **params: str) -> Any:
    r = client.get(f"/api/v1/emissions/{path}", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _sum(plant: dict[str, Any], *, device: str | None = None, lo: datetime | None = None,
         hi: datetime | None = None) -> float:
    return sum(row["tco2"] for (d, end), row in plant["written"].items()
               if (device is None or d == device) and (lo is None or end >= lo) and (hi is None or end < hi))


def test_days_split_at_shanghai_midnight_and_add_up_to_the_total_by_scope_source_and_process(
        api_app_client: TestClient, admin_headers: dict[str, str], plant: dict[str, Any]) -> None:
    body = _get(api_app_client, admin_headers, "breakdown", site=plant["site"], interval="day", **RANGE)
    midnight = datetime(2026, 4, 30, 16, tzinfo=UTC)
    assert {b["period"]: b["tco2"] for b in body["buckets"]} == pytest.approx(
        {"2026-04-30": _sum(plant, hi=midnight), "2026-05-01": _sum(plant, lo=midnight)})
    assert body["total_tco2"] == pytest.approx(_sum(plant))
    sources = {s["source"]: (s["scope"], s["tco2"]) for s in body["by_source"]}
    assert sources == {"electricity": ("scope2", pytest.approx(_sum(plant, device="elec"))),
                       "natural_gas": ("scope1", pytest.approx(_sum(plant, device="gas")))}
    assert {s["scope"]: s["tco2"] for s in body["by_scope"]} == pytest.approx(
        {"scope1": _sum(plant, device="gas"), "scope2": _sum(plant, device="elec")})
    assert {p["process"]: p["tco2"] for p in body["by_process"]} == pytest.approx(
        {"heating": _sum(plant, device="gas"), "rolling": _sum(plant, device="elec")})
    first = body["buckets"][0]
    assert first["by_process"] == pytest.approx({"rolling": _sum(plant, device="elec", hi=midnight),
                                                 "heating": _sum(plant, device="gas", hi=midnight)})
    used = {f for row in plant["written"].values() for f in row["factor_ids"]}
    assert {f["factor_id"] for f in body["factors"]} == used


def test_months_follow_the_local_calendar_and_a_process_keeps_only_its_devices(
        api_app_client: TestClient, admin_headers: dict[str, str], plant: dict[str, Any]) -> None:
    body = _get(api_app_client, admin_headers, "breakdown", site=plant["site"], process="heating",
                interval="month", **RANGE)
    midnight = datetime(2026, 4, 30, 16, tzinfo=UTC)
    assert [b["period"] for b in body["buckets"]] == ["2026-04", "2026-05"]
    assert [b["tco2"] for b in body["buckets"]] == pytest.approx(
        [_sum(plant, device="gas", hi=midnight), _sum(plant, device="gas", lo=midnight)])
    assert [s["source"] for s in body["by_source"]] == ["natural_gas"]


def test_a_figure_traces_to_its_factor_rows_formula_version_and_hours(
        api_app_client: TestClient, admin_headers: dict[str, str], plant: dict[str, Any]) -> None:
    body = _get(api_app_client, admin_headers, "provenance", site=plant["site"], source="natural_gas",
                start="2026-05-01T00:00:00+08:00", end="2026-05-02T00:00:00+08:00")
    midnight = datetime(2026, 4, 30, 16, tzinfo=UTC)
    assert body["tco2"] == pytest.approx(_sum(plant, device="gas", lo=midnight))
    gas_rows = plant["written"]["gas", LAST]["factor_ids"]
    assert [f["factor_id"] for f in body["factors"]] == sorted(gas_rows)
    assert all(f["source"] and f["superseded_by"] is None for f in body["factors"])
    assert [(f["version"], f["current"]) for f in body["formulas"]] == [(FORMULA_VERSION, True)]
    hours = [(datetime.fromisoformat(h["hour"]), h["intervals"], h["tco2"]) for h in body["hours"]]
    assert hours == [(midnight + timedelta(hours=n), 3, pytest.approx(_sum(
        plant, device="gas", lo=midnight + timedelta(hours=n), hi=midnight + timedelta(hours=n + 1))))
        for n in range(3)]


def test_an_hour_opens_to_its_intervals_readings_and_the_same_tco2_recomputed(
        api_app_client: TestClient, admin_headers: dict[str, str], plant: dict[str, Any]) -> None:
    hour = datetime(2026, 4, 30, 17, tzinfo=UTC)
    body = _get(api_app_client, admin_headers, "provenance/hour", site=plant["site"], source="electricity",
                hour="2026-05-01T01:00:00+08:00")
    ends = [hour + timedelta(minutes=MINUTES * n) for n in range(3)]
    assert [datetime.fromisoformat(i["ts"]) for i in body["intervals"]] == ends
    for interval, end in zip(body["intervals"], ends, strict=True):
        row = plant["written"]["elec", end]
        assert interval["tco2"] == pytest.approx(row["tco2"])
        assert interval["recomputed_tco2"] == pytest.approx(row["tco2"]) and interval["matches"] is True
        assert interval["end_value"] - interval["start_value"] == pytest.approx(500.0)
        assert interval["factor_ids"] == row["factor_ids"]
    [meter] = body["meters"]
    # a reading every 10 minutes from the first interval's start (00:40) to the last one's end (01:40)
    assert [datetime.fromisoformat(r["ts"]) for r in meter["readings"]] == [
        hour - timedelta(minutes=20) + timedelta(minutes=10 * n) for n in range(7)]
    assert body["tco2"] == pytest.approx(_sum(plant, device="elec", lo=hour, hi=hour + timedelta(hours=1)))


def test_a_stored_figure_that_its_rows_do_not_give_is_flagged(
        api_app_client: TestClient, admin_headers: dict[str, str], plant: dict[str, Any], database_url: str) -> None:
    end = LAST
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE emissions SET tco2 = tco2 * 2 WHERE site_id = %s AND activity = 'natural_gas'"
                     " AND ts = %s", (plant["site"], end))
    try:
        body = _get(api_app_client, admin_headers, "provenance/hour", site=plant["site"], source="natural_gas",
                    hour="2026-05-01T02:00:00+08:00")
        flagged = {datetime.fromisoformat(i["ts"]): i["matches"] for i in body["intervals"]}
        assert flagged == {e: e != end for e in (end - timedelta(minutes=40), end - timedelta(minutes=20), end)}
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("UPDATE emissions SET tco2 = tco2 / 2 WHERE site_id = %s AND activity = 'natural_gas'"
                         " AND ts = %s", (plant["site"], end))


@pytest.mark.parametrize("path,params,status", [
    ("breakdown", {"interval": "week", **RANGE}, 422),
    ("breakdown", {"start": "2026-01-01T00:00:00+08:00", "end": "2026-06-01T00:00:00+08:00"}, 422),
    ("breakdown", {"start": "2026-05-01T00:00:00+08:00", "end": "2026-04-01T00:00:00+08:00"}, 422),
    ("breakdown", {"start": "yesterday", "end": "2026-05-01T00:00:00+08:00"}, 422),
    ("breakdown", {"tz": "Mars/Olympus", **RANGE}, 422),
    ("provenance", {"source": "unobtainium", **RANGE}, 422),
    ("provenance", {"source": "electricity", "start": "2026-01-01T00:00:00Z", "end": "2026-06-01T00:00:00Z"}, 422),
    ("provenance/hour", {"source": "electricity", "hour": "2026-05-01T01:30:00+08:00"}, 422),
    ("provenance/hour", {"source": "electricity", "hour": "2026-05-01T01:00:00"}, 422),
])
def test_bad_input_is_a_422_with_a_message(api_app_client: TestClient, admin_headers: dict[str, str],
                                           plant: dict[str, Any], path: str, params: dict[str, str],
                                           status: int) -> None:
    r = api_app_client.get(f"/api/v1/emissions/{path}", headers=admin_headers,
                           params={"site": plant["site"], **params})
    assert r.status_code == status, r.text
    assert r.json()["detail"]


def test_a_provenance_needs_one_site(api_app_client: TestClient, admin_headers: dict[str, str],
                                     plant: dict[str, Any]) -> None:
    r = api_app_client.get("/api/v1/emissions/provenance", headers=admin_headers,
                           params={"enterprise": f"{plant['site']}-ent", "source": "electricity", **RANGE})
    assert r.status_code == 422 and "site=" in r.json()["detail"]


@pytest.mark.parametrize("role,status", [("anonymous", 401), ("technician", 403), ("enterprise", 404),
                                         ("government", 404), ("auditor", 404)])
@pytest.mark.parametrize("path,params", [
    ("breakdown", RANGE), ("provenance", {"source": "electricity", **RANGE}),
    ("provenance/hour", {"source": "electricity", "hour": "2026-05-01T01:00:00+08:00"}),
])
def test_callers_without_emissions_or_outside_the_sites_scope_see_nothing(
        api_app_client: TestClient, role_headers: dict[str, dict[str, str]], plant: dict[str, Any], role: str,
        status: int, path: str, params: dict[str, str]) -> None:
    r = api_app_client.get(f"/api/v1/emissions/{path}", headers=role_headers[role],
                           params={"site": plant["site"], **params})
    assert r.status_code == status, r.text


def test_the_sites_own_enterprise_user_reads_its_provenance(
        api_app_client: TestClient, admin_headers: dict[str, str], plant: dict[str, Any]) -> None:
    _, _, headers = make_user(api_app_client, admin_headers, "enterprise", enterprise_id=f"{plant['site']}-ent")
    body = _get(api_app_client, headers, "provenance/hour", site=plant["site"], source="electricity",
                hour="2026-05-01T01:00:00+08:00")
    assert len(body["intervals"]) == 3
