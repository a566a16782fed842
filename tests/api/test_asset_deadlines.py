"""/api/v1/assets/deadlines: the compliance and trading deadline calendar. A government user sets deadlines of its
region, an administrator those of any region or of every enterprise; each caller sees the deadlines that apply to
it, with days left and status; every change is audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.api.conftest import make_user, unique
from tests.api.test_projects_assets import seeded, users  # noqa: F401  # the module's fixtures, shared

URL = "/api/v1/assets/deadlines"


def _titles(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    r = client.get(URL, headers=headers)
    assert r.status_code == 200, r.text
    return {d["title"]: d for d in r.json()["deadlines"]}


def test_deadlines_are_set_per_region_and_seen_by_whom_they_apply_to(api_app_client: TestClient,
                                                                      users: dict[str, Any]) -> None:  # noqa: F811
    c, admin = api_app_client, users["admin"]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    zj, national, gd = unique("zj-surrender"), unique("national-window"), unique("gd-report")
    r = c.post(URL, headers=users["government"], json={"kind": "compliance", "title": zj,
                                                       "due_on": str(today + timedelta(days=10)), "remind_days": 30})
    assert r.status_code == 201, r.text
    assert (r.json()["region"], r.json()["days_left"], r.json()["status"]) == ("CN-ZJ", 10, "due_soon")
    assert c.post(URL, headers=admin, json={"kind": "trading", "title": national,
                                            "due_on": str(today + timedelta(days=90))}).status_code == 201
    assert c.post(URL, headers=admin, json={"kind": "reporting", "title": gd, "region": "CN-GD",
                                            "due_on": str(today - timedelta(days=1))}).status_code == 201

    # pj-ent (CN-ZJ-HZ) sees its region's and the national one; pj-ent3 (CN-GD) its own, past, and the national one
    owner = _titles(c, users["owner"])
    assert (owner[zj]["status"], owner[national]["status"], gd in owner) == ("due_soon", "upcoming", False)
    gd_owner = make_user(c, admin, "enterprise", enterprise_id="pj-ent3")[2]
    seen = _titles(c, gd_owner)
    assert (seen[gd]["status"], seen[gd]["days_left"], zj in seen, national in seen) == ("past", -1, False, True)
    assert {zj, national, gd} <= set(_titles(c, admin))

    # who may change what: not an enterprise, not a government user outside its region, not the national calendar
    body = {"kind": "compliance", "title": "x", "due_on": str(date(2030, 1, 1))}
    assert c.post(URL, headers=users["owner"], json=body).status_code == 403
    r = c.post(URL, headers=users["government"], json={**body, "region": "CN-GD"})
    assert r.status_code == 403 and "not within your region" in r.json()["detail"]
    assert c.post(URL, headers=users["government"], json={**body, "remind_days": -1}).status_code == 422
    assert c.post(URL, headers=users["government"], json={**body, "due_on": "2030-02-30"}).status_code == 422
    ids = {title: d["deadline_id"] for title, d in _titles(c, admin).items()}
    assert c.delete(f"{URL}/{ids[national]}", headers=users["government"]).status_code == 403
    assert c.delete(f"{URL}/{ids[zj]}", headers=users["government"]).status_code == 200
    assert zj not in _titles(c, users["owner"])
    assert c.delete(f"{URL}/{ids[zj]}", headers=admin).status_code == 404

    entries = c.get("/api/v1/audit", headers=admin, params={"action": "assets.deadline.*", "limit": 200}).json()
    targets = {(e["action"], e["target"]) for e in entries["entries"]}
    assert {("assets.deadline.add", f"deadline:{ids[zj]}"), ("assets.deadline.delete", f"deadline:{ids[zj]}")} <= targets
