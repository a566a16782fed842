"""Login, password policy, lockout, TOTP, sessions, machine tokens and rate limits."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import security, throttle
from api.main import create_app
from api.settings import ApiSettings, load_api_settings
from tests.api.conftest import FAST, ROOT, ROOT_PASSWORD, login, make_user, new_password, unique

# ---------------------------------------------------------------------------------------------- password policy


_GUESSABLE = "too easy to guess (strength 1 of 4, at least 3 needed): "


@pytest.mark.parametrize(
    ("password", "username", "problem"),
    [
        ("Short-1a", "li.wei", "at least 12 characters (got 8)"),
        ("Li.Wei.2026.zj", "li.wei.2026.ZJ", "must not be the user name"),
        ("Aa1!" * 65, "li.wei", "at most 256 characters (got 260)"),
        ("Password1234", "li.wei", _GUESSABLE + "This is similar to a commonly used password. Add another word or two."
                                                " Uncommon words are better. Capitalization doesn't help very much."),
        ("Password123!", "li.wei", _GUESSABLE + "This is similar to a commonly used password. Add another word or two."
                                                " Uncommon words are better. Capitalization doesn't help very much."),
        ("aaaaaaaaaaA1", "li.wei", _GUESSABLE + 'Repeats like "aaa" are easy to guess. Add another word or two.'
                                                " Uncommon words are better. Avoid repeated words and characters."),
        ("qwertyuiop123", "li.wei", _GUESSABLE + "This is a very common password. Add another word or two."
                                                 " Uncommon words are better."),
        ("liweiliwei2026", "li.wei", _GUESSABLE + 'Repeats like "abcabcabc" are only slightly harder to guess than'
                                                  ' "abc". Add another word or two. Uncommon words are better.'
                                                  " Avoid repeated words and characters."),
        ("correct-Horse-battery", "li.wei", None),
        ("Plant-Zhejiang-2026", "li.wei", None),
        ("lower UPPER 12345", "li.wei", None),
        ("alllowercaseletters", "li.wei", None),
    ],
    ids=["too-short", "user-name", "too-long", "common-with-digits", "common-with-symbol", "repeats",
         "keyboard-row", "user-name-repeated", "words", "words-and-year", "spaces", "one-kind-but-long"],
)
def test_password_policy_refuses_guessable_passwords_saying_why(password: str, username: str,
                                                                problem: str | None) -> None:
    problems = security.password_problems(password, username=username)
    assert (problems[0] if problems else None) == problem


def test_generated_passwords_meet_the_policy() -> None:
    assert [p for p in (security.generate_password() for _ in range(200))
            if security.password_problems(p, username="x")] == []


def test_password_hash_is_scrypt_with_salt_and_parameters() -> None:
    first, second = security.hash_password("Same-password-1", n=2**14), security.hash_password("Same-password-1", n=2**14)
    assert (first.split("$")[:4], first != second, security.verify_password("Same-password-1", first),
            security.verify_password("Same-password-2", first)) == (["scrypt", "16384", "8", "1"], True, True, False)


@pytest.mark.parametrize(
    ("new", "why"),
    [("plant2026", "at least 12 characters"), ("Password123!", "similar to a commonly used password"),
     ("aaaaaaaaaaA1", 'Repeats like "aaa" are easy to guess')],
)
def test_weak_new_password_is_refused_saying_why(api_app_client: TestClient, admin_headers: dict, new: str,
                                                 why: str) -> None:
    _, password, headers = make_user(api_app_client, admin_headers, "technician")
    r = api_app_client.post("/api/v1/auth/password", headers=headers,
                            json={"current_password": password, "new_password": new})
    assert (r.status_code, why in r.json()["detail"]) == (422, True)


def test_the_last_five_passwords_cannot_be_reused(api_app_client: TestClient, admin_headers: dict) -> None:
    _, first, headers = make_user(api_app_client, admin_headers, "technician")

    def change(current: str, new: str) -> int:
        r = api_app_client.post("/api/v1/auth/password", headers=headers,
                                json={"current_password": current, "new_password": new})
        assert r.status_code in (200, 422), r.text
        return r.status_code

    history = [first] + [new_password() for _ in range(4)]
    for old, new in itertools.pairwise(history):
        assert change(old, new) == 200
    refused = [change(history[-1], old) for old in history]  # the current one and the four before it
    newest = new_password()
    assert change(history[-1], newest) == 200
    assert (refused, change(newest, first)) == ([422] * 5, 200)  # `first` has left the history of 5


def test_wrong_current_password_is_refused(api_app_client: TestClient, admin_headers: dict) -> None:
    _, _, headers = make_user(api_app_client, admin_headers, "technician")
    r = api_app_client.post("/api/v1/auth/password", headers=headers,
                            json={"current_password": "Not-my-password-1", "new_password": new_password()})
    assert (r.status_code, r.json()["detail"]) == (403, "current password is wrong")


def test_first_login_must_change_password_before_reading_data(api_app_client: TestClient, admin_headers: dict) -> None:
    name = unique("first")
    created = api_app_client.post("/api/v1/users", headers=admin_headers, json={"username": name, "role": "technician"})
    login_answer = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": created.json()["password"]})
    headers = {"Authorization": f"Bearer {login_answer.json()['token']}"}
    blocked = api_app_client.get("/api/v1/devices", headers=headers)
    me = api_app_client.get("/api/v1/auth/me", headers=headers).json()
    api_app_client.post("/api/v1/auth/password", headers=headers,
                        json={"current_password": created.json()["password"], "new_password": new_password()})
    after = api_app_client.get("/api/v1/devices", headers=headers)
    assert (login_answer.json()["must_change_password"], blocked.status_code, "password change required" in
            blocked.json()["detail"], me["must_change_password"], after.status_code) == (True, 403, True, True, 200)


def test_expired_password_must_be_changed(api_app_client: TestClient, admin_headers: dict, db: psycopg.Connection) -> None:
    name, password, _ = make_user(api_app_client, admin_headers, "technician")
    db.execute("UPDATE users SET password_changed_at = now() - interval '91 days' WHERE username = %s", (name,))
    r = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": password})
    blocked = api_app_client.get("/api/v1/live", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert (r.json()["must_change_password"], blocked.status_code) == (True, 403)


def test_password_expiry_is_configurable() -> None:
    assert (load_api_settings({"CARBONFLOW_PASSWORD_MAX_AGE_DAYS": "30"}).password_max_age.days,  # type: ignore[union-attr]
            load_api_settings({"CARBONFLOW_PASSWORD_MAX_AGE_DAYS": "0"}).password_max_age,
            load_api_settings({}).password_max_age.days) == (30, None, 90)  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------- login and lockout


def test_unknown_user_and_wrong_password_get_the_same_answer(api_app_client: TestClient, admin_headers: dict) -> None:
    name, _, _ = make_user(api_app_client, admin_headers, "technician")
    unknown = api_app_client.post("/api/v1/auth/login", json={"username": unique("nobody"), "password": "x"})
    wrong = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": "Wrong-password-1"})
    assert (unknown.status_code, unknown.json(), wrong.status_code, wrong.json()) == (
        401, {"detail": "invalid user name or password"}, 401, {"detail": "invalid user name or password"})


@pytest.fixture
def throttled_client(database_url: str, api_app_client: TestClient) -> Iterator[TestClient]:
    """An app whose logins are throttled after 3 failures, for 60 s at first; the test client's address is a
    trusted proxy, so that X-Forwarded-For names the client address of each request."""
    settings = ApiSettings(**FAST, rate_burst=100_000, anonymous_rate_burst=100_000, login_free_failures=3,
                           login_first_delay=timedelta(seconds=60), trusted_proxies=frozenset({"testclient"}))
    with TestClient(create_app(database_url, settings=settings)) as client:
        yield client


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _attempt(client: TestClient, username: str, password: str, address: str = "192.0.2.1") -> tuple[int, str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password}, headers=_from(address))
    # the seconds left differ by the time between two requests: the answer is the same otherwise
    detail = r.json()["detail"] if r.status_code != 200 else ""
    return r.status_code, re.sub(r"\d+", "N", detail), re.sub(r"\d+", "N", r.headers.get("retry-after", ""))


def _technician(client: TestClient) -> tuple[str, str]:
    name, password, _ = make_user(client, login(client, ROOT, ROOT_PASSWORD), "technician")
    return name, password


def test_known_and_unknown_user_names_get_the_same_answers_as_failures_grow(throttled_client: TestClient) -> None:
    name, _ = _technician(throttled_client)
    nobody = unique("nobody")
    known = [_attempt(throttled_client, name, f"Wrong-{i}-password") for i in range(5)]
    unknown = [_attempt(throttled_client, nobody, f"Wrong-{i}-password") for i in range(5)]
    assert known == unknown
    assert [status for status, _, _ in known] == [401, 401, 401, 429, 429]
    assert known[3][1:] == ("too many failed logins for this user name from your address; retry in N s", "N")


def test_an_unknown_user_name_costs_a_password_hash_like_a_known_one(
    throttled_client: TestClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, _ = _technician(throttled_client)
    hashed: list[str] = []
    real_verify = security.verify_password

    def counted(password: str, stored: str) -> bool:
        hashed.append(stored.split("$")[0])
        return real_verify(password, stored)

    monkeypatch.setattr(security, "verify_password", counted)
    _attempt(throttled_client, unique("nobody"), "Wrong-password-1")
    unknown = list(hashed)
    hashed.clear()
    _attempt(throttled_client, name, "Wrong-password-1")
    assert (unknown, hashed) == (["scrypt"], ["scrypt"])


def test_failed_logins_throttle_only_their_own_address_even_with_the_right_password(
    throttled_client: TestClient,
) -> None:
    name, password = _technician(throttled_client)
    for i in range(3):
        _attempt(throttled_client, name, f"Wrong-{i}-password", address="198.51.100.7")
    guesser_with_the_right_password = _attempt(throttled_client, name, password, address="198.51.100.7")[0]
    user_elsewhere = _attempt(throttled_client, name, password, address="203.0.113.9")[0]
    assert (guesser_with_the_right_password, user_elsewhere) == (429, 200)


def test_the_delay_doubles_with_each_failure_after_the_free_ones(
    throttled_client: TestClient, db: psycopg.Connection,
) -> None:
    name = unique("nobody")
    waits = []
    for i in range(6):
        status = _attempt(throttled_client, name, f"Wrong-{i}-password")[0]
        blocked = db.execute("SELECT extract(epoch FROM blocked_until - last_failed_at) FROM login_throttle"
                             " WHERE username = %s", (name,)).fetchone()[0]  # type: ignore[index]
        waits.append((status, None if blocked is None else round(blocked)))
        # let the delay pass, so that the next attempt is judged again
        db.execute("UPDATE login_throttle SET blocked_until = now() - interval '1 second' WHERE username = %s"
                   " AND blocked_until IS NOT NULL", (name,))
    assert waits == [(401, None), (401, None), (401, 60), (401, 120), (401, 240), (401, 480)]


@pytest.mark.parametrize(
    ("failures", "delay_s"),
    [(1, 0), (4, 0), (5, 1), (6, 2), (7, 4), (14, 512), (15, 900), (1000, 900)],
)
def test_login_delay_grows_exponentially_up_to_its_cap(failures: int, delay_s: int) -> None:
    delay = throttle.login_delay(failures, free=5, first=timedelta(seconds=1), longest=timedelta(minutes=15))
    assert delay.total_seconds() == delay_s


def test_login_works_again_once_the_delay_has_passed_and_forgets_the_failures(
    throttled_client: TestClient, db: psycopg.Connection,
) -> None:
    name, password = _technician(throttled_client)
    for i in range(3):
        _attempt(throttled_client, name, f"Wrong-{i}-password")
    db.execute("UPDATE login_throttle SET blocked_until = now() - interval '1 second' WHERE username = %s", (name,))
    status = _attempt(throttled_client, name, password)[0]
    left = db.execute("SELECT count(*) FROM login_throttle WHERE username = %s", (name,)).fetchone()[0]  # type: ignore[index]
    assert (status, left) == (200, 0)


def test_admin_reset_forgets_failed_logins_and_forces_a_change(throttled_client: TestClient) -> None:
    name, _ = _technician(throttled_client)
    for i in range(4):
        _attempt(throttled_client, name, f"Wrong-{i}-password")
    reset = throttled_client.post(f"/api/v1/users/{name}/password", headers=login(throttled_client, ROOT, ROOT_PASSWORD),
                                  json={})
    r = throttled_client.post("/api/v1/auth/login", json={"username": name, "password": reset.json()["password"]},
                              headers=_from("192.0.2.1"))
    assert (r.status_code, r.json()["must_change_password"]) == (200, True)


def test_the_old_lockout_settings_are_refused_naming_their_replacement() -> None:
    with pytest.raises(SystemExit, match="CARBONFLOW_LOGIN_MAX_DELAY_MINUTES"):
        load_api_settings({"CARBONFLOW_LOCKOUT_MINUTES": "15"})
    settings = load_api_settings({"CARBONFLOW_LOGIN_FREE_FAILURES": "3", "CARBONFLOW_LOGIN_MAX_DELAY_MINUTES": "60"})
    assert (settings.login_free_failures, settings.login_max_delay) == (3, timedelta(hours=1))


def test_disabled_user_cannot_log_in_and_its_sessions_end(api_app_client: TestClient, admin_headers: dict) -> None:
    name, password, headers = make_user(api_app_client, admin_headers, "technician")
    api_app_client.post(f"/api/v1/users/{name}/disable", headers=admin_headers)
    session = api_app_client.get("/api/v1/devices", headers=headers)
    refused = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": password})
    api_app_client.post(f"/api/v1/users/{name}/enable", headers=admin_headers)
    again = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": password})
    assert (session.status_code, refused.status_code, refused.json()["detail"], again.status_code) == (
        401, 403, "account disabled; ask an administrator", 200)


# ---------------------------------------------------------------------------------------------- sessions


def test_logout_ends_the_session(api_app_client: TestClient, admin_headers: dict) -> None:
    name, password, _ = make_user(api_app_client, admin_headers, "technician")
    headers = login(api_app_client, name, password)
    out = api_app_client.post("/api/v1/auth/logout", headers=headers)
    after = api_app_client.get("/api/v1/devices", headers=headers)
    assert (out.status_code, after.status_code, "revoked" in after.json()["detail"]) == (200, 401, True)


def test_expired_session_is_refused(api_app_client: TestClient, admin_headers: dict, db: psycopg.Connection) -> None:
    name, password, _ = make_user(api_app_client, admin_headers, "technician")
    headers = login(api_app_client, name, password)
    db.execute("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
               (security.token_digest(headers["Authorization"].removeprefix("Bearer ")),))
    r = api_app_client.get("/api/v1/devices", headers=headers)
    assert (r.status_code, "expired" in r.json()["detail"]) == (401, True)


def test_session_lifetime_comes_from_the_settings(api_app_client: TestClient, admin_headers: dict,
                                                  db: psycopg.Connection) -> None:
    name, password, _ = make_user(api_app_client, admin_headers, "technician")
    r = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": password})
    hours = db.execute("SELECT extract(epoch FROM expires_at - created_at) / 3600 FROM sessions WHERE token_hash = %s",
                       (security.token_digest(r.json()["token"]),)).fetchone()[0]
    assert round(hours) == 8


def test_tokens_are_stored_only_as_hashes(api_app_client: TestClient, admin_headers: dict,
                                          db: psycopg.Connection) -> None:
    token = admin_headers["Authorization"].removeprefix("Bearer ")
    stored = db.execute("SELECT count(*) FROM sessions WHERE token_hash = %s", (security.token_digest(token),)).fetchone()
    plain = db.execute("SELECT count(*) FROM sessions WHERE encode(token_hash, 'escape') LIKE %s",
                       (f"%{token}%",)).fetchone()
    assert (stored, plain) == ((1,), (0,))


@pytest.mark.parametrize("header", ["Bearer cfs_not-a-real-token", "Bearer garbage", "Basic cm9vdDpyb290"])
def test_invalid_bearer_tokens_get_401(api_app_client: TestClient, header: str) -> None:
    r = api_app_client.get("/api/v1/live", headers={"Authorization": header})
    assert (r.status_code, bool(r.json()["detail"])) == (401, True)


# ---------------------------------------------------------------------------------------------- TOTP


# RFC 6238 appendix B: seeds are the ASCII digits repeated to the hash's block size, 8-digit codes
RFC6238_KEYS = {"sha1": b"12345678901234567890", "sha256": b"12345678901234567890123456789012",
                "sha512": b"1234567890123456789012345678901234567890123456789012345678901234"}


@pytest.mark.parametrize(
    ("unix_time", "algorithm", "code"),
    [
        (59, "sha1", "94287082"), (59, "sha256", "46119246"), (59, "sha512", "90693936"),
        (1111111109, "sha1", "07081804"), (1111111109, "sha256", "68084774"), (1111111109, "sha512", "25091201"),
        (1111111111, "sha1", "14050471"), (1111111111, "sha256", "67062674"), (1111111111, "sha512", "99943326"),
        (1234567890, "sha1", "89005924"), (1234567890, "sha256", "91819424"), (1234567890, "sha512", "93441116"),
        (2000000000, "sha1", "69279037"), (2000000000, "sha256", "90698825"), (2000000000, "sha512", "38618901"),
        (20000000000, "sha1", "65353130"), (20000000000, "sha256", "77737706"), (20000000000, "sha512", "47863826"),
    ],
)
def test_totp_matches_rfc6238_test_vectors(unix_time: int, algorithm: str, code: str) -> None:
    assert security.totp(RFC6238_KEYS[algorithm], unix_time, digits=8, algorithm=algorithm) == code


def test_totp_accepts_one_step_of_clock_drift_and_refuses_replay() -> None:
    secret = security.new_totp_secret()
    key = security._secret_bytes(secret)
    now = 1_800_000_015.0
    code = security.totp(key, now)
    assert (security.match_totp(secret, security.totp(key, now - 30), now, last_step=None),
            security.match_totp(secret, security.totp(key, now + 30), now, last_step=None),
            security.match_totp(secret, security.totp(key, now - 60), now, last_step=None),
            security.match_totp(secret, code, now, last_step=None),
            security.match_totp(secret, code, now, last_step=60_000_000)) == (
        59_999_999, 60_000_001, None, 60_000_000, None)


def test_totp_enrolment_then_login_needs_a_fresh_code(api_app_client: TestClient, admin_headers: dict) -> None:
    name, password, headers = make_user(api_app_client, admin_headers, "government", region="CN-ZJ")
    enrol = api_app_client.post("/api/v1/auth/totp/enroll", headers=headers).json()
    key = security._secret_bytes(enrol["secret"])
    wrong_confirm = api_app_client.post("/api/v1/auth/totp/confirm", headers=headers,
                                        json={"code": str((int(security.totp(key, time.time())) + 1) % 10**6).zfill(6)})
    confirm = api_app_client.post("/api/v1/auth/totp/confirm", headers=headers,
                                  json={"code": security.totp(key, time.time())})
    without = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": password})
    wrong = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": password, "totp": "000000"
                                                            if security.totp(key, time.time()) != "000000" else "111111"})
    code = security.totp(key, time.time() + 30)  # the next step: newer than the one used to confirm
    good = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": password, "totp": code})
    replay = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": password, "totp": code})
    assert enrol["otpauth_uri"].startswith(f"otpauth://totp/carbonflow%3A{name}?secret={enrol['secret']}&issuer=carbonflow")
    assert (wrong_confirm.status_code, confirm.status_code, without.status_code, without.headers.get("x-carbonflow-totp"),
            wrong.status_code, good.status_code, replay.status_code) == (422, 200, 401, "required", 401, 200, 401)


def test_totp_cannot_be_enrolled_twice_but_an_admin_can_reset_it(api_app_client: TestClient,
                                                                  admin_headers: dict) -> None:
    name, password, headers = make_user(api_app_client, admin_headers, "technician")
    secret = api_app_client.post("/api/v1/auth/totp/enroll", headers=headers).json()["secret"]
    api_app_client.post("/api/v1/auth/totp/confirm", headers=headers,
                        json={"code": security.totp(security._secret_bytes(secret), time.time())})
    again = api_app_client.post("/api/v1/auth/totp/enroll", headers=headers)
    reset = api_app_client.delete(f"/api/v1/users/{name}/totp", headers=admin_headers)
    plain = api_app_client.post("/api/v1/auth/login", json={"username": name, "password": password})
    assert (again.status_code, reset.json()["totp_enabled"], plain.status_code) == (409, False, 200)


# ---------------------------------------------------------------------------------------------- machine tokens


def test_machine_token_is_shown_once_scoped_and_limited_to_its_owner_scope(
    api_app_client: TestClient, admin_headers: dict, db: psycopg.Connection
) -> None:
    _, _, headers = make_user(api_app_client, admin_headers, "enterprise", enterprise_id="m-ent-b")
    created = api_app_client.post("/api/v1/auth/tokens", headers=headers,
                                  json={"name": "ERP export", "scopes": ["devices"], "expires_in_days": 30})
    token = created.json()["token"]
    machine = {"Authorization": f"Bearer {token}"}
    devices = api_app_client.get("/api/v1/devices", headers=machine).json()["devices"]
    live = api_app_client.get("/api/v1/live", headers=machine)
    listed = api_app_client.get("/api/v1/auth/tokens", headers=headers).json()["tokens"]
    stored = db.execute("SELECT token_hash FROM api_tokens WHERE token_id = %s", (created.json()["token_id"],)).fetchone()
    assert (created.status_code, token.startswith("cft_"), {d["device_id"] for d in devices if d["device_id"].startswith("m-")},
            live.status_code, "lacks the 'live' scope" in live.json()["detail"], "token" in listed[0],
            stored[0] == security.token_digest(token)) == (201, True, {"m-dev-b"}, 403, True, False, True)


def test_machine_token_cannot_manage_credentials(api_app_client: TestClient, admin_headers: dict) -> None:
    token = api_app_client.post("/api/v1/auth/tokens", headers=admin_headers,
                                json={"name": "bot", "scopes": ["users", "devices"]}).json()["token"]
    machine = {"Authorization": f"Bearer {token}"}
    minted = api_app_client.post("/api/v1/auth/tokens", headers=machine, json={"name": "child", "scopes": ["devices"]})
    users = api_app_client.get("/api/v1/users", headers=machine)
    assert (minted.status_code, "interactive session" in minted.json()["detail"], users.status_code) == (403, True, 200)


def test_token_scopes_must_lie_within_the_role(api_app_client: TestClient, admin_headers: dict) -> None:
    _, _, headers = make_user(api_app_client, admin_headers, "enterprise", enterprise_id="m-ent-b")
    r = api_app_client.post("/api/v1/auth/tokens", headers=headers, json={"name": "x", "scopes": ["audit"]})
    assert (r.status_code, "not available to role 'enterprise'" in r.json()["detail"]) == (422, True)


def test_expired_and_revoked_machine_tokens_are_refused(api_app_client: TestClient, admin_headers: dict,
                                                        db: psycopg.Connection) -> None:
    def new() -> tuple[int, dict[str, str]]:
        body = api_app_client.post("/api/v1/auth/tokens", headers=admin_headers,
                                   json={"name": "t", "scopes": ["live"], "expires_in_days": 1}).json()
        return body["token_id"], {"Authorization": f"Bearer {body['token']}"}

    expired_id, expired = new()
    revoked_id, revoked = new()
    fine = api_app_client.get("/api/v1/live", headers=expired).status_code
    db.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE token_id = %s", (expired_id,))
    api_app_client.delete(f"/api/v1/auth/tokens/{revoked_id}", headers=admin_headers)
    a, b = api_app_client.get("/api/v1/live", headers=expired), api_app_client.get("/api/v1/live", headers=revoked)
    assert (fine, a.status_code, "expired" in a.json()["detail"], b.status_code, "revoked" in b.json()["detail"]) == (
        200, 401, True, 401, True)


def test_revoking_someone_elses_token_is_404(api_app_client: TestClient, admin_headers: dict) -> None:
    token_id = api_app_client.post("/api/v1/auth/tokens", headers=admin_headers,
                                   json={"name": "mine", "scopes": ["live"]}).json()["token_id"]
    _, _, other = make_user(api_app_client, admin_headers, "technician")
    assert api_app_client.delete(f"/api/v1/auth/tokens/{token_id}", headers=other).status_code == 404


def _machine_token(client: TestClient, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    body = client.post("/api/v1/auth/tokens", headers=headers, json={"name": "erp", "scopes": ["devices"]}).json()
    return body["token_id"], {"Authorization": f"Bearer {body['token']}"}


def test_a_password_change_revokes_machine_tokens_and_other_sessions_and_keeps_its_own(
    api_app_client: TestClient, admin_headers: dict,
) -> None:
    name, password, headers = make_user(api_app_client, admin_headers, "technician")
    _, machine = _machine_token(api_app_client, headers)
    other = login(api_app_client, name, password)
    changed = api_app_client.post("/api/v1/auth/password", headers=headers,
                                  json={"current_password": password, "new_password": new_password()})
    token_after, other_after = (api_app_client.get("/api/v1/devices", headers=h) for h in (machine, other))
    own_after = api_app_client.get("/api/v1/devices", headers=headers)
    assert (changed.status_code, token_after.status_code, "revoked" in token_after.json()["detail"],
            other_after.status_code, own_after.status_code) == (200, 401, True, 401, 200)


def test_an_admin_reset_revokes_the_users_machine_tokens(api_app_client: TestClient, admin_headers: dict) -> None:
    name, _, headers = make_user(api_app_client, admin_headers, "technician")
    _, machine = _machine_token(api_app_client, headers)
    before = api_app_client.get("/api/v1/devices", headers=machine).status_code
    api_app_client.post(f"/api/v1/users/{name}/password", headers=admin_headers, json={})
    after = api_app_client.get("/api/v1/devices", headers=machine)
    assert (before, after.status_code, "revoked" in after.json()["detail"]) == (200, 401, True)


@pytest.mark.parametrize(
    "due",
    ["password_changed_at = now() - interval '91 days'", "must_change_password = true"],
    ids=["expired", "must-change"],
)
def test_machine_tokens_are_refused_while_the_owners_password_must_change(
    api_app_client: TestClient, admin_headers: dict, db: psycopg.Connection, due: str,
) -> None:
    name, _, headers = make_user(api_app_client, admin_headers, "technician")
    _, machine = _machine_token(api_app_client, headers)
    db.execute(f"UPDATE users SET {due} WHERE username = %s", (name,))
    refused = api_app_client.get("/api/v1/devices", headers=machine)
    me = api_app_client.get("/api/v1/auth/me", headers=machine)  # what is wrong can still be asked
    assert (refused.status_code, "must be changed" in refused.json()["detail"], me.json()["must_change_password"]) == (
        403, True, True)


def test_tokens_not_made_by_password_login_outlive_a_password_change(
    api_app_client: TestClient, admin_headers: dict, db: psycopg.Connection,
) -> None:
    _, password, headers = make_user(api_app_client, admin_headers, "technician")
    token_id, machine = _machine_token(api_app_client, headers)
    db.execute("UPDATE api_tokens SET auth_method = 'sso' WHERE token_id = %s", (token_id,))
    api_app_client.post("/api/v1/auth/password", headers=headers,
                        json={"current_password": password, "new_password": new_password()})
    assert api_app_client.get("/api/v1/devices", headers=machine).status_code == 200


def test_a_token_made_in_a_session_remembers_how_its_owner_logged_in(
    api_app_client: TestClient, admin_headers: dict, db: psycopg.Connection,
) -> None:
    token_id, _ = _machine_token(api_app_client, admin_headers)
    method = db.execute("SELECT auth_method FROM api_tokens WHERE token_id = %s", (token_id,)).fetchone()
    assert method == ("password",)


# ---------------------------------------------------------------------------------------------- rate limits


@pytest.fixture
def tight_client(database_url: str, api_app_client: TestClient) -> Iterator[TestClient]:
    settings = ApiSettings(**FAST, rate_per_s=0.01, rate_burst=3, anonymous_rate_per_s=0.01, anonymous_rate_burst=4)
    with TestClient(create_app(database_url, settings=settings)) as client:
        yield client


def test_rate_limit_per_user_answers_429_with_retry_after(tight_client: TestClient) -> None:
    from tests.api.conftest import ROOT, ROOT_PASSWORD

    headers = login(tight_client, ROOT, ROOT_PASSWORD)  # anonymous bucket: 1 of 4
    statuses = [tight_client.get("/api/v1/devices", headers=headers).status_code for _ in range(4)]
    limited = tight_client.get("/api/v1/devices", headers=headers)
    assert (statuses, limited.status_code, int(limited.headers["retry-after"]) > 0,
            "rate limit exceeded" in limited.json()["detail"]) == ([200, 200, 200, 429], 429, True, True)


def test_rate_limit_is_per_token(tight_client: TestClient) -> None:
    from tests.api.conftest import ROOT, ROOT_PASSWORD

    headers = login(tight_client, ROOT, ROOT_PASSWORD)
    token = tight_client.post("/api/v1/auth/tokens", headers=headers, json={"name": "rl", "scopes": ["live"]}).json()
    machine = {"Authorization": f"Bearer {token['token']}"}
    statuses = [tight_client.get("/api/v1/live", headers=machine).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_anonymous_requests_are_limited_per_address(tight_client: TestClient) -> None:
    statuses = [tight_client.post("/api/v1/auth/login", json={"username": unique("x"), "password": "x"}).status_code
                for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]


@pytest.mark.parametrize("header", ["Bearer cfs_not-a-real-token", "Bearer cft_not-a-real-token", "Bearer garbage"])
def test_invalid_bearer_tokens_spend_the_address_limit(tight_client: TestClient, header: str) -> None:
    statuses = [tight_client.get("/api/v1/devices", headers={"Authorization": header}).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]


def test_invalid_stream_tickets_spend_the_address_limit(tight_client: TestClient) -> None:
    statuses = [tight_client.get("/api/v1/live/stream", params={"ticket": "cfst_made-up"}).status_code
                for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]


# ---------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"username": "root"}, "password"),
        ({"username": "root", "password": "x", "role": "admin"}, "Extra inputs"),
        ({"username": "root", "password": "x", "totp": "12ab56"}, "totp"),
        ({"username": "", "password": "x"}, "username"),
        ({"username": "r" * 200, "password": "x"}, "username"),
    ],
    ids=["no-password", "unknown-key", "bad-totp", "empty-name", "long-name"],
)
def test_bad_login_bodies_get_422_with_a_message(api_app_client: TestClient, body: dict, message: str) -> None:
    r = api_app_client.post("/api/v1/auth/login", json=body)
    assert (r.status_code, message in r.text) == (422, True)


def test_a_422_echoes_only_an_excerpt_of_a_huge_input(api_app_client: TestClient) -> None:
    r = api_app_client.post("/api/v1/auth/login", json={"username": "u" * 2**20, "password": "x"})
    echoed = r.json()["detail"][0]["input"]
    assert (r.status_code, len(r.content) < 2_000, echoed) == (422, True, "u" * 100 + "... (1,048,576 characters)")


def test_a_422_for_a_missing_field_echoes_the_body_cut_short(api_app_client: TestClient) -> None:
    r = api_app_client.post("/api/v1/auth/login", json={"username": "u" * 2**20, **{f"k{i}": i for i in range(50)}})
    missing = next(e for e in r.json()["detail"] if e["type"] == "missing")
    assert (r.status_code, len(r.content) < 8_000, len(missing["input"]), missing["input"]["..."]) == (
        422, True, 11, "41 more keys")


def test_login_with_malformed_json_gets_422(api_app_client: TestClient) -> None:
    r = api_app_client.post("/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422


def test_a_login_does_not_hold_a_database_connection_while_the_password_is_hashed(
    database_url: str, api_app_client: TestClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.api.conftest import ROOT, ROOT_PASSWORD

    settings = ApiSettings(**FAST, db_pool_max=1, rate_burst=100_000, anonymous_rate_burst=100_000)
    with TestClient(create_app(database_url, settings=settings)) as client:
        headers = login(client, ROOT, ROOT_PASSWORD)
        hashing, release = threading.Event(), threading.Event()
        released_in_time: list[bool] = []
        real_verify = security.verify_password

        def slow_verify(password: str, stored: str) -> bool:
            hashing.set()
            released_in_time.append(release.wait(timeout=10))  # the hash goes on until the other request is done
            return real_verify(password, stored)

        monkeypatch.setattr(security, "verify_password", slow_verify)
        answers: list[int] = []
        logging_in = threading.Thread(target=lambda: answers.append(client.post(
            "/api/v1/auth/login", json={"username": ROOT, "password": ROOT_PASSWORD}).status_code))
        logging_in.start()
        try:
            assert hashing.wait(timeout=10)
            # the pool's only connection is free while the login hashes
            other = client.get("/api/v1/auth/me", headers=headers)
        finally:
            release.set()
            logging_in.join(timeout=30)
    assert (other.status_code, other.json()["username"], answers, released_in_time) == (200, ROOT, [200], [True])

