"""/api/v1/projects (docs/projects.md): a project's bound points with their newest reading and quality, unbinding
them, and its settled electricity fees (结算电费) listed with the derived unit price, exported and imported from
CSV, where each bad line comes back with its line number and the good lines are kept. Scoped and audited."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.projects.fee_import import FeeFileError, read_fee_csv
from tests.api.conftest import unique
from tests.api.test_projects_assets import PROJECTS, seeded, users  # noqa: F401  # the fixtures, shared

DEVICE = "pjm-meter"  # a meter of these tests only, on the project owner's (pj-ent) site
READ_AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def meter(database_url: str, seeded: None) -> None:  # noqa: F811
    """An export counter whose newest reading is 5321.5 kWh (uncertain), and a power gauge without readings."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM devices WHERE device_id = %s", (DEVICE,)).fetchone() is not None:
            return
        with conn.transaction():
            conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, 'pj-site', 'pv')", (DEVICE,))
            key = conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, 'export_kwh', 'kWh',"
                               " 'counter') RETURNING point_key", (DEVICE,)).fetchone()[0]  # type: ignore[index]
            conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, 'power_kw', 'kW', 'gauge')",
                         (DEVICE,))
            conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, 'spare_kwh', 'kWh',"
                         " 'counter')", (DEVICE,))
            for seq, (at, value, quality) in enumerate(((datetime(2025, 2, 1, tzinfo=UTC), 5000.0, 0),
                                                        (READ_AT, 5321.5, 1)), start=9_100_000):
                conn.execute("INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
                             " VALUES (0, %s, %s, %s, %s, %s)", (seq, at, key, value, quality))


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _project(c: TestClient, owner: dict[str, str], kind: str = "grid_pv") -> str:
    created = _ok(c.post(PROJECTS, headers=owner, json={"enterprise_id": "pj-ent", "name": unique("meter"),
                                                        "kind": kind, "grid_region": "east"}), 201)
    return f"{PROJECTS}/{created['project_id']}"


def _audit(c: TestClient, admin: dict[str, str], action: str, target: str) -> list[dict[str, Any]]:
    entries = _ok(c.get("/api/v1/audit", headers=admin, params={"action": action, "limit": 500}))["entries"]
    return [e for e in entries if e["target"] == target]


def test_bound_points_show_their_newest_reading_and_quality_and_the_owner_unbinds_them(
        api_app_client: TestClient, users: dict[str, Any], meter: None) -> None:  # noqa: F811
    c, owner = api_app_client, users["owner"]
    url = _project(c, owner)
    _ok(c.put(f"{url}/points", headers=owner, json={"device_id": DEVICE, "point": "export_kwh", "role": "export"}))
    bound = _ok(c.put(f"{url}/points", headers=owner,
                      json={"device_id": DEVICE, "point": "spare_kwh", "role": "electricity"}))["points"]
    assert len(bound) == 2
    listed = _ok(c.get(f"{url}/points", headers=users["government"]))["points"]
    by_point = {p["point"]: p for p in listed}
    export = by_point["export_kwh"]
    assert (export["role"], export["unit"], export["last_value"], export["last_quality"]) == (
        "export", "kWh", 5321.5, "uncertain")
    assert datetime.fromisoformat(export["last_ts"]) == READ_AT
    spare = by_point["spare_kwh"]
    assert (spare["unit"], spare["last_ts"], spare["last_value"], spare["last_quality"]) == ("kWh", None, None, None)
    assert _ok(c.get(url, headers=owner))["points"] == listed  # the project's detail carries the same

    r = c.delete(f"{url}/points/{DEVICE}/spare_kwh", headers=users["government"])
    assert r.status_code == 403 and "may read projects but not change them" in r.json()["detail"]
    assert c.delete(f"{url}/points/{DEVICE}/spare_kwh", headers=users["other_enterprise"]).status_code == 404
    left = _ok(c.delete(f"{url}/points/{DEVICE}/spare_kwh", headers=owner))["points"]
    assert [p["point"] for p in left] == ["export_kwh"]
    r = c.delete(f"{url}/points/{DEVICE}/spare_kwh", headers=owner)
    assert r.status_code == 404 and "is not bound" in r.json()["detail"]
    project_id = url.rsplit("/", 1)[1]
    [entry] = _audit(c, users["admin"], "projects.point.unbind", f"project:{project_id}")
    assert (entry["before"]["point"], entry["before"]["role"], entry["after"]) == ("spare_kwh", "electricity", None)

    r = c.put(f"{url}/points", headers=owner, json={"device_id": DEVICE, "point": "power_kw", "role": "export"})
    assert r.status_code == 422 and "is a gauge" in r.json()["detail"]


