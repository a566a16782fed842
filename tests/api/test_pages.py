"""The web app as the API serves it (api/routers/pages.py): the built page at /, its hashed assets, the security
headers, and 404 (never 500) for anything that is not one of its files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.routers import pages
from tests.api.conftest import TEST_SETTINGS


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(database_url, settings=TEST_SETTINGS)) as client:
        yield client


def _entry_script(html: str) -> str:
    found = re.search(r'<script type="module"[^>]* src="(/assets/[^"]+\.js)"', html)
    assert found, f"no module script in the page: {html[:400]}"
    return found.group(1)


def test_page_at_root_loads_only_its_own_module_script_under_a_strict_policy(client: TestClient, web_app: Path) -> None:
    r = client.get("/", headers={"Authorization": ""})
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)
    assert (r.status_code, r.headers["content-type"].startswith("text/html"), bool(_entry_script(r.text)),
            inline_scripts, "script-src 'self';" in r.headers["content-security-policy"],
            r.headers["cache-control"]) == (200, True, True, [], True, "no-cache")


def test_entry_script_sends_the_bearer_token_from_session_storage_and_is_cached_for_good(
    client: TestClient, web_app: Path
) -> None:
    entry = client.get(_entry_script(client.get("/").text))
    assert (entry.status_code, entry.headers["content-type"], "sessionStorage" in entry.text, "Bearer " in entry.text,
            entry.headers["cache-control"], entry.headers["x-content-type-options"]) == (
        200, "text/javascript; charset=utf-8", True, True, "public, max-age=31536000, immutable", "nosniff")


@pytest.mark.parametrize("path", ["/assets/../../main.py", "/assets/%2e%2e/%2e%2e/main.py", "/assets/nope.js",
                                  "/assets/x.css.bak", "/assets/x.js%00", "/assets/%00", "/assets/../.vite/manifest.json",
                                  "/static/app.js", "/app.js", "/assets/" + "a" * 5000 + ".js", "/static/x.js%00"])
def test_files_outside_the_app_or_of_unknown_kinds_are_not_found(client: TestClient, web_app: Path, path: str) -> None:
    assert client.get(path).status_code == 404


def test_page_says_how_to_build_the_app_when_it_is_not_built(client: TestClient, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "dist_root", lambda: tmp_path)
    r = client.get("/")
    assert (r.status_code, "make web" in r.text, "script-src 'self'" in r.headers["content-security-policy"],
            client.get("/assets/index.js").status_code) == (503, True, True, 404)
