"""Seed data for the export and period-comparison tests (prefix ``x-``), inserted once per test database.

    x-ent  (CN-JS)  x-site-1  x-meter-1 steelmaking  energy_kwh (electricity), power_kw (gauge, with rollups)
                              x-gas-1   rolling      gas_nm3 (natural_gas)
                    x-site-2  x-meter-2 rolling      energy_kwh (electricity)
    x-ent2 (CN-AH)  x-site-3  x-meter-3 steelmaking  energy_kwh (electricity)

Hours H0..H2 from 2026-01-10T00:00Z (08:00 to 11:00 in Asia/Shanghai). Monthly emissions for the comparisons
sit in Asia/Shanghai months 2025-10, 2026-09 and 2026-10 (see MONTHLY).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import psycopg

H0 = datetime(2026, 1, 10, 0, 0, tzinfo=UTC)
GRID = "grid.cn.national_average@2023"
GAS = ["fuel.natural_gas.cc@ndrc-steel-2013", "fuel.natural_gas.ncv@ndrc-steel-2013",
       "fuel.natural_gas.of@ndrc-steel-2013"]
GRID_T_PER_MWH = 0.5306
GAS_T_PER_1E4NM3 = 389.31 * 15.3e-3 * 0.99 * 44 / 12
POINTS = {  # (device, point): (site, process, unit, kind, activity)
    ("x-meter-1", "energy_kwh"): ("x-site-1", "steelmaking", "kWh", "counter", "electricity"),
    ("x-meter-1", "power_kw"): ("x-site-1", "steelmaking", "kW", "gauge", None),
    ("x-gas-1", "gas_nm3"): ("x-site-1", "rolling", "Nm3", "counter", "natural_gas"),
    ("x-meter-2", "energy_kwh"): ("x-site-2", "rolling", "kWh", "counter", "electricity"),
    ("x-meter-3", "energy_kwh"): ("x-site-3", "steelmaking", "kWh", "counter", "electricity"),
}
# counter readings (minutes after H0, value, quality): a bad reading in the middle is left out of the figures
COUNTERS = {
    ("x-meter-1", "energy_kwh"): [(-10, 1000.0, 0), (20, 1500.0, 0), (40, 2100.0, 0), (80, 2500.0, 0),
                                  (90, 99999.0, 2), (140, 2600.0, 0)],
    ("x-gas-1", "gas_nm3"): [(-5, 50_000.0, 0), (30, 52_000.0, 0), (100, 53_000.0, 1)],
    ("x-meter-2", "energy_kwh"): [(-5, 10.0, 0), (50, 1010.0, 0)],
    ("x-meter-3", "energy_kwh"): [(-5, 0.0, 0), (30, 5000.0, 0)],
}
POWER = [(m, 2000.0 + 7.5 * m, 0 if m % 50 else 1) for m in range(0, 180, 10)]  # power_kw every 10 min


def hourly_tco2() -> dict[tuple[str, str], dict[datetime, float]]:
    """tCO2 per point and UTC hour of the hourly-export seed, worked out from COUNTERS (emission = step)."""
    out: dict[tuple[str, str], dict[datetime, float]] = {}
    for key, readings in COUNTERS.items():
        good = [(m, v) for m, v, q in readings if q < 2]
        for (_, before), (m, v) in itertools.pairwise(good):
            hour = H0 + timedelta(hours=m // 60)
            t = ((v - before) / 1000 * GRID_T_PER_MWH if key[1] == "energy_kwh"
                 else (v - before) / 1e4 * GAS_T_PER_1E4NM3)
            out.setdefault(key, {})[hour] = out.get(key, {}).get(hour, 0.0) + t
    return out


# monthly emissions for the comparisons: (site, device, point, UTC end time, activity, quantity, unit, tCO2, factors)
# 2026-10-01T00:00+08:00 is 2026-09-30T16:00Z: the row at 16:30Z on 30 Sep belongs to October in Shanghai
MONTHLY = [
    ("x-site-1", "x-meter-1", "energy_kwh", datetime(2026, 10, 5, 3, 0, tzinfo=UTC), "electricity", 10.0, "MWh",
     10.0 * GRID_T_PER_MWH, [GRID]),
    ("x-site-1", "x-meter-1", "energy_kwh", datetime(2026, 9, 30, 16, 30, tzinfo=UTC), "electricity", 2.0, "MWh",
     2.0 * GRID_T_PER_MWH, [GRID]),
    ("x-site-1", "x-gas-1", "gas_nm3", datetime(2026, 10, 20, 3, 0, tzinfo=UTC), "natural_gas", 1.0, "1e4Nm3",
     GAS_T_PER_1E4NM3, GAS),
    ("x-site-1", "x-meter-1", "energy_kwh", datetime(2026, 9, 10, 3, 0, tzinfo=UTC), "electricity", 8.0, "MWh",
     8.0 * GRID_T_PER_MWH, [GRID]),
    ("x-site-1", "x-meter-1", "energy_kwh", datetime(2026, 9, 30, 15, 30, tzinfo=UTC), "electricity", 1.0, "MWh",
     1.0 * GRID_T_PER_MWH, [GRID]),
    ("x-site-1", "x-meter-1", "energy_kwh", datetime(2025, 10, 15, 3, 0, tzinfo=UTC), "electricity", 6.0, "MWh",
     6.0 * 0.5366, ["grid.cn.national_average@2022"]),
    ("x-site-2", "x-meter-2", "energy_kwh", datetime(2026, 10, 7, 3, 0, tzinfo=UTC), "electricity", 4.0, "MWh",
     4.0 * GRID_T_PER_MWH, [GRID]),
]


def seed(conn: psycopg.Connection) -> None:
    for enterprise, region in (("x-ent", "CN-JS"), ("x-ent2", "CN-AH")):
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, %s, %s)",
                     (enterprise, f"Export {enterprise}", region))
    for site, enterprise in (("x-site-1", "x-ent"), ("x-site-2", "x-ent"), ("x-site-3", "x-ent2")):
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, %s)",
                     (site, enterprise, f"Export {site}"))
    gkey = conn.execute("INSERT INTO gateways (gateway_id, site_id) VALUES ('x-gw', 'x-site-1') RETURNING gateway_key"
                        ).fetchone()[0]  # type: ignore[index]
    keys: dict[tuple[str, str], int] = {}
    for (device, point), (site, process, unit, kind, activity) in POINTS.items():
        conn.execute("INSERT INTO devices (device_id, site_id, process, gateway_id) VALUES (%s, %s, %s, 'x-gw')"
                     " ON CONFLICT DO NOTHING", (device, site, process))
        keys[device, point] = conn.execute(
            "INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, %s, %s, %s, %s)"
            " RETURNING point_key", (device, point, unit, kind, activity)).fetchone()[0]  # type: ignore[index]
    seq = iter(range(1, 1_000_000))
    readings = [(keys[key], H0 + timedelta(minutes=m), v, q) for key, rows in COUNTERS.items() for m, v, q in rows]
    readings += [(keys["x-meter-1", "power_kw"], H0 + timedelta(minutes=m), v, q) for m, v, q in POWER]
    emissions = []
    for steps in _steps(keys).values():
        emissions.extend(steps)
    for site, device, point, ts, activity, qty, unit, tco2, factors in MONTHLY:
        emissions.append((keys[device, point], site, ts, activity, qty, unit, tco2, factors,
                          "electricity/v1" if activity == "electricity" else "combustion/v1"))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
                        " VALUES (%s, %s, %s, %s, %s, %s)", [(gkey, next(seq), ts, k, v, q) for k, ts, v, q in readings])
        cur.executemany(
            "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
            " quantity_unit, tco2, factor_ids, formula, quality) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)",
            [(gkey, next(seq), ts, ts - timedelta(minutes=10), k, site, a, qty, u, t, f, formula)
             for k, site, ts, a, qty, u, t, f, formula in emissions])
        # written around the stream job: its scope rollups, rebuilt as `carbonflow recompute` does
        for site in sorted({e[1] for e in emissions}):
            cur.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)",
                        (site, min(e[2] for e in emissions), max(e[2] for e in emissions)))
        # the stream job's hourly rollups of power_kw, so that its hours come from rollup_1h
        for hour in range(3):
            rows = [(m, v, q) for m, v, q in POWER if m // 60 == hour]
            values = [v for _, v, _ in rows]
            cur.execute(
                "INSERT INTO rollup_1h (point_key, bucket, n, n_valid, sum, min, max, first_ts, first_value, last_ts,"
                " last_value, worst_quality) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (keys["x-meter-1", "power_kw"], H0 + timedelta(hours=hour), len(rows), len(rows), sum(values),
                 min(values), max(values), H0 + timedelta(minutes=rows[0][0]), values[0],
                 H0 + timedelta(minutes=rows[-1][0]), values[-1], max(q for _, _, q in rows)))


def _steps(keys: dict[tuple[str, str], int]) -> dict[tuple[str, str], list[tuple[object, ...]]]:
    """Emission rows of the counters' steps, as the stream job writes them (one per good reading after the first)."""
    out: dict[tuple[str, str], list[tuple[object, ...]]] = {}
    for key, readings in COUNTERS.items():
        site = POINTS[key][0]
        good = [(m, v) for m, v, q in readings if q < 2]
        for (_, before), (m, v) in itertools.pairwise(good):
            ts = H0 + timedelta(minutes=m)
            if key[1] == "energy_kwh":
                row = ("electricity", (v - before) / 1000, "MWh", (v - before) / 1000 * GRID_T_PER_MWH, [GRID],
                       "electricity/v1")
            else:
                row = ("natural_gas", (v - before) / 1e4, "1e4Nm3", (v - before) / 1e4 * GAS_T_PER_1E4NM3, GAS,
                       "combustion/v1")
            out.setdefault(key, []).append((keys[key], site, ts, *row))
    return out


def ensure_seeded(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM sites WHERE site_id = 'x-site-1'").fetchone() is None:
            with conn.transaction():
                seed(conn)
