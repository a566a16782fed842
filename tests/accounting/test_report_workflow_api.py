"""The report workflow through the API on acc-flow: submit with a frozen snapshot, refused transitions,
verification with its difference, return with comments, resubmission, reviews, immutable snapshots, audit."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.accounting.conftest import audit_actions

ENTERPRISE, YEAR = "acc-flow", 2025
CASE = f"/api/v1/reports/{ENTERPRISE}/{YEAR}"
LINES = [
    {"period": "2025-02", "process": "steelmaking_eaf", "source_type": "electricity", "item": "grid",
     "quantity": 10_000, "unit": "MWh", "direction": "in"},
    {"period": "2025-02", "process": "steelmaking_eaf", "source_type": "process", "item": "electrode",
     "quantity": 100, "unit": "t", "direction": "in"},
]
GRID = 0.4974  # acc-flow's site is in Zhejiang: the provincial average by the default precedence
FIRST_TOTAL = 10_000 * GRID + 100 * 3.663  # 5,340.3 t
SECOND_TOTAL = 9_000 * GRID + 100 * 3.663


def _act(client: TestClient, headers: dict[str, str], action: str, **body: Any) -> Any:
    return client.post(f"{CASE}/actions/{action}", headers=headers, json=body or None)


def _state(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    r = client.get(f"{CASE}/workflow", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _expect(r: Any, status: int, message: str) -> None:
    assert r.status_code == status, r.text
    assert message in r.text


def test_the_report_workflow_from_draft_to_approval(client: TestClient, headers: dict[str, dict[str, str]],
                                                    db: psycopg.Connection) -> None:
    ent, gov, aud = headers["ent"], headers["gov"], headers["aud"]
    view = _state(client, ent)
    assert (view["state"], view["allowed_actions"]) == ("draft", ["submit"])
    _expect(_act(client, ent, "submit"), 422, "nothing to submit")
    r = client.post(f"/api/v1/inventory/{ENTERPRISE}/activity", headers=ent, json={"lines": LINES})
    assert r.status_code == 201, r.text

    # 送审: only the enterprise (or an administrator), and only inside the caller's scope
    _expect(_act(client, gov, "submit"), 403, "role 'government' may not submit")
    _expect(_act(client, aud, "submit"), 403, "role 'auditor' may not submit")
    _expect(_act(client, headers["tech"], "submit"), 403, "needs 'emissions'")
    _expect(_act(client, headers["ent_gd"], "submit"), 404, "no enterprise 'acc-flow'")
    _expect(_act(client, headers["anonymous"], "submit"), 401, "authentication required")
    r = _act(client, ent, "submit")
    assert r.status_code == 200, r.text
    first = r.json()["snapshot"]
    assert (r.json()["state"], round(first["total_tco2"], 1)) == ("submitted", round(FIRST_TOTAL, 1))

    # the submitted report re-renders from its snapshot to the very bytes whose sha256 was stored
    pdf = client.get(f"{CASE}.pdf", headers=gov, params={"snapshot": first["snapshot_id"]})
    assert pdf.status_code == 200, pdf.text
    assert hashlib.sha256(pdf.content).hexdigest() == first["pdf_sha256"]
    assert f"排放总量：{FIRST_TOTAL:,.1f} tCO₂" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    xlsx = client.get(f"{CASE}.xlsx", headers=aud, params={"snapshot": first["snapshot_id"]})
    assert hashlib.sha256(xlsx.content).hexdigest() == first["xlsx_sha256"]
    # its cover names who submitted it, and when; the English rendering translates the same frozen document
    cover = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert f"编制人\n{first['created_by']}" in cover and "草稿" not in cover
    english = client.get(f"{CASE}.pdf", headers=gov, params={"snapshot": first["snapshot_id"], "lang": "en"})
    assert english.status_code == 200 and f"Prepared by\n{first['created_by']}" in PdfReader(
        io.BytesIO(english.content)).pages[0].extract_text()

    # refused while submitted: wrong role, wrong state, missing comment, out-of-scope verifier
    _expect(_act(client, ent, "submit"), 409, "not possible from state 'submitted'")
    _expect(_act(client, ent, "first_review"), 403, "role 'enterprise' may not first_review")
    _expect(_act(client, gov, "final_review"), 409, "not possible from state 'submitted'")
    _expect(_act(client, gov, "return"), 422, "needs a comment")
    _expect(_act(client, headers["gov_gd"], "first_review"), 404, "no enterprise")
    _expect(_act(client, aud, "first_review"), 403, "role 'auditor' may not first_review")
    _expect(client.post(f"{CASE}/verification", headers=ent, json={"verified_total_tco2": 1}), 403,
            "role 'enterprise' may not verify")
    _expect(client.post(f"{CASE}/verification", headers=headers["aud_gd"], json={"verified_total_tco2": 1}), 404,
            "no enterprise")

    # third-party verification: findings and a verified total, the difference shown
    r = client.post(f"{CASE}/verification", headers=aud, json={
        "verified_total_tco2": round(FIRST_TOTAL + 12.5, 3), "opinion": "electrode mass not weighed",
        "findings": [{"code": "electrode", "message": "invoice shows 103.4 t of electrodes", "tco2_effect": 12.5}]})
    assert r.status_code == 201, r.text
    assert r.json()["difference_tco2"] == pytest.approx(12.5, abs=1e-3)
    assert _state(client, gov)["verifications"][0]["difference_tco2"] == pytest.approx(12.5, abs=1e-3)

    # 退回 with a comment, then a corrected version and a new submission with a new snapshot
    r = _act(client, gov, "return", comment="请核对二月电力发票")
    assert (r.status_code, r.json()["state"]) == (200, "returned")
    assert _state(client, ent)["allowed_actions"] == ["submit"]
    r = client.post(f"/api/v1/inventory/{ENTERPRISE}/activity", headers=ent,
                    json={"lines": [{**LINES[0], "quantity": 9_000}], "note": "invoice corrected"})
    assert r.status_code == 201, r.text
    second = _act(client, ent, "submit").json()["snapshot"]
    assert second["snapshot_id"] != first["snapshot_id"]
    assert round(second["total_tco2"], 1) == round(SECOND_TOTAL, 1)

    # 初审, 终审 by a second person; then nothing moves
    _expect(_act(client, gov, "first_review"), 200, "first_reviewed")
    assert _state(client, gov)["allowed_actions"] == ["return"]
    assert _state(client, headers["gov2"])["allowed_actions"] == ["final_review", "return"]
    _expect(_act(client, headers["gov2"], "final_review"), 200, "approved")
    for action in ("submit", "first_review", "final_review", "return"):
        _expect(_act(client, headers["admin"], action, comment="x"), 409, "not possible from state 'approved'")

    view = _state(client, aud)
    assert [(e["action"], e["from_state"], e["to_state"]) for e in view["events"]] == [
        ("submit", "draft", "submitted"), ("verify", "submitted", "submitted"), ("return", "submitted", "returned"),
        ("submit", "returned", "submitted"), ("first_review", "submitted", "first_reviewed"),
        ("final_review", "first_reviewed", "approved")]
    assert view["events"][2]["comment"] == "请核对二月电力发票"
    assert [s["snapshot_id"] for s in view["snapshots"]] == [first["snapshot_id"], second["snapshot_id"]]
    assert audit_actions(db, f"{ENTERPRISE}/{YEAR}") == [
        "report.submit", "report.verify", "report.return", "report.submit", "report.first_review",
        "report.final_review"]
    # the first snapshot still renders as submitted, although the data changed since
    old = client.get(f"{CASE}.pdf", headers=ent, params={"snapshot": first["snapshot_id"]})
    assert hashlib.sha256(old.content).hexdigest() == first["pdf_sha256"]


@pytest.mark.parametrize("statement", [
    "UPDATE report_snapshots SET total_tco2 = 0",
    "DELETE FROM report_snapshots",
    "TRUNCATE report_snapshots CASCADE",
    "UPDATE report_events SET comment = ''",
    "DELETE FROM report_verifications",
    "UPDATE activity_lines SET quantity = 0",
    "DELETE FROM activity_submissions",
])
def test_snapshots_events_and_entered_data_cannot_be_changed(db: psycopg.Connection, owner_database_url: str,
                                                             statement: str) -> None:
    # the application role has no such privilege; the trigger refuses the tables' owner as well
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table"):
        db.execute(statement)
    with psycopg.connect(owner_database_url, autocommit=True) as owner, \
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="refused"):
        owner.execute(statement)


def test_an_unknown_snapshot_is_404(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    r = client.get(f"{CASE}.pdf", headers=headers["admin"], params={"snapshot": 999_999})
    _expect(r, 404, "no snapshot 999999")


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/api/v1/reports/acc-flow/1800/workflow", None, 422),
    ("/api/v1/reports/acc-flow/2025/actions/approve", {}, 422),
    ("/api/v1/reports/acc-flow/2025/actions/return", {"comment": 5}, 422),
    ("/api/v1/reports/acc-flow/2025/verification", {"verified_total_tco2": "many"}, 422),
    ("/api/v1/reports/acc-flow/2025/verification", {"verified_total_tco2": 1, "extra": True}, 422),
])
def test_bad_workflow_requests_get_a_4xx(client: TestClient, headers: dict[str, dict[str, str]], path: str,
                                         body: Any, status: int) -> None:
    r = client.get(path, headers=headers["admin"]) if body is None else client.post(path, headers=headers["admin"],
                                                                                      json=body)
    assert r.status_code == status, r.text


EYES = "/api/v1/reports/acc-eyes/2025"


def _eyes(client: TestClient, headers: dict[str, str], action: str, **body: Any) -> Any:
    if action == "verify":
        return client.post(f"{EYES}/verification", headers=headers, json={"verified_total_tco2": 1.0})
    return client.post(f"{EYES}/actions/{action}", headers=headers, json=body or None)


def test_four_eyes_each_refusal_says_who_did_what(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    # admin4 enters the data, admin submits: both prepared the report
    r = client.post("/api/v1/inventory/acc-eyes/activity", headers=headers["admin4"], json={"lines": LINES})
    assert r.status_code == 201, r.text
    assert _eyes(client, headers["admin"], "submit").status_code == 200
    for preparer in ("admin", "admin4"):
        for action in ("first_review", "verify"):
            _expect(_eyes(client, headers[preparer], action), 403, "prepared this report (submitted it or entered")
    assert client.get(f"{EYES}/workflow", headers=headers["admin"]).json()["allowed_actions"] == ["return"]
    # the verifier may not review
    assert _eyes(client, headers["admin2"], "verify").status_code == 201
    _expect(_eyes(client, headers["admin2"], "first_review"), 403, "verified this report as its third-party verifier")
    # a reviewer may not verify, and the first reviewer may not do the final review
    _expect(_eyes(client, headers["admin3"], "first_review"), 200, "first_reviewed")
    _expect(_eyes(client, headers["admin3"], "verify"), 403, "reviewed this report and may not also verify it")
    _expect(_eyes(client, headers["admin3"], "final_review"), 403, "the 终审 final_review needs a second person")
    _expect(_eyes(client, headers["admin2"], "final_review"), 403, "verified this report")
    _expect(_eyes(client, headers["gov"], "final_review"), 200, "approved")

