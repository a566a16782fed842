"""Codes computed from the monitoring figures, as recorded runs and background jobs.

For a period, every monitoring unit of the platform is one `UnitInput` (the industry averages are taken over the
whole population, whoever asks): its months' tCO2 by energy type, its own PV/wind generation valued at the
electricity factor the inventory uses in that month (`FigureCalculator`, the factor library's rows), and its value
added. Each computation is a run whose reason says what changed since the period's previous run under the same
configuration version: the first computation, corrected monthly figures (which units), new units (in which
industry), or nothing. `only_changed` skips a period whose inputs have not changed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from api.accounting.queries import load_library
from api.efficiency_code import queries
from api.monitoring import queries as monitoring
from carbon_domain.carbon_account import ElectricityFactor, MonthlyInputs, month_figures
from carbon_domain.efficiency_code import (
    EfficiencyCode,
    EfficiencyCodeConfig,
    Period,
    UnitInput,
    calendar_year,
    compute_codes,
    rolling_12_months,
    unit_input_for_period,
)
from carbon_domain.errors import EfficiencyCodeError
from carbon_domain.factors import FactorLibrary
from carbon_domain.monitoring import EnergyType, FigureCalculator

__all__ = ["Outcome", "compute_period", "queue_after_change", "electricity_factors", "monthly_inputs", "parse_period", "period_bounds", "run_job",
           "what_changed"]

_log = logging.getLogger(__name__)
_ENERGY = frozenset(kind.value for kind in EnergyType)


def parse_period(label: str) -> Period:
    """'2025' (a calendar year) or '2024-07..2025-06' (a rolling 12 months); EfficiencyCodeError otherwise."""
    if label.isdigit() and len(label) == 4:
        return calendar_year(int(label))
    first, sep, last = label.partition("..")
    period = rolling_12_months(last) if sep else None
    if period is None or period.first_month != first:
        raise EfficiencyCodeError(f"period {label!r} is a year (2025) or 12 months (2024-07..2025-06)")
    return period


def period_bounds(period: Period) -> tuple[date, date]:
    last = date(int(period.last_month[:4]), int(period.last_month[5:]), 1)
    end = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    return date(int(period.first_month[:4]), int(period.first_month[5:]), 1), end


async def monthly_inputs(conn: psycopg.AsyncConnection, *, period: Period,
                         unit_ids: Sequence[int] | None = None) -> dict[int, list[MonthlyInputs]]:
    """Each unit's months of the period as the monitoring service holds them (months without a figure absent)."""
    start, end = period_bounds(period)
    months: dict[int, dict[str, dict[str, Any]]] = {}
    for unit_id, month, item, quantity, tco2, factor_ids in await monitoring.monthly_items(
            conn, start=start, end=end, unit_ids=unit_ids):
        entry = months.setdefault(unit_id, {}).setdefault(
            f"{month:%Y-%m}", {"energy": {}, "generation": 0.0, "value_added": 0.0, "rows": []})
        if item in _ENERGY:
            entry["energy"][item] = float(tco2 or 0.0)
            entry["rows"].extend(factor_ids)
        elif item == "own_generation":
            entry["generation"] = float(quantity)
        elif item == "value_added":
            entry["value_added"] = float(quantity)
    return {unit_id: [MonthlyInputs(month, e["energy"], e["generation"], e["value_added"],
                                    tuple(dict.fromkeys(e["rows"]))) for month, e in sorted(by_month.items())]
            for unit_id, by_month in months.items()}


def electricity_factors(library: FactorLibrary, period: Period) -> dict[str, ElectricityFactor]:
    """The inventory's electricity factor of each month of the period, with its factor rows."""
    calculator = FigureCalculator(library)
    out = {}
    for month in period.months():
        one = calculator.energy("electricity", 1.0, date(int(month[:4]), int(month[5:]), 1))
        # the last row is the tce coefficient (GB/T 2589), not part of the CO2 factor
        out[month] = ElectricityFactor(one.tco2, one.factor_ids[:-1])
    return out


def _classed(industry_code: str) -> bool:
    """A GB/T 4754 division, group or class (2 to 4 digits): a unit registered under a section letter only has
    no industry average to be compared with and is left out of the population (listed as not computed)."""
    return industry_code.isascii() and industry_code.isdigit() and 2 <= len(industry_code) <= 4


