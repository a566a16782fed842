"""/api/v1/grid-factors against a real PostgreSQL: regional inputs and flow tracing, publishing into the
accounting factor library, the enterprise factor library with versions and pins, the electricity -> fuel
simulation and the third-party check; administrators write, every write audited."""

from __future__ import annotations

import io
import math
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ILLUSTRATIVE = Path(__file__).resolve().parents[2] / "carbon_domain" / "data" / "grid_regions_illustrative.csv"
Headers = dict[str, dict[str, str]]


def _tag() -> str:
    return uuid.uuid4().hex[:6]


def _actions(db: psycopg.Connection, target: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT action FROM audit_log WHERE target = %s ORDER BY audit_id",
                                     (target,)).fetchall()]


def _three_regions(tag: str) -> dict[str, Any]:
    a, b, c = (f"T{tag}{x}" for x in "ABC")
    return {"name": f"three regions {tag}", "period": "2025", "source": "METHODS.md section 8 example", "rows": [
        {"record": "region", "region": a, "mwh": 600, "tco2": 510},
        {"record": "region", "region": b, "mwh": 300, "tco2": 0},
        {"record": "region", "region": c, "mwh": 100, "tco2": 40},
        {"record": "flow", "region": a, "to_region": b, "mwh": 300},
        {"record": "flow", "region": b, "to_region": c, "mwh": 200}]}


