"""Browser fixtures: Debian's Chromium (installed with apt-get when missing and we are root) driven by Playwright,
the API under uvicorn (`live_api`), and a steelworks seeded around the current time.

Screenshots go to tests/artifacts/ (gitignored). Chromium: $CARBONFLOW_CHROMIUM, else /usr/bin/chromium; when
neither exists the fixture runs `apt-get install -y chromium` (after `apt-get update` if apt cannot find it) and
skips with the reason only when that is impossible (not root, no apt-get, no package).
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from api.auth import security
from carbon_domain.accounting import site_grid_factor
from carbon_domain.factors import FactorLibrary
from carbon_domain.grid import GridLocation
from carbon_domain.monitoring import credit_code_problem
from carbonflow.demo.region_seed import seed_region
from tests.api import conftest as _api_fixtures
from tests.api.conftest import make_user

# the API's fixtures, shared with tests/api: the app on the session database, its administrator, uvicorn
api_app_client = _api_fixtures.api_app_client
admin_headers = _api_fixtures.admin_headers
live_api = _api_fixtures.live_api

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SITE = "w-works"
TZ = "Asia/Shanghai"
# the works are in Zhejiang: the stream job accounts their electricity with the row the inventory's default
# series chooses for them, the provincial average (stream_jobs/site_factors.py)
_GRID_ROW = site_grid_factor(FactorLibrary.default(), datetime.now(UTC),
                             GridLocation("w-ent", "zhejiang", "east", SITE))
GRID, GRID_T_PER_MWH = _GRID_ROW.factor_id, _GRID_ROW.value
GAS_FACTORS = ["fuel.natural_gas.ncv@ndrc-steel-2013", "fuel.natural_gas.cc@ndrc-steel-2013",
               "fuel.natural_gas.of@ndrc-steel-2013"]
GAS_T_PER_1E4NM3 = 389.31 * 15.3e-3 * 0.99 * 44 / 12  # NCV (GJ/1e4Nm3) x CC (tC/GJ) x OF x 44/12
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


# --- Chromium ----------------------------------------------------------------------------------------------

def _apt_install(packages: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env, capture_output=True, text=True,
                          timeout=1200, check=False)


def _installed(env_var: str, binary: str) -> str | None:
    for candidate in (os.environ.get(env_var), f"/usr/bin/{binary}", shutil.which(binary)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_debian_browser(package: str, *, env_var: str, extras: tuple[str, ...] = ()) -> str:
    """The path of a browser from Debian's package `package` (binary of the same name, or $`env_var`),
    installing it (and `extras`) with apt-get when missing; pytest.skip with the reason when impossible."""
    found = _installed(env_var, package)
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"{package} is not installed and cannot be installed here (needs root and apt-get): run "
                    f"`apt-get install -y {package}`, or point {env_var} at its binary")
    result = _apt_install([package])
    if result.returncode != 0:
        # a fresh machine has no package lists yet: fetch them once and try again
        update = subprocess.run(["apt-get", "update", "-q"], capture_output=True, text=True, timeout=600, check=False)
        result = _apt_install([package])
        if result.returncode != 0:
            pytest.skip(f"apt-get could not install {package} (update exit {update.returncode}): "
                        f"{(result.stderr or result.stdout).strip()[-400:]}")
    if extras:
        _apt_install(list(extras))
    found = _installed(env_var, package)
    if found is None:
        pytest.skip(f"apt-get installed {package} but /usr/bin/{package} is not there")
    return found


def ensure_chromium() -> str:
    """The path of a Chromium binary, installing Debian's package when missing; pytest.skip when impossible."""
    # Chinese text in screenshots needs the font; the tests pass without it
    return ensure_debian_browser("chromium", env_var="CARBONFLOW_CHROMIUM", extras=("fonts-wqy-microhei",))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium under Playwright, for the whole session."""
    executable = ensure_chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="the test extras install playwright")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


# the app opens in Chinese; most tests read English labels, so a fresh context starts with English chosen (as a
# person who switched once would have it), and a switch the test makes is remembered as usual
ENGLISH_FIRST = "if (!localStorage.getItem('carbonflow-lang')) localStorage.setItem('carbonflow-lang', 'en');"


@pytest.fixture
def page(browser: object, web_app: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser context (own sessionStorage) at 1440x900 in Shanghai time, English first; on failure a
    screenshot is saved as tests/artifacts/FAILED-<test>.png."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id=TZ,  # type: ignore[attr-defined]
                                  locale="en-US", device_scale_factor=1)
    context.set_default_timeout(15_000)
    context.add_init_script(ENGLISH_FIRST)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        tab.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()
    assert errors == [], f"errors in the page's scripts: {errors}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]


# --- a steelworks around now -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Users:
    manager: tuple[str, str]
    technician: tuple[str, str]
    totp: tuple[str, str, str]  # name, password, TOTP secret
    government: tuple[str, str]
    auditor: tuple[str, str]
    admin: tuple[str, str]


_DEVICES = {  # device: (process, profile, points {point: (unit, kind, activity)})
    "w-elec-main": ("steelmaking", "cf-demo/pm3-meter", {
        "active_power_kw": ("kW", "gauge", None), "energy_import_kwh": ("kWh", "counter", "electricity")}),
    "w-elec-mill": ("rolling", "cf-demo/em5-energy", {
        "active_power_kw": ("kW", "gauge", None), "energy_import_kwh": ("kWh", "counter", "electricity")}),
    "w-gas-mill": ("rolling", "cf-demo/gfc200", {
        "flow_nm3h": ("Nm3/h", "gauge", None), "volume_total_nm3": ("Nm3", "counter", "natural_gas")}),
    "w-gas-boiler": ("auxiliary", "cf-demo/gfc200", {
        "flow_nm3h": ("Nm3/h", "gauge", None), "volume_total_nm3": ("Nm3", "counter", "natural_gas")}),
    "w-plc-bof": ("steelmaking", "cf-demo/plc-line", {
        "crude_steel_t": ("t", "counter", "production:crude_steel"), "tap_temperature_degc": ("degC", "gauge", None)}),
    "w-cems": ("sintering", "cf-demo/cems-stack", {"dust_mg_m3": ("mg/m3", "gauge", None)}),
}


def plant_rates(minute: int) -> dict[tuple[str, str], float]:
    """Rates of one minute of plant operation (kW, Nm3/h, t/min) with a smooth daily swing and some noise."""
    swing = math.sin(minute / 37.0)
    noise = random.Random(minute)
    return {
        ("w-elec-main", "active_power_kw"): 2350 + 260 * swing + noise.uniform(-40, 40),
        ("w-elec-mill", "active_power_kw"): 1480 + 190 * math.cos(minute / 23.0) + noise.uniform(-30, 30),
        ("w-gas-mill", "flow_nm3h"): 1150 + 90 * swing + noise.uniform(-15, 15),
        ("w-gas-boiler", "flow_nm3h"): 420 + 35 * math.cos(minute / 51.0) + noise.uniform(-8, 8),
        ("w-plc-bof", "tap_temperature_degc"): 1640 + 12 * swing + noise.uniform(-3, 3),
    }


def _seed_plant(conn: psycopg.Connection, now: datetime) -> None:
    """Three hours of one-minute readings up to `now`, counters integrated from the rates, 15-minute emission
    intervals as the stream job would write them, a benchmark, and a stack monitor that went quiet."""
    conn.execute("INSERT INTO enterprises (enterprise_id, name, region, industry) VALUES"
                 " ('w-ent', 'Binjiang Steel Co.', 'CN-ZJ-NB', '3120')")
    conn.execute("INSERT INTO sites (site_id, enterprise_id, name, province, grid_region) VALUES"
                 " (%s, 'w-ent', 'Binjiang steelworks', 'zhejiang', 'east')", (SITE,))
    gkey = conn.execute("INSERT INTO gateways (gateway_id, site_id, last_seen) VALUES ('w-gw', %s, %s)"
                        " RETURNING gateway_key", (SITE, now)).fetchone()[0]  # type: ignore[index]
    keys: dict[tuple[str, str], int] = {}
    for device, (process, profile, points) in _DEVICES.items():
        seen = now - timedelta(hours=2) if device == "w-cems" else now - timedelta(seconds=5)
        conn.execute("INSERT INTO devices (device_id, site_id, process, profile, gateway_id, last_seen)"
                     " VALUES (%s, %s, %s, %s, 'w-gw', %s)", (device, SITE, process, profile, seen))
        for point, (unit, kind, activity) in points.items():
            keys[device, point] = conn.execute(
                "INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, %s, %s, %s, %s)"
                " RETURNING point_key", (device, point, unit, kind, activity)).fetchone()[0]  # type: ignore[index]
    seq = iter(range(1, 1_000_000))
    readings: list[tuple[int, int, datetime, int, float | None, int]] = []
    emissions: list[tuple[object, ...]] = []
    produced: list[tuple[object, ...]] = []  # the steel counter's intervals, one a minute
    counters = {("w-elec-main", "energy_import_kwh"): 8_412_000.0, ("w-elec-mill", "energy_import_kwh"): 5_130_000.0,
                ("w-gas-mill", "volume_total_nm3"): 2_204_000.0, ("w-gas-boiler", "volume_total_nm3"): 918_000.0,
                ("w-plc-bof", "crude_steel_t"): 1_204_300.0}
    interval_start: dict[tuple[str, str], datetime | None] = dict.fromkeys(counters)
    interval_amount = {key: 0.0 for key in counters}
    rate_of = {("w-elec-main", "energy_import_kwh"): ("w-elec-main", "active_power_kw"),
               ("w-elec-mill", "energy_import_kwh"): ("w-elec-mill", "active_power_kw"),
               ("w-gas-mill", "volume_total_nm3"): ("w-gas-mill", "flow_nm3h"),
               ("w-gas-boiler", "volume_total_nm3"): ("w-gas-boiler", "flow_nm3h")}
    minutes = 180
    first = now.replace(second=0, microsecond=0) - timedelta(minutes=minutes)
    for m in range(minutes + 1):
        ts = first + timedelta(minutes=m)
        if ts >= now:
            break
        rates = plant_rates(int(ts.timestamp() // 60))
        value: float | None
        for key, value in rates.items():
            quality = 1 if key[0] == "w-gas-boiler" and m % 47 == 0 else 0
            if key == ("w-plc-bof", "tap_temperature_degc") and m % 61 == 30:
                quality, value = 2, None  # a thermocouple dropout: kept, flagged bad
            readings.append((gkey, next(seq), ts, keys[key], value, quality))
        for key, total in counters.items():
            step = rates[rate_of[key]] / 60 if key in rate_of else (2.9 if m % 40 < 36 else 0.0)  # BOF heats
            counters[key] = total + step
            interval_amount[key] += step
            readings.append((gkey, next(seq), ts, keys[key], total + step, 0))
            if key[1] == "crude_steel_t" and m > 0:
                produced.append((gkey, next(seq), ts, ts - timedelta(minutes=1), keys[key], SITE,
                                 "production:crude_steel", step, "t", 0))
            interval_start[key] = interval_start[key] or ts
            if ts.minute % 15 == 0 and key[1] != "crude_steel_t" and interval_start[key] != ts:
                amount = interval_amount[key]
                if key[1] == "energy_import_kwh":
                    row = ("electricity", amount / 1000, "MWh", amount / 1000 * GRID_T_PER_MWH, [GRID], "electricity/v1")
                else:
                    row = ("natural_gas", amount / 1e4, "1e4Nm3", amount / 1e4 * GAS_T_PER_1E4NM3, GAS_FACTORS,
                           "combustion/v1")
                emissions.append((gkey, next(seq), ts, interval_start[key], keys[key], SITE, *row, 0))
                interval_start[key], interval_amount[key] = ts, 0.0
    # the last seconds at full rate, so that raw series and live values look live
    for s in range(6, 0, -1):
        ts = now - timedelta(seconds=10 * s - 5)
        rates = plant_rates(int(ts.timestamp() // 60))
        for key in (("w-elec-main", "active_power_kw"), ("w-elec-mill", "active_power_kw")):
            readings.append((gkey, next(seq), ts, keys[key], rates[key] + s * 3.0, 0))
    readings.append((gkey, next(seq), now - timedelta(hours=2), keys["w-cems", "dust_mg_m3"], 8.4, 0))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
                        " VALUES (%s, %s, %s, %s, %s, %s)", readings)
        cur.executemany(
            "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
            " quantity_unit, tco2, factor_ids, formula, quality) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", emissions)
        cur.executemany(
            "INSERT INTO activity_intervals (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
            " quantity_unit, quality) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", produced)
    # the rows were written around the stream job: its scope rollups, rebuilt as `carbonflow recompute` does
    conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)", (SITE, first, now))
    if conn.execute("SELECT to_regclass('alarms')").fetchone()[0] is not None:  # type: ignore[index]
        conn.execute("INSERT INTO alarms (rule, device_id, point, severity, detail, raised_at) VALUES"
                     " ('data_gap', 'w-cems', 'dust_mg_m3', 'critical', 'no reading for 2 h', %s),"
                     " ('implausible_reading', 'w-gas-boiler', 'flow_nm3h', 'warning', 'jumped to 4,500 Nm3/h within 1 s', %s)",
                     (now - timedelta(hours=1, minutes=50), now - timedelta(minutes=12)))
    conn.execute("INSERT INTO benchmarks (site_id, product, tco2_per_t, source, updated_by) VALUES"
                 " (%s, 'crude_steel', 0.045, 'Site target 2026 (purchased electricity and natural gas)', 'root')",
                 (SITE,))


@pytest.fixture(scope="session")
def plant(database_url: str, api_app_client: object) -> str:
    """The seeded site's id."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM sites WHERE site_id = %s", (SITE,)).fetchone() is None:
            with conn.transaction():
                _seed_plant(conn, datetime.now(UTC))
    return SITE


