"""The carbon-asset alarms (api/assets/alarms.py, docs/projects.md "Alarms"): a projected allowance deficit and a
deadline inside its reminder window raise platform alarms about the enterprise, which its users and the government
users of its region see in the alarms list and other enterprises do not; they clear when their cause is gone, and
checking again never duplicates them. The check runs from POST /api/v1/assets/alarms/check (audited) and
`carbonflow assets alarms --once`.

Each test makes its own enterprises (prefix ``aa-``), so that the allowances and emissions of other tests do not
change its figures; the session database is shared, so assertions look only at these enterprises' alarms."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict

from api.assets.alarms import TZ, check_asset_alarms
from carbonflow.cli import main
from tests.api.conftest import make_user, unique

CHECK = "/api/v1/assets/alarms/check"
DEADLINES = "/api/v1/assets/deadlines"
YEAR = datetime.now(TZ).year


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture(scope="module")
def government(api_app_client: TestClient, admin_headers: dict[str, str]) -> dict[str, dict[str, str]]:
    """Government users of CN-ZJ (whose sub-region CN-ZJ-HZ the test enterprises are in) and of CN-GD."""
    return {"zj": make_user(api_app_client, admin_headers, "government", region="CN-ZJ")[2],
            "gd": make_user(api_app_client, admin_headers, "government", region="CN-GD")[2]}


@pytest.fixture
def enterprise(database_url: str, api_app_client: TestClient,
               admin_headers: dict[str, str]) -> Callable[..., tuple[str, dict[str, str]]]:
    """Make an enterprise (with a site when asked) and its user: (enterprise_id, the user's headers)."""

    def make(region: str = "CN-ZJ-HZ", *, site: bool = False) -> tuple[str, dict[str, str]]:
        enterprise_id = unique("aa-ent")
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, %s, %s)",
                         (enterprise_id, f"测试企业 {enterprise_id}", region))
            if site:
                conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Works')",
                             (f"{enterprise_id}-site", enterprise_id))
        return enterprise_id, make_user(api_app_client, admin_headers, "enterprise", enterprise_id=enterprise_id)[2]

    return make


def _allocate(client: TestClient, headers: dict[str, str], enterprise_id: str, amount: float, year: int = YEAR) -> None:
    _ok(client.put(f"/api/v1/assets/{enterprise_id}/allowances/{year}", headers=headers,
                   json={"method": "entered", "amount": amount}), 201)


def _months(client: TestClient, headers: dict[str, str], enterprise_id: str, months: dict[int, float]) -> None:
    for month, tco2 in months.items():
        _ok(client.put(f"/api/v1/assets/{enterprise_id}/emissions/{YEAR}", headers=headers,
                       params={"month": month}, json={"tco2": tco2}))


def _buy(client: TestClient, headers: dict[str, str], enterprise_id: str, instrument: str, quantity: float) -> None:
    _ok(client.post(f"/api/v1/assets/{enterprise_id}/transactions", headers=headers,
                    json={"kind": "buy", "instrument": instrument, "vintage": YEAR, "quantity": quantity,
                          "price": 80, "counterparty": "exchange"}), 201)


def _alarms(client: TestClient, headers: dict[str, str], rule: str, *, state: str = "active",
            about: str | None = None) -> list[dict[str, Any]]:
    listed = _ok(client.get("/api/v1/alarms", headers=headers, params={"rule": rule, "state": state, "limit": 1000}))
    return [a for a in listed["alarms"] if about is None or a["device_id"].startswith(about)]


# (allowances of the year, monthly tCO2, CCER bought, deficit projected?): one recorded month of 50 t projects
# 600 t for the year; offsets count up to 5 % of it (30 t)
DEFICIT_CASES = [
    ("short of allowances", 100.0, {1: 50.0}, 0.0, True),
    ("allowances just cover the projection", 600.0, {1: 50.0}, 0.0, False),
    ("offsets within the cap close the gap", 580.0, {1: 50.0}, 30.0, False),
    ("offsets beyond the cap do not count", 560.0, {1: 50.0}, 100.0, True),
    ("no month recorded yet: nothing to project", 1.0, {}, 0.0, False),
    ("two months at a higher run rate", 1000.0, {1: 60.0, 2: 120.0}, 0.0, True),
]


@pytest.mark.parametrize(("case", "allowances", "months", "ccer", "deficit"), DEFICIT_CASES,
                         ids=[c[0] for c in DEFICIT_CASES])
