"""Single sign-on end to end against a real OpenID Connect provider (oidc-provider on loopback).

Two carbonflow APIs run under uvicorn, one per provider client: `carbonflow-test` (RS256 ID tokens) and
`carbonflow-es256` (ES256). A person signs in at the provider's forms with httpx; the API's callback verifies
the answer and the page's handoff code becomes a session token that works on GET /api/v1/auth/me.

Provider accounts (tests/oidc/config.js): alice-0001 is linked by subject, bob-0002 pre-linked by verified
email, eve-0003 presents an unverified email, mallory-0004 is linked to nobody.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth.oidc import OidcClient, new_pkce_pair, verify_id_token
from api.errors import LoginRefused
from api.main import create_app
from api.settings import ApiSettings, OidcSettings, load_api_settings
from tests.api.conftest import TEST_SETTINGS, ensure_root, make_user, unique
from tests.api.serving import serve
from tests.conftest import free_port
from tests.oidc.fixture import authorize, start_provider

CLIENTS = {"rs256": ("carbonflow-test", "carbonflow-test-secret-7f3a9c"),
           "es256": ("carbonflow-es256", "carbonflow-es256-secret-51d2e8")}
OTHER_APP = ("other-app", "other-app-secret-0b44c1")
PASSWORDS = {"alice": "alice-pass-2026", "bob": "bob-pass-2026", "eve": "eve-pass-2026", "mallory": "mallory-pass-2026"}
CALLBACK = "/api/v1/auth/sso/callback"


@pytest.fixture(scope="module")
def sso(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The provider and one API per client: {'issuer': url, 'rs256': api url, 'es256': api url, settings}."""
    ensure_root(database_url)
    ports = {name: free_port() for name in CLIENTS}
    redirects = [f"http://127.0.0.1:{port}{CALLBACK}" for port in ports.values()]
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with start_provider(redirects, log) as issuer:
        settings = {name: TEST_SETTINGS.model_copy(update={"oidc": OidcSettings(
            issuer=issuer, client_id=CLIENTS[name][0], client_secret=CLIENTS[name][1],
            redirect_url=f"http://127.0.0.1:{ports[name]}{CALLBACK}", display_name="Plant SSO")})
            for name in CLIENTS}
        with (serve(create_app(database_url, settings=settings["rs256"]), ports["rs256"]) as rs256,
              serve(create_app(database_url, settings=settings["es256"]), ports["es256"]) as es256):
            yield {"issuer": issuer, "rs256": rs256, "es256": es256, "settings": settings, "log": log}


@pytest.fixture(scope="module")
def people(sso: dict[str, object], api_app_client: TestClient, admin_headers: dict[str, str]) -> dict[str, str]:
    """carbonflow users for the provider's accounts, linked as the module docstring says: {login: username}."""
    issuer = sso["issuer"]
    names = {}
    for person, role in (("alice", "enterprise"), ("bob", "technician"), ("eve", "auditor")):
        scope = {"enterprise": {"enterprise_id": "m-ent-b"}, "auditor": {"enterprises": ["m-ent-a"]}}.get(role, {})
        r = api_app_client.post("/api/v1/users", headers=admin_headers,
                                json={"username": unique(f"sso-{person}"), "role": role, **scope})
        assert r.status_code == 201, r.text
        names[person] = r.json()["username"]
    links = [{"username": names["alice"], "subject": "alice-0001", "issuer": issuer},
             {"username": names["bob"], "email": "Bob@Plant.example", "issuer": issuer},
             {"username": names["eve"], "email": "eve@elsewhere.example", "issuer": issuer}]
    for body in links:
        r = api_app_client.post("/api/v1/auth/sso/links", headers=admin_headers, json=body)
        assert r.status_code == 201, r.text
    return names


def _start(client: httpx.Client, api: str, person: str) -> str:
    """Start a login at the API and sign in at the provider: the callback URL the provider sends back."""
    r = client.get(f"{api}/api/v1/auth/sso/start")
    assert r.status_code == 302, r.text
    return authorize(client, r.headers["location"], login=person, password=PASSWORDS[person], until=api + CALLBACK)


