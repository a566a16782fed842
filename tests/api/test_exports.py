"""Auditor exports against a real PostgreSQL: one point's series as Parquet, and every point's hourly rows of a
site, enterprise or process as CSV and Parquet with a manifest of the factor rows used. Parquet files are read
back with pyarrow and their numbers compared with /api/v1/series; seed data in tests/api/export_seed.py."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from tests.api import export_seed
from tests.api.conftest import make_user
from tests.api.export_seed import GAS, GRID, H0, POINTS

WINDOW = {"start": H0.isoformat(), "end": (H0 + timedelta(hours=3)).isoformat()}


@pytest.fixture(scope="module")
def seeded(api_app_client: TestClient, database_url: str) -> None:
    export_seed.ensure_seeded(database_url)


@pytest.fixture(scope="module")
def auditor(api_app_client: TestClient, admin_headers: dict[str, str], seeded: None) -> dict[str, str]:
    """An auditor assigned the enterprise x-ent (sites x-site-1 and x-site-2), not x-ent2."""
    return make_user(api_app_client, admin_headers, "auditor", enterprises=["x-ent"])[2]


@pytest.fixture(scope="module")
def other_enterprise(api_app_client: TestClient, admin_headers: dict[str, str], seeded: None) -> dict[str, str]:
    return make_user(api_app_client, admin_headers, "enterprise", enterprise_id="x-ent2")[2]


def _parquet(content: bytes) -> tuple[pq.ParquetFile, dict[str, Any]]:
    f = pq.ParquetFile(io.BytesIO(content))
    meta = {k.decode(): v.decode() for k, v in (f.schema_arrow.metadata or {}).items()}
    return f, meta


def _series(client: TestClient, headers: dict[str, str], device: str, point: str) -> dict[datetime, dict[str, Any]]:
    r = client.get("/api/v1/series", headers=headers, params={"device": device, "point": point, "interval": "1h",
                                                               **WINDOW})
    assert r.status_code == 200, r.text
    return {datetime.fromisoformat(p["ts"]): p for p in r.json()["points"]}


def test_series_parquet_has_the_csv_buckets_and_the_factor_manifest_in_its_metadata(
    api_app_client: TestClient, auditor: dict[str, str]
) -> None:
    params = {"device": "x-meter-1", "point": "energy_kwh", "interval": "1h", "tz": "Asia/Shanghai", **WINDOW}
    r = api_app_client.get("/api/v1/export/series.parquet", headers=auditor, params=params)
    text = api_app_client.get("/api/v1/export/series.csv", headers=auditor, params=params).text
    rows = list(csv.DictReader(io.StringIO("\n".join(l for l in text.splitlines() if not l.startswith("#")))))
    f, meta = _parquet(r.content)
    table = f.read().to_pylist()
    manifest = json.loads(meta["carbonflow.manifest"])
    # every number of the CSV, bucket by bucket, is in the Parquet file
    as_csv = [(row["bucket_start"], row["last"], row["increase"], row["tco2"]) for row in rows]
    as_parquet = [(t["bucket_start"].isoformat(), repr(t["last"]), repr(t["increase"]), repr(t["tco2"]))
                  for t in table]
    assert (r.status_code, r.headers["content-type"], as_parquet, str(f.schema_arrow.field("bucket_start").type),
            meta["carbonflow.factor_ids"], [(v["factor_id"], v["value"], v["unit"]) for v in manifest["factor_versions"]],
            manifest["formulas"], manifest["range"], manifest["interval"], manifest["timezone"]) == (
        200, "application/vnd.apache.parquet", as_csv, "timestamp[us, tz=Asia/Shanghai]", GRID,
        [(GRID, 0.5306, "tCO2/MWh")], ["electricity/v1"],
        {"start": H0.isoformat(), "end": (H0 + timedelta(hours=3)).isoformat(), "end_excluded": True}, "1h",
        "Asia/Shanghai")
    assert [t["increase"] for t in table] == [1100.0, 400.0, 100.0]  # 1000 -> 2100 | -> 2500 | -> 2600


def test_series_parquet_numbers_equal_the_series_api(api_app_client: TestClient, auditor: dict[str, str]) -> None:
    r = api_app_client.get("/api/v1/export/series.parquet", headers=auditor, params={
        "device": "x-meter-1", "point": "power_kw", "interval": "1h", **WINDOW})
    table = _parquet(r.content)[0].read().to_pylist()
    api = _series(api_app_client, auditor, "x-meter-1", "power_kw")
    assert [(t["bucket_start"], t["value"], t["min"], t["max"], t["readings"]) for t in table] == [
        (ts, pytest.approx(p["value"]), p["min"], p["max"], p["count"]) for ts, p in sorted(api.items())]


def test_series_parquet_is_streamed_in_row_groups(
    api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection, seeded: None
) -> None:
    """15,000 minutes of one point give two row groups, sent as more than one chunk of the response."""
    start = datetime(2025, 6, 1, tzinfo=UTC)
    db.execute(
        "INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
        " SELECT g.gateway_key, 2000000 + i, %s + make_interval(mins => i), p.point_key, i, 0"
        " FROM gateways g, points p, generate_series(0, 14999) AS i"
        " WHERE g.gateway_id = 'x-gw' AND p.device_id = 'x-meter-3' AND p.point = 'energy_kwh'"
        " ON CONFLICT DO NOTHING", (start,))
    with api_app_client.stream("GET", "/api/v1/export/series.parquet", headers=admin_headers, params={
            "device": "x-meter-3", "point": "energy_kwh", "interval": "1m", "start": start.isoformat(),
            "end": (start + timedelta(days=11)).isoformat()}) as r:
        chunks = list(r.iter_raw())
    f, _ = _parquet(b"".join(chunks))
    assert (r.status_code, f.metadata.num_rows, f.metadata.num_row_groups, len(chunks) >= 2,
            f.read(columns=["last"]).column("last").to_pylist()[-1]) == (200, 15_000, 2, True, 14_999.0)


def _hourly(client: TestClient, headers: dict[str, str], kind: str, **scope: str) -> Any:
    return client.get(f"/api/v1/export/hourly.{kind}", headers=headers, params={**scope, **WINDOW})


def test_hourly_parquet_of_an_enterprise_equals_the_series_of_each_of_its_points(
    api_app_client: TestClient, auditor: dict[str, str]
) -> None:
    r = _hourly(api_app_client, auditor, "parquet", enterprise="x-ent")
    table = _parquet(r.content)[0].read().to_pylist()
    by_point: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in table:
        by_point.setdefault((row["device"], row["point"]), []).append(row)
    expected_points = {k for k, v in POINTS.items() if v[0] in ("x-site-1", "x-site-2")}
    mismatches = []
    for (device, point), rows in by_point.items():
        api = _series(api_app_client, auditor, device, point)
        got = [(t["bucket_start"], t["value"], t["min"], t["max"], t["readings"], t["quality"]) for t in rows]
        want = [(ts, p["value"], p["min"], p["max"], p["count"], p["quality"]) for ts, p in sorted(api.items())]
        if got != want:
            mismatches.append((device, point, got, want))
    assert (r.status_code, set(by_point), mismatches) == (200, expected_points, [])


def test_hourly_parquet_carries_each_hours_emissions_and_names_the_factor_rows_used(
    api_app_client: TestClient, auditor: dict[str, str]
) -> None:
    r = _hourly(api_app_client, auditor, "parquet", site="x-site-1")
    f, meta = _parquet(r.content)
    table = f.read().to_pylist()
    manifest = json.loads(meta["carbonflow.manifest"])
    tco2 = {((t["device"], t["point"]), t["bucket_start"]): t["tco2"] for t in table if t["tco2"] is not None}
    expected = {(key, hour): t for key, hours in export_seed.hourly_tco2().items() if POINTS[key][0] == "x-site-1"
                for hour, t in hours.items()}
    factor_rows = {v["factor_id"]: (v["value"], v["unit"], v["series"]) for v in manifest["factor_versions"]}
    gas_rows = [t for t in table if t["device"] == "x-gas-1" and t["tco2"] is not None]
    assert (tco2 == pytest.approx(expected), sorted(factor_rows), factor_rows[GRID],
            factor_rows["fuel.natural_gas.ncv@ndrc-steel-2013"], manifest["formulas"], manifest["sites"],
            {t["factor_ids"] for t in gas_rows}, meta["carbonflow.factor_ids"]) == (
        True, sorted([GRID, *GAS]), (0.5306, "tCO2/MWh", "mee-national-average"),
        (389.31, "GJ/1e4Nm3", "ndrc-steel-2013"), ["combustion/v1", "electricity/v1"], ["x-site-1"],
        {",".join(GAS)}, ",".join(sorted([GRID, *GAS])))


def test_hourly_manifest_endpoint_gives_the_parquet_files_manifest(
    api_app_client: TestClient, auditor: dict[str, str]
) -> None:
    scope = {"enterprise": "x-ent", "process": "rolling"}
    manifest = api_app_client.get("/api/v1/export/hourly/manifest", headers=auditor, params={**scope, **WINDOW})
    embedded = json.loads(_parquet(_hourly(api_app_client, auditor, "parquet", **scope).content)[1]
                          ["carbonflow.manifest"])
    assert (manifest.status_code, manifest.json(), sorted((p["device"], p["point"]) for p in embedded["points"])) == (
        200, embedded, [("x-gas-1", "gas_nm3"), ("x-meter-2", "energy_kwh")])


def test_hourly_csv_of_a_process_lists_its_devices_hours_and_factor_versions(
    api_app_client: TestClient, auditor: dict[str, str]
) -> None:
    r = _hourly(api_app_client, auditor, "csv", process="rolling", tz="UTC")
    comments = [line for line in r.text.splitlines() if line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(l for l in r.text.splitlines() if not l.startswith("#")))))
    factors = next(c for c in comments if c.startswith("# factor versions:"))
    assert (r.status_code, [(row["device"], row["bucket_start"], row["activity_amount"], row["readings"])
                            for row in rows],
            all(f in factors for f in GAS), GRID in factors) == (
        200, [("x-gas-1", "2026-01-10T00:00:00+00:00", "0.2", "1"), ("x-gas-1", "2026-01-10T01:00:00+00:00", "0.1",
                                                                       "1"),
              ("x-meter-2", "2026-01-10T00:00:00+00:00", "1.0", "1")], True, True)


@pytest.mark.parametrize("path", ["hourly.parquet", "hourly.csv", "hourly/manifest"])
@pytest.mark.parametrize("scope", [{"site": "x-site-1"}, {"enterprise": "x-ent"}, {"site": "no-such-site"},
                                   {"process": "rolling"}], ids=["site", "enterprise", "unknown", "process"])
def test_hourly_exports_outside_the_callers_scope_are_not_found(
    api_app_client: TestClient, other_enterprise: dict[str, str], path: str, scope: dict[str, str]
) -> None:
    r = api_app_client.get(f"/api/v1/export/{path}", headers=other_enterprise, params={**scope, **WINDOW})
    assert (r.status_code, bool(r.json()["detail"])) == (404, True)


def test_hourly_export_of_another_enterprise_holds_none_of_its_rows(
    api_app_client: TestClient, other_enterprise: dict[str, str]
) -> None:
    table = _parquet(_hourly(api_app_client, other_enterprise, "parquet", enterprise="x-ent2").content)[0].read()
    assert set(table.column("site").to_pylist()) == {"x-site-3"}


def test_hourly_exports_need_the_emissions_permission(api_app_client: TestClient,
                                                      role_headers: dict[str, dict[str, str]], seeded: None) -> None:
    r = _hourly(api_app_client, role_headers["technician"], "parquet", site="x-site-1")
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [("hourly.parquet", WINDOW, "give the scope"),
     ("hourly.csv", {"site": "x-site-1", "start": "2025-01-01T00:00Z", "end": "2026-03-01T00:00Z"}, "at most 400 days"),
     ("hourly/manifest", {"site": "x-site-1", "start": WINDOW["end"], "end": WINDOW["start"]}, "end must be after"),
     ("hourly.parquet", {"site": "x-site-1", "tz": "Moon/Base", **WINDOW}, "unknown time zone"),
     ("hourly.parquet", {"site": "x-site-1", "start": "yesterday", "end": WINDOW["end"]}, "not an ISO-8601"),
     ("series.parquet", {"device": "x-meter-1", "point": "energy_kwh", "interval": "1m",
                         "start": "2026-01-01T00:00Z", "end": "2026-03-01T00:00Z"}, "at most 31 days"),
     ("series.parquet", {"device": "x-meter-1", "point": "energy_kwh", "interval": "raw", **WINDOW}, "interval")],
    ids=["no-scope", "too-long", "reversed", "bad-tz", "bad-time", "series-too-long", "series-raw"],
)
def test_bad_export_requests_get_422_with_a_message(api_app_client: TestClient, auditor: dict[str, str], path: str,
                                                    params: dict[str, str], message: str) -> None:
    r = api_app_client.get(f"/api/v1/export/{path}", headers=auditor, params=params)
    assert (r.status_code, message in r.text) == (422, True)


def test_series_parquet_of_a_hidden_point_is_not_found(api_app_client: TestClient,
                                                       other_enterprise: dict[str, str]) -> None:
    r = api_app_client.get("/api/v1/export/series.parquet", headers=other_enterprise, params={
        "device": "x-meter-1", "point": "energy_kwh", **WINDOW})
    assert r.status_code == 404