async def _population(conn: psycopg.AsyncConnection, period: Period) -> list[UnitInput]:
    units = [u for u in await monitoring.coded_units(conn, scope=monitoring.UnitScope(all=True))
             if _classed(u["industry_code"])]
    months = await monthly_inputs(conn, period=period)
    factors = electricity_factors(await load_library(conn), period)
    return [unit_input_for_period(unit_id=str(u["unit_id"]), industry_code=u["industry_code"],
                                  in_production=u["status"] == "in_production",
                                  months=month_figures(months.get(u["unit_id"], []), factors), period=period)
            for u in units]


def _same(before: dict[str, Any], after: dict[str, float]) -> bool:
    return before.keys() == after.keys() and all(
        math.isclose(float(before[k]), after[k], rel_tol=1e-9, abs_tol=1e-9) for k in after)


def what_changed(previous: Sequence[dict[str, Any]], results: Sequence[EfficiencyCode],
                 industries: dict[str, str]) -> tuple[str, bool]:
    """Why this computation: (reason, whether anything changed since `previous`, the stored results)."""
    if not previous:
        return "first computation", True
    before = {row["unit_id"]: row for row in previous}
    new = [r for r in results if r.unit_id not in before]
    changed = [r.unit_id for r in results if r.unit_id in before
               and not _same(before[r.unit_id]["provenance"]["inputs"], dict(r.provenance.inputs))]
    gone = sorted(set(before) - {r.unit_id for r in results})
    parts = []
    if changed:
        parts.append(f"corrected monthly figures of {len(changed)} unit(s): {', '.join(changed[:10])}"
                     + (" ..." if len(changed) > 10 else ""))
    if new:
        by_industry: dict[str, list[str]] = {}
        for r in new:
            by_industry.setdefault(industries.get(r.unit_id, "?"), []).append(r.unit_id)
        parts.append("new unit(s) in industry " + "; ".join(f"{code}: {', '.join(ids)}"
                                                             for code, ids in sorted(by_industry.items())))
    if gone:
        parts.append(f"unit(s) no longer registered: {', '.join(gone[:10])}")
    if not parts:
        return "recomputed, inputs unchanged", False
    return "; ".join(parts), True


@dataclass(frozen=True)
class Outcome:
    period: str
    run_id: int | None  # None: skipped, nothing changed
    reason: str
    units: int
    coded: int


async def compute_period(conn: psycopg.AsyncConnection, *, period: Period, config: EfficiencyCodeConfig,
                         by: str | None, only_changed: bool = False) -> Outcome:
    """Compute a period's codes for every unit from the monitoring figures and store them as one recorded run."""
    units = await _population(conn, period)
    results = compute_codes(units, period, config)
    previous = await queries.results(conn, period=period.label, config_version=config.version)
    reason, changed = what_changed(previous, results, {u.unit_id: u.industry_code for u in units})
    coded = sum(1 for r in results if r.has_code)
    if only_changed and not changed:
        return Outcome(period.label, None, reason, len(results), coded)
    async with conn.transaction():
        run_id = await queries.save_results(conn, results=results, config=config, reason=reason, computed_by=by)
    return Outcome(period.label, run_id, reason, len(results), coded)


async def queue_after_change(conn: psycopg.AsyncConnection, *, months: Iterable[date], by: str) -> int | None:
    """Queue a recomputation (only if the inputs changed) of the periods with stored codes under the version in
    force that hold one of `months`, the years and the rolling 12 months alike: what a corrected figure or new
    figures call for. The job's id, or None (no such period)."""
    config = await queries.active_config(conn)
    changed = {f"{month:%Y-%m}" for month in months}
    stored = await queries.stored_periods(conn, config_version=config.version)
    periods = sorted(label for label in stored if changed & set(parse_period(label).months()))
    if not periods:
        return None
    job = await queries.create_job(conn, periods=periods, only_changed=True, requested_by=by)
    return int(job["job_id"])


async def run_job(pool: AsyncConnectionPool, job_id: int) -> None:
    """Run a queued job period by period, writing its progress after each; a failure is kept on the job."""
    async with pool.connection() as conn:
        job = await queries.start_job(conn, job_id=job_id)
        if job is None:
            return
        try:
            config = await queries.active_config(conn)
            for label in job["periods"]:
                outcome = await compute_period(conn, period=parse_period(label), config=config,
                                               by=job["requested_by"], only_changed=job["only_changed"])
                await queries.job_progress(conn, job_id=job_id, run_id=outcome.run_id,
                                           message=f"{label}: {outcome.reason}")
            await queries.finish_job(conn, job_id=job_id, state="done", message=None)
        except Exception as exc:  # noqa: BLE001 - the job records any failure; its request has been answered
            _log.exception("efficiency-code job %s failed", job_id)
            await queries.finish_job(conn, job_id=job_id, state="failed",
                                     message=f"{type(exc).__name__}: {exc}"[:500])
