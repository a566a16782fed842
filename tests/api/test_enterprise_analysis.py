"""Enterprise analysis over HTTP (api/analysis/enterprise_router.py): the by-process LMDI of a site's metered
emissions, energy and production between two months or years, and its forecast, in the caller's scope.

The module writes its own enterprise, sites and emission rows (with their rollups rebuilt as `carbonflow
recompute` does); expected values are computed from the rows it wrote with the domain functions, not typed in.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from carbon_domain.enterprise_analysis import (
    ENTERPRISE_PRESETS,
    ProcessFigures,
    enterprise_band,
    enterprise_factors,
    enterprise_preset,
    growth_spread,
    process_lmdi,
    project_enterprise,
    year_end,
)
from tests.api.conftest import make_user

TAG = uuid.uuid4().hex[:6]
ENT, SITE, FORECAST_SITE = f"ea-ent-{TAG}", f"ea-site-{TAG}", f"ea-fc-{TAG}"
REGION = "CN-HB-WH"
SHANGHAI = ZoneInfo("Asia/Shanghai")
A = "/api/v1/analysis/enterprise"
# process -> (device, {activity: unit}); steelmaking has no production counter of its own in the forecast site
PROCESSES = {"steelmaking": ("bof", "crude_steel"), "sintering": ("sinter", "sinter")}
# (month, process) -> (energy kWh, tCO2, own output t)
MONTHS = {
    ("2024-03", "steelmaking"): (81_410.0, 20.0, 100.0), ("2024-03", "sintering"): (122_115.0, 45.0, 150.0),
    ("2025-03", "steelmaking"): (97_692.0, 22.8, 120.0), ("2025-03", "sintering"): (123_092.0, 45.36, 168.0),
}


class _Rows:
    """Emission and production rows of one gateway, each with its own sequence number."""

    def __init__(self, conn: psycopg.Connection, gateway: str, site: str) -> None:
        self.conn, self.site, self.seq = conn, site, 0
        self.key = conn.execute("INSERT INTO gateways (gateway_id, site_id) VALUES (%s, %s) RETURNING gateway_key",
                                (gateway, site)).fetchone()[0]  # type: ignore[index]
        self.points: dict[tuple[str, str], int] = {}

    def point(self, device: str, process: str, activity: str, unit: str) -> int:
        if (device, activity) not in self.points:
            if not self.conn.execute("SELECT 1 FROM devices WHERE device_id = %s", (device,)).fetchone():
                self.conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, %s)",
                                  (device, self.site, process))
            self.points[device, activity] = self.conn.execute(
                "INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, %s, %s, 'counter', %s)"
                " RETURNING point_key", (device, activity.replace(":", "_"), unit, activity)).fetchone()[0]  # type: ignore[index]
        return self.points[device, activity]

    def month(self, month: str, process: str, energy_kwh: float, tco2: float, output: float | None) -> None:
        device = f"{PROCESSES[process][0]}-{self.site}"
        ts = datetime.fromisoformat(f"{month}-10T12:00:00").replace(tzinfo=SHANGHAI)
        self.seq += 1
        self.conn.execute(
            "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
            " quantity_unit, tco2, factor_ids, formula, quality, energy_kwh) VALUES"
            " (%s, %s, %s, %s, %s, %s, 'electricity', %s, 'MWh', %s, ARRAY['grid@test'], 'electricity/test', 0, %s)",
            (self.key, self.seq, ts, ts - timedelta(hours=1), self.point(device, process, "electricity", "kWh"),
             self.site, energy_kwh / 1000, tco2, energy_kwh))
        if output is not None:
            self.seq += 1
            self.conn.execute(
                "INSERT INTO activity_intervals (gateway_key, seq, ts, start_ts, point_key, site_id, activity,"
                " quantity, quantity_unit, quality) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 't', 0)",
                (self.key, self.seq, ts, ts - timedelta(hours=1),
                 self.point(device, process, f"production:{PROCESSES[process][1]}", "t"), self.site,
                 f"production:{PROCESSES[process][1]}", output))
        self.conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)",
                          (self.site, ts - timedelta(hours=2), ts + timedelta(hours=1)))


def _forecast_months() -> dict[str, float]:
    """The 14 whole months before this one -> tCO2 of the forecast site (steelmaking, 300 t steel each)."""
    today = datetime.now(SHANGHAI).date()
    y, m, out = today.year, today.month, {}
    for k in range(1, 15):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        out[f"{y}-{m:02d}"] = 500.0 + 7 * (k % 5)
    return out


@pytest.fixture(scope="module")
def client(api_app_client: TestClient) -> TestClient:
    return api_app_client


@pytest.fixture(scope="module")
def works(database_url: str, client: TestClient) -> Iterator[None]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region, industry) VALUES (%s, 'EA Steel', %s,"
                     " '3120')", (ENT, REGION))
        for site in (SITE, FORECAST_SITE):
            conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, %s)", (site, ENT, site))
        rows = _Rows(conn, f"ea-gw-{TAG}", SITE)
        for (month, process), (energy, tco2, output) in MONTHS.items():
            rows.month(month, process, energy, tco2, output)
        fc = _Rows(conn, f"ea-gw-fc-{TAG}", FORECAST_SITE)
        for month, tco2 in _forecast_months().items():
            fc.month(month, "steelmaking", tco2 * 400, tco2, 300.0)
    yield


@pytest.fixture(scope="module")
def heads(client: TestClient, admin_headers: dict[str, str], works: None) -> dict[str, dict[str, str]]:
    return {
        "enterprise": make_user(client, admin_headers, "enterprise", enterprise_id=ENT)[2],
        "other_enterprise": make_user(client, admin_headers, "enterprise", enterprise_id="m-ent-a")[2],
        "government": make_user(client, admin_headers, "government", region="CN-HB")[2],
        "other_government": make_user(client, admin_headers, "government", region="CN-GD")[2],
        "auditor": make_user(client, admin_headers, "auditor", enterprises=[ENT])[2],
    }


def _lmdi(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    return client.get(f"{A}/lmdi", headers=headers, params={"site": SITE, "base": "2024-03", "target": "2025-03",
                                                            **params})


def test_process_lmdi_splits_the_metered_change_into_effects_that_sum_to_it(
        client: TestClient, heads: dict[str, dict[str, str]]) -> None:
    r = _lmdi(client, heads["enterprise"])
    assert r.status_code == 200, r.text
    body = r.json()
    period = {p: [ProcessFigures(proc, *MONTHS[p, proc][:2], MONTHS[p, proc][2] if proc == "sintering" else None)
                  for proc in PROCESSES] for p in ("2024-03", "2025-03")}
    # steelmaking's own counter makes crude steel, the site's product: its own output equals Q
    expected = process_lmdi(period["2024-03"], period["2025-03"], base_output=100.0, target_output=120.0)
    assert body["change_t"] == pytest.approx(expected.change)
    assert math.fsum(body["effects"].values()) == pytest.approx(body["change_t"], abs=1e-9)
    assert body["effects"]["structure"] == pytest.approx(expected.structure)
    assert body["effects"]["intensity"] == pytest.approx(expected.intensity)
    by = {p["process"]: p for p in body["processes"]}
    assert by["sintering"]["target"]["output_t"] == 168.0 and by["sintering"]["target"]["own_output"]
    assert by["steelmaking"]["effects"]["structure"] == pytest.approx(0.0, abs=1e-9)
    assert body["periods"]["base"]["factor_versions"] == ["grid@test"]


def test_process_lmdi_of_the_enterprise_sums_its_sites(client: TestClient, heads: dict[str, dict[str, str]]) -> None:
    site = _lmdi(client, heads["auditor"]).json()
    r = client.get(f"{A}/lmdi", headers=heads["auditor"], params={"enterprise": ENT, "base": "2024-03",
                                                                  "target": "2025-03"})
    assert r.status_code == 200, r.text
    # the forecast site has no rows in those months: the enterprise's figures are the decomposition site's
    assert r.json()["effects"] == pytest.approx(site["effects"])
    assert {SITE, FORECAST_SITE} <= set(r.json()["subject"]["sites"])


@pytest.mark.parametrize(("role", "status"), [("enterprise", 200), ("government", 200), ("auditor", 200),
                                              ("other_enterprise", 404), ("other_government", 404)])
def test_process_lmdi_is_read_in_the_callers_scope(client: TestClient, heads: dict[str, dict[str, str]],
                                                   role: str, status: int) -> None:
    assert _lmdi(client, heads[role]).status_code == status


@pytest.mark.parametrize(("params", "message"), [
    ({"base": "2024", "target": "2025-03"}, "year with a year"),
    ({"target": "2024-03"}, "same period"),
    ({"base": "2023-03"}, "no production of crude_steel"),
    ({"base": "2024-13"}, "not 1 to 12"),
    ({"product": "rebar"}, "no production of rebar"),
    ({"process": "sintering"}, "drop process="),
])
def test_process_lmdi_explains_bad_periods(client: TestClient, heads: dict[str, dict[str, str]],
                                           params: dict[str, str], message: str) -> None:
    r = _lmdi(client, heads["enterprise"], **params)
    assert r.status_code == 422 and message in r.text


def test_process_lmdi_needs_a_login(client: TestClient, works: None) -> None:
    assert client.get(f"{A}/lmdi", params={"site": SITE, "base": "2024-03", "target": "2025-03"}).status_code == 401


def test_forecast_projects_the_year_end_and_peaks_under_each_scenario(
        client: TestClient, heads: dict[str, dict[str, str]]) -> None:
    r = client.get(f"{A}/forecast", headers=heads["government"],
                   params={"site": FORECAST_SITE, "output_growth": 0.06, "output_step": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    months = _forecast_months()
    year = body["base"]["year"]
    expected = year_end(year, {int(k[5:]): v for k, v in months.items() if k.startswith(f"{year}-")})
    assert body["year_end"]["projected"] == pytest.approx(expected.projected)
    assert body["year_end"]["low"] == pytest.approx(expected.low)
    history = {h["month"]: h for h in body["history"]}
    assert all(history[m]["co2_t"] == pytest.approx(v) for m, v in months.items())
    assert history[next(iter(months))]["co2_per_t"] == pytest.approx(next(iter(months.values())) / 300)
    paths = {s["name"]: s for s in body["scenarios"]}
    assert set(paths) == {*ENTERPRISE_PRESETS, "custom"}
    for path in paths.values():
        assert path["peak"]["co2_t"] == max(y["co2"] for y in path["years"])
        assert path["years"][0]["co2"] == pytest.approx(expected.projected)
    # custom: the baseline's efficiency gains with 6 % more output every year: still rising at the horizon
    assert paths["custom"]["peak"]["year"] == paths["custom"]["years"][-1]["year"]


@pytest.mark.parametrize(("params", "status"), [({"end_year": 1999}, 422), ({"output_growth": 0.9}, 422),
                                                ({"site": SITE, "product": "rebar"}, 422)])
def test_forecast_refuses_bad_input_with_a_message(client: TestClient, heads: dict[str, dict[str, str]],
                                                   params: dict[str, Any], status: int) -> None:
    r = client.get(f"{A}/forecast", headers=heads["enterprise"], params={"site": FORECAST_SITE, **params})
    assert r.status_code == status, r.text


def test_forecast_ranks_the_drivers_and_suggests_by_the_region_rules_without_a_short_history_band(
        client: TestClient, heads: dict[str, dict[str, str]]) -> None:
    body = client.get(f"{A}/forecast", headers=heads["enterprise"], params={"site": FORECAST_SITE}).json()
    b = body["base"]
    years, peak = project_enterprise(year=b["year"], output=b["output_t"], energy=b["energy_tce"], co2=b["co2_t"],
                                     scenario=enterprise_preset("policy"), end_year=body["scenarios"][0]["years"][-1]["year"])
    policy = next(s for s in body["scenarios"] if s["name"] == "policy")
    assert [(f["name"], f["contribution_t"]) for f in policy["factors"]] == [
        (f.name, pytest.approx(f.contribution)) for f in enterprise_factors(years, peak)]
    assert {f["name"] for f in policy["factors"]} == {"output", "energy_intensity", "emission_factor"}
    assert policy["suggestions"][0]["rule"] in ("peak", "no_peak") and policy["suggestions"][0]["text"]
    # 14 months of history: not the four whole years a band needs
    assert body["interval"]["spread"] is None and "fewer than 4" in body["interval"]["note"]
    assert policy["peak"]["low"] is None and all(y["low"] is None for y in policy["years"])


def test_forecast_band_comes_from_the_spread_of_four_or_more_whole_years(
        client: TestClient, admin_headers: dict[str, str], works: None, database_url: str) -> None:
    site = f"ea-band-{TAG}"
    this_year = datetime.now(SHANGHAI).year
    per_year = {this_year - 5 + k: v for k, v in enumerate((900.0, 1000.0, 1100.0, 1045.0, 1150.0, 1200.0))}
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, %s)", (site, ENT, site))
        rows = _Rows(conn, f"ea-gw-band-{TAG}", site)
        for y, tco2 in per_year.items():
            rows.month(f"{y}-01", "steelmaking", tco2 * 400, tco2, 300.0)
    r = client.get(f"{A}/forecast", headers=admin_headers, params={"site": site})
    assert r.status_code == 200, r.text
    body = r.json()
    base = body["base"]["year"]  # this year, or the last one in January
    spread = growth_spread([v for y, v in per_year.items() if y < base])
    assert body["interval"]["spread"] == pytest.approx(spread) and body["interval"]["note"] is None
    assert body["interval"]["years"] == [y for y in per_year if y < base]
    baseline = next(s for s in body["scenarios"] if s["name"] == "baseline")
    years, _peak = project_enterprise(year=base, output=body["base"]["output_t"], energy=body["base"]["energy_tce"],
                                      co2=body["base"]["co2_t"], scenario=enterprise_preset("baseline"),
                                      end_year=baseline["years"][-1]["year"])
    band = enterprise_band(years, spread)
    assert [(y["low"], y["high"]) for y in baseline["years"]] == [pytest.approx(b) for b in band]
    assert baseline["peak"]["low"] <= baseline["peak"]["co2_t"] <= baseline["peak"]["high"]


def test_forecast_without_metered_months_says_so(client: TestClient, admin_headers: dict[str, str],
                                                 works: None, database_url: str) -> None:
    empty = f"ea-empty-{TAG}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'empty')", (empty, ENT))
        conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, 'rolling')",
                     (f"ea-dev-{TAG}", empty))
    r = client.get(f"{A}/forecast", headers=admin_headers, params={"site": empty})
    assert r.status_code == 422 and "no whole month" in r.json()["detail"]


def test_months_off_the_hour_read_the_interval_rows_at_their_edges_and_agree(
        client: TestClient, heads: dict[str, dict[str, str]]) -> None:
    shanghai = _lmdi(client, heads["enterprise"]).json()
    kolkata = _lmdi(client, heads["enterprise"], tz="Asia/Kolkata")  # months start at :30 UTC: no whole rollup hour
    assert kolkata.status_code == 200, kolkata.text
    assert kolkata.json()["effects"] == pytest.approx(shanghai["effects"])
    assert kolkata.json()["periods"]["target"]["output_t"] == shanghai["periods"]["target"]["output_t"] == 120.0
