"""数据交叉核对 through the API: a report's entered energy lines against the metered monthly totals that the
pipeline (hourly counters through the stream job's ReadingSink) stored for the same enterprise and period;
the submission uses the platform's tolerance and reviewers see both figures side by side."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.settings import load_api_settings
from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.sink import ReadingSink

ENTERPRISE, SITE, GATEWAY = "acc-cross", "acc-cross-s1", "acc-cross-gw"
JAN, FEB = datetime(2025, 1, 1, tzinfo=FACTOR_TIMEZONE), datetime(2025, 2, 1, tzinfo=FACTOR_TIMEZONE)
KWH_PER_H = 5_000.0  # 3,720 MWh in January (744 h), 3,360 MWh in February (672 h)
ENTERED = [
    # the invoice booked under auxiliary, while the meter hangs on the furnace: no per-process comparison
    {"period": "2025-01", "process": "auxiliary", "source_type": "electricity", "item": "grid",
     "quantity": 3_000, "unit": "MWh", "direction": "in"},
    # February within 1 % of the meter
    {"period": "2025-02", "process": "auxiliary", "source_type": "electricity", "item": "grid",
     "quantity": 3_350_000, "unit": "kWh", "direction": "in"},
    {"period": "2025-02", "process": "steelmaking_eaf", "source_type": "process", "item": "electrode",
     "quantity": 40, "unit": "t", "direction": "in"},
]


async def _load_meter(database_url: str) -> None:
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        await conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, 'steelmaking_eaf')",
                           ("acc-cross-eaf", SITE))
        await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES"
                           " ('acc-cross-eaf', 'kwh', 'kWh', 'counter', 'electricity')")
        hours = [JAN + timedelta(hours=i) for i in range(744 + 672 + 1)]
        await ReadingSink(conn, FactorLibrary.default()).write([DeviceBatch(
            gateway=GATEWAY, device="acc-cross-eaf", received_at=JAN, readings=[
                Reading(seq=i, device="acc-cross-eaf", point="kwh", value=KWH_PER_H * i, unit="kWh", kind="counter",
                        source_ts=ts, gateway_ts=ts) for i, ts in enumerate(hours)])])
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def submitted(client: TestClient, headers: dict[str, dict[str, str]], database_url: str) -> dict[str, Any]:
    asyncio.run(_load_meter(database_url))
    r = client.post(f"/api/v1/inventory/{ENTERPRISE}/activity", headers=headers["admin"], json={"lines": ENTERED})
    assert r.status_code == 201, r.text
    # a submitter asking for a loose tolerance is not heard: the submission uses the platform's (5 %)
    r = client.post(f"/api/v1/reports/{ENTERPRISE}/2025/actions/submit", headers=headers["admin"],
                    json={"comment": ""}, params={"tolerance": 0.5})
    assert r.status_code == 200, r.text
    return r.json()


def test_on_submit_each_entered_energy_month_is_compared_with_the_metered_total(
        client: TestClient, headers: dict[str, dict[str, str]], submitted: dict[str, Any]) -> None:
    r = client.get(f"/api/v1/reports/{ENTERPRISE}/2025/workflow", headers=headers["gov"])
    assert r.status_code == 200, r.text
    [snapshot] = r.json()["snapshots"]
    # reviewers see the entries beyond tolerance with both figures side by side
    [entry] = snapshot["cross_check"]
    assert (entry["period"], entry["item"], entry["unit"], entry["entered"], entry["metered"]) == (
        "2025-01", "grid", "MWh", 3_000.0, 3_720.0)
    assert entry["difference"] == pytest.approx(720.0) and entry["relative"] == pytest.approx(0.24)
    assert entry["lines"] == [1] and entry["metered_months"] == ["2025-01"]


def test_the_frozen_document_holds_every_comparison_and_the_finding(
        client: TestClient, headers: dict[str, dict[str, str]], submitted: dict[str, Any], db: psycopg.Connection) -> None:
    [[document]] = db.execute("SELECT document FROM report_snapshots WHERE snapshot_id = %s",
                              (submitted["snapshot"]["snapshot_id"],)).fetchall()
    assert [(e["period"], e["entered"], e["metered"], e["exceeds_tolerance"]) for e in document["cross_check"]] == [
        ("2025-01", 3_000.0, 3_720.0, True), ("2025-02", 3_350.0, 3_360.0, False)]
    assert document["tolerance"] == 0.05
    [finding] = [f for f in document["findings"] if f["code"] == "cross_check"]
    assert "entered 3,000.000 MWh, metered 3,720.000 MWh, difference +720.000 (+24.0%)" in finding["message"]


def test_the_cross_check_tolerance_is_a_platform_setting() -> None:
    assert load_api_settings({"CARBONFLOW_CROSS_CHECK_TOLERANCE": "0.3"}).cross_check_tolerance == 0.3
    assert load_api_settings({}).cross_check_tolerance == 0.05
    with pytest.raises(SystemExit, match="cross_check_tolerance"):
        load_api_settings({"CARBONFLOW_CROSS_CHECK_TOLERANCE": "0"})
