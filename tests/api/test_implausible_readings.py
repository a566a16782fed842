"""Implausible counter readings through the API: an authorised user accepts a checked rise (audited), after
which the stream worker's recompute includes it; others are refused; a negative reading is never accepted; a
counter's rise limit is set by hand and reset, audited."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from carbon_domain.factors import FactorLibrary
from carbon_domain.plausibility import DEFAULT_MAX_RISE_PER_H
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.alarms import evaluate_alarms
from stream_jobs.plausibility import recompute_accepted
from stream_jobs.sink import ReadingSink

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


async def _meter(database_url: str, readings: list[float], *, enterprise: str = "m-ent-a",
                 limit: float | None = 200.0) -> str:
    """A kWh counter bound to electricity on a site of its own in `enterprise`, with a hand-set limit of `limit`
    kWh an hour, its readings one an hour from T0 through the real sink. The site is the test's own: the
    implausible readings (1e15 kWh) stay out of the shared m-site-* data other tests total."""
    device = f"ir-{uuid.uuid4().hex[:6]}"
    site = f"{device}-site"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, %s)",
                           (site, enterprise, f"Implausible readings {device}"))
        await conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (device, site))
        await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity, max_rise_per_h)"
                           " VALUES (%s, 'kwh', 'kWh', 'counter', 'electricity', %s)", (device, limit))
        await ReadingSink(conn, FactorLibrary.default()).write([DeviceBatch(
            gateway=f"gw-{device}", device=device, received_at=T0, readings=[
                Reading(seq=i, device=device, point="kwh", value=v, unit="kWh", kind="counter", source_ts=T0 + i * H,
                        gateway_ts=T0 + i * H) for i, v in enumerate(readings)])])
    return device


async def _energy_and_alarms(database_url: str, device: str, *, recompute: bool) -> tuple[float, list[str]]:
    """The device's counted energy (kWh) and its active implausible_reading alarms, after the stream worker's
    alarm timer ran (recompute_accepted and the rules) when `recompute`."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        if recompute:
            await recompute_accepted(conn)
            await evaluate_alarms(conn, T0 + 6 * H)
        cur = await conn.execute("SELECT COALESCE(sum(e.energy_kwh), 0) FROM emissions e JOIN points p"
                                 " USING (point_key) WHERE p.device_id = %s", (device,))
        energy = (await cur.fetchone())[0]
        cur = await conn.execute("SELECT detail FROM alarms WHERE rule = 'implausible_reading' AND device_id = %s"
                                 " AND state = 'active'", (device,))
        return energy, [d for (d,) in await cur.fetchall()]


def _flags(client: TestClient, headers: dict[str, str], device: str, state: str = "open") -> list[dict[str, Any]]:
    r = client.get("/api/v1/implausible-readings", headers=headers, params={"device_id": device, "state": state})
    assert r.status_code == 200, r.text
    return r.json()["readings"]


def _audit(client: TestClient, admin: dict[str, str], action: str, target: str) -> list[dict[str, Any]]:
    r = client.get("/api/v1/audit", headers=admin, params={"action": action, "limit": 50})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["entries"] if e["target"] == target]


def test_accepted_rise_is_audited_and_recomputed_into_accounting(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], admin_headers: dict[str, str],
    database_url: str,
) -> None:
    # 1000 -> 1100 counts; 1700 rose 600 in an hour (limit 200) and 1800 700 in two from 1100: both flagged
    device = asyncio.run(_meter(database_url, [1000.0, 1100.0, 1700.0, 1800.0]))
    before = asyncio.run(_energy_and_alarms(database_url, device, recompute=True))
    [later, jump] = _flags(api_app_client, role_headers["technician"], device)
    r = api_app_client.post(f"/api/v1/implausible-readings/{jump['flag_id']}/accept",
                            headers=role_headers["technician"], json={"comment": "CT ratio changed, meter read on site"})
    after = asyncio.run(_energy_and_alarms(database_url, device, recompute=True))
    accepted = _flags(api_app_client, admin_headers, device, "accepted")
    [entry] = _audit(api_app_client, admin_headers, "reading.rise_accepted", f"point:{device}/kwh")
    assert before[0] == pytest.approx(100.0) and len(before[1]) == 1
    assert (jump["value"], jump["reason"], later["value"], later["reason"]) == (1700.0, "rise", 1800.0, "rise")
    assert r.status_code == 200, r.text
    assert r.json()["also_accepted"] == [later["flag_id"]]
    assert after == (pytest.approx(800.0), [])  # 100 + the accepted 600 + 100 from it on; the alarm cleared
    assert {(f["flag_id"], f["accepted_with"]) for f in accepted} == {(jump["flag_id"], None),
                                                                      (later["flag_id"], jump["flag_id"])}
    assert all(f["recomputed_at"] is not None for f in accepted)
    assert (entry["actor_kind"], entry["before"]["state"], entry["after"]["state"], entry["detail"]["comment"],
            entry["detail"]["also_accepted"]) == ("user", "open", "accepted", "CT ratio changed, meter read on site",
                                                  [later["flag_id"]])


@pytest.mark.parametrize("role", ["enterprise", "auditor", "government"])
def test_accepting_a_rise_is_refused_without_the_permission(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], admin_headers: dict[str, str],
    database_url: str, role: str,
) -> None:
    device = asyncio.run(_meter(database_url, [1000.0, 1e15], enterprise="m-ent-b"))
    [flag] = _flags(api_app_client, admin_headers, device)
    r = api_app_client.post(f"/api/v1/implausible-readings/{flag['flag_id']}/accept", headers=role_headers[role],
                            json={"comment": "looks fine to me"})
    energy, _ = asyncio.run(_energy_and_alarms(database_url, device, recompute=True))
    assert r.status_code == 403, r.text
    assert _flags(api_app_client, admin_headers, device)[0]["state"] == "open"
    assert energy == 0.0


