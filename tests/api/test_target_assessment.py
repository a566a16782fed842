"""Target assessment over HTTP (api/analysis/assessment.py): results per holder at the end of the year, the
comparison with the previous period, who sees which holders, and the CSV/XLSX table.

Units are written in Zhoushan (330900), a city no other test uses; expected values come from the stored
figures, not typed in.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.api.conftest import make_user
from tests.api.test_monitoring import credit_code, csv_file, upload

REGION = "330900"
ENTERPRISE = "an-ent-zs"
A = "/api/v1/analysis"


@pytest.fixture(scope="module")
def client(api_app_client: TestClient) -> TestClient:
    return api_app_client


@pytest.fixture(scope="module")
def zhoushan(client: TestClient, admin_headers: dict[str, str], database_url: str) -> dict[str, int]:
    """Two units with 2023-2025 monthly figures: steel's coal grows 10 % a year, the shipyard's falls 10 %."""
    codes = {"steel": credit_code(REGION), "ship": credit_code(REGION)}
    lines = []
    for year in (2023, 2024, 2025):
        for month in range(1, 13):
            m = f"{year}-{month:02d}"
            lines += [f"{codes['steel']},ZS Steel,{REGION},313,{m},coal,{100 * 1.1 ** (year - 2023):.6f},t",
                      f"{codes['steel']},ZS Steel,{REGION},313,{m},value_added,1000,万元",
                      f"{codes['ship']},ZS Ship,{REGION},261,{m},coal,{80 * 0.9 ** (year - 2023):.6f},t",
                      f"{codes['ship']},ZS Ship,{REGION},261,{m},value_added,800,万元"]
    r = upload(client, admin_headers, csv_file(*lines))
    assert r.status_code == 200, r.text
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'ZS Ship', 'CN-ZJ')"
                     " ON CONFLICT DO NOTHING", (ENTERPRISE,))
        conn.execute("UPDATE monitoring_units SET enterprise_id = %s WHERE credit_code = %s", (ENTERPRISE, codes["ship"]))
        ids = dict(conn.execute("SELECT credit_code, unit_id FROM monitoring_units WHERE credit_code = ANY(%s)",
                                (list(codes.values()),)).fetchall())
    return {name: ids[code] for name, code in codes.items()}


@pytest.fixture(scope="module")
def gov(client: TestClient, admin_headers: dict[str, str]) -> dict[str, str]:
    return make_user(client, admin_headers, "government", region=REGION)[2]


@pytest.fixture(scope="module")
def ship_user(client: TestClient, admin_headers: dict[str, str], zhoushan: dict[str, int]) -> dict[str, str]:
    return make_user(client, admin_headers, "enterprise", enterprise_id=ENTERPRISE)[2]


def _co2(db: psycopg.Connection, unit_id: int, year: int) -> float:
    row = db.execute("SELECT sum(tco2) FROM monitoring_figures WHERE unit_id = %s AND extract(year FROM month) = %s",
                     (unit_id, year)).fetchone()
    assert row is not None
    return float(row[0])


def _issued(client: TestClient, gov: dict[str, str], year: int, value: float, name: str) -> int:
    body = {"region": REGION, "name": name, "kind": "total", "year": year, "base_year": year - 1, "value": value,
            "holder_level": "unit", "rule": "equal_rate"}
    r = client.post(f"{A}/targets", headers=gov, json=body)
    assert r.status_code == 201, r.text
    tid = int(r.json()["target_id"])
    assert client.post(f"{A}/targets/{tid}/issue", headers=gov).status_code == 200
    return tid


@pytest.fixture(scope="module")
def targets(client: TestClient, gov: dict[str, str], zhoushan: dict[str, int], database_url: str
            ) -> dict[int, int]:
    """A 5 % cut for 2024 and for 2025, each against the year before, issued."""
    out = {}
    with psycopg.connect(database_url, autocommit=True) as db:
        for year in (2024, 2025):
            base = sum(_co2(db, unit, year - 1) for unit in zhoushan.values())
            out[year] = _issued(client, gov, year, 0.95 * base, f"zs {year}")
    return out


def test_each_holder_is_assessed_against_its_allocation_for_the_whole_year(
        client: TestClient, gov: dict[str, str], zhoushan: dict[str, int], targets: dict[int, int],
        db: psycopg.Connection) -> None:
    r = client.get(f"{A}/targets/{targets[2025]}/assessment", headers=gov)
    body = r.json()
    rows = {h["holder"]: h for h in body["holders"]}
    steel, ship = rows[str(zhoushan["steel"])], rows[str(zhoushan["ship"])]
    steel_target = 0.95 * _co2(db, zhoushan["steel"], 2024)
    # steel grew 10 % against a 5 % cut: not met; the shipyard fell 10 %: met, and ranks first
    assert (r.status_code, body["final"], round(steel["actual"], 6), round(steel["gap"], 6), steel["met"],
            ship["met"], ship["rank"], steel["rank"], body["summary"]) == (
        200, True, round(_co2(db, zhoushan["steel"], 2025), 6),
        round(_co2(db, zhoushan["steel"], 2025) - steel_target, 6), False, True, 1, 2,
        {"holders": 2, "assessed": 2, "met": 1, "not_met": 1})


def test_the_assessment_sets_each_holder_beside_the_previous_period(
        client: TestClient, gov: dict[str, str], zhoushan: dict[str, int], targets: dict[int, int]) -> None:
    now = client.get(f"{A}/targets/{targets[2025]}/assessment", headers=gov).json()
    before = client.get(f"{A}/targets/{targets[2024]}/assessment", headers=gov).json()
    earlier = {h["holder"]: h["gap_rate"] for h in before["holders"]}
    assert (now["previous"]["target_id"], before["previous"],
            {h["holder"]: round(h["gap_rate_change"], 9) for h in now["holders"]}) == (
        targets[2024], None, {h["holder"]: round(h["gap_rate"] - earlier[h["holder"]], 9) for h in now["holders"]})


def test_an_enterprise_sees_only_its_own_result(
        client: TestClient, ship_user: dict[str, str], zhoushan: dict[str, int], targets: dict[int, int]) -> None:
    r = client.get(f"{A}/targets/{targets[2025]}/assessment", headers=ship_user)
    assert (r.status_code, [h["holder"] for h in r.json()["holders"]], r.json()["summary"]["holders"]) == (
        200, [str(zhoushan["ship"])], 1)


def test_the_result_table_exports_as_csv_and_xlsx_with_the_same_rows(
        client: TestClient, gov: dict[str, str], targets: dict[int, int]) -> None:
    body = client.get(f"{A}/targets/{targets[2025]}/assessment", headers=gov).json()
    as_csv = client.get(f"{A}/targets/{targets[2025]}/assessment/export", headers=gov)
    as_xlsx = client.get(f"{A}/targets/{targets[2025]}/assessment/export", headers=gov, params={"format": "xlsx"})
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    cells = [list(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert (as_csv.status_code, [r["holder"] for r in rows],
            [math.isclose(float(r["actual"]), h["actual"]) for r, h in zip(rows, body["holders"], strict=True)],
            as_xlsx.status_code, [c[1] for c in cells], rows[0]["previous_year"]) == (
        200, [h["holder"] for h in body["holders"]], [True, True], 200, [h["holder"] for h in body["holders"]],
        "2024")


@pytest.mark.parametrize(("who", "params", "status"), [("outsider", {}, 404), ("gov", {"format": "pdf"}, 422)])
def test_assessment_refuses_outsiders_and_unknown_formats(
        client: TestClient, admin_headers: dict[str, str], gov: dict[str, str], targets: dict[int, int], who: str,
        params: dict[str, Any], status: int) -> None:
    headers = gov if who == "gov" else make_user(client, admin_headers, "government", region="330800")[2]
    r = client.get(f"{A}/targets/{targets[2025]}/assessment/export", headers=headers, params=params)
    assert (r.status_code, bool(r.json()["detail"])) == (status, True)