def test_a_deficit_alarm_fires_exactly_when_the_compliance_projection_shows_one(
        api_app_client: TestClient, admin_headers: dict[str, str], government: dict[str, dict[str, str]],
        enterprise: Callable[..., tuple[str, dict[str, str]]], case: str, allowances: float,
        months: dict[int, float], ccer: float, deficit: bool) -> None:
    c = api_app_client
    enterprise_id, owner = enterprise()
    _allocate(c, government["zj"], enterprise_id, allowances)
    _months(c, owner, enterprise_id, months)
    if ccer:
        _buy(c, owner, enterprise_id, "ccer", ccer)
    checked = _ok(c.post(CHECK, headers=government["zj"]))
    projection = _ok(c.get(f"/api/v1/assets/{enterprise_id}/compliance/{YEAR}", headers=owner))["projection"]
    subject = f"assets_deficit:{enterprise_id}:{YEAR}"
    assert ((subject in checked["deficits"]), len(_alarms(c, owner, "deficit_projected", about=subject))) == (
        deficit, 1 if deficit else 0)
    assert deficit == (projection is not None and projection["deficit_projected"])


def test_a_projected_deficit_is_seen_by_the_enterprise_and_its_region_and_clears_when_allowances_are_raised(
        api_app_client: TestClient, admin_headers: dict[str, str], government: dict[str, dict[str, str]],
        enterprise: Callable[..., tuple[str, dict[str, str]]]) -> None:
    c = api_app_client
    short, owner = enterprise()  # no site: the alarm reaches its user through the enterprise itself
    _other, other_owner = enterprise(site=True)
    _allocate(c, government["zj"], short, 100.0)
    _months(c, owner, short, {1: 50.0, 2: 50.0})
    subject = f"assets_deficit:{short}:{YEAR}"

    _ok(c.post(CHECK, headers=admin_headers))
    _ok(c.post(CHECK, headers=government["zj"]))  # again: still the one alarm
    seen = {who: _alarms(c, headers, "deficit_projected", about=subject)
            for who, headers in (("owner", owner), ("government", government["zj"]), ("admin", admin_headers),
                                 ("other enterprise", other_owner), ("other region", government["gd"]))}
    assert {who: len(alarms) for who, alarms in seen.items()} == {
        "owner": 1, "government": 1, "admin": 1, "other enterprise": 0, "other region": 0}
    [alarm] = seen["owner"]
    assert (alarm["enterprise_id"], alarm["source"], alarm["site_id"], alarm["severity"]) == (
        short, "platform", None, "warning")
    # the detail gives the figures of the projection: 600 t projected against 100 t, a 500 t gap
    assert all(figure in alarm["detail"] for figure in ("600.0", "100.0", "500.0", "预计配额缺口", "deficit"))
    assert len(_alarms(c, admin_headers, "deficit_projected", state="all", about=subject)) == 1

    # the enterprise acknowledges its own alarm; another enterprise cannot reach it
    assert c.post(f"/api/v1/alarms/{alarm['alarm_id']}/acknowledge", headers=other_owner).status_code == 404
    assert _ok(c.post(f"/api/v1/alarms/{alarm['alarm_id']}/acknowledge", headers=owner))["acknowledged_at"]

    _buy(c, owner, short, "allowance", 500.0)
    checked = _ok(c.post(CHECK, headers=government["zj"]))
    assert subject in checked["cleared"] and subject not in checked["deficits"]
    assert _alarms(c, owner, "deficit_projected", about=subject) == []
    [cleared] = _alarms(c, owner, "deficit_projected", state="all", about=subject)
    assert (cleared["alarm_id"], cleared["state"], cleared["cleared_by"]) == (alarm["alarm_id"], "cleared", None)

    entries = _ok(c.get("/api/v1/audit", headers=admin_headers, params={"action": "assets.alarms.check",
                                                                         "limit": 200}))["entries"]
    assert any(subject in e["detail"]["cleared"] for e in entries)


def test_only_government_users_and_administrators_run_the_check(
        api_app_client: TestClient, role_headers: dict[str, dict[str, str]]) -> None:
    for role, status in (("enterprise", 403), ("auditor", 403), ("technician", 403), ("anonymous", 401),
                         ("government", 200), ("admin", 200)):
        assert api_app_client.post(CHECK, headers=role_headers[role]).status_code == status, role


def _deadline(client: TestClient, headers: dict[str, str], title: str, due_on: date, *, region: str | None,
              remind_days: int = 30) -> int:
    body = {"kind": "compliance", "title": title, "due_on": str(due_on), "remind_days": remind_days,
            **({"region": region} if region else {})}
    return int(_ok(client.post(DEADLINES, headers=headers, json=body), 201)["deadline_id"])