def test_implausible_readings_are_listed_only_within_the_callers_sites(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], database_url: str,
) -> None:
    hidden = asyncio.run(_meter(database_url, [1000.0, 1e15], enterprise="m-ent-a"))
    own = asyncio.run(_meter(database_url, [1000.0, 1e15], enterprise="m-ent-b"))  # the enterprise user's
    assert _flags(api_app_client, role_headers["enterprise"], hidden) == []
    assert [f["value"] for f in _flags(api_app_client, role_headers["enterprise"], own)] == [1e15]


def test_a_negative_reading_is_never_accepted(api_app_client: TestClient, admin_headers: dict[str, str],
                                              database_url: str) -> None:
    device = asyncio.run(_meter(database_url, [1000.0, -5.0, 1010.0]))
    [flag] = _flags(api_app_client, admin_headers, device)
    r = api_app_client.post(f"/api/v1/implausible-readings/{flag['flag_id']}/accept", headers=admin_headers,
                            json={"comment": "try"})
    assert (flag["reason"], r.status_code) == ("negative", 409)
    assert "negative: no meter counts below zero" in r.json()["detail"]
    assert _flags(api_app_client, admin_headers, device)[0]["state"] == "open"


def test_accepting_twice_is_409_and_unknown_ids_404(api_app_client: TestClient, admin_headers: dict[str, str],
                                                    database_url: str) -> None:
    device = asyncio.run(_meter(database_url, [1000.0, 1e15]))
    [flag] = _flags(api_app_client, admin_headers, device)
    url = f"/api/v1/implausible-readings/{flag['flag_id']}/accept"
    first = api_app_client.post(url, headers=admin_headers, json={"comment": "checked"})
    second = api_app_client.post(url, headers=admin_headers, json={"comment": "checked"})
    missing = api_app_client.post("/api/v1/implausible-readings/999999999/accept", headers=admin_headers,
                                  json={"comment": "checked"})
    no_comment = api_app_client.post(url, headers=admin_headers, json={})
    assert (first.status_code, second.status_code, missing.status_code, no_comment.status_code) == (200, 409, 404, 422)
    assert "already accepted by" in second.json()["detail"]


def test_rise_limit_set_by_hand_and_reset_is_audited(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], admin_headers: dict[str, str],
    database_url: str,
) -> None:
    device = asyncio.run(_meter(database_url, [1000.0], limit=None))
    url = f"/api/v1/devices/{device}/points/kwh/rise-limit"
    default = api_app_client.get(f"/api/v1/devices/{device}/points/kwh/range", headers=admin_headers).json()
    refused = api_app_client.put(url, headers=role_headers["enterprise"], json={"max_rise_per_h": 1e9})
    put = api_app_client.put(url, headers=role_headers["technician"], json={"max_rise_per_h": 250, "unit": "kWh"})
    wrong_unit = api_app_client.put(url, headers=admin_headers, json={"max_rise_per_h": 250, "unit": "MWh"})
    zero = api_app_client.put(url, headers=admin_headers, json={"max_rise_per_h": 0})
    gauge = api_app_client.put("/api/v1/devices/m-dev-a/points/power_kw/rise-limit", headers=admin_headers,
                               json={"max_rise_per_h": 5})
    reset = api_app_client.delete(url, headers=role_headers["technician"])
    [entry] = _audit(api_app_client, admin_headers, "point.rise_limit_set", f"point:{device}/kwh")
    assert (default["max_rise_per_h"], default["max_rise_source"]) == (DEFAULT_MAX_RISE_PER_H, "default")
    assert refused.status_code == 403
    assert (put.status_code, put.json()["max_rise_per_h"], put.json()["max_rise_source"]) == (200, 250.0, "manual")
    assert (wrong_unit.status_code, zero.status_code, gauge.status_code) == (422, 422, 422)
    assert "stores 'kWh'" in wrong_unit.json()["detail"] and "a rise limit applies to counters" in gauge.json()["detail"]
    assert (reset.status_code, reset.json()["max_rise_source"]) == (200, "default")
    assert (entry["before"]["max_rise_source"], entry["after"]["max_rise_per_h"]) == ("default", 250.0)


async def _export_increase(database_url: str, device: str) -> float:
    """The counter's increase over its readings as the CSV/Parquet export builds it from raw readings."""
    from api.telemetry.queries import export_rows

    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT point_key FROM points WHERE device_id = %s", (device,))
        [(key,)] = await cur.fetchall()
        total = 0.0
        async for rows in export_rows(conn, point_key=key, kind="counter", start=T0, end=T0 + 6 * H,
                                      interval="1h", tz="UTC"):
            total += sum(row[7] or 0.0 for row in rows)
        return total


def test_exports_leave_out_an_implausible_rise_until_it_is_accepted(
    api_app_client: TestClient, admin_headers: dict[str, str], database_url: str,
) -> None:
    device = asyncio.run(_meter(database_url, [1000.0, 1100.0, 1700.0, 1750.0]))
    before = asyncio.run(_export_increase(database_url, device))
    jump = min(_flags(api_app_client, admin_headers, device), key=lambda f: f["ts"])
    api_app_client.post(f"/api/v1/implausible-readings/{jump['flag_id']}/accept", headers=admin_headers,
                        json={"comment": "new meter, read on site"})
    energy, _ = asyncio.run(_energy_and_alarms(database_url, device, recompute=True))
    after = asyncio.run(_export_increase(database_url, device))
    assert before == pytest.approx(100.0)  # 1000 -> 1100; 1700 and 1750 rose too fast from 1100 (limit 200/h)
    assert (after, energy) == (pytest.approx(750.0), pytest.approx(750.0))