def _handoff(r: httpx.Response) -> str:
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location.startswith("/#sso="), location
    return location.removeprefix("/#sso=")


def _sso_session(client: httpx.Client, api: str, person: str) -> dict[str, object]:
    handoff = _handoff(client.get(_start(client, api, person)))
    r = client.post(f"{api}/api/v1/auth/sso/exchange", json={"handoff": handoff})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def _audit(db: psycopg.Connection, action: str, actor: str | None = None) -> list[dict[str, object]]:
    rows = db.execute("SELECT actor, outcome, detail FROM audit_log WHERE action = %s AND (%s::text IS NULL OR"
                      " actor = %s) ORDER BY audit_id DESC LIMIT 20", (action, actor, actor)).fetchall()
    return [{"actor": a, "outcome": o, "detail": d} for a, o, d in rows]


# ------------------------------------------------------------------------------------------------ the flow


@pytest.mark.parametrize("client_name", ["rs256", "es256"])
def test_sso_login_gives_a_session_token_that_works_on_me(sso: dict[str, object], people: dict[str, str],
                                                          db: psycopg.Connection, client_name: str) -> None:
    api = str(sso[client_name])
    with httpx.Client() as browser:
        session = _sso_session(browser, api, "alice")
        me = httpx.get(f"{api}/api/v1/auth/me", headers={"Authorization": f"Bearer {session['token']}"})
    assert (me.status_code, me.json()["username"], me.json()["role"], session["token"][:4]) == (
        200, people["alice"], "enterprise", "cfs_")
    assert _audit(db, "auth.login", people["alice"])[0]["detail"] | {"session_id": 0} == {
        "method": "sso", "issuer": sso["issuer"], "subject": "alice-0001", "session_id": 0}


def test_sso_session_skips_the_forced_password_change_of_a_new_account(sso: dict[str, object],
                                                                       people: dict[str, str]) -> None:
    # alice's account was created by an administrator and never changed its one-time password
    with httpx.Client() as browser:
        token = _sso_session(browser, str(sso["rs256"]), "alice")["token"]
        r = httpx.get(f"{sso['rs256']}/api/v1/devices", headers={"Authorization": f"Bearer {token}"})
    assert (r.status_code, {d["device_id"] for d in r.json()["devices"]} & {"m-dev-a", "m-dev-b"}) == (200, {"m-dev-b"})


def test_verified_email_prelink_binds_to_the_subject_at_first_login(sso: dict[str, object], people: dict[str, str],
                                                                   db: psycopg.Connection) -> None:
    with httpx.Client() as browser:
        first = _sso_session(browser, str(sso["rs256"]), "bob")
    with httpx.Client() as browser:
        second = _sso_session(browser, str(sso["es256"]), "bob")
    link = db.execute("SELECT subject, bound_at IS NOT NULL FROM sso_links WHERE email = 'Bob@Plant.example'").fetchone()
    assert (first["username"], second["username"], link) == (people["bob"], people["bob"], ("bob-0002", True))
    assert len(_audit(db, "sso.link_bind", people["bob"])) == 1


def test_unlinked_subject_is_refused_with_a_message_and_audited(sso: dict[str, object], people: dict[str, str],
                                                               db: psycopg.Connection) -> None:
    with httpx.Client() as browser:
        r = browser.get(_start(browser, str(sso["rs256"]), "mallory"))
    assert (r.status_code, "no carbonflow account is linked" in r.json()["detail"]) == (403, True)
    assert _audit(db, "auth.login_failed")[0]["detail"] == {
        "method": "sso", "reason": "unlinked identity", "issuer": sso["issuer"], "subject": "mallory-0004",
        "email": "mallory@elsewhere.example"}


def test_unverified_email_does_not_use_an_email_prelink(sso: dict[str, object], people: dict[str, str],
                                                        db: psycopg.Connection) -> None:
    with httpx.Client() as browser:
        r = browser.get(_start(browser, str(sso["rs256"]), "eve"))
    bound = db.execute("SELECT subject FROM sso_links WHERE email = 'eve@elsewhere.example'").fetchone()
    assert (r.status_code, bound) == (403, (None,))


