"""Estimated figures in government monitoring: the fuel CO2 of units reporting electricity only, estimated by the
electricity -> fuel models, lands in monitoring apart from the reported figures. The monitoring view and a unit's
archive give reported and estimated tCO2 side by side (with the model), the totals add up, the reported figures
are untouched, and an estimate gives way once the unit reports its fuel for that month."""

from __future__ import annotations

import random
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from carbon_domain.grid_factors import MODEL_VERSION
from carbon_domain.monitoring import credit_code_problem

Headers = dict[str, dict[str, str]]
YEAR = 2031  # a year no other test reports in
REGION, INDUSTRY = "330522", "312"
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _credit_code() -> str:
    body = "91330522" + "".join(random.choice(_CHARS) for _ in range(9))
    return next(body + c for c in _CHARS if credit_code_problem(body + c) is None)


@pytest.fixture(scope="module")
def units(client: TestClient, headers: Headers) -> dict[str, Any]:
    """Two steel units of Changxing in 2031: 'full' reports coal and electricity, 'electric' electricity only."""
    full, electric = _credit_code(), _credit_code()
    lines = ["credit_code,unit_name,region_code,industry_code,month,item,quantity,unit"]
    for month in range(1, 13):
        lines += [f"{full},Estimate Test Full Works,{REGION},{INDUSTRY},{YEAR}-{month:02d},coal,100,t",
                  f"{full},Estimate Test Full Works,{REGION},{INDUSTRY},{YEAR}-{month:02d},electricity,1000,MWh",
                  f"{electric},Estimate Test Electric Works,{REGION},{INDUSTRY},{YEAR}-{month:02d},electricity,500,MWh"]
    r = client.post("/api/v1/monitoring/imports", headers=headers["admin"],
                    files={"file": ("estimates.csv", "\n".join(lines).encode(), "text/csv")})
    assert r.status_code == 200, r.text
    listed = client.get("/api/v1/monitoring/units", headers=headers["admin"], params={"region": REGION}).json()["units"]
    ids = {u["credit_code"]: u["unit_id"] for u in listed}
    return {"full": ids[full], "electric": ids[electric], "electric_code": electric}


def _view(client: TestClient, headers: Headers, **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/monitoring/view", headers=headers["gov"],
                   params={"region": REGION, "year": YEAR, "lang": "en", **params})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def estimated(client: TestClient, headers: Headers, units: dict[str, Any]) -> dict[str, Any]:
    """The reported view before, the fuel model of class 312 and the run that estimated 2031 into monitoring."""
    before = _view(client, headers, by="industry")
    assert client.post("/api/v1/grid-factors/units/from-monitoring", headers=headers["admin"],
                       json={"since": f"{YEAR}-01"}).status_code == 201
    fitted = client.post("/api/v1/grid-factors/fuel-models/fit", headers=headers["admin"])
    assert fitted.status_code == 201, fitted.text
    model = next(m for m in fitted.json()["fitted"] if m["industry"] == INDUSTRY)
    run = client.post("/api/v1/grid-factors/simulation/to-monitoring", headers=headers["admin"],
                      json={"since": f"{YEAR}-01"})
    assert run.status_code == 201, run.text
    return {"before": before, "model": model, "run": run.json()}


def test_only_administrators_estimate_into_monitoring_and_each_run_is_audited(
        client: TestClient, headers: Headers, estimated: dict[str, Any], db: psycopg.Connection) -> None:
    run = estimated["run"]
    assert (run["estimated"], run["models"]) == (12, {INDUSTRY: estimated["model"]["model_id"]})
    assert db.execute("SELECT action, after->>'estimates' FROM audit_log WHERE target = %s",
                      (f"monitoring-estimates:{run['run_id']}",)).fetchall() == [
        ("grid_factors.estimate_to_monitoring", "12")]
    assert client.post("/api/v1/grid-factors/simulation/to-monitoring", headers=headers["gov"],
                       json={"since": f"{YEAR}-01"}).status_code == 403


