"""/api/v1/projects (docs/projects.md): budget, spending, progress and documents per lifecycle stage. Spending is
recorded in the project's current stage or one it has reached; the owner sets each stage's budget and progress
(PUT .../stages/{stage}, audited); spending recorded before stages were kept counts as not assigned."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.api.conftest import unique
from tests.api.test_projects_assets import PROJECTS, seeded, users  # noqa: F401  # the fixtures, shared


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _project(c: TestClient, owner: dict[str, str], kind: str) -> tuple[int, str]:
    created = _ok(c.post(PROJECTS, headers=owner, json={"enterprise_id": "pj-ent", "name": unique("stage-funds"),
                                                        "kind": kind, "grid_region": "east", "budget": 10000}), 201)
    return created["project_id"], f"{PROJECTS}/{created['project_id']}"


def _by_stage(project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["stage"]: s for s in project["stages"]}


def _audit(c: TestClient, admin: dict[str, str], action: str, target: str) -> list[dict[str, Any]]:
    entries = _ok(c.get("/api/v1/audit", headers=admin, params={"action": action, "limit": 500}))["entries"]
    return [e for e in entries if e["target"] == target]


def test_spending_documents_and_plans_are_summed_per_stage_of_the_kinds_lifecycle(
        api_app_client: TestClient, users: dict[str, Any]) -> None:  # noqa: F811
    c, owner = api_app_client, users["owner"]
    _, url = _project(c, owner, "grid_pv")
    _ok(c.post(f"{url}/spending", headers=owner, json={"amount": 300, "spent_on": "2025-01-05"}), 201)
    _ok(c.post(f"{url}/documents", headers=owner, files={"file": ("plan.pdf", b"feasibility", "application/pdf")}), 201)
    _ok(c.post(f"{url}/stage", headers=owner, json={"to_stage": "implementing"}))
    _ok(c.post(f"{url}/spending", headers=owner, json={"amount": 1000, "spent_on": "2025-03-01"}), 201)
    _ok(c.post(f"{url}/spending", headers=owner, json={"amount": 250.5, "spent_on": "2025-03-02"}), 201)
    late = _ok(c.post(f"{url}/spending", headers=owner,
                      json={"amount": 40, "spent_on": "2025-03-03", "stage": "initiated"}), 201)
    assert late["spent"] == 300 + 1000 + 250.5 + 40
    _ok(c.put(f"{url}/stages/implementing", headers=owner, json={"budget": 2000, "progress_pct": 35}))

    stages = _by_stage(_ok(c.get(url, headers=owner)))
    assert list(stages) == ["initiated", "implementing", "accepted", "filed"]  # grid PV ends with filing
    assert stages["initiated"] | {"updated_at": None} == {
        "stage": "initiated", "reached": True, "budget": None, "spent": 340.0, "progress_pct": 0.0, "documents": 1,
        "note": "", "updated_at": None, "updated_by": None}
    assert (stages["implementing"]["budget"], stages["implementing"]["spent"],
            stages["implementing"]["progress_pct"], stages["implementing"]["reached"]) == (2000.0, 1250.5, 35.0, True)
    assert (stages["accepted"]["reached"], stages["accepted"]["spent"]) == (False, 0.0)

    # only the fields given change
    _ok(c.put(f"{url}/stages/implementing", headers=owner, json={"progress_pct": 80, "note": "inverters on site"}))
    implementing = _by_stage(_ok(c.get(url, headers=owner)))["implementing"]
    assert (implementing["budget"], implementing["progress_pct"], implementing["note"]) == (2000.0, 80.0,
                                                                                           "inverters on site")
    _, efficiency = _project(c, owner, "energy_efficiency")
    assert [s["stage"] for s in _ok(c.get(efficiency, headers=owner))["stages"]] == ["initiated", "implementing",
                                                                                    "accepted"]


def test_stage_plans_and_spending_refuse_stages_outside_the_lifecycle_or_not_reached_and_bad_progress(
        api_app_client: TestClient, users: dict[str, Any]) -> None:  # noqa: F811
    c, owner = api_app_client, users["owner"]
    _, url = _project(c, owner, "energy_efficiency")
    filed = c.put(f"{url}/stages/filed", headers=owner, json={"budget": 5})
    assert filed.status_code == 422 and "not in the lifecycle of a energy_efficiency" in filed.json()["detail"]
    unknown = c.put(f"{url}/stages/dreaming", headers=owner, json={"budget": 5})
    assert unknown.status_code == 422 and "initiated, implementing, accepted" in unknown.json()["detail"]
    for pct in (-1, 100.5):
        over = c.put(f"{url}/stages/initiated", headers=owner, json={"progress_pct": pct})
        assert over.status_code == 422 and "from 0 to 100" in over.json()["detail"], over.text
    ahead = c.post(f"{url}/spending", headers=owner, json={"amount": 5, "spent_on": "2025-01-01",
                                                           "stage": "accepted"})
    assert ahead.status_code == 422 and "has not reached stage 'accepted'" in ahead.json()["detail"]
    negative = c.put(f"{url}/stages/initiated", headers=owner, json={"budget": -1})
    assert negative.status_code == 422
    assert c.put(f"{url}/stages/initiated", headers=users["government"], json={"budget": 5}).status_code == 403
    assert c.put(f"{url}/stages/initiated", headers=users["other_enterprise"], json={"budget": 5}).status_code == 404
    assert all(s["budget"] is None and s["spent"] == 0 for s in _ok(c.get(url, headers=owner))["stages"])


def test_stage_plan_changes_are_audited_with_before_and_after_and_spending_names_its_stage(
        api_app_client: TestClient, users: dict[str, Any]) -> None:  # noqa: F811
    c, owner, admin = api_app_client, users["owner"], users["admin"]
    project_id, url = _project(c, owner, "wind")
    _ok(c.put(f"{url}/stages/initiated", headers=owner, json={"budget": 800, "progress_pct": 10}))
    _ok(c.put(f"{url}/stages/initiated", headers=admin, json={"progress_pct": 100}))
    entries = _audit(c, admin, "projects.stage_plan", f"project:{project_id}:stage:initiated")
    assert len(entries) == 2
    newest, first = entries
    assert first["before"] is None and first["after"]["budget"] == 800 and first["after"]["progress_pct"] == 10
    assert newest["before"]["progress_pct"] == 10 and newest["after"]["progress_pct"] == 100
    assert newest["after"]["budget"] == 800
    _ok(c.post(f"{url}/spending", headers=owner, json={"amount": 12, "spent_on": "2025-01-01"}), 201)
    spent = _audit(c, admin, "projects.spending", f"project:{project_id}")
    assert spent[0]["detail"]["stage"] == "initiated"


def test_spending_recorded_before_stages_were_kept_counts_as_not_assigned(
        api_app_client: TestClient, users: dict[str, Any], database_url: str) -> None:  # noqa: F811
    c, owner = api_app_client, users["owner"]
    project_id, url = _project(c, owner, "ccer")
    with psycopg.connect(database_url, autocommit=True) as conn:  # a row as migration 144 leaves older ones
        conn.execute("INSERT INTO project_spending (project_id, amount, spent_on, recorded_by)"
                     " VALUES (%s, 77, '2024-06-01', 'before-144')", (project_id,))
    _ok(c.post(f"{url}/spending", headers=owner, json={"amount": 3, "spent_on": "2025-01-01"}), 201)
    found = _ok(c.get(url, headers=owner))
    assert found["spent"] == 80 and found["spent_unassigned"] == 77
    assert _by_stage(found)["initiated"]["spent"] == 3
