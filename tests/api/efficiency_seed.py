"""The synthetic prefecture with its 碳效码 (seeded as `carbonflow seed region` does), its steelworks linked to the
metered enterprise demo-steel with one energy meter: what the 碳效码 API and page tests read."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import psycopg

from carbonflow.demo.region_seed import generate, seed_region

__all__ = ["STEEL", "METER", "seed_prefecture"]

STEEL = next(u for u in generate().units if u.enterprise_id == "demo-steel")
METER = {"device_id": "eff-steel-meter", "site_id": "eff-steel-site", "process": "rolling", "point": "energy_mwh",
         "unit": "MWh", "activity": "electricity"}


def seed_prefecture(database_url: str) -> dict[str, int]:
    """Seed (idempotent) and link; {'coded': units coded in the last year, <credit code>: unit id, ...}."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES ('demo-steel', 'Demo Steel',"
                     " 'CN-ZJ-HU') ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, 'demo-steel', 'Steelworks site')"
                     " ON CONFLICT DO NOTHING", (METER["site_id"],))
        conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                     (METER["device_id"], METER["site_id"], METER["process"]))
        conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, %s, %s, 'counter', %s)"
                     " ON CONFLICT DO NOTHING", (METER["device_id"], METER["point"], METER["unit"], METER["activity"]))
        # in a thread of its own: a browser test's thread already runs Playwright's event loop
        with ThreadPoolExecutor(max_workers=1) as pool:
            done = pool.submit(asyncio.run, seed_region(database_url)).result()
        conn.execute("UPDATE monitoring_units SET enterprise_id = 'demo-steel' WHERE credit_code = %s",
                     (STEEL.credit_code,))
        ids = dict(conn.execute("SELECT credit_code, unit_id FROM monitoring_units WHERE synthetic").fetchall())
    return {"coded": done["coded"], **{code: int(unit_id) for code, unit_id in ids.items()}}
