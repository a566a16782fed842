"""`carbonflow factors fit | simulate | verify`: the electricity-carbon factors on the data imported into the
database (docs/grid_factors.md), for the operator who refits a province's 60,000 units overnight.

- fit: fit enterprise factors (per unit or industry) on the imported verified emissions and store them as
  new versions; with --fuel also the industries' electricity -> fuel models. A progress bar on stderr.
- simulate: a region's fuel CO2, measured plus simulated from electricity, with its band and share.
- verify: optionally import a verifier's CSV/XLSX first, then compare the estimates with the verified
  emissions (MAPE, bias, worst cases) and list the factors over the bound.

Writes are audited as the operating-system user (actor 'cli:<user>', kind 'system'). DATABASE_URL names the database.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

__all__ = ["main"]

_CHUNK_UNITS = 5000  # groups per batch of the fit: the progress bar moves once per batch


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from carbonflow.settings import load_settings

    url = load_settings().database_url
    if not url:
        print("carbonflow factors: set DATABASE_URL=postgresql://... (docs/database.md)", file=sys.stderr)
        return 2
    return asyncio.run(args.run(url, args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carbonflow factors", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("fit", help="fit enterprise factors (and --fuel models) and store them as new versions")
    p.add_argument("--by", choices=["unit", "industry"], default="unit")
    p.add_argument("--min-n", type=int, default=None, help="fewest verified periods per fit (default 3)")
    p.add_argument("--fuel", action="store_true", help="also fit the industries' electricity -> fuel models")
    p.add_argument("--dry-run", action="store_true", help="fit and report, store nothing")
    p.set_defaults(run=_fit)
    p = sub.add_parser("simulate", help="a region's fuel CO2, measured plus simulated from electricity")
    p.add_argument("--region", required=True)
    p.add_argument("--period", help="2025 or 2025-03 (default: every period)")
    p.add_argument("--confidence", type=float, default=0.95)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_simulate)
    p = sub.add_parser("verify", help="compare estimates with third-party verified emissions")
    p.add_argument("--import", dest="verified_file", type=Path,
                   help="import this verified-emissions CSV/XLSX first (unit_id,period,verified_tco2,verifier)")
    p.add_argument("--bound", type=float, default=0.1, help="flag factors whose MAPE exceeds this (0.1 = 10 %%)")
    p.add_argument("--worst", type=int, default=5)
    p.add_argument("--holdout", choices=["months", "units", "none"], default="months",
                   help="months: refit without the last --test-months months and check on them (default); units:"
                        " refit industry factors without one unit in --every and check on those; none: in-sample")
    p.add_argument("--test-months", type=int, default=3)
    p.add_argument("--every", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_verify)
    return parser


def _bar(what: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        print(f"\r{what} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}", end="", file=sys.stderr,
              flush=True)
        if done >= total:
            print(file=sys.stderr)
    return show


async def _connect(url: str) -> Any:
    import psycopg

    return await psycopg.AsyncConnection.connect(url, autocommit=True)


async def _audit(conn: Any, *, action: str, target: str, after: Any) -> None:
    from api.audit import auditlog

    await auditlog.record(conn, action=action, client_ip=None, actor=f"cli:{getpass.getuser()}", actor_kind="system",
                          target=target, after=after)


async def _fit(url: str, args: argparse.Namespace) -> int:
    from api.grid_factors import queries
    from carbon_domain.errors import GridFactorError
    from carbon_domain.grid_factors import fit_factors, fit_fuel_models

    async with await _connect(url) as conn:
        data = await queries.unit_periods(conn)
        key = (lambda d: d.unit_id) if args.by == "unit" else (lambda d: d.industry)
        groups: dict[str, list[Any]] = {}
        for d in data:
            groups.setdefault(key(d), []).append(d)
        names = sorted(groups)
        fits, skipped = [], {}
        progress = _bar(f"fitting {args.by} factors")
        progress(0, len(names))
        try:
            for start in range(0, len(names), _CHUNK_UNITS):
                chunk = [d for name in names[start:start + _CHUNK_UNITS] for d in groups[name]]
                found, left = fit_factors(chunk, by=args.by, min_n=args.min_n)
                fits += found
                skipped |= left
                progress(min(start + _CHUNK_UNITS, len(names)), len(names))
        except GridFactorError as exc:
            print(f"carbonflow factors fit: {exc}", file=sys.stderr)
            return 2
        models, fuel_skipped = fit_fuel_models(data) if args.fuel else ({}, {})
        if not args.dry_run:
            async with conn.transaction():
                stored = await queries.add_factor_versions(conn, fits=fits, fitted_by=getpass.getuser())
                await _audit(conn, action="grid_factors.fit", target=f"by:{args.by}",
                             after={"fitted": len(stored), "skipped": len(skipped), "via": "cli"})
                if models:
                    stored_models = await queries.add_fuel_models(conn, models=list(models.values()),
                                                                  fitted_by=getpass.getuser())
                    await _audit(conn, action="grid_factors.fuel_fit", target="fuel-models",
                                 after={"models": [m["model_id"] for m in stored_models], "via": "cli"})
    r2 = sorted(f.r2 for f in fits)
    print(f"{len(fits):,} {args.by} factors fitted from {len(data):,} unit-periods"
          + (f" (median R^2 {r2[len(r2) // 2]:.3f})" if r2 else "")
          + f"; {len(skipped):,} not fitted" + ("; dry run: nothing stored" if args.dry_run else "; stored as new versions"))
    for name, reason in sorted(skipped.items())[:10]:
        print(f"  not fitted: {name}: {reason}")
    if args.fuel:
        print(f"{len(models)} fuel models fitted" + "".join(f"\n  no fuel model: {i}: {r}"
                                                             for i, r in sorted(fuel_skipped.items())))
    return 0


async def _simulate(url: str, args: argparse.Namespace) -> int:
    from api.grid_factors import queries
    from carbon_domain.errors import GridFactorError
    from carbon_domain.grid_factors import simulate_region

    async with await _connect(url) as conn:
        data = [d for d in await queries.unit_periods(conn, region=args.region)
                if args.period is None or d.period == args.period]
        stored = await queries.latest_fuel_models(conn)
    if not data:
        print(f"carbonflow factors simulate: no imported unit data for region {args.region!r}"
              + (f" and period {args.period}" if args.period else ""), file=sys.stderr)
        return 1
    try:
        result = simulate_region(args.region, data, {i: m for i, (_, m) in stored.items()},
                                 confidence=args.confidence)
    except GridFactorError as exc:
        print(f"carbonflow factors simulate: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**asdict(result), "models": {i: mid for i, (mid, _) in stored.items()}}, default=str))
        return 0
    print(f"{args.region} {args.period or 'all periods'}: {result.total_t:,.1f} tCO2 from fuels"
          f" ({result.confidence:.0%} band {result.low_t:,.1f} .. {result.high_t:,.1f})")
    print(f"  measured  {result.measured_t:,.1f} t")
    print(f"  simulated {result.simulated_t:,.1f} t from electricity ({result.simulated_share:.1%} of the total,"
          f" {len(result.units)} unit-periods, estimated)")
    if result.unmodelled:
        print(f"  {len(result.unmodelled)} electricity-only unit-periods without an industry model (not counted)")
    return 0


async def _verify(url: str, args: argparse.Namespace) -> int:
    from api.grid_factors import queries
    from carbon_domain.errors import GridFactorError
    from carbon_domain.grid_factors import check_estimates, holdout_estimates
    from carbonflow.grid_factor_files import GridFileError, read_grid_file

    async with await _connect(url) as conn:
        if args.verified_file is not None:
            try:
                rows, problems = read_grid_file(args.verified_file, "verified")
            except GridFileError as exc:
                print(f"carbonflow factors verify: {exc}", file=sys.stderr)
                return 2
            if problems:
                for p in problems:
                    print(f"{args.verified_file}:{p.line}: {p.reason}", file=sys.stderr)
                print(f"carbonflow factors verify: {len(problems)} bad line(s); nothing imported", file=sys.stderr)
                return 2
            digest = hashlib.sha256(args.verified_file.read_bytes()).hexdigest()
            async with conn.transaction():
                created = await queries.add_unit_import(
                    conn, kind="verified", imported_by=getpass.getuser(), origin=args.verified_file.suffix[1:].lower(),
                    filename=args.verified_file.name, content_sha256=digest, note="carbonflow factors verify",
                    rows=rows)
                await _audit(conn, action="grid_factors.verified_import", target=f"grid-import:{created['import_id']}",
                             after={"rows": len(rows), "filename": args.verified_file.name, "content_sha256": digest})
            print(f"imported {len(rows)} verified figures from {args.verified_file.name}")
        data = await queries.unit_periods(conn)
        pins, unit_factors, industry_factors = await queries.factors_in_use(conn)
    try:
        estimates, uncovered, split = holdout_estimates(
            data, pins=pins, unit_factors=unit_factors, industry_factors=industry_factors, holdout=args.holdout,
            test_months=args.test_months, every=args.every)
        report = check_estimates(estimates, bound=args.bound, worst=args.worst)
    except GridFactorError as exc:
        print(f"carbonflow factors verify: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**asdict(report), "uncovered": uncovered, "holdout": asdict(split)}, default=str))
        return 0
    print(f"hold-out: {split.kind} ({split.note}); fitted on {split.fitted_on}, checked {split.checked}")
    print(f"{len(estimates)} estimates against verified emissions; {len(uncovered)} verified unit-periods without"
          f" a factor")
    for title, groups in (("industry", report.by_industry), ("region", report.by_region)):
        print(f"by {title}:")
        for g in groups:
            worst = g.worst[0] if g.worst else None
            print(f"  {g.key:<24} n={g.n:<6} MAPE {g.mape:7.2%}  bias {g.bias:+7.2%}"
                  + (f"  worst {worst.unit_id}@{worst.period} {worst.relative_error:+.1%}" if worst else ""))
    print(f"factors over the {report.bound:.0%} bound: {len(report.flagged_factors)}"
          + "".join(f"\n  {f}" for f in report.flagged_factors[:50]))
    return 0
