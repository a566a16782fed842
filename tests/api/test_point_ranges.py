"""A point's measurement range set by hand through the API: the out_of_range alarm checks it, the stream worker
keeps it, a reset returns to the device profile's range; bad limits are a 422 with a message, changes audited
with before and after, points outside the caller's sites hidden (404)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.alarms import evaluate_alarms
from stream_jobs.point_ranges import fill_ranges_from_profiles
from stream_jobs.sink import ReadingSink

T0 = datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
JSON = {"Content-Type": "application/json"}


def _range_url(device: str, point: str = "o2_pct") -> str:
    return f"/api/v1/devices/{device}/points/{point}/range"


async def _stack(database_url: str) -> str:
    """A CEMS stack on m-site-a with the cf-demo profile (o2_pct valid 0..21 %), one o2_pct reading of 9.0 % at T0
    through the real sink, and the profile's ranges filled in as the stream worker does."""
    device = f"pr-{uuid.uuid4().hex[:6]}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("INSERT INTO devices (device_id, site_id, profile) VALUES (%s, 'm-site-a', %s)",
                           (device, "cf-demo/cems-stack"))
        reading = Reading(seq=1, device=device, point="o2_pct", value=9.0, unit="%", source_ts=T0, gateway_ts=T0)
        await ReadingSink(conn, FactorLibrary.default()).write(
            [DeviceBatch(gateway=f"gw-{device}", device=device, received_at=T0, readings=[reading])])
        await fill_ranges_from_profiles(conn)
    return device


