"""The pages for handling alarms, the gateway registry, the audit log, users and API tokens in a real headless
Chromium against the API under uvicorn, each as the role that uses it, each with what that person does there
(acknowledge an alarm, set a point's range, accept a rise, register a gateway, download its certificate and revoke
it, move a device, filter, page and export the log, create and disable a user, change a user's role, create and
revoke a token), checked against the API. Each test makes the gateways and users it acts on, with unique names, so
that what other tests leave behind (more rows than a page holds) never hides them. Screenshots:
tests/artifacts/web-*.png."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from api.audit import auditlog
from tests.api.conftest import login, make_user
from tests.web.conftest import SITE, Users
from tests.web.ui import choose, log_in, open_from_drawer, shot
from tests.web.waiting import wait_until

Page = Any  # playwright.sync_api.Page; the module is imported only once Chromium is there
pytestmark = pytest.mark.timeout(900)  # the first test may wait for apt-get to install Chromium

ROW = ".el-table__row:has([data-{kind}='{id}'])"


@pytest.fixture(scope="module")
def handling(database_url: str, plant: str) -> Iterator[dict[str, int]]:
    """An out-of-range alarm on the boiler's gas flow, an implausible rise of the mill's electricity counter, and a
    second active gateway of the site with a device of its own to move: their ids."""
    now = datetime.now(UTC)
    with psycopg.connect(database_url, autocommit=True) as conn:
        alarm = conn.execute(
            "INSERT INTO alarms (rule, device_id, point, severity, detail, raised_at) VALUES"
            " ('out_of_range', 'w-gas-boiler', 'flow_nm3h', 'warning', 'flow 512 Nm3/h above 480', %s)"
            " RETURNING alarm_id", (now - timedelta(minutes=3),)).fetchone()[0]  # type: ignore[index]
        point_key, gateway_key = conn.execute(
            "SELECT p.point_key, g.gateway_key FROM points p, gateways g WHERE p.device_id = 'w-elec-mill'"
            " AND p.point = 'energy_import_kwh' AND g.gateway_id = 'w-gw'").fetchone()  # type: ignore[misc]
        flag = conn.execute(
            "INSERT INTO implausible_readings (point_key, gateway_key, seq, ts, value, reason, detail, previous_ts,"
            " previous_value, limit_per_h) VALUES (%s, %s, 990001, %s, 5160000, 'rise', 'rose 24000 kWh in 5 min,"
            " limit 6000 kWh/h', %s, 5136000, 6000) RETURNING flag_id",
            (point_key, gateway_key, now - timedelta(minutes=20), now - timedelta(minutes=25))).fetchone()[0]  # type: ignore[index]
    yield {"alarm": alarm, "flag": flag}


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def test_technician_acknowledges_an_alarm_sets_its_points_range_and_accepts_a_rise(
    page: Page, live_api: str, http: httpx.Client, users: Users, handling: dict[str, int]
) -> None:
    name, password = users.technician
    log_in(page, live_api, name, password)
    page.click("#nav a[data-route='alarms']")
    alarm_row = ROW.format(kind="alarm", id=handling["alarm"])
    page.click(f"{alarm_row} button.ack")
    page.wait_for_selector(f"[data-alarm='{handling['alarm']}'][data-acknowledged='yes']")
    page.click(f"{alarm_row} button.range")
    page.fill("#range-low", "0")
    page.fill("#range-high", "480")
    page.click("#range-save")
    page.wait_for_selector("#range-saved")
    page.click(".el-dialog:visible .el-dialog__headerbtn")
    page.click(f"{ROW.format(kind='flag', id=handling['flag'])} button.accept")
    page.fill("#accept-comment", "meter read on site: 5 160 000 kWh, the rise is real")
    page.click("#accept-submit")
    page.wait_for_selector("#alarms-done")
    shot(page, "alarms")
    headers = login(http, name, password)
    alarm = next(a for a in http.get("/api/v1/alarms", headers=headers).json()["alarms"]
                 if a["alarm_id"] == handling["alarm"])
    limits = http.get("/api/v1/devices/w-gas-boiler/points/flow_nm3h/range", headers=headers).json()
    flag = next(f for f in http.get("/api/v1/implausible-readings", headers=headers, params={"state": "accepted"})
                .json()["readings"] if f["flag_id"] == handling["flag"])
    assert ((alarm["acknowledged_by"], alarm["state"]), (limits["low"], limits["high"], limits["source"]),
            (flag["state"], flag["accepted_by"])) == ((name, "active"), (0, 480, "manual"), ("accepted", name))


def test_enterprise_user_clears_an_alarm_with_a_comment_and_sees_ranges_read_only(
    page: Page, live_api: str, http: httpx.Client, users: Users, database_url: str, plant: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        alarm = conn.execute("INSERT INTO alarms (rule, device_id, point, severity, detail, raised_at) VALUES"
                             " ('stuck_value', 'w-elec-main', 'active_power_kw', 'warning', 'value unchanged', now())"
                             " RETURNING alarm_id").fetchone()[0]  # type: ignore[index]
    log_in(page, live_api, *users.manager)
    page.click("#nav a[data-route='alarms']")
    choose(page, "#alarm-rule", "stuck_value")
    row = ROW.format(kind="alarm", id=alarm)
    page.click(f"{row} button.clear")
    page.click("#clear-submit")  # no comment: the form says one is needed, nothing is sent
    page.wait_for_selector("#clear-form .el-form-item__error")
    page.fill("#clear-comment", "sensor replaced")
    page.click("#clear-submit")
    page.wait_for_selector("#alarms-done")
    choose(page, "#alarm-state", "cleared")  # the cleared alarm left the list of active ones
    page.click(f"{row} button.range")
    page.wait_for_selector("#range-now")
    editable = page.locator("#range-form").count()
    body = http.get("/api/v1/alarms", headers=login(http, *users.manager), params={"state": "cleared"}).json()
    cleared = next(a for a in body["alarms"] if a["alarm_id"] == alarm)
    states = page.eval_on_selector_all("#alarms-table [data-alarm]", "els => els.map(e => e.dataset.state)")
    assert (cleared["cleared_by"], cleared["clear_comment"], editable, set(states)) == (
        users.manager[0], "sensor replaced", 0, {"cleared"})


def test_enterprise_user_sees_an_asset_alarm_about_its_enterprise_with_its_rule_and_enterprise_named(
    page: Page, live_api: str, users: Users, database_url: str, plant: str
) -> None:
    # as the asset alarm check raises it (api/assets/alarms.py): a platform alarm with no device or site
    subject = f"assets_deficit:w-ent:{_tag()}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        alarm = conn.execute(
            "INSERT INTO alarms (rule, device_id, severity, detail, raised_at, source, enterprise_id) VALUES"
            " ('deficit_projected', %s, 'warning', 'projected deficit of 500.0 tCO2e', now(), 'platform', 'w-ent')"
            " RETURNING alarm_id", (subject,)).fetchone()[0]  # type: ignore[index]
    log_in(page, live_api, *users.manager)
    page.click("#nav a[data-route='alarms']")
    choose(page, "#alarm-rule", "deficit_projected")
    row = ROW.format(kind="alarm", id=alarm)
    page.wait_for_selector(row)
    shot(page, "alarms-asset")
    text = page.inner_text(row)
    assert all(shown in text for shown in ("Allowance deficit projected", subject, "Platform alarm", "Enterprise w-ent",
                                           "projected deficit of 500.0 tCO2e")), text
    assert page.locator(f"{row} button.range").count() == 0 and page.locator(f"{row} button.ack").count() == 1


def test_administrator_moves_a_device_to_another_gateway_of_its_site(
    page: Page, live_api: str, http: httpx.Client, users: Users, database_url: str, plant: str
) -> None:
    tag = _tag()
    first, second, device = f"w-gw-{tag}-a", f"w-gw-{tag}-b", f"w-move-{tag}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        for gateway in (first, second):
            conn.execute("INSERT INTO gateways (gateway_id, site_id, status, registered_at, last_seen)"
                         " VALUES (%s, %s, 'active', now(), now() - interval '1 minute')", (gateway, SITE))
        conn.execute("INSERT INTO devices (device_id, site_id, process, profile, gateway_id) VALUES"
                     " (%s, %s, 'auxiliary', 'cf-demo/gfc200', %s)", (device, SITE, first))
    log_in(page, live_api, *users.admin)
    page.click("#nav a[data-route='gateways']")
    page.fill("#gateways-filter", tag)  # only this test's gateways, however many others there are
    page.wait_for_selector(f"[data-gateway='{first}'][data-status]")
    headers = login(http, *users.admin)
    health = {g["gateway_id"]: g["status"] for g in http.get("/api/v1/devices/health", headers=headers).json()["gateways"]}
    shown_status = page.get_attribute(f"[data-gateway='{first}']", "data-status")
    shown_seen = page.get_attribute(f"{ROW.format(kind='gateway', id=first)} .last-seen", "data-value")
    page.click(f"{ROW.format(kind='gateway', id=first)} button.device-chip[data-device='{device}']")
    choose(page, "#move-gateway", second)
    page.click("#move-submit")
    page.wait_for_selector("#gateways-done")
    page.wait_for_selector(f"{ROW.format(kind='gateway', id=second)} [data-device='{device}']")
    shot(page, "gateways")
    listed = {g["gateway_id"]: g["devices"] for g in http.get("/api/v1/gateways", headers=headers).json()["gateways"]}
    reported = health.get(first, "never")
    assert (shown_status, shown_seen != "", listed[second], listed[first]) == (
        reported if reported != "never" else "unreported", True, [device], [])


def test_technician_registers_a_gateway_downloads_its_certificate_and_revokes_it(
    page: Page, live_api: str, http: httpx.Client, users: Users, database_url: str, plant: str
) -> None:
    gateway = f"w-gw-new-{_tag()}"
    log_in(page, live_api, *users.technician)
    page.click("#nav a[data-route='gateways']")
    page.wait_for_selector("#gateways-table")
    page.click("#gateway-add")
    page.fill("#gateway-id", "not a valid id")
    page.click("#gateway-submit")  # the form says what an id may hold; nothing is sent
    page.wait_for_selector("#gateway-form .el-form-item__error")
    page.fill("#gateway-id", gateway)
    choose(page, "#gateway-site", SITE)
    page.click("#gateway-submit")
    page.wait_for_selector("#gateways-done")
    row = ROW.format(kind="gateway", id=gateway)
    page.wait_for_selector(f"{row} [data-registry='active']")
    expires = page.get_attribute(f"{row} .cert-expires", "data-value")
    with page.expect_download() as download:
        page.click(f"{row} button.cert-download")
    bundle = zipfile.ZipFile(download.value.path())
    shot(page, "gateway-registry")
    page.click(f"{row} button.gateway-revoke")
    page.click("#revoke-submit")
    page.wait_for_selector(f"{row} [data-registry='revoked']")
    headers = login(http, *users.technician)
    listed = next(g for g in http.get("/api/v1/gateways", headers=headers).json()["gateways"]
                  if g["gateway_id"] == gateway)
    with psycopg.connect(database_url) as conn:
        actions = [a for (a,) in conn.execute("SELECT action FROM audit_log WHERE target = %s ORDER BY audit_id",
                                              (f"gateway:{gateway}",))]
    assert (sorted(bundle.namelist()), (listed["status"], listed["site_id"]), expires == listed["cert_expires_at"],
            actions) == (sorted(["ca.crt", f"{gateway}.crt", f"{gateway}.key"]), ("revoked", SITE), True,
                         ["gateway.add", "gateway.certificate_download", "gateway.revoke"])


def test_administrator_filters_the_audit_log_by_action_and_time_and_exports_it(
    page: Page, live_api: str, http: httpx.Client, users: Users
) -> None:
    log_in(page, live_api, *users.admin)
    page.click("#nav a[data-route='audit']")
    page.wait_for_selector("#audit-table [data-audit]")
    since = (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    until = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    page.fill("#audit-action", "user.*")
    inputs = page.locator(".span-field input")
    inputs.nth(0).fill(since)
    inputs.nth(1).fill(until)
    inputs.nth(1).press("Enter")
    page.click("#audit-search")
    wait_until(lambda: set(page.eval_on_selector_all("#audit-table [data-action]", "els => els.map(e => e.dataset.action)"))
               and all(a.startswith("user.") for a in page.eval_on_selector_all(
                   "#audit-table [data-action]", "els => els.map(e => e.dataset.action)")),
               "only user.* entries in the table", poll=lambda: page.wait_for_timeout(100))
    shown = int(page.get_attribute("#audit-count", "data-value"))
    with page.expect_download() as download:
        page.click("#audit-export")
    exported = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    shot(page, "audit")
    body = http.get("/api/v1/audit", headers=login(http, *users.admin), params={"action": "user.*"}).json()
    assert (shown, exported[0], len(exported) - 1 >= shown, {row[5][:5] for row in exported[1:]}) == (
        body["total"], list(auditlog.COLUMNS), True, {"user."})


def test_administrator_creates_a_user_after_a_weak_password_is_refused_and_disables_it(
    page: Page, live_api: str, http: httpx.Client, users: Users, plant: str
) -> None:
    name = f"w-auditor-{_tag()}"
    log_in(page, live_api, *users.admin)
    page.click("#nav a[data-route='users']")
    page.click("#user-new")
    page.fill("#user-username", name)
    choose(page, "#user-role", "auditor")
    page.fill("#user-enterprises", "w-ent")
    page.fill("#user-password", "short")
    page.click("#user-submit")
    refused = page.inner_text("#user-problem")
    page.fill("#user-password", "")
    page.click("#user-submit")
    secret = page.inner_text("#once-secret")
    page.click("#once-close")
    page.wait_for_selector("#once-secret", state="hidden")
    page.fill("#users-filter", name)  # the new account on the page shown, however many accounts there are
    row = ROW.format(kind="user", id=name)
    page.click(f"{row} button.toggle-disabled")
    page.wait_for_selector(f"[data-user='{name}'][data-disabled='yes']")
    shot(page, "users")
    account = http.get(f"/api/v1/users/{name}", headers=login(http, *users.admin)).json()
    refused_login = http.post("/api/v1/auth/login", json={"username": name, "password": secret})
    assert (refused.startswith("password rejected"), (account["role"], account["enterprises"], account["disabled"]),
            refused_login.status_code) == (True, ("auditor", ["w-ent"], True), 403)


def test_administrator_demotes_a_technician_to_an_enterprise_user_whose_session_ends(
    page: Page, live_api: str, http: httpx.Client, users: Users, admin_headers: dict[str, str], plant: str,
    api_app_client: Any
) -> None:
    name, password, _ = make_user(api_app_client, admin_headers, "technician", username=f"w-tech-{_tag()}")
    session = login(http, name, password)
    log_in(page, live_api, *users.admin)
    page.click("#nav a[data-route='users']")
    page.fill("#users-filter", name)
    page.click(f"{ROW.format(kind='user', id=name)} button.scope-edit")
    choose(page, "#user-role", "enterprise")
    page.wait_for_selector("#role-drop-note")
    page.click("#user-submit")  # an enterprise user needs its enterprise: the form says so
    page.wait_for_selector("#user-form .el-form-item__error")
    page.fill("#user-enterprise", "w-ent")
    page.click("#user-submit")
    page.wait_for_selector("#users-done")
    page.wait_for_selector(f"{ROW.format(kind='user', id=name)} [data-role='enterprise']")
    shot(page, "user-role")
    account = http.get(f"/api/v1/users/{name}", headers=login(http, *users.admin)).json()
    assert ((account["role"], account["enterprise_id"]), http.get("/api/v1/auth/me", headers=session).status_code) == (
        ("enterprise", "w-ent"), 401)


def test_technician_creates_a_token_sees_its_secret_once_and_revokes_it(
    page: Page, live_api: str, http: httpx.Client, users: Users
) -> None:
    log_in(page, live_api, *users.technician)
    page.click("#nav a[data-route='tokens']")
    page.wait_for_selector("#tokens-table")
    page.click("#token-new")
    page.fill("#token-name", "historian export")
    choose(page, "#token-scopes", "devices")
    page.click("#token-name")  # closes the list; Escape would close the whole dialog where the focus left the select
    page.click("#token-submit")
    secret = page.inner_text("#once-secret")
    page.click("#once-close")
    page.wait_for_selector("#once-secret", state="hidden")
    before = http.get("/api/v1/devices", headers={"Authorization": f"Bearer {secret}"}).status_code
    token_id = page.get_attribute("#tokens-table [data-state='active']", "data-token")
    page.click(f"{ROW.format(kind='token', id=token_id)} button.revoke")
    page.click(".el-popconfirm__action .el-button--primary")
    page.wait_for_selector(f"[data-token='{token_id}'][data-state='revoked']")
    shot(page, "tokens")
    after = http.get("/api/v1/devices", headers={"Authorization": f"Bearer {secret}"}).status_code
    assert (before, after, page.is_hidden("#once-secret")) == (200, 401, True)


@pytest.mark.parametrize("route, ready", [("alarms", "#alarms-table"), ("gateways", "#gateways-table"),
                                          ("audit", "#audit-table"), ("users", "#users-table"),
                                          ("tokens", "#tokens-table")])
def test_new_pages_fit_a_phones_width(browser: object, web_app: object, live_api: str, users: Users, route: str,
                                      ready: str, handling: dict[str, int]) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        log_in(page, live_api, *users.admin)
        # the app lands on the role's first page before the menu is opened (landing closes the drawer)
        page.wait_for_selector("#nav a.active", state="attached")
        open_from_drawer(page, route, ready)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        shot(page, f"phone-{route}")
        panel = None
        if route == "audit":  # the time-range picker's panel fits the screen too
            page.click(".span-field .el-date-editor")
            box = page.locator(".el-date-range-picker").bounding_box()
            panel = (box["x"] >= 0 and box["x"] + box["width"] <= 390) if box else None
            page.wait_for_timeout(500)  # the panel fades in: the screenshot shows it whole
            shot(page, "phone-audit-picker")
        assert (width, panel) == (390, True if route == "audit" else None)
    finally:
        context.close()


def test_sorting_the_audit_log_by_time_sorts_every_entry_not_only_the_page_shown(
    page: Page, live_api: str, http: httpx.Client, users: Users
) -> None:
    headers = login(http, *users.admin)
    for n in range(30):  # more entries than one page of the log holds
        r = http.post("/api/v1/auth/tokens", headers=headers, json={"name": f"sort check {n}", "scopes": ["devices"]})
        assert r.status_code == 201, r.text
    log_in(page, live_api, *users.admin)
    page.click("#nav a[data-route='audit']")
    page.wait_for_selector("#audit-table [data-audit]")
    newest_first = page.get_attribute("#audit-table .el-table__row:first-child [data-audit]", "data-audit")
    page.click("#audit-table th:first-child .sort-caret.ascending")
    page.wait_for_function(f"() => document.querySelector('#audit-table .el-table__row [data-audit]')"
                           f".dataset.audit !== '{newest_first}'")
    oldest_first = page.get_attribute("#audit-table .el-table__row:first-child [data-audit]", "data-audit")
    newest = http.get("/api/v1/audit", headers=headers, params={"limit": "1"}).json()
    oldest = http.get("/api/v1/audit", headers=headers, params={"limit": "1", "order": "oldest"}).json()
    assert (newest["total"] > 25, int(newest_first), int(oldest_first)) == (
        True, newest["entries"][0]["audit_id"], oldest["entries"][0]["audit_id"])
