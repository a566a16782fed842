"""Hourly CEMS CO2 mass from stored readings: METHODS.md section 5's worked example, calibration hours substituted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.cems import compute_cems_hours
from stream_jobs.sink import ReadingSink

T0 = datetime(2025, 5, 6, 0, 0, tzinfo=UTC)
WORKED = {  # METHODS.md section 5: Q_s 2,000,000 m3/h, 120 °C, P_s -500 Pa, B_a 101,325 Pa, X_sw 0.12, CO2 11 % wet
    "flue_flow_m3h": 2_000_000.0, "flue_temperature_degc": 120.0, "static_pressure_pa": -500.0,
    "barometric_pressure_pa": 101_325.0, "moisture_pct": 12.0, "co2_pct": 11.0,
}


def _hour(device: str, hour: int, first_seq: int, calibrating: bool) -> DeviceBatch:
    readings = []
    seq = first_seq
    for minute in range(0, 60, 10):
        ts = T0 + timedelta(hours=hour, minutes=minute)
        for point, value in {**WORKED, "calibrating": float(calibrating)}.items():
            readings.append(Reading(seq=seq, device=device, point=point, value=value, unit="", source_ts=ts,
                                    gateway_ts=ts))
            seq += 1
    return DeviceBatch(gateway=f"gw-{device}", device=device, received_at=T0, readings=readings)


async def test_worked_example_hour_gives_298_7_t_and_a_calibration_hour_is_substituted(database_url: str) -> None:
    device = f"stack-{uuid.uuid4().hex[:6]}"
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        await conn.execute("INSERT INTO devices (device_id) VALUES (%s)", (device,))
        sink = ReadingSink(conn, FactorLibrary.default())
        await sink.write([_hour(device, 0, 0, calibrating=False), _hour(device, 1, 1000, calibrating=True)])
        written = await compute_cems_hours(conn, start=T0, end=T0 + timedelta(hours=2))
        cur = await conn.execute("SELECT q_sn_nm3_h, c_dry_pct, c_mg_m3, mass_t, valid, substituted_from, reason"
                                 " FROM cems_hourly WHERE device_id = %s ORDER BY hour", (device,))
        first, second = await cur.fetchall()
    finally:
        await conn.close()
    assert (written, round(first[0]), round(first[1], 1), round(first[2]), round(first[3], 1), first[4]) == (
        2, 1_216_562, 12.5, 245_536, 298.7, True)
    assert (second[3], second[4], second[5], "calibrating" in second[6]) == (pytest.approx(first[3]), False, T0, True)
