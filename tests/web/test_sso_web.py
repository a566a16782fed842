"""The login page's "Sign in with SSO" button in headless Chromium, through the real test OIDC provider."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from tests.api.test_sso import PASSWORDS, people, sso
from tests.web.conftest import ARTIFACTS

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["people", "sso"]  # the fixtures, shared with tests/api/test_sso.py


def test_sso_button_signs_in_through_the_provider(page: Page, sso: dict[str, object],
                                                  people: dict[str, str]) -> None:
    page.goto(f"{sso['rs256']}/")
    page.wait_for_selector("#login-sso")
    page.click("#login-sso")
    page.wait_for_selector("input[name=login]")  # the provider's own sign-in form
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", PASSWORDS["alice"])
    page.click("button[type=submit]")
    page.wait_for_selector("text=Allow")
    page.click("button[type=submit]")
    page.wait_for_selector("#shell")
    page.screenshot(path=str(ARTIFACTS / "web-sso-signed-in.png"), full_page=True)
    assert (page.text_content("#who-name"), "sso=" in page.url) == (people["alice"], False)


def test_sso_button_is_hidden_when_sso_is_not_configured(page: Page, live_api: str,
                                                         api_app_client: TestClient) -> None:
    page.goto(f"{live_api}/")
    page.wait_for_selector("#login")
    page.wait_for_load_state("networkidle")
    assert page.locator("#login-sso").count() == 0
