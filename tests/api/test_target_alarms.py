"""The target off-track alarm (api/analysis/target_alarms.py, docs/targets.md "Alarm"): a holder of an issued
target of this year that is off track raises a platform alarm; a unit's is seen by its enterprise and the
government users of its region, a sub-region's by that region's government users (alarms.region_code, migration
141), and no one else in scope; it clears when the holder is back on track or the year is over, and checking again
never duplicates it. The check runs from POST /api/v1/analysis/targets/alarms/check (audited) and
`carbonflow alarms check --once`, which runs the asset check as well.

The module's units are in Shaoxing (330600) and Jiaxing (330400), cities no other test uses; targets are of the
current year with the previous year as base, and only January of this year has figures (always a month past or
present)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict

from api.analysis.target_alarms import TZ, TargetAlarmCheck, check_target_alarms
from carbonflow import platform_alarms
from carbonflow.cli import main
from tests.api.conftest import make_user, unique
from tests.api.test_monitoring import credit_code, csv_file, upload

YEAR = datetime.now(TZ).year
A = "/api/v1/analysis"
CHECK = f"{A}/targets/alarms/check"
RULE = "target_off_track"


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _figures(client: TestClient, headers: dict[str, str], code: str, region: str, months: dict[str, float]) -> None:
    """Upload a unit's monthly coal (t) with value added, for the given 'YYYY-MM' months."""
    lines = [line for month, coal in months.items()
             for line in (f"{code},TA {code[-6:]},{region},313,{month},coal,{coal},t",
                          f"{code},TA {code[-6:]},{region},313,{month},value_added,1000,万元")]
    _ok(upload(client, headers, csv_file(*lines)))


def _base_year(coal: float) -> dict[str, float]:
    return {f"{YEAR - 1}-{m:02d}": coal for m in range(1, 13)}


def _unit(client: TestClient, admin: dict[str, str], db: psycopg.Connection, region: str, base: float,
          january: float, enterprise: str | None = None) -> str:
    code = credit_code(region)
    _figures(client, admin, code, region, {**_base_year(base), f"{YEAR}-01": january})
    if enterprise:
        db.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, %s, 'CN-ZJ-SX')",
                   (enterprise, f"目标测试 {enterprise}"))
        db.execute("UPDATE monitoring_units SET enterprise_id = %s WHERE credit_code = %s", (enterprise, code))
    row = db.execute("SELECT unit_id FROM monitoring_units WHERE credit_code = %s", (code,)).fetchone()
    assert row is not None
    return str(row[0])


def _issued(client: TestClient, headers: dict[str, str], **body: Any) -> int:
    target = _ok(client.post(f"{A}/targets", headers=headers, json={
        "name": unique("ta"), "kind": "total", "year": YEAR, "base_year": YEAR - 1, "rule": "equal_rate", **body}),
        201)
    _ok(client.post(f"{A}/targets/{target['target_id']}/issue", headers=headers))
    return int(target["target_id"])


def _base_total(client: TestClient, headers: dict[str, str], region: str, level: str) -> float:
    """The base-year t CO2 of a region's holders at `level`, read from a draft target (never issued)."""
    draft = _ok(client.post(f"{A}/targets", headers=headers, json={
        "region": region, "name": unique("ta-draft"), "kind": "total", "year": YEAR, "base_year": YEAR - 1,
        "value": 1, "holder_level": level}), 201)
    found = _ok(client.get(f"{A}/targets/{draft['target_id']}", headers=headers))
    return sum(a["base"] for a in found["allocations"])


def _alarms(client: TestClient, headers: dict[str, str], *, state: str = "active",
            about: str | None = None) -> list[dict[str, Any]]:
    listed = _ok(client.get("/api/v1/alarms", headers=headers, params={"rule": RULE, "state": state, "limit": 1000}))
    return [a for a in listed["alarms"] if about is None or a["device_id"] == about]


@pytest.fixture(scope="module")
def users(api_app_client: TestClient, admin_headers: dict[str, str]) -> dict[str, dict[str, str]]:
    """Government users of Shaoxing (by code), Zhejiang (by label), Jiaxing (by label) and Quzhou."""
    def gov(region: str) -> dict[str, str]:
        return make_user(api_app_client, admin_headers, "government", region=region)[2]

    return {"sx": gov("330600"), "zj": gov("CN-ZJ"), "jx": gov("CN-ZJ-JX"), "qz": gov("330800")}