def test_the_illustrative_dataset_imports_and_traces_under_both_conventions_with_its_conservation_check(
        client: TestClient, headers: Headers, db: psycopg.Connection) -> None:
    with ILLUSTRATIVE.open("rb") as f:
        r = client.post("/api/v1/grid-factors/regional/inputs", headers=headers["admin"],
                        files={"file": ("provinces.csv", f, "text/csv")},
                        data={"name": "East China (illustrative)", "period": "2024", "illustrative": "true"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["regions"], created["flows"], created["illustrative"]) == (6, 9, True)
    by_convention = {}
    for convention in ("consumption", "generation"):
        r = client.post(f"/api/v1/grid-factors/regional/inputs/{created['input_id']}/trace", headers=headers["admin"],
                        json={"convention": convention})
        assert r.status_code == 201, r.text
        assert r.json()["conserved"] is True and r.json()["conservation_error"] <= 1e-9
        result = client.get(f"/api/v1/grid-factors/regional/results/{r.json()['result_id']}", headers=headers["gov"])
        by_convention[convention] = {f["region"]: f for f in result.json()["factors"]}
        weighted = sum(f["intensity"] * f["consumption_mwh"] for f in result.json()["factors"])
        assert weighted == pytest.approx(result.json()["generation_emissions_t"], rel=1e-9)
        assert _actions(db, f"grid-result:{r.json()['result_id']}") == ["grid_factors.trace"]
    # Shanghai imports from Sichuan hydro via Jiangsu: the two conventions value that differently
    assert by_convention["consumption"]["CN-SH"]["intensity"] != by_convention["generation"]["CN-SH"]["intensity"]
    assert _actions(db, f"grid-input:{created['input_id']}") == ["grid_factors.regional_import"]
    listed = client.get("/api/v1/grid-factors/regional/inputs", headers=headers["ent"]).json()["inputs"]
    assert any(i["input_id"] == created["input_id"] and i["illustrative"] for i in listed)


def test_a_bad_regional_file_is_refused_with_its_line_numbers_and_nothing_is_stored(
        client: TestClient, headers: Headers, db: psycopg.Connection) -> None:
    text = ("record,region,to_region,mwh,tco2\n"
            "region,X,,100,50\n"
            "region,Y,,lots,0\n"
            "pipe,X,Y,10,\n")
    before = db.execute("SELECT count(*) FROM grid_region_inputs").fetchone()
    r = client.post("/api/v1/grid-factors/regional/inputs", headers=headers["admin"],
                    files={"file": ("bad.csv", text.encode(), "text/csv")}, data={"period": "2025"})
    assert r.status_code == 422
    problems = r.json()["detail"]["problems"]
    assert [p["line"] for p in problems] == [3, 4]
    assert "mwh 'lots' is not a number" in problems[0]["reason"] and "record must be" in problems[1]["reason"]
    assert db.execute("SELECT count(*) FROM grid_region_inputs").fetchone() == before


def test_a_flow_to_a_region_without_a_region_row_is_refused_with_its_line(
        client: TestClient, headers: Headers) -> None:
    body = _three_regions(_tag())
    body["rows"].append({"record": "flow", "region": body["rows"][0]["region"], "to_region": "Nowhere", "mwh": 5})
    r = client.post("/api/v1/grid-factors/regional/inputs", headers=headers["admin"], json=body)
    assert r.status_code == 422
    assert r.json()["detail"]["problems"] == [
        {"line": 6, "reason": "flow names region 'Nowhere', which has no region row; add it with mwh and tco2"}]


def test_a_traced_result_is_published_into_the_accounting_factor_library_once(
        client: TestClient, headers: Headers, db: psycopg.Connection) -> None:
    tag = _tag()
    input_id = client.post("/api/v1/grid-factors/regional/inputs", headers=headers["admin"],
                           json=_three_regions(tag)).json()["input_id"]
    result = client.post(f"/api/v1/grid-factors/regional/inputs/{input_id}/trace", headers=headers["admin"],
                         json={"convention": "consumption"}).json()
    r = client.post(f"/api/v1/grid-factors/regional/results/{result['result_id']}/publish", headers=headers["admin"],
                    json={})
    assert r.status_code == 201, r.text
    key = f"grid.t{tag}c.consumption"
    found = client.get("/api/v1/factors", headers=headers["ent"],
                       params={"key": key, "series": "flow-traced-consumption", "at": "2025-06-30"}).json()
    (row,) = found["factors"]  # a regional row: computations resolve it through their scope chain
    assert row["value"] == pytest.approx(125 / 300)  # METHODS.md: C = 0.4167
    assert (row["factor_id"], row["scope"], row["scope_id"]) == (f"{key}@flow-{result['result_id']}", "region",
                                                                 f"T{tag}C")
    bad_day = client.post(f"/api/v1/grid-factors/regional/results/{result['result_id']}/publish",
                          headers=headers["admin"], json={"valid_from": "2025-02-30"})
    assert bad_day.status_code == 422 and "is not a day" in bad_day.text
    again = client.post(f"/api/v1/grid-factors/regional/results/{result['result_id']}/publish",
                        headers=headers["admin"], json={})
    assert again.status_code == 409 and "already published" in again.text
    assert _actions(db, f"grid-result:{result['result_id']}") == ["grid_factors.trace", "grid_factors.publish"]


def test_illustrative_results_are_never_published(client: TestClient, headers: Headers) -> None:
    body = {**_three_regions(_tag()), "illustrative": True}
    input_id = client.post("/api/v1/grid-factors/regional/inputs", headers=headers["admin"], json=body).json()["input_id"]
    result_id = client.post(f"/api/v1/grid-factors/regional/inputs/{input_id}/trace", headers=headers["admin"],
                            json={"convention": "generation"}).json()["result_id"]
    r = client.post(f"/api/v1/grid-factors/regional/results/{result_id}/publish", headers=headers["admin"], json={})
    assert r.status_code == 409 and "illustrative data are never published" in r.text


def _energy(unit: str, industry: str, region: str, points: list[tuple[float, float | None]],
            fuels: tuple[float, float, float] | None = None) -> list[dict[str, Any]]:
    rows = []
    for month, (mwh, _) in enumerate(points, start=1):
        row: dict[str, Any] = {"unit_id": unit, "industry": industry, "region": region, "period": f"2025-{month:02d}",
                               "electricity_mwh": mwh}
        if fuels is not None:
            row |= {"coal_tco2": fuels[0] * mwh, "oil_tco2": fuels[1] * mwh, "gas_tco2": fuels[2] * mwh}
        rows.append(row)
    return rows


def _verified(unit: str, points: list[tuple[float, float | None]]) -> list[dict[str, Any]]:
    return [{"unit_id": unit, "period": f"2025-{m:02d}", "verified_tco2": e, "verifier": "TÜV test"}
            for m, (_, e) in enumerate(points, start=1) if e is not None]


def test_factors_are_fitted_as_versions_pinned_with_a_reason_and_checked_against_verified_reports(
        client: TestClient, headers: Headers, db: psycopg.Connection) -> None:
    tag = _tag()
    unit, industry = f"u-{tag}", f"ind-{tag}"
    points: list[tuple[float, float | None]] = [(1, 3), (2, 5), (3, 8), (4, 9)]  # E = 1 + 2.1 Q (hand-computed)
    r = client.post("/api/v1/grid-factors/units/energy", headers=headers["admin"],
                    json={"rows": _energy(unit, industry, "CN-ZJ-HZ", points)})
    assert r.status_code == 201, r.text
    assert _actions(db, f"grid-import:{r.json()['import_id']}") == ["grid_factors.unit_energy_import"]
    assert client.post("/api/v1/grid-factors/verified", headers=headers["admin"],
                       json={"rows": _verified(unit, points)}).status_code == 201
    first = client.post("/api/v1/grid-factors/enterprise/fit", headers=headers["admin"], json={"by": "unit"})
    assert first.status_code == 201, first.text
    assert {"factor_id": f"unit:{unit}@v1", "scope": "unit", "scope_id": unit, "version": 1} in first.json()["fitted"]
    client.post("/api/v1/grid-factors/enterprise/fit", headers=headers["admin"], json={"by": "unit"})
    library = client.get("/api/v1/grid-factors/enterprise/factors", headers=headers["gov"],
                         params={"scope": "unit", "scope_id": unit}).json()["factors"]
    assert [f["version"] for f in library] == [1, 2]
    assert library[0]["coefficients"] == pytest.approx([1.0, 2.1])
    assert library[0]["std_errors"] == pytest.approx([math.sqrt(0.525), math.sqrt(0.07)])
    assert (library[0]["n"], library[0]["period_from"], library[0]["period_to"]) == (4, "2025-01", "2025-04")
    assert library[0]["r2"] == pytest.approx(1 - 0.70 / 22.75)

    r = client.post("/api/v1/grid-factors/enterprise/pins", headers=headers["admin"],
                    json={"unit_id": unit, "factor_id": f"unit:{unit}@v1", "reason": "v2 fitted over a shutdown"})
    assert r.status_code == 201, r.text
    entry = db.execute("SELECT action, after FROM audit_log WHERE target = %s ORDER BY audit_id DESC LIMIT 1",
                       (f"unit:{unit}",)).fetchone()
    assert entry == ("grid_factors.pin", {"factor_id": f"unit:{unit}@v1", "reason": "v2 fitted over a shutdown"})

    outside = client.get("/api/v1/grid-factors/enterprise/factors", headers=headers["gov_gd"],
                         params={"scope": "unit", "scope_id": unit}).json()
    assert outside == {"factors": [], "pins": []}  # the unit is in CN-ZJ-HZ: not Guangdong's to see

    report = client.get("/api/v1/grid-factors/check", headers=headers["gov"],
                        params={"bound": 0.05, "holdout": "none"}).json()
    assert (report["holdout"]["kind"], report["holdout"]["out_of_sample"]) == ("none", False)
    (ours,) = [g for g in report["by_industry"] if g["key"] == industry]
    relative = [(3.1 - 3) / 3, (5.2 - 5) / 5, (7.3 - 8) / 8, (9.4 - 9) / 9]
    assert (ours["n"], ours["mape"]) == (4, pytest.approx(sum(abs(x) for x in relative) / 4))
    assert ours["worst"][0]["period"] == "2025-03"  # 7.3 against 8.0: the largest relative error
    assert f"unit:{unit}@v1" in report["flagged_factors"]  # the pinned version is the one used, MAPE 5.1 % > 5 %


def test_the_check_holds_out_each_units_last_months_by_default_and_refits_the_factor_without_them(
        client: TestClient, headers: Headers) -> None:
    tag = _tag()
    unit, industry = f"h-{tag}", f"hold-{tag}"
    points: list[tuple[float, float | None]] = [(1, 3), (2, 5), (3, 8), (4, 9)]  # without April: E = 1/3 + 2.5 Q
    assert client.post("/api/v1/grid-factors/units/energy", headers=headers["admin"],
                       json={"rows": _energy(unit, industry, "CN-ZJ-HZ", points)}).status_code == 201
    assert client.post("/api/v1/grid-factors/verified", headers=headers["admin"],
                       json={"rows": _verified(unit, points)}).status_code == 201
    fitted = client.post("/api/v1/grid-factors/enterprise/fit", headers=headers["admin"], json={"by": "unit"}).json()
    factor_id = next(f["factor_id"] for f in fitted["fitted"] if f["scope_id"] == unit)
    r = client.get("/api/v1/grid-factors/check", headers=headers["gov"], params={"test_months": 1})
    assert r.status_code == 200, r.text
    report = r.json()
    (ours,) = [g for g in report["by_factor"] if g["key"] == factor_id]
    (april,) = ours["worst"]
    assert (report["holdout"]["kind"], report["holdout"]["out_of_sample"], ours["n"], april["period"]) == (
        "months", True, 1, "2025-04")
    assert april["estimated_t"] == pytest.approx(1 / 3 + 2.5 * 4)  # not 9.4, the in-sample fit's figure
    assert ours["mape"] == pytest.approx((31 / 3 - 9) / 9)
    bad = client.get("/api/v1/grid-factors/check", headers=headers["gov"], params={"holdout": "sometimes"})
    assert bad.status_code == 422


def test_a_pin_to_an_unknown_factor_is_refused(client: TestClient, headers: Headers) -> None:
    r = client.post("/api/v1/grid-factors/enterprise/pins", headers=headers["admin"],
                    json={"unit_id": "u-x", "factor_id": "unit:nobody@v9", "reason": "typo check"})
    assert r.status_code == 422 and "is not in the library" in r.text


def test_a_region_is_simulated_from_electricity_with_its_share_band_and_verified_total(
        client: TestClient, headers: Headers) -> None:
    tag = _tag()
    region, industry = f"CN-ZJ-S{tag}", f"cement-{tag}"
    rows = (_energy(f"f1-{tag}", industry, region, [(100, None)], fuels=(0.5, 0.05, 0.05))
            + _energy(f"f2-{tag}", industry, region, [(200, None)], fuels=(0.58, 0.05, 0.0))
            + _energy(f"e1-{tag}", industry, region, [(50, None)]))
    assert client.post("/api/v1/grid-factors/units/energy", headers=headers["admin"],
                       json={"rows": rows}).status_code == 201
    fitted = client.post("/api/v1/grid-factors/fuel-models/fit", headers=headers["admin"])
    assert fitted.status_code == 201, fitted.text
    (model,) = [m for m in fitted.json()["fitted"] if m["industry"] == industry]
    assert model["total_ratio"] == pytest.approx(0.62)  # (60 + 126) / 300
    r = client.get("/api/v1/grid-factors/simulation", headers=headers["gov"], params={"region": region})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["measured_t"], body["simulated_t"]) == (pytest.approx(186.0), pytest.approx(31.0))
    assert body["simulated_share"] == pytest.approx(31 / 217)
    assert body["units"][0]["quality"] == "estimated" and body["low_t"] < 217 < body["high_t"]
    assert body["models"][industry] == model["model_id"]
    assert client.get("/api/v1/grid-factors/simulation", headers=headers["gov_gd"],
                      params={"region": region}).status_code == 404
    assert client.get("/api/v1/grid-factors/simulation", headers=headers["ent"],
                      params={"region": region}).status_code == 403


