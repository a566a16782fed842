"""Government monitoring over HTTP (api/monitoring/): file import, REST push, corrections with history, views by
region / industry / unit, scope, anomaly reminders, the public page and the international comparison.

Each test writes its own units (fresh credit codes) in a region or class no other test uses, so that totals
are its own.
"""

from __future__ import annotations

import asyncio
import io
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from carbon_domain.factors import FactorLibrary
from carbon_domain.monitoring import credit_code_problem
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.sink import ReadingSink
from tests.api.conftest import make_user

HEADER = "credit_code,unit_name,region_code,industry_code,month,item,quantity,unit"
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(region: str = "330500") -> str:
    """A fresh valid code: 17 random characters and the one check character that passes."""
    body = "91" + region + "".join(random.choice(_CHARS) for _ in range(9))
    return next(body + c for c in _CHARS if credit_code_problem(body + c) is None)


def csv_file(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def upload(client: TestClient, headers: dict[str, str], data: bytes, *, name: str = "figures.csv",
           take_valid: bool = False) -> Any:
    return client.post("/api/v1/monitoring/imports", headers=headers, files={"file": (name, data, "text/csv")},
                       data={"take_valid": "true" if take_valid else "false"})


def stored(db: psycopg.Connection, code: str) -> list[tuple[Any, ...]]:
    return db.execute("SELECT to_char(f.month, 'YYYY-MM'), f.item, f.quantity, f.revision FROM monitoring_figures f"
                      " JOIN monitoring_units u USING (unit_id) WHERE u.credit_code = %s ORDER BY 1, 2",
                      (code,)).fetchall()


@pytest.fixture(scope="module")
def client(api_app_client: TestClient) -> TestClient:
    return api_app_client


def test_template_has_the_columns_and_an_example_per_energy_type(client: TestClient,
                                                                  admin_headers: dict[str, str]) -> None:
    r = client.get("/api/v1/monitoring/template.csv", headers=admin_headers)
    lines = r.text.splitlines()
    assert (r.status_code, lines[0], [line.split(",")[5] for line in lines[1:]]) == (
        200, HEADER, ["electricity", "coal", "oil", "natural_gas", "heat", "other", "value_added"])


def test_file_with_errors_stores_nothing_and_names_each_line(client: TestClient, admin_headers: dict[str, str],
                                                             db: psycopg.Connection) -> None:
    code = credit_code()
    data = csv_file(f"{code},Err Co,330502,313,2025-01,coal,100,t",
                    f"{code},Err Co,999999,313,2025-02,coal,100,t",
                    f"{code},Err Co,330502,9999,2025-03,coal,100,t",
                    f"{code},Err Co,330502,313,2025-04,coal,-1,t",
                    f"{code},Err Co,330502,313,2025-05,coal,100,kWh",
                    f"{code},Err Co,330502,313,2025-01,coal,100,t")
    r = upload(client, admin_headers, data)
    errors = [(e["line"], e["field"]) for e in r.json()["errors"]]
    assert (r.status_code, errors, stored(db, code)) == (
        422, [(3, "region_code"), (4, "industry_code"), (5, "quantity"), (6, "unit"), (7, "item")], [])


def test_take_valid_stores_the_valid_lines_of_a_file_with_errors(client: TestClient, admin_headers: dict[str, str],
                                                                 db: psycopg.Connection) -> None:
    code = credit_code()
    data = csv_file(f"{code},Valid Co,330502,313,2025-01,coal,100,t",
                    f"{code},Valid Co,330502,313,2025-02,coal,-3,t")
    r = upload(client, admin_headers, data, take_valid=True)
    assert (r.status_code, r.json()["stored"], r.json()["refused"], stored(db, code)) == (
        200, 1, 1, [("2025-01", "coal", 100.0, 1)])


def test_importing_the_same_file_twice_changes_nothing(client: TestClient, admin_headers: dict[str, str],
                                                       db: psycopg.Connection) -> None:
    code = credit_code()
    data = csv_file(f"{code},Twice Co,330503,222,2025-01,electricity,120,1e4kWh",
                    f"{code},Twice Co,330503,222,2025-01,value_added,300,万元")
    first = upload(client, admin_headers, data).json()
    before = stored(db, code)
    second = upload(client, admin_headers, data).json()
    revisions = db.execute("SELECT count(*) FROM monitoring_figure_history r JOIN monitoring_units u"
                           " USING (unit_id) WHERE u.credit_code = %s", (code,)).fetchone()
    assert ((first["stored"], second["stored"], second["unchanged"]), stored(db, code), revisions) == (
        (2, 0, 2), before, (2,))


def test_xlsx_file_is_imported_like_csv(client: TestClient, admin_headers: dict[str, str],
                                        db: psycopg.Connection) -> None:
    code = credit_code()
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append([code, "Sheet Co", "330521", "301", "2025-03", "natural_gas", 12.5, "万立方米"])
    buffer = io.BytesIO()
    book.save(buffer)
    r = client.post("/api/v1/monitoring/imports", headers=admin_headers,
                    files={"file": ("figures.xlsx", buffer.getvalue(), "application/octet-stream")})
    assert (r.status_code, stored(db, code)) == (200, [("2025-03", "natural_gas", 12.5, 1)])


def test_correction_supersedes_the_figure_keeps_the_old_value_and_is_audited(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    code = credit_code()
    upload(client, admin_headers, csv_file(f"{code},Fix Co,330522,441,2025-06,coal,1000,t"))
    unit_id = db.execute("SELECT unit_id FROM monitoring_units WHERE credit_code = %s", (code,)).fetchone()[0]  # type: ignore[index]
    r = client.put(f"/api/v1/monitoring/units/{unit_id}/figures/2025-06/coal", headers=admin_headers,
                   json={"quantity": 900, "unit": "t", "reason": "meter reading corrected"})
    history = [(h["revision"], h["quantity"], h["source"]) for h in r.json()["revisions"]]
    audit = db.execute("SELECT detail->>'reason' FROM audit_log WHERE action = 'monitoring.figure.correct'"
                       " AND target = %s", (f"monitoring_unit:{unit_id}/2025-06/coal",)).fetchall()
    assert (r.status_code, history, stored(db, code), audit) == (
        200, [(1, 1000.0, "file"), (2, 900.0, "rest")], [("2025-06", "coal", 900.0, 2)],
        [("meter reading corrected",)])


def test_revision_history_cannot_be_erased(db: psycopg.Connection) -> None:
    # the application role has no DELETE on it, and the owner meets the append-only trigger
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied|revision history"):
        db.execute("DELETE FROM monitoring_figure_revisions")


def _lishui_units(client: TestClient, headers: dict[str, str]) -> tuple[str, str]:
    """Two Lishui (331100) units with 2024 and 2025 figures: a steelworks (313) and a paper mill (222)."""
    steel, paper = credit_code("331100"), credit_code("331100")
    lines = []
    for year, factor in ((2024, 1.0), (2025, 1.1)):
        for month in (1, 2):
            when = f"{year}-{month:02d}"
            lines += [f"{steel},Lishui Steel,331100,313,{when},electricity,{1000 * factor},MWh",
                      f"{steel},Lishui Steel,331100,313,{when},coal,{500 * factor},t",
                      f"{steel},Lishui Steel,331100,313,{when},value_added,{2000 * factor},1e4CNY",
                      f"{paper},Lishui Paper,331100,222,{when},heat,{1000 * factor},GJ",
                      f"{paper},Lishui Paper,331100,222,{when},value_added,{500 * factor},1e4CNY"]
    r = upload(client, headers, csv_file(*lines))
    assert r.status_code == 200, r.text
    return steel, paper


@pytest.fixture(scope="module")
def lishui(client: TestClient, admin_headers: dict[str, str]) -> tuple[str, str]:
    return _lishui_units(client, admin_headers)


def test_region_view_ranks_units_with_intensity_yoy_and_shares(client: TestClient, admin_headers: dict[str, str],
                                                               lishui: tuple[str, str]) -> None:
    r = client.get("/api/v1/monitoring/view", headers=admin_headers,
                   params={"region": "331100", "year": 2025, "by": "unit"})
    body = r.json()
    steel = next(row for row in body["rows"] if row["credit_code"] == lishui[0])
    expected_tco2 = 2 * (1100 * 0.5306 + 550 * 19.570 * 26.18e-3 * 0.93 * 44 / 12)  # METHODS sections 1-3
    assert (r.status_code, [row["rank"] for row in body["rows"]], body["rows"][0]["credit_code"],
            steel["tco2"], steel["intensity_tco2_per_1e4_cny"], steel["yoy_tco2"],
            round(sum(steel["shares_tce"].values()), 9), [t["month"] for t in body["trend"]]) == (
        200, [1, 2], lishui[0], pytest.approx(expected_tco2), pytest.approx(expected_tco2 / 4400),
        pytest.approx(0.1), 1.0, ["2025-01", "2025-02"])


def test_province_view_by_region_adds_up_its_cities(client: TestClient, admin_headers: dict[str, str],
                                                    lishui: tuple[str, str]) -> None:
    city = client.get("/api/v1/monitoring/view", headers=admin_headers,
                      params={"region": "331100", "year": 2025, "by": "industry"}).json()
    province = client.get("/api/v1/monitoring/view", headers=admin_headers,
                          params={"region": "330000", "year": 2025, "month": 2}).json()
    row = next(r for r in province["rows"] if r["key"] == "331100")
    assert (sorted(r["key"] for r in city["rows"]), row["name"], row["tce"] * 2) == (
        ["22", "31"], "丽水市", pytest.approx(city["total"]["tce"]))


def test_government_sees_its_region_and_not_another(client: TestClient, admin_headers: dict[str, str],
                                                    lishui: tuple[str, str]) -> None:
    _, _, lishui_gov = make_user(client, admin_headers, "government", region="CN-ZJ-LS")
    _, _, hangzhou_gov = make_user(client, admin_headers, "government", region="330100")
    params = {"region": "331100", "year": 2025, "by": "unit"}
    own = client.get("/api/v1/monitoring/view", headers=lishui_gov, params=params)
    other = client.get("/api/v1/monitoring/view", headers=hangzhou_gov, params=params)
    units = client.get("/api/v1/monitoring/units", headers=hangzhou_gov, params={"region": "331100"})
    assert (own.status_code, len(own.json()["rows"]), other.status_code, units.json()["units"]) == (200, 2, 404, [])


def test_enterprise_user_sees_and_reports_only_its_own_unit(client: TestClient, admin_headers: dict[str, str],
                                                            db: psycopg.Connection) -> None:
    own, other = credit_code(), credit_code()
    upload(client, admin_headers, csv_file(f"{own},Own Co,330523,171,2025-01,coal,10,t",
                                           f"{other},Other Co,330523,171,2025-01,coal,20,t"))
    db.execute("UPDATE monitoring_units SET enterprise_id = 'm-ent-b' WHERE credit_code = %s", (own,))
    _, _, headers = make_user(client, admin_headers, "enterprise", enterprise_id="m-ent-b")
    units = client.get("/api/v1/monitoring/units", headers=headers).json()["units"]
    refused = upload(client, headers, csv_file(f"{other},Other Co,330523,171,2025-02,coal,20,t"))
    accepted = upload(client, headers, csv_file(f"{own},Own Co,330523,171,2025-02,coal,11,t"))
    assert ([u["credit_code"] for u in units], refused.json()["errors"][0]["field"],
            accepted.status_code) == ([own], "credit_code", 200)


def test_rest_push_with_a_machine_token_stores_figures_as_rest(client: TestClient, admin_headers: dict[str, str],
                                                               db: psycopg.Connection) -> None:
    code = credit_code()
    upload(client, admin_headers, csv_file(f"{code},Push Co,330502,561,2025-01,oil,10,t"))
    token = client.post("/api/v1/auth/tokens", headers=admin_headers,
                        json={"name": "push", "scopes": ["monitoring_data"]}).json()["token"]
    r = client.post("/api/v1/monitoring/figures", headers={"Authorization": f"Bearer {token}"},
                    json={"figures": [{"credit_code": code, "month": "2025-02", "item": "oil", "quantity": 12,
                                       "unit": "t"}]})
    source = db.execute("SELECT f.source FROM monitoring_figures f JOIN monitoring_units u USING (unit_id)"
                        " WHERE u.credit_code = %s AND f.month = '2025-02-01'", (code,)).fetchone()
    assert (r.status_code, r.json()["stored"], source) == (200, 1, ("rest",))


def test_token_without_the_monitoring_scope_may_not_push(client: TestClient, admin_headers: dict[str, str]) -> None:
    token = client.post("/api/v1/auth/tokens", headers=admin_headers,
                        json={"name": "reader", "scopes": ["monitoring"]}).json()["token"]
    r = client.post("/api/v1/monitoring/figures", headers={"Authorization": f"Bearer {token}"},
                    json={"figures": [{"credit_code": credit_code(), "month": "2025-02", "item": "oil",
                                       "quantity": 1, "unit": "t"}]})
    assert (r.status_code, "monitoring_data" in r.text) == (403, True)


def test_anomaly_scan_finds_a_jump_and_a_reviewer_dismisses_it_audited(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    code = credit_code()
    values = [100, 102, 98, 101, 400, 99]
    upload(client, admin_headers, csv_file(*(f"{code},Jump Co,330502,131,2025-{m:02d},coal,{v},t"
                                             for m, v in enumerate(values, start=1))))
    unit_id = db.execute("SELECT unit_id FROM monitoring_units WHERE credit_code = %s", (code,)).fetchone()[0]  # type: ignore[index]
    scan = client.post("/api/v1/monitoring/anomalies/scan", headers=admin_headers,
                       params={"region": "330502", "through": "2025-06"})
    listed = client.get("/api/v1/monitoring/anomalies", headers=admin_headers, params={"unit_id": unit_id}).json()
    jump = next(a for a in listed["anomalies"] if a["rule"] == "jump")
    _, _, viewer = make_user(client, admin_headers, "enterprise", enterprise_id="m-ent-b")
    refused = client.post(f"/api/v1/monitoring/anomalies/{jump['anomaly_id']}/dismiss", headers=viewer,
                          json={"comment": "x"})
    r = client.post(f"/api/v1/monitoring/anomalies/{jump['anomaly_id']}/dismiss", headers=admin_headers,
                    json={"comment": "furnace relining month, checked"})
    again = client.post(f"/api/v1/monitoring/anomalies/{jump['anomaly_id']}/confirm", headers=admin_headers,
                        json={"comment": "late"})
    audited = db.execute("SELECT count(*) FROM audit_log WHERE action = 'monitoring.anomaly.dismissed'"
                         " AND target = %s", (f"monitoring_anomaly:{jump['anomaly_id']}",)).fetchone()
    assert (scan.status_code, jump["month"], refused.status_code, r.json()["state"], again.status_code, audited) == (
        200, "2025-05-01", 403, "dismissed", 409, (1,))


def test_public_page_shows_public_institutions_reductions_without_login(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    shown, hidden = credit_code(), credit_code()
    upload(client, admin_headers, csv_file(
        f"{shown},Public School,330503,832,2024-03,electricity,100,MWh",
        f"{shown},Public School,330503,832,2025-03,electricity,80,MWh",
        f"{hidden},Hidden Hospital,330503,841,2025-03,electricity,80,MWh"))
    db.execute("UPDATE monitoring_units SET kind = 'public_institution', public = (credit_code = %s)"
               " WHERE credit_code IN (%s, %s)", (shown, shown, hidden))
    r = client.get("/api/v1/monitoring/public/institutions", params={"year": 2025})
    names = [row["name"] for row in r.json()["institutions"]]
    school = next(row for row in r.json()["institutions"] if row["name"] == "Public School")
    assert (r.status_code, "Hidden Hospital" in names, school["reduction_tco2"]) == (
        200, False, pytest.approx(20 * 0.5306))


async def _metered_enterprise(database_url: str, kwh: list[float]) -> tuple[str, str]:
    """An enterprise of the test's own with one site and a kWh counter on electricity, its readings one an hour
    from 2026-03-02 through the real sink: (enterprise, site). Its own, so no other test's readings count in."""
    tag = f"mon-{uuid.uuid4().hex[:8]}"
    enterprise, site, device = f"{tag}-ent", f"{tag}-site", f"{tag}-meter"
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, %s, 'CN-ZJ')",
                           (enterprise, f"Metered {tag}"))
        await conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, %s)",
                           (site, enterprise, f"Metered site {tag}"))
        await conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, 'rolling')",
                           (device, site))
        await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity)"
                           " VALUES (%s, 'kwh', 'kWh', 'counter', 'electricity')", (device,))
        await ReadingSink(conn, FactorLibrary.default()).write([DeviceBatch(
            gateway=f"gw-{tag}", device=device, received_at=start, readings=[
                Reading(seq=i, device=device, point="kwh", value=v, unit="kWh", kind="counter",
                        source_ts=start + timedelta(hours=i), gateway_ts=start + timedelta(hours=i))
                for i, v in enumerate(kwh)])])
    return enterprise, site


