"""Run the test OpenID Connect provider (tests/oidc/provider.js, the `oidc-provider` npm package) on loopback.

`start_provider` installs the pinned package with npm the first time (node_modules missing) and skips the
test with the reason when node or npm is absent. `authorize` plays the person at the provider's login and
consent forms and returns the URL the provider redirects the browser to (the relying party's callback).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.conftest import free_port, stop_process, wait_port

__all__ = ["HERE", "authorize", "start_provider"]

HERE = Path(__file__).resolve().parent
_FORM = re.compile(r'<form method="post" action="([^"]+)"')


def _ensure_installed() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run the test OIDC provider (oidc-provider); install Node.js")
    if (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    result = subprocess.run(["npm", "install", "--no-audit", "--no-fund"], check=False, cwd=HERE, capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"npm install in {HERE} failed:\n{result.stdout}\n{result.stderr}")


@contextmanager
def start_provider(redirect_uris: list[str], log: Path) -> Iterator[str]:
    """The provider on a free loopback port, its clients accepting `redirect_uris`: yields its issuer URL."""
    _ensure_installed()
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(["node", str(HERE / "provider.js"), str(port), *redirect_uris], cwd=HERE,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        try:
            wait_port(port, timeout_s=30, proc=proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; provider log:\n{log.read_text(errors='replace')}") from exc
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def authorize(client: httpx.Client, url: str, *, login: str, password: str, until: str) -> str:
    """Follow `url` through the provider's login and consent pages until a redirect to a URL starting with
    `until`; return that URL (not fetched). Fails the test if the provider answers anything unexpected."""
    for _ in range(20):
        if url.startswith(until):
            return url
        r = client.get(url)
        if r.is_redirect:
            url = urljoin(str(r.url), r.headers["location"])
            continue
        assert r.status_code == 200, f"{r.status_code} from {r.url}: {r.text[:500]}"
        match = _FORM.search(r.text)
        assert match, f"no form at {r.url}: {r.text[:500]}"
        action = urljoin(str(r.url), html.unescape(match.group(1)))
        data = {"login": login, "password": password} if action.endswith("/login") else {}
        r = client.post(action, data=data)
        assert r.is_redirect, f"{r.status_code} from {action}: {r.text[:500]}"
        url = urljoin(str(r.url), r.headers["location"])
    raise AssertionError(f"no redirect to {until} after 20 steps (last {url})")
