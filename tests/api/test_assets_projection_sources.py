"""GET /api/v1/assets/{enterprise}/compliance/{year}: the year-end projection takes each month from the platform's
own figures, the entered month overriding, and names each month's source.

Seeded for one enterprise in 2025, "now" being 2025-04-16 00:00 China Standard Time (half of April over):

    January   entered 100 tCO2, also monitored 999     -> entered (the override wins)
    February  monitoring units A 60 + B 40              -> monitoring, 100
    March     pipeline intervals 30 + 70 on its site    -> pipeline, 100
    April     pipeline 50 so far (15 of 30 days)        -> pipeline_month_to_date, covering 0.5 of the month
    May       a pipeline interval after "now"           -> not counted

Run rate: 350 tCO2 over 3.5 months covered = 100 a month, so 1200 at year end; 1000 allowances -> gap -200.

Unit A also reports its main product (主要产品产量), 400 t in each of 2024's first three months (and 5 t in
February 2025, which is no CO2): a 2024 benchmark allocation of 0.9 tCO2/t without output allocates
0.9 x 1200 = 1080.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.assets import position
from tests.api.conftest import make_user, unique
from tests.api.test_monitoring import credit_code

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 4, 16, tzinfo=CST)
PIPELINE = [  # (interval end, tCO2)
    (datetime(2025, 3, 5, 4, tzinfo=UTC), 30.0), (datetime(2025, 3, 20, 4, tzinfo=UTC), 70.0),
    (datetime(2025, 4, 10, 4, tzinfo=UTC), 50.0), (datetime(2025, 5, 5, 4, tzinfo=UTC), 400.0),
]


@pytest.fixture(scope="module")
def enterprise(database_url: str) -> Iterator[str]:
    tag = unique("apj")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Projection works', 'CN-ZJ')",
                     (tag,))
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Works')", (tag, tag))
        conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, 'kiln')", (f"{tag}-m", tag))
        gateway = conn.execute("INSERT INTO gateways (gateway_id) VALUES (%s) RETURNING gateway_key",
                               (f"{tag}-gw",)).fetchone()[0]  # type: ignore[index]
        point = conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES"
                             " (%s, 'kwh', 'kWh', 'counter', 'electricity') RETURNING point_key",
                             (f"{tag}-m",)).fetchone()[0]  # type: ignore[index]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
                " quantity_unit, tco2, factor_ids, formula, quality) VALUES"
                " (%s, %s, %s, %s, %s, %s, 'electricity', %s, 'MWh', %s, '{f-test}', 'electricity/test', 0)",
                [(gateway, seq, ts, ts - timedelta(minutes=10), point, tag, tco2 * 2, tco2)
                 for seq, (ts, tco2) in enumerate(PIPELINE)])
        conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)",
                     (tag, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)))
        for name, figures in (("A", [(date(2025, 1, 1), 999.0), (date(2025, 2, 1), 60.0)]),
                              ("B", [(date(2025, 2, 1), 40.0)])):
            unit = conn.execute(
                "INSERT INTO monitoring_units (credit_code, name, region_code, industry_code, enterprise_id)"
                " VALUES (%s, %s, '330700', '313', %s) RETURNING unit_id",
                (credit_code("330700"), f"{tag} {name}", tag)).fetchone()[0]  # type: ignore[index]
            for month, tco2 in figures:
                conn.execute("INSERT INTO monitoring_figures (unit_id, month, item, quantity, unit, tco2, source)"
                             " VALUES (%s, %s, 'coal', 1, 't', %s, 'file')", (unit, month, tco2))
            if name == "A":
                for month, tonnes in ((date(2024, 1, 1), 400.0), (date(2024, 2, 1), 400.0),
                                      (date(2024, 3, 1), 400.0), (date(2025, 2, 1), 5.0)):
                    conn.execute("INSERT INTO monitoring_figures (unit_id, month, item, quantity, unit, source)"
                                 " VALUES (%s, %s, 'main_product', %s, 't', 'file')", (unit, month, tonnes))
    yield tag


def _ok(r: Any) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_projection_takes_months_from_monitoring_and_pipeline_with_entered_months_overriding(
        api_app_client: TestClient, admin_headers: dict[str, str], enterprise: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    c, base = api_app_client, f"/api/v1/assets/{enterprise}"
    monkeypatch.setattr(position, "_now", lambda: NOW)
    owner = make_user(c, admin_headers, "enterprise", enterprise_id=enterprise)[2]
    _ok(c.put(f"{base}/allowances/2025", headers=admin_headers, json={"method": "entered", "amount": 1000}))
    _ok(c.put(f"{base}/emissions/2025", headers=owner, params={"month": 1}, json={"tco2": 100}))

    got = _ok(c.get(f"{base}/compliance/2025", headers=owner))["projection"]

    months = {m["month"]: m for m in got["months"]}
    assert [(m, months[m]["source"], round(months[m]["tco2"], 6)) for m in sorted(months)] == [
        (1, "entered", 100), (2, "monitoring", 100), (3, "pipeline", 100), (4, "pipeline_month_to_date", 50)]
    assert months[2]["units"] == 2 and months[3]["sites"] == [enterprise]
    assert months[4]["share_of_month"] == 0.5
    assert (got["recorded_tco2"], got["projected_tco2"], got["gap"]) == pytest.approx((350, 1200, -200))
    assert got["deficit_projected"] is True



def test_a_benchmark_allocation_without_output_takes_monitorings_main_product_and_names_it(
        api_app_client: TestClient, admin_headers: dict[str, str], enterprise: str) -> None:
    c, base = api_app_client, f"/api/v1/assets/{enterprise}"
    benchmark = {"method": "benchmark", "benchmark": 0.9}

    got = _ok(c.put(f"{base}/allowances/2024", headers=admin_headers, json=benchmark))

    assert (got["output"], got["output_source"], got["amount"]) == (1200, "monitoring", pytest.approx(1080))
    assert got["output_basis"] == "main_product of 1 monitoring unit(s), 3 month(s) of 2024: 1200 t"
    r = c.put(f"{base}/allowances/2023", headers=admin_headers, json=benchmark)
    assert r.status_code == 422 and "give output" in r.json()["detail"]
    entered = _ok(c.put(f"{base}/allowances/2022", headers=admin_headers, json={**benchmark, "output": 100}))
    assert (entered["output"], entered["output_source"]) == (100, "entered")


def test_without_monitoring_output_the_sites_production_counters_give_it_for_the_product_named(
        api_app_client: TestClient, admin_headers: dict[str, str], database_url: str) -> None:
    """A works with no monitoring unit: clinker counted 300 + 500 t in 2024, lime 20 t; 0.5 tCO2/t x 800 t = 400."""
    tag = unique("apr")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Counted works', 'CN-ZJ')",
                     (tag,))
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Works')", (tag, tag))
        conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, 'kiln')", (f"{tag}-m", tag))
        gateway = conn.execute("INSERT INTO gateways (gateway_id) VALUES (%s) RETURNING gateway_key",
                               (f"{tag}-gw",)).fetchone()[0]  # type: ignore[index]
        rows = []
        for product, amounts in (("clinker", (300.0, 500.0)), ("lime", (20.0,))):
            point = conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES"
                                 " (%s, %s, 't', 'counter', %s) RETURNING point_key",
                                 (f"{tag}-m", product, f"production:{product}")).fetchone()[0]  # type: ignore[index]
            rows += [(point, product, amount) for amount in amounts]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO activity_intervals (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
                " quantity_unit, quality) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 't', 0)",
                [(gateway, seq, ts, ts - timedelta(minutes=10), point, tag, f"production:{product}", amount)
                 for seq, ((point, product, amount), ts) in enumerate(zip(rows, (
                     datetime(2024, 3, 1, 4, tzinfo=UTC), datetime(2024, 7, 1, 4, tzinfo=UTC),
                     datetime(2024, 5, 1, 4, tzinfo=UTC)), strict=True))])
        conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)",
                     (tag, datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)))
    base, benchmark = f"/api/v1/assets/{tag}/allowances/2024", {"method": "benchmark", "benchmark": 0.5}

    r = api_app_client.put(base, headers=admin_headers, json=benchmark)
    assert r.status_code == 422 and "clinker, lime" in r.json()["detail"] and "give product" in r.json()["detail"]
    got = _ok(api_app_client.put(base, headers=admin_headers, json={**benchmark, "product": "clinker"}))

    assert (got["output"], got["output_source"], got["amount"]) == (pytest.approx(800), "pipeline", pytest.approx(400))
    assert got["output_basis"].startswith(f"production:clinker counters (1) of sites {tag}")