@pytest.fixture(scope="session")
def users(api_app_client: object, admin_headers: dict[str, str], plant: str) -> Users:
    """An energy manager (enterprise role on the plant's enterprise), a technician, a manager with TOTP, and a
    government reviewer (the plant's region), an auditor (assigned the plant's enterprise) and an administrator."""
    manager = make_user(api_app_client, admin_headers, "enterprise", enterprise_id="w-ent")  # type: ignore[arg-type]
    technician = make_user(api_app_client, admin_headers, "technician")  # type: ignore[arg-type]
    name, password, headers = make_user(api_app_client, admin_headers, "enterprise",  # type: ignore[arg-type]
                                        enterprise_id="w-ent")
    secret = api_app_client.post("/api/v1/auth/totp/enroll", headers=headers).json()["secret"]  # type: ignore[attr-defined]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    # confirm with the previous step's code, so that the login below can use the current one
    r = api_app_client.post("/api/v1/auth/totp/confirm", headers=headers,  # type: ignore[attr-defined]
                            json={"code": security.totp(key, time.time() - 30)})
    assert r.status_code == 200, r.text
    government = make_user(api_app_client, admin_headers, "government", region="CN-ZJ")  # type: ignore[arg-type]
    auditor = make_user(api_app_client, admin_headers, "auditor", enterprises=["w-ent"])  # type: ignore[arg-type]
    admin = make_user(api_app_client, admin_headers, "admin")  # type: ignore[arg-type]
    return Users(manager=manager[:2], technician=technician[:2], totp=(name, password, secret),
                 government=government[:2], auditor=auditor[:2], admin=admin[:2])


