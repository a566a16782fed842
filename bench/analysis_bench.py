"""Analysis benchmark (issue 21): LMDI over 60,000 units by industry (target < 2 s) and a forecast for a region
(target < 1 s).

LMDI: two periods of 60,000 synthetic units in 40 industries (fixed seed), timed from the units in memory to
the decomposition, both summed to industries (the region's structure effect) and with each unit as a sector.
Forecast: the synthetic prefecture (`carbonflow seed region`, 401 units, 2023-2025) in a scratch database,
timed as a government user's POST /api/v1/analysis/forecast through the app, under the Kaya and the STIRPAT
model (the latter with five yearbook years before the monitoring data). Each is the best of three runs.
Writes bench/results/analysis.json.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import create_scratch_database, write_result

from carbon_domain.analysis import Sector, group_sectors, lmdi

SEED = 21
REGION = "330500"  # the synthetic prefecture, Huzhou


def _units(count: int, industries: int) -> tuple[list[Sector], list[Sector], dict[str, str]]:
    rng = np.random.default_rng(SEED)
    activity = rng.uniform(100, 50_000, count)
    energy = activity * rng.uniform(0.05, 2.0, count)
    co2 = energy * rng.uniform(1.5, 3.0, count)
    growth = rng.uniform(0.9, 1.2, (3, count))
    keys = [f"u{i:05d}" for i in range(count)]
    base = [Sector(k, float(a), float(e), float(c)) for k, a, e, c in zip(keys, activity, energy, co2, strict=True)]
    target = [Sector(k, float(a * g1), float(e * g1 * g2), float(c * g1 * g2 * g3)) for k, a, e, c, g1, g2, g3
              in zip(keys, activity, energy, co2, *growth, strict=True)]
    return base, target, {k: f"ind{i % industries:02d}" for i, k in enumerate(keys)}


def _best(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def _forecast_timings() -> dict[str, Any]:
    import psycopg
    from fastapi.testclient import TestClient

    from api.auth import security
    from api.main import create_app
    from api.settings import ApiSettings
    from carbonflow.demo.region_seed import seed_region

    url, drop = create_scratch_database("cf_analysis_bench")
    try:
        seeded = asyncio.run(seed_region(url))
        password = "Bench-Password-2026!"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO users (username, role, region, password_hash, must_change_password)"
                         " VALUES ('bench-gov', 'government', %s, %s, false)",
                         (REGION, security.hash_password(password, n=2**14)))
        settings = ApiSettings(scrypt_n=2**14, rate_burst=100_000, anonymous_rate_burst=100_000)
        with TestClient(create_app(url, settings=settings)) as client:
            r = client.post("/api/v1/auth/login", json={"username": "bench-gov", "password": password})
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
            history = [{"year": 2018 + i, "co2": 2.0e7 * 1.03 ** i, "gdp": 2.5e7 * 1.06 ** i * (1 + 0.01 * (i % 2)),
                        "energy": 9.0e6 * 1.02 ** i} for i in range(5)]
            out: dict[str, Any] = {"region": REGION, "seeded": seeded, "target_s": 1.0}
            for model, body in (("kaya", {"kind": "policy", "end_year": 2040}),
                                ("stirpat", {"kind": "policy", "model": "stirpat", "end_year": 2040,
                                             "history": history})):
                def call(body: dict[str, Any] = body) -> Any:
                    response = client.post("/api/v1/analysis/forecast", headers=headers,
                                           params={"region": REGION, "base_year": 2025}, json=body)
                    assert response.status_code == 200, response.text
                    return response.json()
                seconds, result = _best(3, call)
                out[model] = {"seconds": round(seconds, 4), "peak_year": result["peak"]["year"],
                              "years": len(result["years"])}
                print(f"forecast ({model}) of region {REGION}: {seconds * 1000:.0f} ms,"
                      f" peak {result['peak']['year']}")
            return out
    finally:
        drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=60_000)
    parser.add_argument("--industries", type=int, default=40)
    parser.add_argument("--no-db", action="store_true", help="skip the forecast (needs PostgreSQL)")
    args = parser.parse_args(argv)

    base, target, industry = _units(args.units, args.industries)
    by_industry_s, result = _best(3, lambda: lmdi(group_sectors(base, industry), group_sectors(target, industry)))
    residual = abs(math.fsum(result.effects().values()) - result.change)
    print(f"LMDI by industry: {args.units:,} units, {len(result.sectors)} industries in {by_industry_s * 1000:.0f} ms;"
          f" |sum of effects - change| = {residual:.2e} t")
    by_unit_s, unit_result = _best(3, lambda: lmdi(base, target))
    unit_residual = abs(math.fsum(unit_result.effects().values()) - unit_result.change)
    print(f"LMDI by unit: {args.units:,} sectors in {by_unit_s * 1000:.0f} ms; residual {unit_residual:.2e} t")

    forecast = None if args.no_db else _forecast_timings()
    lmdi_ok = by_industry_s < 2.0 and by_unit_s < 2.0
    forecast_ok = forecast is None or all(forecast[m]["seconds"] < 1.0 for m in ("kaya", "stirpat"))
    path = write_result("analysis", {
        "lmdi": {"units": args.units, "industries": len(result.sectors), "target_s": 2.0,
                 "by_industry": {"seconds": round(by_industry_s, 4), "residual_t": residual,
                                 "change_t": result.change},
                 "by_unit": {"seconds": round(by_unit_s, 4), "residual_t": unit_residual}},
        "forecast": forecast,
        "targets_met": lmdi_ok and forecast_ok,
        "command": "make bench (python bench/analysis_bench.py)",
    })
    print(f"wrote {path}")
    return 0 if lmdi_ok and forecast_ok else 1


if __name__ == "__main__":
    sys.exit(main())