def test_an_off_track_unit_is_seen_by_its_enterprise_and_region_and_clears_when_back_on_track(
        api_app_client: TestClient, admin_headers: dict[str, str], users: dict[str, dict[str, str]],
        db: psycopg.Connection) -> None:
    c, admin = api_app_client, admin_headers
    over_ent, under_ent = unique("ta-ent"), unique("ta-ent")
    # base 100 t of coal a month; a 10 % cut allows 90 t in January: 150 t is off track, 50 t is not
    over = _unit(c, admin, db, "330600", 100, 150, over_ent)
    under = _unit(c, admin, db, "330600", 100, 50, under_ent)
    owners = {e: make_user(c, admin, "enterprise", enterprise_id=e)[2] for e in (over_ent, under_ent)}
    tid = _issued(c, users["sx"], region="330600", holder_level="unit",
                  value=0.9 * _base_total(c, users["sx"], "330600", "unit"))
    tracking = _ok(c.get(f"{A}/targets/{tid}/tracking", headers=users["sx"]))
    subject, other = f"{RULE}:{tid}:{over}", f"{RULE}:{tid}:{under}"

    checked = _ok(c.post(CHECK, headers=users["sx"]))
    # the check says what the tracking endpoint says
    assert {s for s in checked["off_track"] if s in (subject, other)} == {
        f"{RULE}:{tid}:{h}" for h in tracking["off_track"] if h in (over, under)} == {subject}
    seen = {name: [a["device_id"] for a in _alarms(c, h, about=subject)]
            for name, h in {**users, "over": owners[over_ent], "under": owners[under_ent]}.items()}
    assert seen == {"sx": [subject], "zj": [subject], "over": [subject], "jx": [], "qz": [], "under": []}
    alarm = _alarms(c, owners[over_ent], about=subject)[0]
    assert (alarm["enterprise_id"], alarm["region_code"], alarm["severity"], alarm["source"]) == (
        over_ent, "330600", "warning", "platform")
    assert "未按进度完成" in alarm["detail"] and "off track" in alarm["detail"]

    _ok(c.post(CHECK, headers=admin))  # again: the same alarm, not a second one
    assert [a["alarm_id"] for a in _alarms(c, admin, state="all", about=subject)] == [alarm["alarm_id"]]

    # January revised down to 60 t: back on track
    code = db.execute("SELECT credit_code FROM monitoring_units WHERE unit_id = %s", (int(over),)).fetchone()
    assert code is not None
    _figures(c, admin, code[0], "330600", {f"{YEAR}-01": 60})
    checked = _ok(c.post(CHECK, headers=users["sx"]))
    assert subject in checked["cleared"] and subject not in checked["off_track"]
    assert [a["state"] for a in _alarms(c, owners[over_ent], state="all", about=subject)] == ["cleared"]
    audited = _ok(c.get("/api/v1/audit", headers=admin, params={"action": "analysis.targets.alarms.check",
                                                                 "limit": 200}))["entries"]
    assert any(subject in e["detail"]["cleared"] for e in audited)


def test_an_off_track_sub_region_is_seen_by_that_regions_government_and_clears_when_the_year_is_over(
        api_app_client: TestClient, admin_headers: dict[str, str], users: dict[str, dict[str, str]],
        db: psycopg.Connection, database_url: str) -> None:
    c, admin = api_app_client, admin_headers
    _unit(c, admin, db, "330600", 100, 1000)  # Shaoxing ten times its base month: off track whatever else is there
    _unit(c, admin, db, "330400", 1000, 1)  # Jiaxing far below
    tid = _issued(c, users["zj"], region="330000", holder_level="region",
                  value=0.9 * _base_total(c, users["zj"], "330000", "region"))
    shaoxing, jiaxing = f"{RULE}:{tid}:330600", f"{RULE}:{tid}:330400"

    checked = _ok(c.post(CHECK, headers=users["zj"]))
    assert shaoxing in checked["off_track"] and jiaxing not in checked["off_track"]
    seen = {name: [a["device_id"] for a in _alarms(c, h, about=shaoxing)] for name, h in users.items()}
    assert seen == {"sx": [shaoxing], "zj": [shaoxing], "jx": [], "qz": []}
    alarm = _alarms(c, users["sx"], about=shaoxing)[0]
    assert (alarm["region_code"], alarm["enterprise_id"]) == ("330600", None) and "绍兴市" in alarm["detail"]

    async def check_on(day: date) -> Any:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            return await check_target_alarms(conn, day)

    next_year = asyncio.run(check_on(date(YEAR + 1, 1, 5)))
    assert shaoxing in next_year.cleared and not any(s.startswith(f"{RULE}:{tid}:") for s in next_year.off_track)
    assert _alarms(c, users["sx"], about=shaoxing) == []
    _ok(c.post(CHECK, headers=admin))  # back to today: raised again, as a new alarm
    assert [a["state"] for a in _alarms(c, admin, state="all", about=shaoxing)] == ["active", "cleared"]


def test_only_government_users_and_administrators_run_the_check(
        api_app_client: TestClient, role_headers: dict[str, dict[str, str]]) -> None:
    for role, status in (("enterprise", 403), ("auditor", 403), ("technician", 403), ("anonymous", 401),
                         ("government", 200), ("admin", 200)):
        assert api_app_client.post(CHECK, headers=role_headers[role]).status_code == status, role


def test_the_cli_runs_every_platform_check_once_and_says_what_is_active(
        api_app_client: TestClient, admin_headers: dict[str, str], users: dict[str, dict[str, str]],
        db: psycopg.Connection, database_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    unit = _unit(api_app_client, admin_headers, db, "330600", 100, 500)
    tid = _issued(api_app_client, users["sx"], region="330600", holder_level="unit", value=1.0)
    dsn = conninfo_to_dict(database_url)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{dsn['user']}@{dsn['host']}:{dsn['port']}/{dsn['dbname']}")
    assert main(["alarms", "check", "--once"]) == 0
    out = capsys.readouterr().out
    assert f"active  {RULE}:{tid}:{unit}" in out
    assert [line.split(":")[0].split(" ")[0] for line in out.splitlines() if not line.startswith(" ")] == [
        "assets", "targets"]
    assert main(["alarms", "check", "--once", "--only", "assets"]) == 0
    assert f"{RULE}:{tid}" not in capsys.readouterr().out


def test_a_failing_check_does_not_hold_back_the_others_and_with_once_its_error_is_raised(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = []

    async def broken(conn: psycopg.AsyncConnection, today: date) -> TargetAlarmCheck:
        ran.append("broken")
        raise psycopg.errors.UndefinedTable("relation does not exist")

    async def fine(conn: psycopg.AsyncConnection, today: date) -> TargetAlarmCheck:
        ran.append("fine")
        return TargetAlarmCheck(today)

    monkeypatch.setattr(platform_alarms, "CHECKS", {"broken": broken, "fine": fine})
    with pytest.raises(psycopg.errors.UndefinedTable):
        asyncio.run(platform_alarms.run_checks(database_url, names=("broken", "fine"), once=True))
    assert sorted(ran) == ["broken", "fine"]