def test_unit_archive_lists_metered_activities_of_its_linked_enterprise(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection, database_url: str) -> None:
    enterprise, site = asyncio.run(_metered_enterprise(database_url, [1000.0, 1400.0, 2000.0]))  # 1 MWh
    code = credit_code()
    upload(client, admin_headers, csv_file(f"{code},Metered Co,330502,313,2026-03,electricity,5,MWh"))
    unit_id = db.execute("UPDATE monitoring_units SET enterprise_id = %s, site_id = %s"
                         " WHERE credit_code = %s RETURNING unit_id",
                         (enterprise, site, code)).fetchone()[0]  # type: ignore[index]
    r = client.get(f"/api/v1/monitoring/units/{unit_id}", headers=admin_headers, params={"year": 2026})
    body = r.json()
    assert (r.status_code, body["shown"], body["total"]["energy"]["electricity"]["quantity"],
            [(m["activity"], m["quantity"]) for m in body["metered"]]) == (
        200, "reported", 5.0, [("electricity", 1.0)])


def test_world_comparison_reads_the_shared_file_in_place(client: TestClient, admin_headers: dict[str, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONFLOW_WORLD_CO2_CSV", "/work/shared/data/world_co2.csv")
    r = client.get("/api/v1/monitoring/world", headers=admin_headers,
                   params={"countries": "CHN,USA", "start": 2023, "end": 2023, "top": 3})
    body = r.json()
    assert (r.status_code, [(c["iso_code"], c["co2_mt"], c["share_pct"]) for c in body["countries"]],
            [c["iso_code"] for c in body["top"]], body["licence"]) == (
        200, [("CHN", [11902.503], [31.495]), ("USA", [4911.391], [12.996])], ["CHN", "USA", "IND"], "CC BY 4.0")


def test_world_comparison_without_the_file_says_where_it_looked(client: TestClient, admin_headers: dict[str, str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONFLOW_WORLD_CO2_CSV", "/nonexistent/world_co2.csv")
    r = client.get("/api/v1/monitoring/world", headers=admin_headers)
    assert (r.status_code, "not found at /nonexistent/world_co2.csv" in r.text) == (404, True)


def test_auditor_may_not_read_monitoring(client: TestClient, role_headers: dict[str, dict[str, str]]) -> None:
    r = client.get("/api/v1/monitoring/regions", headers=role_headers["auditor"])
    assert r.status_code == 403


def test_government_registers_units_in_its_region_only_and_each_change_is_audited(
        client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    _, _, gov = make_user(client, admin_headers, "government", region="CN-ZJ-HU")
    body = {"credit_code": credit_code(), "name": "Registered Co", "region_code": "330522", "industry_code": "304"}
    created = client.post("/api/v1/monitoring/units", headers=gov, json=body)
    outside = client.post("/api/v1/monitoring/units", headers=gov,
                          json={**body, "credit_code": credit_code(), "region_code": "331100"})
    unit_id = created.json()["unit_id"]
    changed = client.patch(f"/api/v1/monitoring/units/{unit_id}", headers=gov, json={"status": "suspended"})
    audit = db.execute("SELECT action, before->>'status', after->>'status' FROM audit_log"
                       " WHERE target = %s ORDER BY audit_id", (f"monitoring_unit:{unit_id}",)).fetchall()
    assert (created.status_code, outside.status_code, changed.json()["status"], audit) == (
        201, 403, "suspended", [("monitoring.unit.create", None, "in_production"),
                                ("monitoring.unit.change", "in_production", "suspended")])


def test_unit_with_a_wrong_check_character_is_refused_naming_it(client: TestClient,
                                                                admin_headers: dict[str, str]) -> None:
    code = credit_code()
    wrong = code[:17] + next(c for c in _CHARS if c != code[17])
    r = client.post("/api/v1/monitoring/units", headers=admin_headers,
                    json={"credit_code": wrong, "name": "Typo Co", "region_code": "330522", "industry_code": "304"})
    assert (r.status_code, f"give {code[17]!r}" in r.text) == (422, True)


def test_unit_linked_to_an_unknown_enterprise_is_a_422_not_a_server_error(client: TestClient,
                                                                          admin_headers: dict[str, str]) -> None:
    r = client.post("/api/v1/monitoring/units", headers=admin_headers,
                    json={"credit_code": credit_code(), "name": "Lost Co", "region_code": "330522",
                          "industry_code": "304", "enterprise_id": "no-such-enterprise"})
    assert (r.status_code, "unknown enterprise_id" in r.text) == (422, True)


@pytest.mark.parametrize("through", ["2025-13", "0000-00"])
def test_month_that_is_no_month_is_refused_naming_the_parameter(client: TestClient, admin_headers: dict[str, str],
                                                                through: str) -> None:
    r = client.post("/api/v1/monitoring/anomalies/scan", headers=admin_headers,
                    params={"region": "330502", "through": through})
    assert (r.status_code, f"through {through!r} is not a month" in r.text) == (422, True)


def test_a_second_scan_raises_no_reminder_twice(client: TestClient, admin_headers: dict[str, str]) -> None:
    code = credit_code()
    upload(client, admin_headers, csv_file(*(f"{code},Again Co,330503,131,2025-{m:02d},coal,{v},t"
                                             for m, v in enumerate([50, 51, 49, 50, 200], start=1))))
    params = {"region": "330503", "through": "2025-05"}
    first = client.post("/api/v1/monitoring/anomalies/scan", headers=admin_headers, params=params).json()
    second = client.post("/api/v1/monitoring/anomalies/scan", headers=admin_headers, params=params).json()
    assert (first["new"] >= 1, second["new"], second["found"] == first["found"]) == (True, 0, True)