def test_the_view_gives_reported_and_estimated_co2_apart_and_leaves_the_reported_figures_alone(
        client: TestClient, headers: Headers, estimated: dict[str, Any], db: psycopg.Connection) -> None:
    after = _view(client, headers, by="industry")
    total, ratio = after["total"], estimated["model"]["total_ratio"]
    reported = db.execute("SELECT sum(f.tco2) FROM monitoring_figures f JOIN monitoring_units u USING (unit_id)"
                          " WHERE u.region_code = %s AND f.month >= %s::date AND f.month < %s::date",
                          (REGION, f"{YEAR}-01-01", f"{YEAR + 1}-01-01")).fetchone()[0]
    assert (total["tco2"], total["reported_tco2"]) == (pytest.approx(reported), pytest.approx(reported))
    assert total["tco2"] == pytest.approx(estimated["before"]["total"]["tco2"])  # estimating changed no figure
    assert estimated["before"]["total"]["estimated_tco2"] == 0
    assert total["estimated_tco2"] == pytest.approx(ratio * 500 * 12)
    assert total["estimated_low_tco2"] < total["estimated_tco2"] < total["estimated_high_tco2"]
    assert total["with_estimated_tco2"] == pytest.approx(total["tco2"] + total["estimated_tco2"])
    assert total["estimated_share"] == pytest.approx(total["estimated_tco2"] / total["with_estimated_tco2"])
    assert (total["estimated_unit_months"], total["estimated_models"]) == (
        12, {estimated["model"]["model_id"]: MODEL_VERSION})
    assert "never part of tco2" in after["basis"]["estimated"]


@pytest.mark.parametrize("by", ["industry", "unit"])
def test_the_rows_and_the_months_estimated_add_up_to_the_total_estimated(
        client: TestClient, headers: Headers, estimated: dict[str, Any], by: str) -> None:
    view = _view(client, headers, by=by)
    assert sum(r["estimated_tco2"] for r in view["rows"]) == pytest.approx(view["total"]["estimated_tco2"])
    assert sum(m["estimated_tco2"] for m in view["trend"]) == pytest.approx(view["total"]["estimated_tco2"])
    for row in view["rows"]:
        assert row["with_estimated_tco2"] == pytest.approx(row["tco2"] + row["estimated_tco2"])


def test_a_units_archive_lists_its_estimates_by_month_with_the_model(
        client: TestClient, headers: Headers, units: dict[str, Any], estimated: dict[str, Any]) -> None:
    ratio, model_id = estimated["model"]["total_ratio"], estimated["model"]["model_id"]
    electric = client.get(f"/api/v1/monitoring/units/{units['electric']}", headers=headers["gov"],
                          params={"year": YEAR}).json()
    full = client.get(f"/api/v1/monitoring/units/{units['full']}", headers=headers["gov"],
                      params={"year": YEAR}).json()
    assert [(e["month"], e["model_id"]) for e in electric["estimated"]] == [
        (f"{YEAR}-{m:02d}", model_id) for m in range(1, 13)]
    assert [m["estimated_tco2"] for m in electric["months"]] == pytest.approx([ratio * 500] * 12)
    assert electric["total"]["estimated_tco2"] == pytest.approx(ratio * 500 * 12)
    assert (full["estimated"], full["total"]["estimated_tco2"]) == ([], 0)


def test_an_estimate_gives_way_when_the_unit_reports_its_fuel_for_that_month(
        client: TestClient, headers: Headers, units: dict[str, Any], estimated: dict[str, Any]) -> None:
    ratio = estimated["model"]["total_ratio"]
    before = _view(client, headers, by="industry")["total"]
    r = client.post("/api/v1/monitoring/figures", headers=headers["admin"], json={"figures": [
        {"credit_code": units["electric_code"], "month": f"{YEAR}-03", "item": "coal", "quantity": 40, "unit": "t"}]})
    assert r.status_code == 200, r.text
    after = _view(client, headers, by="industry")["total"]
    assert (after["estimated_unit_months"], after["estimated_tco2"]) == (11, pytest.approx(ratio * 500 * 11))
    assert after["tco2"] > before["tco2"]  # the reported coal is now in the reported figures, and only there
