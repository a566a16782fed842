"""Time a year of one site's emissions by hour and by day: summed from `emissions` (how the API read them
before) against the scope rollups (api/emissions/scope_totals.py). Prints the timings; asserts nothing about speed.

    python bench/scope_totals_timing.py

PostgreSQL: $DATABASE_URL's server, else 127.0.0.1:5432, else embedded; a scratch database is created,
given one site's year (6 meters, one interval each per 15 minutes: 210,240 emission rows) and dropped.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import create_scratch_database

from api.emissions import scope_totals

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2025, 1, 1, tzinfo=UTC)
SITE = "timing-site"
_OLD = ("SELECT date_bin(%s, ts, '2000-01-01T00:00:00Z') AS bucket, activity, sum(tco2), sum(quantity),"
        " min(quantity_unit), string_agg(DISTINCT array_to_string(factor_ids, ','), ','),"
        " array_agg(DISTINCT formula), max(quality), count(*), count(*) FILTER (WHERE quality = 1),"
        " count(*) FILTER (WHERE quality = 2) FROM emissions"
        " WHERE site_id = %s AND ts >= %s AND ts < %s GROUP BY 1, 2 ORDER BY 1, 2")


async def main() -> None:
    url, drop = create_scratch_database("cf_scope_timing")
    try:
        await _time(url)
    finally:
        drop()


async def _time(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("INSERT INTO enterprises (enterprise_id, name) VALUES ('timing-ent', 'Timing')"
                           " ON CONFLICT DO NOTHING")
        await conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, 'timing-ent', 'T')"
                           " ON CONFLICT DO NOTHING", (SITE,))
        await conn.execute("INSERT INTO gateways (gateway_id) VALUES ('timing-gw') ON CONFLICT DO NOTHING")
        keys = []
        for i in range(6):
            await conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, %s)"
                               " ON CONFLICT DO NOTHING", (f"timing-{i}", SITE, f"p{i % 3}"))
            cur = await conn.execute(
                "INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 'kWh', 'counter',"
                " 'electricity') ON CONFLICT (device_id, point) DO UPDATE SET unit = 'kWh' RETURNING point_key",
                (f"timing-{i}",))
            keys.append((await cur.fetchone())[0])  # type: ignore[index]
        await conn.execute(
            "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
            " quantity_unit, tco2, factor_ids, formula, quality, energy_kwh)"
            " SELECT g.gateway_key, row_number() OVER (), t, t - interval '15 minutes', k, %s, 'electricity',"
            " 0.25 + random() * 0.01, 'MWh', 0.13 + random() * 0.01, ARRAY['grid@timing'], 'electricity/v1', 0, 250"
            " FROM gateways g, unnest(%s::int[]) k,"
            " generate_series(%s::timestamptz + interval '15 minutes', %s, interval '15 minutes') t"
            " WHERE g.gateway_id = 'timing-gw' ON CONFLICT DO NOTHING", (SITE, keys, START, END))
        await conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)", (SITE, START, END))
        await conn.execute("ANALYZE emissions")
        await conn.execute("ANALYZE scope_rollup_1h")
        await conn.execute("ANALYZE scope_rollup_1d")
        for interval in ("1h", "1d"):
            for _ in range(2):  # the second run is warm
                t = time.perf_counter()
                await (await conn.execute(_OLD, (scope_totals.BUCKETS[interval], SITE, START, END))).fetchall()
                old = time.perf_counter() - t
                t = time.perf_counter()
                rows = await scope_totals.site_emissions(conn, site=SITE, start=START, end=END,
                                                         interval=interval)
                new = time.perf_counter() - t
                t = time.perf_counter()
                await scope_totals.site_emission_provenance(conn, site=SITE, start=START, end=END,
                                                            interval=interval)
                prov = time.perf_counter() - t
            print(f"GET /emissions a year by {interval}: {len(rows)} rows; from emissions {old * 1000:.0f} ms,"
                  f" rollups + provenance {new * 1000:.0f} ms (of which provenance {prov * 1000:.0f} ms)")
        t = time.perf_counter()
        await scope_totals.scope_co2_rows(conn, sites=[SITE], start=START, end=END)
        totals = time.perf_counter() - t
        t = time.perf_counter()
        await scope_totals.factor_versions(conn, sites=[SITE], start=START, end=END)
        factors = time.perf_counter() - t
        print(f"a year's totals by source and process: rollups {totals * 1000:.0f} ms,"
              f" factor versions from emissions {factors * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