@pytest.fixture
def http(live_api: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_api, timeout=15) as client:
        yield client


# --- the synthetic prefecture of government monitoring --------------------------------------------------------

MONITORING_YEAR = 2025
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _steel_credit_code() -> str:
    body = "91330522" + "".join(random.choice(_CREDIT_CHARS) for _ in range(9))
    return next(body + c for c in _CREDIT_CHARS if credit_code_problem(body + c) is None)


@pytest.fixture(scope="module")
def prefecture(database_url: str, live_api: str, plant: str, admin_headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    """The synthetic prefecture (`carbonflow seed region`), plus a steelworks unit in Changxing (330522, class 312)
    linked to the test plant's enterprise and site, whose main meter reports now: {unit_id, credit_code}."""
    # Playwright's sync API keeps an event loop on this thread: the seeding runs on its own
    seeding = threading.Thread(target=lambda: asyncio.run(seed_region(database_url)))
    seeding.start()
    seeding.join()
    code = _steel_credit_code()
    lines = ["credit_code,unit_name,region_code,industry_code,month,item,quantity,unit"]
    for month in range(1, 13):
        lines += [f"{code},Chromium Steel Works,330522,312,{MONITORING_YEAR}-{month:02d},coal,3000,t",
                  f"{code},Chromium Steel Works,330522,312,{MONITORING_YEAR}-{month:02d},electricity,2500,MWh",
                  f"{code},Chromium Steel Works,330522,312,{MONITORING_YEAR}-{month:02d},value_added,3000,1e4CNY"]
    with httpx.Client(base_url=live_api, timeout=60) as http:
        r = http.post("/api/v1/monitoring/imports", headers=admin_headers,
                      files={"file": ("steel.csv", "\n".join(lines).encode(), "text/csv")})
        assert r.status_code == 200, r.text
        unit_id = next(u["unit_id"] for u in http.get("/api/v1/monitoring/units", headers=admin_headers,
                                                       params={"region": "330522"}).json()["units"]
                       if u["credit_code"] == code)
        r = http.patch(f"/api/v1/monitoring/units/{unit_id}", headers=admin_headers,
                       json={"enterprise_id": "w-ent", "site_id": SITE})
        assert r.status_code == 200, r.text
    with psycopg.connect(database_url, autocommit=True) as conn:  # the plant's main meter reports now
        conn.execute("UPDATE devices SET last_seen = now() WHERE device_id = 'w-elec-main'")
    yield {"unit_id": unit_id, "credit_code": code}


