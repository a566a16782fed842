"""A month of the simulated steelworks (the demo plant's physics, hourly counter readings through the stream
job's sink) plus entered non-metered data gives an inventory and a Chinese PDF report with its totals."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, time, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from simulators.plant import Plant
from simulators.scenario import load_scenario
from stream_jobs.sink import ReadingSink

ENTERPRISE, SITE, GATEWAY = "sim-steel", "sim-steel-s1", "sim-steel-gw"
MARCH = datetime(2025, 3, 1, tzinfo=FACTOR_TIMEZONE)
HOURS = 31 * 24
COUNTERS = {  # demo scenario counter -> (process, unit, activity)
    ("elec-main", "energy_import_kwh"): ("steelmaking_eaf", "kWh", "electricity"),
    ("gas-main", "volume_total_nm3"): ("rolling", "Nm3", "natural_gas"),
    ("plc-steel", "crude_steel_t"): ("steelmaking_eaf", "t", "production:crude_steel"),
}
ENTERED = [
    {"period": "2025-03", "process": "steelmaking_eaf", "source_type": "process", "item": "limestone",
     "quantity": 800, "unit": "t", "direction": "in"},
    {"period": "2025-03", "process": "steelmaking_eaf", "source_type": "process", "item": "electrode",
     "quantity": 60, "unit": "t", "direction": "in"},
]


def _simulated_month() -> dict[tuple[str, str], list[float]]:
    """Hourly values of the demo plant's counters over March, from the simulator's physics."""
    plant = Plant(load_scenario("demo"), base_port=0, start_time=time(0, 0))
    values: dict[tuple[str, str], list[float]] = {key: [] for key in COUNTERS}
    for hour in range(HOURS + 1):
        if hour:
            plant.step(3600)
        for device, point in COUNTERS:
            values[(device, point)].append(plant.devices[device].get(point))
    return values


async def _load(database_url: str, values: dict[tuple[str, str], list[float]]) -> None:
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        await conn.execute("INSERT INTO enterprises (enterprise_id, name, region, industry) VALUES"
                           " (%s, '模拟钢铁有限公司', 'CN-ZJ-HZ', 'steel')", (ENTERPRISE,))
        await conn.execute("INSERT INTO sites (site_id, enterprise_id, name, province) VALUES (%s, %s, %s,"
                           " 'zhejiang')", (SITE, ENTERPRISE, "模拟钢铁一厂"))
        for (device, point), (process, unit, activity) in COUNTERS.items():
            await conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, %s)",
                               (f"sim-{device}", SITE, process))
            await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES"
                               " (%s, %s, %s, 'counter', %s)", (f"sim-{device}", point, unit, activity))
        sink = ReadingSink(conn, FactorLibrary.default())
        seq = 0
        for (device, point), series in values.items():
            readings = []
            for hour, value in enumerate(series):
                ts = MARCH + timedelta(hours=hour)
                readings.append(Reading(seq=seq, device=f"sim-{device}", point=point, value=value,
                                        unit=COUNTERS[(device, point)][1], kind="counter", source_ts=ts, gateway_ts=ts))
                seq += 1
            await sink.write([DeviceBatch(gateway=GATEWAY, device=f"sim-{device}", received_at=MARCH,
                                          readings=readings)])
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def simulated(client: TestClient, headers: dict[str, dict[str, str]], database_url: str) -> dict[str, Any]:
    values = _simulated_month()
    asyncio.run(_load(database_url, values))
    r = client.post(f"/api/v1/inventory/{ENTERPRISE}/activity", headers=headers["admin"],
                    json={"lines": ENTERED, "note": "March fluxes and electrodes"})
    assert r.status_code == 201, r.text
    return {key: series[-1] - series[0] for key, series in values.items()}


def test_simulated_month_inventory_follows_the_meters_and_the_formulas(
        client: TestClient, headers: dict[str, dict[str, str]], simulated: dict[tuple[str, str], float]) -> None:
    kwh = simulated[("elec-main", "energy_import_kwh")]
    nm3 = simulated[("gas-main", "volume_total_nm3")]
    steel = simulated[("plc-steel", "crude_steel_t")]
    expected = {  # METHODS.md sections 1-3, computed here from the simulator's counters
        "combustion": nm3 / 1e4 * 389.31 * 15.3 / 1000 * 0.99 * 44 / 12,
        "process": 800 * 0.440 + 60 * 3.663,
        "electricity": kwh / 1000 * 0.4974,  # the site is in Zhejiang: its provincial average (default series)
        "heat": 0.0,
        "fixed_carbon": -steel * 0.0154,
    }
    r = client.get(f"/api/v1/inventory/{ENTERPRISE}", headers=headers["admin"],
                   params={"year": 2025, "month": 3, "basis": "metered"})
    assert r.status_code == 200, r.text
    document = r.json()
    by_source = {row["source_type"]: row["tco2"] for row in document["by_source"]}
    total = sum(expected.values())  # fixed carbon is negative: the sources add up to the total
    # the API states tCO2 to 0.001 t
    assert (by_source, document["total_tco2"]) == (pytest.approx(expected, abs=1e-3), pytest.approx(total, abs=1e-3))
    assert kwh > 1e6 and nm3 > 1e6 and steel > 1000  # the plant really ran for a month


def test_simulated_month_pdf_report_states_its_totals(
        client: TestClient, headers: dict[str, dict[str, str]], simulated: dict[tuple[str, str], float]) -> None:
    document = client.get(f"/api/v1/inventory/{ENTERPRISE}", headers=headers["admin"],
                          params={"year": 2025}).json()
    r = client.get(f"/api/v1/reports/{ENTERPRISE}/2025.pdf", headers=headers["admin"])
    assert r.status_code == 200, r.text
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert f"排放总量：{document['total_tco2']:,.1f} tCO₂" in text
    for row in document["by_source"]:
        assert f"{row['tco2']:,.1f}" in text