def test_fees_list_with_the_unit_price_and_export_as_csv_that_imports_again(
        api_app_client: TestClient, users: dict[str, Any]) -> None:  # noqa: F811
    c, owner = api_app_client, users["owner"]
    url = _project(c, owner)
    _ok(c.put(f"{url}/fees/2025-01", headers=owner, json={"energy_mwh": 212.15, "amount_yuan": 84860}))
    _ok(c.put(f"{url}/fees/2025-02", headers=owner, json={"energy_mwh": 0, "amount_yuan": 120}))
    fees = _ok(c.get(f"{url}/fees", headers=users["government"]))["fees"]
    assert [(f["month"], f["energy_kwh"], f["amount_yuan"]) for f in fees] == [
        ("2025-01", pytest.approx(212150), 84860), ("2025-02", 0, 120)]
    assert fees[0]["unit_price_yuan_per_kwh"] == pytest.approx(84860 / 212150)
    assert fees[1]["unit_price_yuan_per_kwh"] is None  # no energy settled: no price
    exported = c.get(f"{url}/fees", headers=owner, params={"format": "csv"})
    assert exported.status_code == 200 and "text/csv" in exported.headers["content-type"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["month"], float(r["energy_kwh"]), float(r["amount_yuan"])) for r in rows] == [
        ("2025-01", pytest.approx(212150), 84860), ("2025-02", 0, 120)]

    again = _project(c, owner)  # the export imports into another project as it is
    answer = _ok(c.post(f"{again}/fees/import", headers=owner,
                        files={"file": ("fees.csv", exported.content, "text/csv")}))
    assert (answer["imported"], answer["refused"]) == (["2025-01", "2025-02"], [])
    assert [(f["month"], f["energy_mwh"]) for f in answer["fees"]] == [("2025-01", pytest.approx(212.15)),
                                                                       ("2025-02", 0)]


def test_a_fee_import_keeps_the_good_lines_and_lists_each_bad_one_by_line_number(
        api_app_client: TestClient, users: dict[str, Any]) -> None:  # noqa: F811
    c, owner = api_app_client, users["owner"]
    url = _project(c, owner)
    _ok(c.put(f"{url}/fees/2025-03", headers=owner, json={"energy_mwh": 1, "amount_yuan": 1}))
    text = ("month,energy_kwh,amount_yuan\n"
            "2025-01,212150,84860\n"
            "2025-13,1000,400\n"          # line 3: no such month
            "2025-02,lots,400\n"          # line 4: not a number
            "\n"
            "2025-03,198400,79360.5\n"    # line 6: replaces the March figures
            "2025-01,1,1\n"               # line 7: January again
            "2025-04,-5,10\n"             # line 8: negative
            "2025-05,100\n")              # line 9: a field short
    answer = _ok(c.post(f"{url}/fees/import", headers=owner,
                        files={"file": ("bills.csv", text.encode(), "text/csv")}))
    assert answer["imported"] == ["2025-01", "2025-03"]
    assert [(p["line"], p["problem"]) for p in answer["refused"]] == [
        (3, "month '2025-13' is not YYYY-MM"),
        (4, "energy_kwh 'lots' is not a number"),
        (7, "month 2025-01 is already on line 2"),
        (8, "energy_kwh -5 must be between 0 and 1e+12"),
        (9, "2 fields, the header has 3"),
    ]
    stored = {f["month"]: (f["energy_kwh"], f["amount_yuan"]) for f in _ok(c.get(f"{url}/fees", headers=owner))["fees"]}
    assert stored == {"2025-01": (pytest.approx(212150), 84860), "2025-03": (pytest.approx(198400), 79360.5)}
    project_id = url.rsplit("/", 1)[1]
    [entry] = [e for e in _audit(c, users["admin"], "projects.fee", f"project:{project_id}:2025-03") if e["detail"]]
    assert (entry["before"], entry["detail"]) == ({"energy_mwh": 1, "amount_yuan": 1}, {"import": "bills.csv", "line": 6})

    r = c.post(f"{url}/fees/import", headers=owner, files={"file": ("x.csv", b"month,kwh,yuan\n2025-01,1,1\n")})
    assert r.status_code == 422 and "line 1 must be the header" in r.json()["detail"]
    r = c.post(f"{url}/fees/import", headers=users["government"], files={"file": ("x.csv", text.encode())})
    assert r.status_code == 403
    assert c.post(f"{url}/fees/import", headers=users["other_enterprise"],
                  files={"file": ("x.csv", text.encode())}).status_code == 404


@pytest.mark.parametrize("data, expected", [
    (b"month,energy_mwh,amount_yuan\n2025-01,1.5,600\n", [("2025-01", 1.5, 600.0)]),
    ("\ufeffMonth, Energy_kWh ,amount_yuan\r\n2025-07,2500,1000\r\n".encode(), [("2025-07", 2.5, 1000.0)]),
    ("month,energy_kwh,amount_yuan,note\n2025-02,1000,400,二月结算\n".encode("gb18030"), [("2025-02", 1.0, 400.0)]),
])
def test_fee_files_read_in_kwh_or_mwh_with_a_bom_or_in_gbk(data: bytes, expected: list[tuple[str, float, float]]
                                                           ) -> None:
    read = read_fee_csv(data)
    assert ([(line.month, line.energy_mwh, line.amount_yuan) for line in read.lines], read.problems) == (expected, [])


@pytest.mark.parametrize("data, problem", [
    (b"", "lacks month, amount_yuan"),
    (b"month,energy_kwh,energy_mwh,amount_yuan\n", "exactly one of energy_kwh or energy_mwh"),
    (b"\xff\xfe\x00\x00", "neither UTF-8 nor GBK"),
])
def test_fee_files_without_a_usable_header_are_refused_whole(data: bytes, problem: str) -> None:
    with pytest.raises(FeeFileError, match=problem):
        read_fee_csv(data)
