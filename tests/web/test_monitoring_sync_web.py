"""The data sync page (数据同步, #/monitoring/sync) in a real headless Chromium against the API under uvicorn, as
an administrator, with a real PostgreSQL intermediate database (tests/api/test_monitoring_sync.py's
`postgres_source`): creating a source in the dialog (its query checked first), running it and seeing what was
stored, editing its interval, seeing a refused row by its number, and resetting the watermark after confirming.
Figures are checked against the API and the database. Screenshots: tests/artifacts/web-monitoring-sync-*.png."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.test_monitoring import credit_code, csv_file, stored, upload
from tests.api.test_monitoring_sync import PG_QUERY, postgres_source  # noqa: F401  (the fixture)
from tests.web.conftest import Users
from tests.web.test_accessibility_web import axe_ready, violations  # noqa: F401  (the fixture)
from tests.web.ui import log_in, shot

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)


def _row(name: str) -> str:
    return f"#sync-table .el-table__row:has([data-source='{name}'])"


def _registered_unit(client: TestClient, headers: dict[str, str]) -> str:
    code = credit_code()
    assert upload(client, headers, csv_file(f"{code},Sync Page Co,330502,261,2024-12,coal,1,t")).status_code == 200
    return code


def _open_page(page: Page, live_api: str, users: Users) -> None:
    log_in(page, live_api, *users.admin)
    page.click("#nav a[data-route='monitoring-sync']")
    page.wait_for_selector("#sync-add")


def _create(page: Page, name: str, env: str, query: str) -> None:
    page.click("#sync-add")
    page.fill("#sync-name", name)
    page.fill("#sync-url-env", env)
    page.fill("#sync-query", query)
    page.click("#sync-submit")
    page.wait_for_selector(_row(name))


def _source(http: httpx.Client, headers: dict[str, str], name: str) -> dict[str, Any]:
    listed = http.get("/api/v1/monitoring/sync-sources", headers=headers).json()["sources"]
    return next(s for s in listed if s["name"] == name)  # type: ignore[no-any-return]


def test_administrator_creates_a_source_runs_it_sees_what_was_stored_and_edits_its_interval(
        page: Page, live_api: str, http: httpx.Client, users: Users, api_app_client: TestClient,
        admin_headers: dict[str, str], database_url: str, postgres_source: tuple[str, str]) -> None:  # noqa: F811
    env, url = postgres_source
    code = _registered_unit(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-01', 'coal', 10, 't', '2025-02-01T00:00:00Z'),"
                     " (%s, '2025-02', 'coal', 12, 't', '2025-03-01T00:00:00Z')", (code, code))
    name = f"web-{uuid.uuid4().hex[:8]}"
    _open_page(page, live_api, users)

    page.click("#sync-add")
    page.fill("#sync-name", name)
    page.fill("#sync-url-env", env)
    page.fill("#sync-query", "SELECT credit_code, month, item, quantity, unit, updated_at AS watermark FROM figures")
    page.click("#sync-submit")
    refused_query = page.inner_text("#sync-form .el-form-item.is-error .el-form-item__error")
    page.fill("#sync-query", PG_QUERY)
    page.click("#sync-submit")
    page.wait_for_selector(_row(name))
    created = page.inner_text("#sync-done")

    page.click(f"{_row(name)} .sync-run")
    result = page.wait_for_selector(f"#sync-run-result[data-source='{name}']")
    shown = {key: result.get_attribute(f"data-{key}") for key in ("rows", "stored", "unchanged", "refused")}
    watermark = page.get_attribute(f"{_row(name)} .sync-watermark", "data-value")
    shot(page, "monitoring-sync-run")

    page.click(f"{_row(name)} .sync-edit")
    page.fill("#sync-interval", "1800")
    page.click("#sync-submit")
    page.wait_for_selector(f"{_row(name)} .sync-interval[data-value='1800']")
    every = page.inner_text(f"{_row(name)} .sync-interval")
    headers = {"Authorization": admin_headers["Authorization"]}
    source = _source(http, headers, name)
    with psycopg.connect(database_url) as db:
        figures = [row[:3] for row in stored(db, code)]

    assert ("%(watermark)s" in refused_query, name in created) == (True, True)
    assert shown == {"rows": "2", "stored": "2", "unchanged": "0", "refused": "0"}
    assert figures == [("2024-12", "coal", 1.0), ("2025-01", "coal", 10.0), ("2025-02", "coal", 12.0)]
    assert (watermark, source["watermark"], source["interval_s"], every) == (
        "2025-03-01 00:00:00+00:00", "2025-03-01 00:00:00+00:00", 1800, "every 30 min")


def test_a_refused_row_is_shown_by_its_number_and_a_confirmed_watermark_reset_reads_the_source_again(
        page: Page, live_api: str, http: httpx.Client, users: Users, api_app_client: TestClient,
        admin_headers: dict[str, str], postgres_source: tuple[str, str]) -> None:  # noqa: F811
    env, url = postgres_source
    code = _registered_unit(api_app_client, admin_headers)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO figures VALUES (%s, '2025-03', 'coal', 3, 't', '2025-04-01T00:00:00Z'),"
                     " (%s, '2025-04', 'coal', -4, 't', '2025-05-01T00:00:00Z')", (code, code))
    name = f"web-{uuid.uuid4().hex[:8]}"
    _open_page(page, live_api, users)
    _create(page, name, env, PG_QUERY)
    page.click(f"{_row(name)} .sync-edit")
    page.click(".el-switch:has(#sync-take-valid)")  # store the valid row; the watermark stops before the refused one
    page.click("#sync-submit")
    page.wait_for_selector(f"{_row(name)} .sync-take-valid[data-value='true']")
    page.click(f"{_row(name)} .sync-run")
    page.wait_for_selector(f"#sync-run-result[data-source='{name}']")
    page.wait_for_selector(f"{_row(name)} .sync-refused li[data-line]")
    refused_lines = page.eval_on_selector_all(f"{_row(name)} .sync-refused li[data-line]",
                                              "items => items.map(li => li.dataset.line)")
    after_run = page.get_attribute(f"{_row(name)} .sync-watermark", "data-value")
    shot(page, "monitoring-sync-refused")

    page.click(f"{_row(name)} .sync-reset")
    page.wait_for_selector("#sync-reset-watermark")
    page.fill("#sync-reset-watermark", "")
    page.click("#sync-reset-submit")  # no reason yet: the dialog asks for one and sends nothing
    asked = page.inner_text("#sync-reset-form .el-form-item__error")
    headers = {"Authorization": admin_headers["Authorization"]}
    before_reason = _source(http, headers, name)["watermark"]
    page.fill("#sync-reset-comment", "figures of 2025 re-delivered")
    shot(page, "monitoring-sync-reset")
    page.click("#sync-reset-submit")
    page.wait_for_selector(f"{_row(name)} .sync-watermark[data-value='']")
    source = _source(http, headers, name)

    assert (refused_lines, after_run, asked != "", before_reason, source["watermark"]) == (
        ["2"], "2025-04-01 00:00:00+00:00", True, "2025-04-01 00:00:00+00:00", None)


def test_data_sync_page_and_its_dialogs_have_no_serious_accessibility_violation(
        page: Page, live_api: str, users: Users, api_app_client: TestClient, admin_headers: dict[str, str],
        postgres_source: tuple[str, str], monkeypatch: pytest.MonkeyPatch, axe_ready: None) -> None:  # noqa: F811
    """With a failed source in the table (its error and alarm in red), the edit and the watermark dialogs open;
    the source then runs with its URL set, which clears its platform alarm for the tests that follow."""
    name, (_, url) = f"web-{uuid.uuid4().hex[:8]}", postgres_source
    env = f"CF_SYNC_LATER_{name[4:].upper()}"
    created = api_app_client.post("/api/v1/monitoring/sync-sources", headers=admin_headers, json={
        "name": name, "dialect": "postgresql", "url_env": env, "query": PG_QUERY})
    failed = api_app_client.post(f"/api/v1/monitoring/sync-sources/{name}/run", headers=admin_headers).json()
    page.add_init_script("localStorage.setItem('carbonflow-lang', 'zh-CN');")  # the default language
    _open_page(page, live_api, users)
    page.wait_for_selector(f"{_row(name)} .sync-alarm[data-alarm='active']")
    found = {"page": violations(page)}
    for button, dialog in ((".sync-edit", "#sync-form"), (".sync-reset", "#sync-reset-form")):
        page.click(f"{_row(name)} {button}")
        page.wait_for_selector(dialog)
        page.wait_for_function("() => !document.querySelector('.dialog-fade-enter-active, .el-overlay-fade-enter-active')")
        found[dialog] = violations(page)
        shot(page, f"monitoring-sync-{button[6:]}-zh")
        page.keyboard.press("Escape")
        page.wait_for_selector(dialog, state="hidden")
    monkeypatch.setenv(env, url)
    recovered = api_app_client.post(f"/api/v1/monitoring/sync-sources/{name}/run", headers=admin_headers).json()
    assert (created.status_code, failed["error"] is not None, recovered["error"]) == (201, True, None)
    assert found == {"page": [], "#sync-form": [], "#sync-reset-form": []}