def test_a_region_fully_verified_shows_its_simulated_co2_next_to_the_verified_total_with_the_error(
        client: TestClient, headers: Headers) -> None:
    tag = _tag()
    region, industry = f"CN-ZJ-V{tag}", f"glass-{tag}"
    units = {f"f1-{tag}": (100, (0.5, 0.05, 0.05)), f"f2-{tag}": (200, (0.58, 0.05, 0.0)), f"e1-{tag}": (50, None)}
    rows = [row for unit, (mwh, fuels) in units.items() for row in _energy(unit, industry, region, [(mwh, None)],
                                                                              fuels=fuels)]
    assert client.post("/api/v1/grid-factors/units/energy", headers=headers["admin"],
                       json={"rows": rows}).status_code == 201
    assert client.post("/api/v1/grid-factors/fuel-models/fit", headers=headers["admin"]).status_code == 201
    # measured 60 + 126, simulated 50 x 0.62 = 31: 217 t against verified 62 + 130 + 38 = 230 t
    verified = {f"f1-{tag}": 62.0, f"f2-{tag}": 130.0, f"e1-{tag}": 38.0}

    def simulated() -> dict[str, Any]:
        r = client.get("/api/v1/grid-factors/simulation", headers=headers["gov"], params={"region": region})
        assert r.status_code == 200, r.text
        return r.json()

    rows = [{"unit_id": u, "period": "2025-01", "verified_tco2": t, "verifier": "test"} for u, t in verified.items()]
    assert client.post("/api/v1/grid-factors/verified", headers=headers["admin"],
                       json={"rows": rows[:2]}).status_code == 201
    partly = simulated()  # one unit-period without a verified figure: no total to compare with
    assert (partly["verified_t"], partly["error_vs_verified"], partly["verified_units"], partly["unit_periods"]) == (
        None, None, 2, 3)
    assert client.post("/api/v1/grid-factors/verified", headers=headers["admin"],
                       json={"rows": rows[2:]}).status_code == 201
    body = simulated()
    assert (body["total_t"], body["verified_t"], body["verified_units"]) == (pytest.approx(217.0), 230.0, 3)
    assert body["error_vs_verified"] == pytest.approx((217 - 230) / 230)  # -5.65 %: the simulation is under