def test_bad_state_is_refused(sso: dict[str, object], people: dict[str, str]) -> None:
    with httpx.Client() as browser:
        callback = _start(browser, str(sso["rs256"]), "alice")
        r = browser.get(_with_query(callback, state="forged-" + "x" * 40))
    assert (r.status_code, r.json()["detail"]) == (
        400, "unknown or already used login state; start again at /api/v1/auth/sso/start")


def test_callback_url_works_once(sso: dict[str, object], people: dict[str, str]) -> None:
    with httpx.Client() as browser:
        callback = _start(browser, str(sso["rs256"]), "alice")
        first, again = browser.get(callback), browser.get(callback)
    assert (first.status_code, again.status_code, "already used" in again.json()["detail"]) == (303, 400, True)


def test_replayed_code_is_refused_by_the_provider(sso: dict[str, object], people: dict[str, str]) -> None:
    api = str(sso["rs256"])
    with httpx.Client() as browser:
        used = _start(browser, api, "alice")
        assert browser.get(used).status_code == 303
        fresh = _start(browser, api, "alice")
        # a new login of this browser (valid state and cookie) carrying the code that was spent already
        r = browser.get(_with_query(fresh, code=parse_qs(urlsplit(used).query)["code"][0]))
    assert (r.status_code, "refused the authorization code: invalid_grant" in r.json()["detail"]) == (401, True)


def test_callback_in_another_browser_is_refused(sso: dict[str, object], people: dict[str, str]) -> None:
    with httpx.Client() as browser:
        callback = _start(browser, str(sso["rs256"]), "alice")
    with httpx.Client() as other:  # no cookie of the browser that started the login: login CSRF
        r = other.get(callback)
    assert (r.status_code, "started in another browser" in r.json()["detail"]) == (400, True)


def test_handoff_code_works_once_and_only_in_its_browser(sso: dict[str, object], people: dict[str, str]) -> None:
    api = str(sso["rs256"])
    with httpx.Client() as browser:
        handoff = _handoff(browser.get(_start(browser, api, "alice")))
        stolen = httpx.post(f"{api}/api/v1/auth/sso/exchange", json={"handoff": handoff})
        first = browser.post(f"{api}/api/v1/auth/sso/exchange", json={"handoff": handoff})
        again = browser.post(f"{api}/api/v1/auth/sso/exchange", json={"handoff": handoff})
    # the stolen attempt spends the code, so not even its browser gets a session
    assert (stolen.status_code, first.status_code, again.status_code) == (400, 400, 400)
    assert "another browser" in stolen.json()["detail"]


def test_provider_error_answer_is_reported(sso: dict[str, object], people: dict[str, str]) -> None:
    with httpx.Client() as browser:
        callback = _start(browser, str(sso["rs256"]), "alice")
        state = parse_qs(urlsplit(callback).query)["state"][0]
        r = browser.get(f"{sso['rs256']}{CALLBACK}", params={"state": state, "error": "access_denied",
                                                             "error_description": "End-User aborted interaction"})
    assert (r.status_code, r.json()["detail"]) == (
        400, "the provider ended the login: access_denied (End-User aborted interaction)")


# --------------------------------------------------------------------------------- ID token verification