def test_a_deadline_in_its_reminder_window_raises_a_reminder_per_enterprise_it_applies_to(
        api_app_client: TestClient, admin_headers: dict[str, str], government: dict[str, dict[str, str]],
        enterprise: Callable[..., tuple[str, dict[str, str]]]) -> None:
    c, admin = api_app_client, admin_headers
    today = datetime.now(TZ).date()
    hz, hz_owner = enterprise("CN-ZJ-HZ")
    gd, gd_owner = enterprise("CN-GD")
    no_allowances, _ = enterprise("CN-ZJ-HZ")
    _allocate(c, government["zj"], hz, 1000.0)
    _allocate(c, government["gd"], gd, 1000.0, year=YEAR - 1)  # any year's allowances make it a holder
    # (title, due in days, remind days, region): which enterprises get a reminder, and how urgent
    cases = {
        "soon": (5, 30, "CN-ZJ"),  # in the window, 5 days left: warning
        "window opens": (20, 20, "CN-ZJ-HZ"),  # the window's first day: info
        "later": (60, 30, "CN-ZJ"),  # before the window
        "passed": (-1, 30, "CN-ZJ"),
        "guangdong": (3, 30, "CN-GD"),
    }
    ids = {name: _deadline(c, admin, unique(f"aa-{name}"), today + timedelta(days=days), region=region,
                           remind_days=remind) for name, (days, remind, region) in cases.items()}

    def subject(name: str, enterprise_id: str) -> str:
        return f"assets_deadline:{ids[name]}:{enterprise_id}"

    checked = _ok(c.post(CHECK, headers=government["zj"]))
    ours = {s for s in checked["deadlines"] if s.endswith((hz, gd, no_allowances))}
    assert ours == {subject("soon", hz), subject("window opens", hz), subject("guangdong", gd)}
    _ok(c.post(CHECK, headers=admin))  # again: nothing duplicated
    ours_only = {str(i) for i in ids.values()}  # other tests' deadlines may remind as well

    def reminders(headers: dict[str, str]) -> dict[str, dict[str, Any]]:
        return {a["device_id"]: a for a in _alarms(c, headers, "compliance_deadline")
                if a["device_id"].split(":")[1] in ours_only}

    mine = reminders(hz_owner)
    assert set(mine) == {subject("soon", hz), subject("window opens", hz)}
    assert (mine[subject("soon", hz)]["severity"], mine[subject("window opens", hz)]["severity"]) == ("warning", "info")
    assert "还有 5 天" in mine[subject("soon", hz)]["detail"] and "in 5 day(s)" in mine[subject("soon", hz)]["detail"]
    zj_sees = reminders(government["zj"])
    assert subject("soon", hz) in zj_sees and subject("guangdong", gd) not in zj_sees
    assert set(reminders(gd_owner)) == {subject("guangdong", gd)}
    assert len(_alarms(c, admin, "compliance_deadline", state="all", about=subject("soon", hz))) == 1

    _ok(c.delete(f"{DEADLINES}/{ids['soon']}", headers=admin))
    checked = _ok(c.post(CHECK, headers=government["zj"]))
    assert subject("soon", hz) in checked["cleared"]
    assert set(reminders(hz_owner)) == {subject("window opens", hz)}
    for name in ids.keys() - {"soon"}:
        c.delete(f"{DEADLINES}/{ids[name]}", headers=admin)
    _ok(c.post(CHECK, headers=admin))


def test_a_reminder_clears_once_its_deadline_has_passed(
        database_url: str, api_app_client: TestClient, admin_headers: dict[str, str],
        government: dict[str, dict[str, str]], enterprise: Callable[..., tuple[str, dict[str, str]]]) -> None:
    c = api_app_client
    today = datetime.now(TZ).date()
    hz, owner = enterprise("CN-ZJ-HZ")
    _allocate(c, government["zj"], hz, 1000.0)
    due = today + timedelta(days=2)
    deadline_id = _deadline(c, admin_headers, unique("aa-passes"), due, region="CN-ZJ-HZ", remind_days=10)
    subject = f"assets_deadline:{deadline_id}:{hz}"

    async def check_on(day: date) -> tuple[str, ...]:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            return (await check_asset_alarms(conn, day)).deadlines

    # the due day itself still reminds, the day after does not
    assert [subject in asyncio.run(check_on(day)) for day in (due - timedelta(days=11), due, due + timedelta(days=1))] \
        == [False, True, False]
    assert _alarms(c, owner, "compliance_deadline", about=subject) == []
    assert [a["state"] for a in _alarms(c, owner, "compliance_deadline", state="all", about=subject)] == ["cleared"]
    c.delete(f"{DEADLINES}/{deadline_id}", headers=admin_headers)
    _ok(c.post(CHECK, headers=admin_headers))  # back to today for the deficits of this year


def test_the_cli_checks_once_and_says_what_is_active(
        database_url: str, api_app_client: TestClient, government: dict[str, dict[str, str]],
        enterprise: Callable[..., tuple[str, dict[str, str]]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    enterprise_id, owner = enterprise()
    _allocate(api_app_client, government["zj"], enterprise_id, 10.0)
    _months(api_app_client, owner, enterprise_id, {3: 40.0})
    dsn = conninfo_to_dict(database_url)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{dsn['user']}@{dsn['host']}:{dsn['port']}/{dsn['dbname']}")
    assert main(["assets", "alarms", "--once"]) == 0
    out = capsys.readouterr().out
    assert f"active  assets_deficit:{enterprise_id}:{YEAR}" in out
    assert len(_alarms(api_app_client, owner, "deficit_projected")) == 1
