"""A month of metered data (hourly counters through the stream job's ReadingSink) plus entered fluxes,
electrodes, an electricity invoice and a product: the inventory, the metered-vs-entered check, the PDF and
XLSX reports (opened and read back), their determinism, and the process benchmark gaps."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader

from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.sink import ReadingSink
from tests.accounting.conftest import audit_actions

ENTERPRISE, SITE, GATEWAY = "acc-steel", "acc-steel-s1", "acc-steel-gw"
JAN = datetime(2025, 1, 1, tzinfo=FACTOR_TIMEZONE)
HOURS = 744  # January
KWH_PER_H, NM3_PER_H, STEEL_T_PER_H = 5_000.0, 2_000.0, 100.0
METER_SWAP = 400  # the electricity meter is replaced: reading 400 restarts from zero (a flagged interval)
ENTERED = [
    {"period": "2025-01", "process": "steelmaking_eaf", "source_type": "process", "item": "limestone",
     "quantity": 1_500, "unit": "t", "direction": "in"},
    {"period": "2025-01", "process": "steelmaking_eaf", "source_type": "process", "item": "dolomite",
     "quantity": 500, "unit": "t", "direction": "in"},
    {"period": "2025-01", "process": "steelmaking_eaf", "source_type": "process", "item": "electrode",
     "quantity": 150_000, "unit": "kg", "direction": "in"},
    {"period": "2025-01", "process": "steelmaking_eaf", "source_type": "electricity", "item": "grid",
     "quantity": 3_500, "unit": "MWh", "direction": "in", "quality": "measured"},
    {"period": "2025-01", "process": "rolling", "source_type": "production", "item": "hot_rolled_steel",
     "quantity": 70_000, "unit": "t", "direction": "out"},
]
# Expected figures, from METHODS sections 1-3 by hand
GAS_1E4NM3 = HOURS * NM3_PER_H / 1e4
COMBUSTION = GAS_1E4NM3 * 389.31 * 15.3 / 1000 * 0.99 * 44 / 12
PROCESS = 1_500 * 0.440 + 500 * 0.471 + 150 * 3.663
GRID = 0.4974  # the site is in Zhejiang: its provincial average (data year 2023) by the default precedence
ELECTRICITY_ENTERED, ELECTRICITY_METERED = 3_500 * GRID, HOURS * KWH_PER_H / 1000 * GRID
CRUDE_STEEL = HOURS * STEEL_T_PER_H
FIXED = CRUDE_STEEL * 0.0154
TOTAL = COMBUSTION + PROCESS + ELECTRICITY_ENTERED - FIXED


def _counter(device: str, point: str, unit: str, values: list[tuple[int, datetime, float]]) -> DeviceBatch:
    return DeviceBatch(gateway=GATEWAY, device=device, received_at=JAN, readings=[
        Reading(seq=seq, device=device, point=point, value=value, unit=unit, kind="counter", source_ts=ts,
                gateway_ts=ts)
        for seq, ts, value in values
    ])


def _kwh(i: int) -> float:
    return KWH_PER_H * (i if i < METER_SWAP else i - METER_SWAP + 1)


async def _load_month(database_url: str) -> None:
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        for device, process, point, unit, activity in (
            ("acc-steel-eaf", "steelmaking_eaf", "kwh", "kWh", "electricity"),
            ("acc-steel-mill", "rolling", "gas", "Nm3", "natural_gas"),
            ("acc-steel-caster", "steelmaking_eaf", "steel", "t", "production:crude_steel"),
        ):
            await conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, %s)",
                               (device, SITE, process))
            await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES"
                               " (%s, %s, %s, 'counter', %s)", (device, point, unit, activity))
        # 745 hourly readings cover the 744 intervals of January (UTC+08:00); the last interval ends at
        # 2025-02-01T00:00+08:00 and belongs to January, the month it starts in
        hours = [JAN + timedelta(hours=i) for i in range(HOURS + 1)]
        seq = iter(range(1_000_000))
        sink = ReadingSink(conn, FactorLibrary.default())
        await sink.write([
            _counter("acc-steel-eaf", "kwh", "kWh", [(next(seq), ts, _kwh(i)) for i, ts in enumerate(hours)]),
            _counter("acc-steel-mill", "gas", "Nm3", [(next(seq), ts, NM3_PER_H * i) for i, ts in enumerate(hours)]),
            _counter("acc-steel-caster", "steel", "t",
                     [(next(seq), ts, 50_000 + STEEL_T_PER_H * i) for i, ts in enumerate(hours)]),
        ])
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def steel_month(client: TestClient, headers: dict[str, dict[str, str]], database_url: str) -> dict[str, Any]:
    asyncio.run(_load_month(database_url))
    r = client.post(f"/api/v1/inventory/{ENTERPRISE}/activity", headers=headers["admin"],
                    json={"lines": ENTERED, "note": "January fluxes, electrodes, invoice, rolling output"})
    assert r.status_code == 201, r.text
    return r.json()


def _get(client: TestClient, headers: dict[str, str], path: str, **params: Any) -> Any:
    r = client.get(path, headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r


def test_a_metered_month_with_entered_data_gives_the_inventory(client: TestClient,
                                                               headers: dict[str, dict[str, str]],
                                                               steel_month: Any) -> None:
    document = _get(client, headers["aud"], f"/api/v1/inventory/{ENTERPRISE}", year=2025).json()
    by_source = {row["source_type"]: row["tco2"] for row in document["by_source"]}
    assert by_source == pytest.approx({"combustion": COMBUSTION, "process": PROCESS,
                                       "electricity": ELECTRICITY_ENTERED, "heat": 0.0, "fixed_carbon": -FIXED},
                                      abs=1e-3)
    assert document["total_tco2"] == pytest.approx(TOTAL, abs=1e-3)
    assert document["crude_steel_t"] == CRUDE_STEEL
    assert document["intensity_tco2_per_t_crude_steel"] == pytest.approx(TOTAL / CRUDE_STEEL, abs=1e-6)
    sources = {(line["item"], line["data_source"]) for line in document["lines"]}
    assert sources == {("natural_gas", "metered"), ("crude_steel", "metered"), ("limestone", "entered"),
                       ("dolomite", "entered"), ("electrode", "entered"), ("grid", "entered"),
                       ("hot_rolled_steel", "entered")}
    gas = next(line for line in document["lines"] if line["item"] == "natural_gas")
    assert (gas["process"], gas["quantity"], gas["unit"], gas["intervals"]) == ("rolling", 148.8, "1e4Nm3", HOURS)
    assert [row["process"] for row in document["by_process"]] == ["steelmaking_eaf", "rolling"]


def test_metered_and_entered_electricity_are_compared(client: TestClient, headers: dict[str, dict[str, str]],
                                                      steel_month: Any) -> None:
    document = _get(client, headers["admin"], f"/api/v1/inventory/{ENTERPRISE}", year=2025, month=1).json()
    [check] = document["reconciliation"]
    assert (check["item"], check["metered"], check["entered"], check["used"]) == ("grid", 3720.0, 3500.0, "entered")
    assert check["relative"] == pytest.approx(220 / 3500, abs=1e-6) and check["exceeds_tolerance"]
    finding = next(f for f in document["findings"] if f["code"] == "metered_vs_entered")
    assert "metered 3,720.000 vs entered 3,500.000 MWh (+6.3%)" in finding["message"]
    loose = _get(client, headers["admin"], f"/api/v1/inventory/{ENTERPRISE}", year=2025, tolerance=0.1).json()
    assert "metered_vs_entered" not in {f["code"] for f in loose["findings"]}


def test_the_metered_basis_uses_the_meters_and_flags_the_meter_swap(
        client: TestClient, headers: dict[str, dict[str, str]], steel_month: Any) -> None:
    document = _get(client, headers["admin"], f"/api/v1/inventory/{ENTERPRISE}", year=2025, basis="metered").json()
    assert document["total_tco2"] == pytest.approx(TOTAL - ELECTRICITY_ENTERED + ELECTRICITY_METERED, abs=1e-3)
    grid = next(line for line in document["lines"] if line["item"] == "grid")
    assert (grid["data_source"], grid["quality"], grid["flagged_intervals"]) == ("metered", "flagged", 1)
    assert "metered_quality" in {f["code"] for f in document["findings"]}


def test_the_pdf_report_states_the_totals_in_chinese(client: TestClient, headers: dict[str, dict[str, str]],
                                                     steel_month: Any) -> None:
    r = _get(client, headers["aud"], f"/api/v1/reports/{ENTERPRISE}/2025.pdf")
    assert r.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    for heading in ("一、基本信息", "二、核算边界", "三、按排放源和工序的排放量", "四、活动数据和排放因子及来源",
                    "五、数据质量说明", "六、声明与签署"):
        assert heading in text
    assert "宁波示例钢铁有限公司2025年度温室气体排放报告" in text
    assert f"排放总量：{TOTAL:,.1f} tCO₂" in text
    document = _get(client, headers["aud"], f"/api/v1/inventory/{ENTERPRISE}", year=2025).json()
    for row in document["by_source"]:
        assert f"{row['tco2']:,.1f}" in text
    assert f"吨粗钢二氧化碳排放强度 {TOTAL / CRUDE_STEEL:.4f} tCO₂/t" in text
    assert "计量与填报差异" in text  # the metered-vs-entered finding
    # the only date in the report is that of the newest datum: here the entered submission
    submitted = datetime.fromisoformat(steel_month["submitted_at"]).astimezone(FACTOR_TIMEZONE)
    assert f"数据截至\n{submitted.date().isoformat()}" in text  # on the cover


def test_the_english_report_is_a_language_option(client: TestClient, headers: dict[str, dict[str, str]],
                                                 steel_month: Any) -> None:
    pdf, xlsx = (_get(client, headers["aud"], f"/api/v1/reports/{ENTERPRISE}/2025.{fmt}", lang="en")
                 for fmt in ("pdf", "xlsx"))
    assert all(r.headers["content-language"] == "en" and "-en." in r.headers["content-disposition"] for r in (pdf, xlsx))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert f"Total emissions: {TOTAL:,.1f} tCO₂" in text and "排放总量" not in text
    assert "Emissions by source and process" in load_workbook(io.BytesIO(xlsx.content), read_only=True).sheetnames
    r = client.get(f"/api/v1/reports/{ENTERPRISE}/2025.pdf", headers=headers["aud"], params={"lang": "fr"})
    assert r.status_code == 422 and "lang" in r.text


def test_the_cover_shows_the_registered_credit_code(client: TestClient, headers: dict[str, dict[str, str]],
                                                   steel_month: Any) -> None:
    r = client.patch(f"/api/v1/enterprises/{ENTERPRISE}", headers=headers["admin"],
                     json={"credit_code": "91350100M000100Y43"})
    assert r.status_code == 200, r.text
    pdf = _get(client, headers["aud"], f"/api/v1/reports/{ENTERPRISE}/2025.pdf")
    cover = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "统一社会信用代码\n91350100M000100Y43" in cover and "编制人\n草稿（未送审）" in cover


@pytest.mark.parametrize("fmt", ["pdf", "xlsx"])
def test_a_year_without_data_has_no_report(client: TestClient, headers: dict[str, dict[str, str]], steel_month: Any,
                                           fmt: str) -> None:
    r = client.get(f"/api/v1/reports/{ENTERPRISE}/1999.{fmt}", headers=headers["aud"])
    assert r.status_code == 404, r.text
    assert "no activity data for 1999" in r.json()["detail"]


def test_two_renders_of_the_same_data_are_identical(client: TestClient, headers: dict[str, dict[str, str]],
                                                    steel_month: Any) -> None:
    path = f"/api/v1/reports/{ENTERPRISE}/2025"
    first, second = (_get(client, headers["admin"], f"{path}.pdf") for _ in range(2))
    assert first.content == second.content
    assert first.headers["x-content-sha256"] == second.headers["x-content-sha256"]
    texts = [[p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages] for r in (first, second)]
    assert texts[0] == texts[1]
    assert "D:2000" not in PdfReader(io.BytesIO(first.content)).metadata["/CreationDate"]
    workbooks = [_get(client, headers["admin"], f"{path}.xlsx").content for _ in range(2)]
    assert workbooks[0] == workbooks[1]


def test_the_xlsx_report_has_one_sheet_per_section(client: TestClient, headers: dict[str, dict[str, str]],
                                                   steel_month: Any) -> None:
    r = _get(client, headers["aud"], f"/api/v1/reports/{ENTERPRISE}/2025.xlsx")
    workbook = load_workbook(io.BytesIO(r.content), read_only=True)
    assert workbook.sheetnames == ["封面", "基本信息", "核算边界", "按排放源和工序的排放量",
                                   "活动数据和排放因子及来源", "数据质量说明", "声明与签署"]
    rows = [row for row in workbook["按排放源和工序的排放量"].iter_rows(values_only=True) if row and row[0]]
    total = next(row[1] for row in rows if row[0] == "排放总量")
    assert isinstance(total, float) and total == pytest.approx(TOTAL, abs=1e-3)
    workbook.close()


def test_process_benchmarks_give_gaps_and_reduction_potential(
        client: TestClient, headers: dict[str, dict[str, str]], steel_month: Any, db: psycopg.Connection) -> None:
    indicators = {  # illustrative test values, not published benchmarks
        "steelmaking_eaf/eaf/crude_steel": {"benchmark_tco2_per_t": 0.02, "limit_tco2_per_t": 0.025},
        "rolling/any/hot_rolled_steel": {"benchmark_tco2_per_t": 0.05, "limit_tco2_per_t": 0.08},
        "enterprise/eaf/crude_steel": {"benchmark_tco2_per_t": 0.06},
        "ironmaking/bf-bof/pig_iron": {"benchmark_tco2_per_t": 1.2},
    }
    for path, values in indicators.items():
        r = client.put(f"/api/v1/process-benchmarks/{path}", headers=headers["admin"],
                       json={**values, "source": "test values"})
        assert r.status_code == 200, r.text
    assert audit_actions(db, "rolling/any/hot_rolled_steel")[-1] == "process_benchmark.set"
    body = _get(client, headers["aud"], f"/api/v1/inventory/{ENTERPRISE}/benchmarks", year=2025).json()
    assert (body["route"], body["route_inferred"]) == ("eaf", True)
    rows = {(r["process"], r["product"]): r for r in body["processes"]}
    assert {("enterprise", "crude_steel"), ("rolling", "hot_rolled_steel"), ("steelmaking_eaf", "crude_steel")} <= set(rows)
    assert ("ironmaking", "pig_iron") not in rows  # a bf-bof indicator does not apply to an EAF works
    eaf_tco2 = PROCESS + ELECTRICITY_ENTERED - FIXED
    eaf = rows["steelmaking_eaf", "crude_steel"]
    assert eaf["intensity_tco2_per_t"] == pytest.approx(eaf_tco2 / CRUDE_STEEL, abs=1e-6)
    assert eaf["exceeds_limit"] is True
    assert eaf["reduction_potential_tco2"] == pytest.approx(eaf_tco2 - 0.02 * CRUDE_STEEL, abs=1e-2)
    rolling = rows["rolling", "hot_rolled_steel"]
    assert (rolling["exceeds_limit"], rolling["reduction_potential_tco2"]) == (False, 0.0)
    assert rolling["intensity_tco2_per_t"] == pytest.approx(COMBUSTION / 70_000, abs=1e-6)
    works = rows["enterprise", "crude_steel"]
    assert works["reduction_potential_tco2"] == pytest.approx(TOTAL - 0.06 * CRUDE_STEEL, abs=1e-2)
    assert works["exceeds_limit"] is None  # no limit set
    assert body["reduction_potential_tco2"] == pytest.approx(eaf["reduction_potential_tco2"], abs=1e-3)
    bof = _get(client, headers["admin"], f"/api/v1/inventory/{ENTERPRISE}/benchmarks", year=2025, route="bf-bof")
    [pig_iron] = [r for r in bof.json()["processes"] if r["process"] == "ironmaking"]
    assert pig_iron["intensity_tco2_per_t"] is None and "no pig_iron output" in pig_iron["note"]


def test_the_dashboard_and_the_inventory_give_the_metered_electricity_of_a_month_alike(
        client: TestClient, headers: dict[str, dict[str, str]], steel_month: Any) -> None:
    # the site is in Zhejiang: the stream job's hourly emissions take its provincial factor, as the inventory does
    # an hourly interval counts in the hour bucket it ends in, the inventory's month is the one it starts in: the
    # intervals that start in January are those of the buckets from 01:00 on January 1 to 00:00 on February 1
    first, after = JAN + timedelta(hours=1), datetime(2025, 2, 1, 1, tzinfo=FACTOR_TIMEZONE)
    dashboard = _get(client, headers["admin"], "/api/v1/emissions", site=SITE, start=first.isoformat(),
                     end=after.isoformat(), interval="1h").json()
    hours = [row for row in dashboard["rows"] if row["source"] == "electricity"]
    assert {v for row in hours for v in row["factor_versions"]} == {"grid.province.zhejiang@2023"}
    document = _get(client, headers["admin"], f"/api/v1/inventory/{ENTERPRISE}", year=2025, month=1,
                    basis="metered").json()
    grid = next(line for line in document["lines"] if line["item"] == "grid")
    assert (grid["data_source"], grid["factor_ids"]) == ("metered", ["grid.province.zhejiang@2023"])
    assert sum(row["tco2"] for row in hours) == pytest.approx(grid["tco2"], rel=1e-9)
    assert grid["tco2"] == pytest.approx(ELECTRICITY_METERED, rel=1e-9)