def _id_token_for(issuer: str, client_id: str, secret: str, redirect: str, nonce: str) -> str:
    """A real ID token from the provider for `client_id` (code flow done here, not by carbonflow)."""
    verifier, challenge = new_pkce_pair()
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect, "scope": "openid email",
                       "state": "s" * 20, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"})
    with httpx.Client() as browser:
        url = authorize(browser, f"{issuer}/auth?{query}", login="alice", password=PASSWORDS["alice"], until=redirect)
        code = parse_qs(urlsplit(url).query)["code"][0]
        r = browser.post(f"{issuer}/token", auth=(client_id, secret), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    return r.json()["id_token"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def real_tokens(sso: dict[str, object]) -> dict[str, object]:
    settings: dict[str, ApiSettings] = sso["settings"]  # type: ignore[assignment]
    redirect = settings["rs256"].oidc.redirect_url  # type: ignore[union-attr]
    issuer = str(sso["issuer"])
    return {"ours": _id_token_for(issuer, *CLIENTS["rs256"], redirect, nonce="n-ours"),
            "other": _id_token_for(issuer, *OTHER_APP, redirect, nonce="n-other"),
            "jwks": httpx.get(f"{issuer}/jwks").json(), "issuer": issuer}


def _verify(real_tokens: dict[str, object], token: str, **overrides: object) -> dict[str, object]:
    kwargs = {"jwks": real_tokens["jwks"], "issuer": real_tokens["issuer"], "client_id": CLIENTS["rs256"][0],
              "nonce": "n-ours"} | overrides
    return verify_id_token(token, **kwargs)  # type: ignore[arg-type]


def test_real_id_token_verifies(real_tokens: dict[str, object]) -> None:
    claims = _verify(real_tokens, str(real_tokens["ours"]))
    assert (claims["sub"], claims["aud"], claims["email"]) == ("alice-0001", "carbonflow-test", "alice@plant.example")


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "bob-0002"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(("case", "message"), [
    ("other-audience", "the ID token was issued for another client (audience is not 'carbonflow-test')"),
    ("tampered", "the ID token's signature does not verify with the provider's key"),
    ("expired", "the ID token has expired"),
    ("wrong-nonce", "the ID token's nonce does not match this login (replayed or injected token)"),
    ("other-issuer", "the ID token's issuer is not 'https://idp.example'"),
    ("unsigned", "the ID token is signed with 'none'; accepted: RS256, ES256"),
    ("unknown-key", "no key of the provider matches the ID token's key id 'test-rs256'"),
])
def test_bad_id_tokens_are_refused(real_tokens: dict[str, object], case: str, message: str) -> None:
    ours = str(real_tokens["ours"])
    token, overrides = {
        "other-audience": (str(real_tokens["other"]), {"nonce": "n-other"}),
        "tampered": (_tamper(ours), {}),
        "expired": (ours, {"now": time.time() + 7200}),
        "wrong-nonce": (ours, {"nonce": "n-someone-else"}),
        "other-issuer": (ours, {"issuer": "https://idp.example"}),
        "unsigned": (".".join((base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode(),
                               ours.split(".")[1], "")), {}),
        "unknown-key": (ours, {"jwks": {"keys": []}}),
    }[case]
    with pytest.raises(LoginRefused) as refused:
        _verify(real_tokens, token, **overrides)
    assert str(refused.value) == message


async def test_client_discovers_the_provider_and_refetches_keys_for_a_new_kid(sso: dict[str, object],
                                                                             real_tokens: dict[str, object]) -> None:
    settings: dict[str, ApiSettings] = sso["settings"]  # type: ignore[assignment]
    client = OidcClient(settings["rs256"].oidc)  # type: ignore[arg-type]
    metadata = await client.metadata()
    client._jwks = (time.monotonic(), {"keys": []})  # a stale cache from before a key rotation
    claims = await client.verify(str(real_tokens["ours"]), nonce="n-ours")
    assert (metadata.token_endpoint, metadata.id_token_algorithms, claims["sub"]) == (
        f"{sso['issuer']}/token", ("RS256", "ES256"), "alice-0001")


# ------------------------------------------------------------------------------------ configuration, admin


def test_status_says_whether_sso_is_configured(sso: dict[str, object], api_app_client: TestClient) -> None:
    on = httpx.get(f"{sso['rs256']}/api/v1/auth/sso/status").json()
    off = api_app_client.get("/api/v1/auth/sso/status").json()
    assert (on, off) == ({"enabled": True, "name": "Plant SSO", "start": "/api/v1/auth/sso/start"}, {"enabled": False})


def test_start_without_sso_configured_answers_404(api_app_client: TestClient) -> None:
    r = api_app_client.get("/api/v1/auth/sso/start", follow_redirects=False)
    assert (r.status_code, "not configured" in r.json()["detail"]) == (404, True)


_SSO_ENV = {"CARBONFLOW_OIDC_ISSUER": "https://idp.example/realms/plant", "CARBONFLOW_OIDC_CLIENT_ID": "carbonflow",
            "CARBONFLOW_OIDC_CLIENT_SECRET": "s3cret-from-the-idp-9d1",
            "CARBONFLOW_OIDC_REDIRECT_URL": "https://carbon.example/api/v1/auth/sso/callback"}


@pytest.mark.parametrize(("changes", "message"), [
    ({"CARBONFLOW_OIDC_ISSUER": "http://idp.example/realms/plant"}, "issuer must use https://"),
    ({"CARBONFLOW_OIDC_REDIRECT_URL": "http://carbon.example/api/v1/auth/sso/callback"},
     "redirect URL must use https://"),
    ({"CARBONFLOW_OIDC_REDIRECT_URL": "https://carbon.example/elsewhere"}, "must end in /api/v1/auth/sso/callback"),
    ({"CARBONFLOW_OIDC_CLIENT_SECRET": ""}, "needs CARBONFLOW_OIDC_CLIENT_SECRET as well"),
    ({"CARBONFLOW_OIDC_CLIENT_SECRET": "changeme"}, "the OIDC client secret is a placeholder"),
    ({"CARBONFLOW_OIDC_SCOPES": "email profile"}, "scopes must include 'openid'"),
], ids=["http-issuer", "http-redirect", "wrong-path", "partial", "placeholder", "no-openid"])
def test_bad_sso_settings_stop_the_api_with_a_message(changes: dict[str, str], message: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        load_api_settings(_SSO_ENV | changes)
    assert message in str(stopped.value)


def test_http_is_accepted_for_a_provider_on_loopback() -> None:
    settings = load_api_settings(_SSO_ENV | {"CARBONFLOW_OIDC_ISSUER": "http://127.0.0.1:9000",
                                             "CARBONFLOW_OIDC_REDIRECT_URL": "http://localhost:8000" + CALLBACK})
    assert settings.oidc is not None and settings.oidc.issuer == "http://127.0.0.1:9000"


def test_admin_links_and_unlinks_an_identity(sso: dict[str, object], api_app_client: TestClient,
                                             admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    name, _, _ = make_user(api_app_client, admin_headers, "technician")
    body = {"username": name, "subject": "carol-0005", "issuer": sso["issuer"]}
    made = api_app_client.post("/api/v1/auth/sso/links", headers=admin_headers, json=body)
    twice = api_app_client.post("/api/v1/auth/sso/links", headers=admin_headers, json=body)
    listed = api_app_client.get("/api/v1/auth/sso/links", headers=admin_headers, params={"username": name}).json()
    gone = api_app_client.delete(f"/api/v1/auth/sso/links/{made.json()['link_id']}", headers=admin_headers)
    again = api_app_client.delete(f"/api/v1/auth/sso/links/{made.json()['link_id']}", headers=admin_headers)
    assert (made.status_code, twice.status_code, [link["subject"] for link in listed["links"]], gone.status_code,
            again.status_code) == (201, 409, ["carol-0005"], 200, 404)
    assert [e["actor"] for e in _audit(db, "sso.link")][:1] == ["root"]
    assert _audit(db, "sso.unlink")[0]["outcome"] == "ok"


def test_link_needs_exactly_one_of_subject_and_email(api_app_client: TestClient, admin_headers: dict[str, str]) -> None:
    r = api_app_client.post("/api/v1/auth/sso/links", headers=admin_headers,
                            json={"username": "root", "subject": "x", "email": "x@y.z", "issuer": "https://i.example"})
    assert (r.status_code, "exactly one of 'subject' and 'email'" in json.dumps(r.json())) == (422, True)


def test_provider_log_has_no_errors(sso: dict[str, object], people: dict[str, str]) -> None:
    text = Path(str(sso["log"])).read_text(errors="replace")
    assert "Error" not in text.replace("WARNING", ""), text[-2000:]