async def _evaluate(database_url: str, device: str, now: datetime) -> dict[str, str]:
    """Run the alarm rules and the profile fill as the stream worker's timer does; the device's active
    out_of_range alarms by point."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await fill_ranges_from_profiles(conn)
        await evaluate_alarms(conn, now)
        cur = await conn.execute("SELECT point, detail FROM alarms WHERE rule = 'out_of_range' AND device_id = %s"
                                 " AND state = 'active'", (device,))
        return dict(await cur.fetchall())


def _audit(client: TestClient, admin: dict[str, str], action: str, target: str) -> list[dict[str, Any]]:
    r = client.get("/api/v1/audit", headers=admin, params={"action": action, "limit": 50})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["entries"] if e["target"] == target]


def test_range_set_by_a_technician_raises_out_of_range_for_a_reading_outside_it(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], admin_headers: dict[str, str],
    database_url: str,
) -> None:
    device = asyncio.run(_stack(database_url))
    before_alarms = asyncio.run(_evaluate(database_url, device, T0 + timedelta(seconds=5)))  # 9 % in 0..21
    r = api_app_client.put(_range_url(device), headers=role_headers["technician"],
                           json={"low": 10, "high": 15, "unit": "%"})
    assert r.status_code == 200, r.text
    raised = asyncio.run(_evaluate(database_url, device, T0 + timedelta(seconds=10)))
    kept = api_app_client.get(_range_url(device), headers=role_headers["auditor"]).json()
    [entry] = _audit(api_app_client, admin_headers, "point.range_set", f"point:{device}/o2_pct")
    assert before_alarms == {}
    assert r.json() == {"device_id": device, "point": "o2_pct", "unit": "%", "low": 10.0, "high": 15.0,
                        "source": "manual", "profile": "cf-demo/cems-stack", "max_rise_per_h": None,
                        "max_rise_source": None}
    assert raised == {"o2_pct": "value 9 below the low limit 10 at 2025-06-03T09:00:00+00"}
    assert (kept["low"], kept["high"], kept["source"]) == (10.0, 15.0, "manual")  # the worker's fill left it alone
    assert (entry["actor_kind"], entry["before"]["source"], entry["before"]["low"], entry["before"]["high"],
            entry["after"]["source"], entry["after"]["low"], entry["after"]["high"]) == (
        "user", "profile", 0.0, 21.0, "manual", 10.0, 15.0)


def test_one_sided_range_checks_only_that_side(api_app_client: TestClient, role_headers: dict[str, dict[str, str]],
                                               database_url: str) -> None:
    device = asyncio.run(_stack(database_url))
    r = api_app_client.put(_range_url(device), headers=role_headers["technician"], json={"low": None, "high": 8.5})
    raised = asyncio.run(_evaluate(database_url, device, T0 + timedelta(seconds=10)))
    assert (r.status_code, r.json()["low"], r.json()["high"]) == (200, None, 8.5)
    assert raised == {"o2_pct": "value 9 above the high limit 8.5 at 2025-06-03T09:00:00+00"}


def test_deleting_the_range_returns_to_the_profile_range_and_clears_the_alarm(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], admin_headers: dict[str, str],
    database_url: str,
) -> None:
    device = asyncio.run(_stack(database_url))
    api_app_client.put(_range_url(device), headers=admin_headers, json={"low": 10, "high": 15})
    raised = asyncio.run(_evaluate(database_url, device, T0 + timedelta(seconds=10)))
    r = api_app_client.delete(_range_url(device), headers=role_headers["technician"])
    cleared = asyncio.run(_evaluate(database_url, device, T0 + timedelta(seconds=20)))
    back = api_app_client.get(_range_url(device), headers=admin_headers).json()
    [entry] = _audit(api_app_client, admin_headers, "point.range_reset", f"point:{device}/o2_pct")
    assert list(raised) == ["o2_pct"]
    assert (r.status_code, r.json()["low"], r.json()["high"], r.json()["source"]) == (200, None, None, None)
    assert cleared == {}
    assert (back["low"], back["high"], back["source"]) == (0.0, 21.0, "profile")
    assert (entry["before"]["source"], entry["before"]["low"], entry["after"]["source"], entry["after"]["low"]) == (
        "manual", 10.0, None, None)


BAD = [
    ({"low": 5, "high": 5}, "low (5) must be below high (5)"),
    ({"low": 100, "high": 1.5}, "low (100) must be below high (1.5)"),
    ({"low": None, "high": None}, "give low, high or both"),
    ({"low": 0}, "high"),  # both keys are required; null says "no limit on this side"
    ({"low": "0", "high": 10}, "valid number"),
    ({"low": True, "high": 10}, "valid number"),
    ('{"low": NaN, "high": 10}', "finite number"),
    ('{"low": 0, "high": Infinity}', "finite number"),
    ('{"low": 0, "high": 1e999}', "finite number"),
    ({"low": 0, "high": 10, "unit": "W"}, "stores 'kW': give the limits in that unit, not 'W'"),
    ({"low": 0, "high": 10, "source": "manual"}, "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("body", "words"), BAD, ids=[str(b) for b, _ in BAD])
def test_bad_range_is_422_with_a_message_and_changes_nothing(api_app_client: TestClient, admin_headers: dict[str, str],
                                                             body: dict[str, Any] | str, words: str) -> None:
    url = _range_url("m-dev-a", "power_kw")
    before = api_app_client.get(url, headers=admin_headers).json()
    if isinstance(body, str):
        r = api_app_client.put(url, headers={**admin_headers, **JSON}, content=body)
    else:
        r = api_app_client.put(url, headers=admin_headers, json=body)
    assert r.status_code == 422, r.text
    assert words in str(r.json()["detail"])
    assert api_app_client.get(url, headers=admin_headers).json() == before


def test_points_outside_the_callers_sites_look_like_unknown_points(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], admin_headers: dict[str, str],
) -> None:
    hidden = api_app_client.get(_range_url("m-dev-a", "power_kw"), headers=role_headers["enterprise"])
    unknown = api_app_client.get(_range_url("m-dev-b", "no_such_point"), headers=role_headers["enterprise"])
    missing = api_app_client.put(_range_url("no-such-device", "power_kw"), headers=admin_headers,
                                 json={"low": 0, "high": 1})
    assert (hidden.status_code, unknown.status_code, missing.status_code) == (404, 404, 404)
    assert hidden.json()["detail"] == "no point 'power_kw' of device 'm-dev-a' among the sites you may see"
    assert "no point 'power_kw' of device 'no-such-device'" in missing.json()["detail"]


def test_enterprise_users_and_narrow_tokens_may_not_set_ranges(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]],
) -> None:
    own = api_app_client.put(_range_url("m-dev-b", "power_kw"), headers=role_headers["enterprise"],
                             json={"low": 0, "high": 1e6})
    token = api_app_client.post("/api/v1/auth/tokens", headers=role_headers["technician"],
                                json={"name": "reader", "scopes": ["devices"]}).json()["token"]
    narrow = api_app_client.delete(_range_url("m-dev-a", "power_kw"), headers={"Authorization": f"Bearer {token}"})
    assert (own.status_code, narrow.status_code) == (403, 403)
    assert "needs 'point_ranges'" in own.json()["detail"]
    assert "lacks the 'point_ranges' scope" in narrow.json()["detail"]


def test_nan_in_any_json_body_is_a_422_not_a_500(api_app_client: TestClient, admin_headers: dict[str, str]) -> None:
    # the body parser takes NaN; FastAPI's 422 echoes the input, which JSON cannot carry (api/main.py)
    r = api_app_client.put("/api/v1/benchmarks/m-site-a/crude_steel", headers={**admin_headers, **JSON},
                           content='{"tco2_per_t": NaN, "source": "nan test"}')
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["input"] == "nan"
