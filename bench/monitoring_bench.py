"""Government monitoring at province scale (issue 17): import speed, view and ranking latency, storage per figure.

A synthetic province (code 990000, labelled synthetic: 10 cities of 9 counties) with `--units` emission units
(60,000 by default) spread over the packaged industry classes gets `--years` (5) years x 12 months x 8 figures
(six energy types, value added, gross output): 28.8 million figures at full scale, in a scratch database.

- Import: the figures, computed in memory with their tCO2/tce (FigureCalculator, the same code as every intake),
  stored through api.monitoring.queries.store_figures in batches by `--workers` connections side by side
  (binary COPY into a staging table, set-wise merge, superseded revisions moved to the history and the
  pre-aggregated totals of migration 104 kept in the same transactions). Then a
  correction batch (1 % of the figures of the last year changed) through the same path. Target: 100,000
  figures/s.
- Views, through the app as a government user of the province (GET /api/v1/monitoring/view): the province by
  city and by industry, by year and by month; target p95 < 200 ms. Ranking of a region's units (by=unit, top
  50 and a page from the middle) for the province and a city, by year and month; target p95 < 300 ms.
- Consistency: after the correction, the totals of one city equal the sums over its figures.
- Storage: on-disk bytes (tables, indexes, TOAST) of the figures, their history and the totals, per figure.

Writes bench/results/monitoring.json. Full scale takes long and a lot of disk (see the result's storage): for a
quick check run `python bench/monitoring_bench.py --units 2000`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_seconds, create_scratch_database, machine_busy_s, table_bytes, write_result

PROVINCE = "990000"
CITIES = [f"99{c:02d}00" for c in range(1, 11)]
COUNTIES = [f"{city[:4]}{k:02d}" for city in CITIES for k in range(1, 10)]
ITEMS = ("electricity", "coal", "oil", "natural_gas", "heat", "other", "value_added", "gross_output")
UNITS_OF = {"electricity": "MWh", "coal": "t", "oil": "t", "natural_gas": "1e4Nm3", "heat": "GJ", "other": "tce",
            "value_added": "1e4CNY", "gross_output": "1e4CNY"}
# a unit's typical monthly quantity of each item, in its storage unit (spread by a factor 0.2-5 per unit)
TYPICAL = {"electricity": 800.0, "coal": 300.0, "oil": 20.0, "natural_gas": 5.0, "heat": 900.0, "other": 10.0,
           "value_added": 1500.0, "gross_output": 6000.0}
FIRST_YEAR = 2021
TABLES = ("monitoring_figures", "monitoring_figure_revisions", "monitoring_factor_sets", "monitoring_region_totals",
          "monitoring_unit_totals")
SEED = 17
PROVINCE_FIGURES = 60_000 * 5 * 12 * len(ITEMS)


def _setup(url: str, units: int) -> tuple[list[int], list[str]]:
    """Regions, units (COPY) and a government user; returns the unit ids and the industry codes used."""
    import psycopg

    from api.auth import security

    rng = random.Random(SEED)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = [(PROVINCE, "合成省 (synthetic)", "Synthetic province", 1, None)]
        rows += [(c, f"合成市 {c}", f"Synthetic city {c}", 2, PROVINCE) for c in CITIES]
        rows += [(k, f"合成县 {k}", f"Synthetic county {k}", 3, k[:4] + "00") for k in COUNTIES]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO monitoring_regions (code, name, name_en, level, parent_code)"
                            " VALUES (%s, %s, %s, %s, %s)", rows)
        industries = [r[0] for r in conn.execute(
            "SELECT code FROM monitoring_industries WHERE code ~ '^[0-9]{3}$' ORDER BY code").fetchall()]
        with conn.cursor() as cur, cur.copy("COPY monitoring_units (credit_code, name, region_code, industry_code,"
                                            " synthetic) FROM STDIN") as copy:
            for n in range(units):
                copy.write_row((f"91{99_0000_0000_0000 + n:016d}", f"合成单位 {n:05d} (synthetic)",
                                rng.choice(COUNTIES), rng.choice(industries), True))
        conn.execute("INSERT INTO users (username, role, region, password_hash, must_change_password)"
                     " VALUES ('bench-gov', 'government', %s, %s, false)",
                     (PROVINCE, security.hash_password(PASSWORD, n=2**14)))
        unit_ids = [r[0] for r in conn.execute("SELECT unit_id FROM monitoring_units ORDER BY unit_id").fetchall()]
    return unit_ids, industries


PASSWORD = "Bench-Password-2026!"


def _figures(unit_ids: list[int], years: int, coefficients: dict[tuple[str, date], tuple[float, float, tuple[str, ...]]],
             scale: dict[int, float], change: float = 1.0) -> Iterator[tuple[Any, ...]]:
    """Figures of `unit_ids`, every month and item; deterministic (per unit, month and item) so that a repeated
    run writes the same values; `change` multiplies them (a correction)."""
    months = [date(FIRST_YEAR + y, m, 1) for y in range(years) for m in range(1, 13)]
    for unit_id in unit_ids:
        size = scale[unit_id]
        for month in months:
            season = 1.0 + 0.15 * ((month.month - 6.5) / 5.5) ** 2
            for item in ITEMS:
                quantity = round(TYPICAL[item] * size * season * change, 3)
                if item in ("value_added", "gross_output"):
                    yield unit_id, month, item, quantity, UNITS_OF[item], None, None, ()
                else:
                    co2, tce, factor_ids = coefficients[item, month]
                    yield unit_id, month, item, quantity, UNITS_OF[item], quantity * co2, quantity * tce, factor_ids


def _chunks(unit_ids: list[int], batch_units: int) -> list[list[int]]:
    """Batches of about `batch_units` units made of whole lock ranges (queries.LOCK_RANGE consecutive unit ids),
    so that the workers' batches never wait for each other's locks."""
    from itertools import groupby

    from api.monitoring.queries import LOCK_RANGE

    chunks: list[list[int]] = [[]]
    for _, ids in groupby(unit_ids, key=lambda u: u // LOCK_RANGE):
        if len(chunks[-1]) >= batch_units:
            chunks.append([])
        chunks[-1].extend(ids)
    return chunks


async def _import(url: str, unit_ids: list[int], years: int, batch_units: int, workers: int) -> dict[str, Any]:
    import psycopg

    from api.accounting.queries import load_library
    from api.monitoring import queries
    from carbon_domain.monitoring import FigureCalculator

    rng = random.Random(SEED + 1)
    scale = {u: rng.uniform(0.2, 5.0) for u in unit_ids}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        calculator = FigureCalculator(await load_library(conn))
        coefficients = {}
        for item in ITEMS[:6]:
            for y in range(years):
                for m in range(1, 13):
                    month = date(FIRST_YEAR + y, m, 1)
                    figure = calculator.energy(item, 1.0, month)
                    coefficients[item, month] = (figure.tco2, figure.tce, figure.factor_ids)
        chunks = _chunks(unit_ids, batch_units)
        batches: list[float] = []
        stored = 0
        busy0, start, load0 = machine_busy_s(), time.perf_counter(), os.getloadavg()

        async def worker(connection: Any) -> None:
            nonlocal stored
            while chunks:
                chunk = chunks.pop(0)
                began = time.perf_counter()
                async with connection.transaction():
                    batch = await queries.create_batch(connection, source="file", origin="monitoring bench",
                                                       sha256=None, by="bench")
                    changed = await queries.store_figures(connection, figures=_figures(chunk, years, coefficients,
                                                                                       scale),
                                                          source="file", batch_id=batch, by="bench")
                stored += changed
                batches.append(time.perf_counter() - began)
                if len(batches) % 10 == 1:
                    print(f"  imported {stored:,} figures ({stored / (time.perf_counter() - start):,.0f}/s)",
                          flush=True)

        extra = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(workers - 1)]
        pids = []
        for connection in (conn, *extra):
            found = await (await connection.execute("SELECT pg_backend_pid()")).fetchone()
            pids.append(int(found[0]) if found else 0)
        cpu0 = sum(cpu_seconds(pid) for pid in pids) + time.process_time()
        try:
            await asyncio.gather(worker(conn), *(worker(c) for c in extra))
        finally:
            for connection in extra:
                await connection.close()
        seconds = time.perf_counter() - start
        cpu = sum(cpu_seconds(pid) for pid in pids) + time.process_time() - cpu0
        busy = (machine_busy_s() - busy0) / seconds
        load1 = os.getloadavg()
        await conn.execute("VACUUM ANALYZE monitoring_figures")
        await conn.execute("ANALYZE monitoring_figure_revisions")
        await conn.execute("VACUUM ANALYZE monitoring_region_totals")
        await conn.execute("VACUUM ANALYZE monitoring_unit_totals")
        # corrections: 1 % of the units restate their last year, 10 % higher
        corrected_units = sorted(random.Random(SEED + 2).sample(unit_ids, max(1, len(unit_ids) // 100)))
        last_year = [f for f in _figures(corrected_units, years, coefficients, scale, change=1.1)
                     if f[1].year == FIRST_YEAR + years - 1]
        began = time.perf_counter()
        async with conn.transaction():
            batch = await queries.create_batch(conn, source="file", origin="monitoring bench correction",
                                               sha256=None, by="bench")
            corrected = await queries.store_figures(conn, figures=last_year, source="file", batch_id=batch,
                                                    by="bench")
        correction_s = time.perf_counter() - began
    return {"figures": stored, "seconds": round(seconds, 1), "figures_per_s": round(stored / seconds),
            "target_figures_per_s": 100_000, "batch_units": batch_units, "workers": workers,
            "batch_seconds": {"median": round(statistics.median(batches), 2), "max": round(max(batches), 2)},
            "machine_busy_cores": round(busy, 2), "cpu_seconds": round(cpu, 1),
            "load_average_1_5_15": {"before": [round(v, 2) for v in load0], "after": [round(v, 2) for v in load1]},
            "figures_per_cpu_s": round(stored / cpu),
            "cpu_note": "CPU of the importing PostgreSQL backends and of the bench process: the rate a machine with "
                        "`workers` idle cores would reach when the wall-clock rate is held down by other load",
            "correction": {"figures": corrected, "seconds": round(correction_s, 2),
                           "figures_per_s": round(corrected / correction_s)},
            "what": "figures in memory with tCO2/tce -> store_figures (binary COPY to staging, set-wise merge, "
                    "superseded revisions to the history, region/unit totals), one transaction per batch of units"}


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _views(url: str, units: int, years: int, runs: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import ApiSettings

    year = FIRST_YEAR + years - 1
    settings = ApiSettings(scrypt_n=2**14, rate_burst=1_000_000, anonymous_rate_burst=1_000_000)
    cases = {
        "province_by_city_year": ({"region": PROVINCE, "year": year}, 0.2),
        "province_by_city_month": ({"region": PROVINCE, "year": year, "month": 6}, 0.2),
        "province_by_industry_year": ({"region": PROVINCE, "year": year, "by": "industry"}, 0.2),
        "province_by_industry_month": ({"region": PROVINCE, "year": year, "month": 6, "by": "industry"}, 0.2),
        "city_by_county_year": ({"region": CITIES[3], "year": year}, 0.2),
        "city_by_industry_month": ({"region": CITIES[3], "year": year, "month": 3, "by": "industry"}, 0.2),
        "ranking_province_year_top50": ({"region": PROVINCE, "year": year, "by": "unit", "limit": 50}, 0.3),
        "ranking_province_month_top50": ({"region": PROVINCE, "year": year, "month": 6, "by": "unit",
                                          "limit": 50}, 0.3),
        "ranking_province_year_middle_page": ({"region": PROVINCE, "year": year, "by": "unit", "limit": 50,
                                               "offset": units // 2}, 0.3),
        "ranking_city_year_top50": ({"region": CITIES[3], "year": year, "by": "unit", "limit": 50}, 0.3),
        "ranking_county_month_all": ({"region": COUNTIES[10], "year": year, "month": 9, "by": "unit"}, 0.3),
    }
    out: dict[str, Any] = {}
    import psycopg

    watcher = psycopg.connect(url, autocommit=True)

    def busy_cpu() -> float:
        """CPU seconds of this process (the app and its client) and of the database's other client backends."""
        pids = [row[0] for row in watcher.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'").fetchall()]  # not autovacuum, busy after the import
        total = time.process_time()
        for pid in pids:
            try:
                total += cpu_seconds(pid)
            except (OSError, IndexError, ValueError):
                continue
        return total

    with watcher, TestClient(create_app(url, settings=settings)) as client:
        r = client.post("/api/v1/auth/login", json={"username": "bench-gov", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        for name, (params, target) in cases.items():
            samples, cpu = [], []
            for i in range(runs + 2):
                cpu0 = busy_cpu()
                began = time.perf_counter()
                response = client.get("/api/v1/monitoring/view", headers=headers, params=params)
                took = time.perf_counter() - began
                used = busy_cpu() - cpu0
                assert response.status_code == 200, response.text
                if i >= 2:  # the first two warm the caches
                    samples.append(took)
                    cpu.append(used)
            body = response.json()
            out[name] = {"p95_ms": round(_p95(samples) * 1000, 1), "median_ms": round(statistics.median(samples)
                                                                                      * 1000, 1),
                         "cpu_p95_ms": round(_p95(cpu) * 1000, 1),
                         "target_ms": target * 1000, "rows": len(body["rows"]), "units_total": body.get("units_total"),
                         "params": params}
            print(f"  {name}: p95 {out[name]['p95_ms']} ms, CPU p95 {out[name]['cpu_p95_ms']} ms"
                  f" ({len(body['rows'])} rows)", flush=True)
    return out


def _consistency(url: str) -> dict[str, Any]:
    """The totals of one city against the sums over its figures (after the correction)."""
    import psycopg

    with psycopg.connect(url) as conn:
        expected = conn.execute(
            "SELECT f.item, sum(f.quantity), COALESCE(sum(f.tco2), 0) FROM monitoring_figures f"
            " JOIN monitoring_units u USING (unit_id) WHERE u.region_code LIKE %s GROUP BY 1 ORDER BY 1",
            (CITIES[3][:4] + "%",)).fetchall()
        by_industry, together = (conn.execute(
            "SELECT item, sum(quantity), sum(tco2) FROM monitoring_region_totals WHERE grain = 'y'"
            f" AND region_code LIKE %s AND industry_code {which} '*' GROUP BY 1 ORDER BY 1",
            (CITIES[3][:4] + "%",)).fetchall() for which in ("<>", "="))
    worst = max((abs(a[1] - b[1]) / max(abs(a[1]), 1.0)
                 for stored in (by_industry, together) for a, b in zip(expected, stored, strict=True)), default=0.0)
    stored = by_industry if [s[0] for s in by_industry] != [e[0] for e in expected] else together
    return {"region": CITIES[3], "items": len(expected), "equal": [e[0] for e in expected] == [s[0] for s in stored]
            and worst < 1e-9, "worst_relative_difference": worst}


def _storage(url: str, figures: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        sizes = {table: table_bytes(conn, table) for table in TABLES}
        revisions = conn.execute("SELECT count(*) FROM monitoring_figure_revisions").fetchone()[0]
    total = sum(sizes.values())
    return {"bytes": sizes, "figures": figures, "revisions": revisions,
            "bytes_per_figure": round(total / max(figures, 1), 1),
            "bytes_per_figure_by_table": {t: round(b / max(figures, 1), 1) for t, b in sizes.items()},
            "note": "current figure (its latest revision) + superseded revisions + factor-id lists + totals, with "
                    "indexes; a first import writes no history row (migration 146), a correction adds one; "
                    "`revisions` counts the history table's rows"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=60_000, help="emission units (60,000: province scale)")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--batch-units", type=int, default=15_000,
                        help="units per import transaction (the totals rows a batch touches grow with the region x"
                             " industry combinations it spans, so big batches write fewer totals rows per figure; a"
                             " file import is one transaction whatever its size)")
    parser.add_argument("--workers", type=int, default=2, help="import connections side by side (one per core)")
    parser.add_argument("--runs", type=int, default=40, help="timed requests per view")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (prints its URL)")
    parser.add_argument("--result", default="monitoring", help="name of the results file (bench/results/NAME.json)")
    args = parser.parse_args(argv)

    url, drop = create_scratch_database("cf_monitoring_bench")
    try:
        print(f"monitoring bench: {args.units:,} units x {args.years} years x 12 months x {len(ITEMS)} items")
        unit_ids, industries = _setup(url, args.units)
        imported = asyncio.run(_import(url, unit_ids, args.years, args.batch_units, args.workers))
        print(f"import: {imported['figures']:,} figures in {imported['seconds']} s"
              f" = {imported['figures_per_s']:,}/s; correction {imported['correction']['figures_per_s']:,}/s")
        views = _views(url, args.units, args.years, args.runs)
        consistency = _consistency(url)
        storage = _storage(url, imported["figures"])
        print(f"storage: {storage['bytes_per_figure']} bytes per figure; totals consistent: {consistency['equal']}")
        met = {
            "import": imported["figures_per_s"] >= 100_000,
            "views": all(v["p95_ms"] < v["target_ms"] for v in views.values()),
            "consistent": consistency["equal"],
        }
        figures = args.units * args.years * 12 * len(ITEMS)
        path = write_result(args.result, {
            "scale": {"units": args.units, "years": args.years, "months": 12 * args.years, "items": len(ITEMS),
                      "figures": figures, "counties": len(COUNTIES), "industries": len(industries),
                      "synthetic": True, "province_scale": figures >= PROVINCE_FIGURES,
                      "scale_note": "province scale (60,000 units x 5 years x 12 months x 8 items)"
                      if figures >= PROVINCE_FIGURES else
                      f"NOT province scale: {figures:,} of {PROVINCE_FIGURES:,} figures"
                      f" ({figures / PROVINCE_FIGURES:.0%}); the totals tables grow with regions x industries x"
                      " months, not with units, so storage per figure is lower at full scale"},
            "import": imported, "views": views, "consistency": consistency, "storage": storage,
            "targets_met": met,
            "note": "p95_ms is wall-clock under whatever else the machine runs (import.machine_busy_cores says how "
                    "busy it was); cpu_p95_ms and import.figures_per_cpu_s count only the CPU the request or import "
                    "used (app process and database backends), i.e. about what an otherwise idle machine shows",
            "command": f"python bench/monitoring_bench.py --units {args.units} --years {args.years}"
                       f" --batch-units {args.batch_units} --workers {args.workers} --runs {args.runs}"
                       f" --result {args.result}",
        })
        print(f"wrote {path}")
        return 0 if all(met.values()) else 1
    finally:
        if args.keep:
            print(f"kept {url}")
        else:
            drop()


if __name__ == "__main__":
    sys.exit(main())