def _xlsx(rows: list[list[Any]]) -> bytes:
    """An .xlsx workbook whose first sheet holds `rows`, built as a spreadsheet program would save it."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_regional_xlsx_upload_imports_and_traces_like_a_csv(
        client: TestClient, headers: Headers, db: psycopg.Connection) -> None:
    x, y = f"X{_tag()}", f"Y{_tag()}"
    book = _xlsx([["record", "region", "to_region", "mwh", "tco2"], ["region", x, None, 100, 50],
                  ["region", y, None, 50, 0], ["flow", x, y, 20, None]])
    r = client.post("/api/v1/grid-factors/regional/inputs", headers=headers["admin"],
                    files={"file": ("regions.xlsx", book, XLSX)}, data={"period": "2025", "name": f"xlsx {x}"})
    assert r.status_code == 201, r.text
    assert (r.json()["regions"], r.json()["flows"]) == (2, 1)
    assert db.execute("SELECT origin, filename FROM grid_region_inputs WHERE input_id = %s",
                      (r.json()["input_id"],)).fetchone() == ("xlsx", "regions.xlsx")
    traced = client.post(f"/api/v1/grid-factors/regional/inputs/{r.json()['input_id']}/trace",
                         headers=headers["admin"], json={"convention": "consumption"})
    assert traced.status_code == 201, traced.text
    result = client.get(f"/api/v1/grid-factors/regional/results/{traced.json()['result_id']}", headers=headers["gov"])
    factors = {f["region"]: f["intensity"] for f in result.json()["factors"]}
    # x keeps 80 MWh at 0.5 t/MWh; y: its own 50 MWh at 0 plus 20 MWh from x at 0.5 -> 10 t over 70 MWh
    assert factors == pytest.approx({x: 0.5, y: 10 / 70})


def test_a_bad_row_of_a_regional_xlsx_is_named_by_its_sheet_row_and_nothing_is_stored(
        client: TestClient, headers: Headers, db: psycopg.Connection) -> None:
    book = _xlsx([["record", "region", "to_region", "mwh", "tco2"], ["region", "X", None, 100, 50],
                  [None, None, None, None, None], ["region", "Y", None, "lots", 0]])
    before = db.execute("SELECT count(*) FROM grid_region_inputs").fetchone()
    r = client.post("/api/v1/grid-factors/regional/inputs", headers=headers["admin"],
                    files={"file": ("bad.xlsx", book, XLSX)}, data={"period": "2025"})
    assert r.status_code == 422, r.text
    (problem,) = r.json()["detail"]["problems"]
    assert problem["line"] == 4 and "mwh 'lots' is not a number" in problem["reason"]  # the empty row 3 counts
    assert db.execute("SELECT count(*) FROM grid_region_inputs").fetchone() == before


def test_verified_emissions_from_xlsx_keep_months_and_years_excel_typed_as_dates_and_numbers(
        client: TestClient, headers: Headers, db: psycopg.Connection) -> None:
    unit = f"x-{_tag()}"
    book = _xlsx([["unit_id", "period", "verified_tco2", "verifier"], [unit, datetime(2025, 3, 1), 12.5, "CQC"],
                  [unit, 2024, 140, None], [unit, "2025-04", "13.25", "CQC"]])
    r = client.post("/api/v1/grid-factors/verified", headers=headers["admin"],
                    files={"file": ("verified.xlsx", book, XLSX)})
    assert r.status_code == 201, r.text
    stored = db.execute("SELECT line, period, verified_tco2, verifier FROM grid_verified_emissions"
                        " WHERE import_id = %s ORDER BY line", (r.json()["import_id"],)).fetchall()
    assert stored == [(2, "2025-03", 12.5, "CQC"), (3, "2024", 140.0, None), (4, "2025-04", 13.25, "CQC")]
    assert _actions(db, f"grid-import:{r.json()['import_id']}") == ["grid_factors.verified_import"]


def test_a_bad_row_of_a_verified_xlsx_is_reported_by_its_line_and_nothing_is_stored(
        client: TestClient, headers: Headers, db: psycopg.Connection) -> None:
    unit = f"x-{_tag()}"
    book = _xlsx([["unit_id", "period", "verified_tco2", "verifier"], [unit, "2025-01", 10, "CQC"],
                  [unit, "2025-02", -3, "CQC"], [unit, "2025-13", 10, "CQC"]])
    r = client.post("/api/v1/grid-factors/verified", headers=headers["admin"],
                    files={"file": ("verified.xlsx", book, XLSX)})
    assert r.status_code == 422, r.text
    reasons = {p["line"]: p["reason"] for p in r.json()["detail"]["problems"]}
    assert sorted(reasons) == [3, 4]
    assert "must be a finite number >= 0" in reasons[3] and "neither a year (2025) nor a month" in reasons[4]
    assert db.execute("SELECT count(*) FROM grid_verified_emissions WHERE unit_id = %s", (unit,)).fetchone() == (0,)


def test_a_unit_energy_upload_reports_each_bad_line(client: TestClient, headers: Headers) -> None:
    text = ("unit_id,industry,region,period,electricity_mwh,coal_tco2,oil_tco2,gas_tco2\n"
            "u1,steel,CN-ZJ,2025-01,100,,,\n"
            "u1,steel,CN-ZJ,2025-13,100,,,\n"
            "u1,steel,CN-ZJ,2025-01,-5,,,\n")
    r = client.post("/api/v1/grid-factors/units/energy", headers=headers["admin"],
                    files={"file": ("units.csv", text.encode(), "text/csv")})
    assert r.status_code == 422
    reasons = {p["line"]: p["reason"] for p in r.json()["detail"]["problems"]}
    assert "neither a year (2025) nor a month" in reasons[3] and "must be a finite number >= 0" in reasons[4]


@pytest.mark.parametrize("role", ["gov", "ent", "tech", "anonymous"])
def test_only_administrators_import_trace_fit_and_pin(client: TestClient, headers: Headers, role: str) -> None:
    expected = 401 if role == "anonymous" else 403
    for path, body in (("/api/v1/grid-factors/regional/inputs", _three_regions(_tag())),
                       ("/api/v1/grid-factors/regional/inputs/1/trace", {}),
                       ("/api/v1/grid-factors/enterprise/fit", {}),
                       ("/api/v1/grid-factors/verified", {"rows": [{"unit_id": "u", "period": "2025",
                                                                     "verified_tco2": 1}]}),
                       ("/api/v1/grid-factors/enterprise/pins", {"unit_id": "u", "factor_id": None, "reason": "xyz"})):
        assert client.post(path, headers=headers[role], json=body).status_code == expected, path


def test_regions_with_unit_data_are_listed_within_the_callers_region(client: TestClient, headers: Headers) -> None:
    tag = _tag()
    rows = (_energy(f"r1-{tag}", f"ind-{tag}", f"CN-ZJ-R{tag}", [(10, None)])
            + _energy(f"r2-{tag}", f"ind-{tag}", f"CN-ZJ-R{tag}", [(20, None)])
            + _energy(f"r3-{tag}", f"ind-{tag}", f"CN-GD-R{tag}", [(30, None)]))
    assert client.post("/api/v1/grid-factors/units/energy", headers=headers["admin"],
                       json={"rows": rows}).status_code == 201
    seen = {role: {r["region"]: r["units"] for r in client.get("/api/v1/grid-factors/units/regions",
                                                                headers=headers[role]).json()["regions"]}
            for role in ("admin", "gov")}
    assert (seen["admin"][f"CN-ZJ-R{tag}"], seen["admin"][f"CN-GD-R{tag}"]) == (2, 1)
    assert (seen["gov"].get(f"CN-ZJ-R{tag}"), f"CN-GD-R{tag}" in seen["gov"]) == (2, False)
    assert client.get("/api/v1/grid-factors/units/regions", headers=headers["ent"]).status_code == 403
