"""/api/v1/analysis/enterprise: a site's (or an enterprise's) CO2 change split by process with LMDI, and its
year-end and multi-year forecast under scenarios (docs/analysis.md, "Enterprise side"; formulas in
carbon_domain.enterprise_analysis).

Figures are the platform's own metered data, read through the emissions service (process rollups and production
counters). Reading needs 'emissions'; the scope is the caller's: an enterprise user its own sites, a government
user the enterprises of its region, an auditor the enterprises assigned. Nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, HTTPException, Query

from api.auth.deps import EmissionsReader
from api.deps import Conn
from api.emissions import figures as emission_figures
from api.emissions import scope_totals
from api.registry.scope_deps import ReportScope, ScopeParam
from api.telemetry import figures
from carbon_domain.enterprise_analysis import (
    ENTERPRISE_PRESETS,
    KWH_PER_TCE,
    MIN_BAND_YEARS,
    EnterpriseScenario,
    ProcessFigures,
    enterprise_band,
    enterprise_factors,
    enterprise_suggestions,
    growth_spread,
    process_lmdi,
    project_enterprise,
    year_end,
)
from carbon_domain.errors import FormulaInputError

__all__ = ["router"]

router = APIRouter(prefix="/analysis/enterprise", tags=["analysis"])
METHOD = "METHODS.md section 7; docs/analysis.md (Enterprise side)"
HISTORY_MONTHS = 36
BAND_HISTORY_YEARS = 10  # whole calendar years before the base year read for the band
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?$")

Period = Annotated[str, Query(pattern=r"^\d{4}(-\d{2})?$", description="a year (2025) or a month (2025-03)")]
Product = Annotated[str, Query(max_length=64, pattern=r"^[a-z0-9_]+$",
                               description="the site's product, its output Q")]
Tz = Annotated[str, Query(max_length=64, description="IANA time zone of the calendar")]
Rate = Annotated[float | None, Query(ge=-0.5, le=0.5, description="a yearly rate, -0.02 = 2 % less a year")]


def _zone(tz: str) -> ZoneInfo:
    try:
        return figures.zone(tz)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


def _window(period: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    match = _PERIOD.match(period)
    if match is None:  # the Query pattern keeps this out; a guard for direct calls
        raise HTTPException(422, f"period {period!r} is not a year (2025) or a month (2025-03)")
    year, month = int(match[1]), int(match[2]) if match[2] else None
    if month is not None and not 1 <= month <= 12:
        raise HTTPException(422, f"month {month} of {period!r} is not 1 to 12")
    if not 1990 <= year <= 2200:
        raise HTTPException(422, f"year {year} is outside 1990-2200")
    if month is None:
        return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=zone), datetime(*following, 1, tzinfo=zone)


def _subject(scope: ReportScope) -> dict[str, Any]:
    if scope.process is not None:
        raise HTTPException(422, "the analysis covers all processes of a site or enterprise; drop process=")
    return {"site": scope.site, "enterprise": scope.enterprise, "sites": list(scope.sites)}


def _tonnes(production: list[dict[str, Any]], product: str | None) -> float | None:
    """Tonnes of `product` (of every product when None) in production rows; None without a mass counter."""
    products = {r["product"] for r in production} if product is None else {product}
    amounts = [t for p in sorted(products) if (t := emission_figures.product_tonnes(production, p)) is not None]
    return sum(amounts) if amounts else None


async def _period(conn: psycopg.AsyncConnection, sites: tuple[str, ...], start: datetime, end: datetime,
                  product: str) -> tuple[list[ProcessFigures], float | None, float, float]:
    """(process figures, site output of `product` in t, energy kWh, tCO2) of `sites` in [start, end)."""
    found = await scope_totals.process_figures(conn, sites=sites, start=start, end=end)
    rows = [ProcessFigures(name or "", r["energy_kwh"], r["tco2"], _tonnes(r["production"], None))
            for name, r in found.items()]
    every = [p for r in found.values() for p in r["production"]]
    return rows, _tonnes(every, product), sum(r.energy_kwh for r in rows), sum(r.co2 for r in rows)


def _process_row(figs: ProcessFigures | None, site_output: float | None) -> dict[str, Any] | None:
    if figs is None:
        return None
    output = figs.output if figs.output is not None else site_output
    return {"output_t": output, "own_output": figs.output is not None, "energy_tce": figs.energy_kwh / KWH_PER_TCE,
            "co2_t": figs.co2,
            "intensity_tce_per_t": figs.energy_kwh / KWH_PER_TCE / output if output else None,
            "factor_t_per_tce": figs.co2 / (figs.energy_kwh / KWH_PER_TCE) if figs.energy_kwh else None}


@router.get("/lmdi")
async def process_decomposition(caller: EmissionsReader, conn: Conn, scope: ScopeParam, base: Period,
                                target: Period, product: Product = emission_figures.PRIMARY_PRODUCT,
                                tz: Tz = figures.DEFAULT_TZ) -> dict[str, Any]:
    """Additive LMDI of the CO2 change from `base` to `target` (both years or both months) by process: the
    production, process structure, process energy intensity and emission-factor effects, which sum to ΔC."""
    subject = _subject(scope)
    if len(base) != len(target):
        raise HTTPException(422, f"compare a year with a year or a month with a month, got {base} and {target}")
    if base == target:
        raise HTTPException(422, "base and target are the same period; pick two different ones")
    zone = _zone(tz)
    periods = {}
    for label, period in (("base", base), ("target", target)):
        start, end = _window(period, zone)
        rows, output, _energy, co2 = await _period(conn, scope.sites, start, end, product)
        if not output:
            raise HTTPException(422, f"no production of {product} in the {label} period {period}: the "
                                     "decomposition needs the output of both periods; pick another period or "
                                     "product")
        periods[label] = {"period": period, "start": start.isoformat(), "end": end.isoformat(), "rows": rows,
                          "output_t": output, "co2_t": co2,
                          "factor_versions": await scope_totals.factor_versions(conn, sites=scope.sites,
                                                                                start=start, end=end)}
    b, t = periods["base"], periods["target"]
    try:
        result = process_lmdi(b["rows"], t["rows"], base_output=b["output_t"], target_output=t["output_t"])
    except FormulaInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    by_base = {r.process: r for r in b["rows"]}
    by_target = {r.process: r for r in t["rows"]}
    processes = [{"process": s.key or None, "base": _process_row(by_base.get(s.key), b["output_t"]),
                  "target": _process_row(by_target.get(s.key), t["output_t"]),
                  "change_t": s.target_co2 - s.base_co2,
                  "effects": {"production": s.activity, "structure": s.structure, "intensity": s.intensity,
                              "emission_factor": s.emission_factor}} for s in result.sectors]
    return {
        "subject": subject, "product": product, "timezone": tz,
        "periods": {k: {key: v[key] for key in ("period", "start", "end", "output_t", "co2_t", "factor_versions")}
                    for k, v in periods.items()},
        "change_t": result.change,
        "effects": _effects(result), "processes": processes,
        "identity": "C = Σ_i Q·(Y_i/Q)·(E_i/Y_i)·(C_i/E_i); a process without its own production counter has "
                    "Y_i = Q",
        "method": f"additive LMDI-I (Ang 2004) by process; {METHOD}",
    }


def _effects(result: Any) -> dict[str, float]:
    effects = result.effects()
    return {"production": effects["activity"], "structure": effects["structure"], "intensity": effects["intensity"],
            "emission_factor": effects["emission_factor"]}


def _months_back(today: date, n: int) -> list[tuple[int, int]]:
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


@router.get("/forecast")
async def enterprise_forecast(
    caller: EmissionsReader, conn: Conn, scope: ScopeParam,
    end_year: Annotated[int | None, Query(ge=1990, le=2200, description="last projected year")] = None,
    product: Product = emission_figures.PRIMARY_PRODUCT, tz: Tz = figures.DEFAULT_TZ,
    output_growth: Rate = None, output_step: Annotated[float | None, Query(ge=-0.1, le=0.1)] = None,
    intensity_change: Rate = None, factor_change: Rate = None,
) -> dict[str, Any]:
    """Monthly history (36 months), the current year projected to its end from its whole months, and the years
    to `end_year` under the baseline, policy and enhanced scenarios (and a custom one when any rate is given),
    each with its peak year."""
    subject = _subject(scope)
    zone = _zone(tz)
    today = datetime.now(zone).date()
    year = today.year
    end_year = end_year or year + 10
    if not year < end_year <= year + 40:
        raise HTTPException(422, f"end_year must be after {year} and at most {year + 40}, got {end_year}")
    history = []
    for y, m in _months_back(today, HISTORY_MONTHS):
        start, end = _window(f"{y}-{m:02d}", zone)
        _rows, output, energy, co2 = await _period(conn, scope.sites, start, end, product)
        history.append({"month": f"{y}-{m:02d}", "whole": (y, m) != (today.year, today.month), "co2_t": co2,
                        "energy_tce": energy / KWH_PER_TCE, "output_t": output,
                        "co2_per_t": co2 / output if output else None})
    whole = [h for h in history if h["whole"] and h["month"].startswith(f"{year}-") and h["co2_t"] > 0]
    if not whole:  # January, or a site that started metering this month: the last year's months instead
        year -= 1
        whole = [h for h in history if h["month"].startswith(f"{year}-") and h["co2_t"] > 0]
    if not whole:
        raise HTTPException(422, "no whole month with metered emissions in this or the last year: the forecast "
                                 "needs at least one")
    try:
        end = year_end(year, {int(h["month"][5:]): h["co2_t"] for h in whole})
    except FormulaInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    scale = end.projected / end.actual if end.actual else 0.0
    base_output = sum(h["output_t"] or 0.0 for h in whole) * scale
    base_energy = sum(h["energy_tce"] for h in whole) * scale
    scenarios = dict(ENTERPRISE_PRESETS)
    overrides = {k: v for k, v in (("output_growth", output_growth), ("output_step", output_step),
                                   ("intensity_change", intensity_change), ("factor_change", factor_change))
                 if v is not None}
    if overrides:
        custom = {**asdict(ENTERPRISE_PRESETS["baseline"]), **overrides, "name": "custom"}
        scenarios["custom"] = EnterpriseScenario(**custom)
    annual = await _whole_years(conn, scope.sites, year, zone, product)
    spread = growth_spread([a["co2_t"] for a in annual])
    change, change_note = await _year_to_date_lmdi(conn, scope.sites, year, max(int(h["month"][5:]) for h in whole),
                                                    zone, product)
    paths = []
    try:
        for name, scenario in scenarios.items():
            years, peak = project_enterprise(year=year, output=base_output, energy=base_energy, co2=end.projected,
                                             scenario=scenario, end_year=max(end_year, year + 1))
            factors = enterprise_factors(years, peak)
            band = enterprise_band(years, spread) if spread is not None else [(None, None)] * len(years)
            peak_band = band[years.index(peak)]
            paths.append({
                "name": name, "rates": asdict(scenario),
                "years": [{**asdict(y), "low": lo, "high": hi} for y, (lo, hi) in zip(years, band, strict=True)],
                "peak": {"year": peak.year, "co2_t": peak.co2, "low": peak_band[0], "high": peak_band[1]},
                "factors": [{"name": f.name, "contribution_t": f.contribution} for f in factors],
                "suggestions": [{"rule": s.rule, "text": s.text, "params": s.params}
                                for s in enterprise_suggestions(years, peak, factors, change)]})
    except FormulaInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    interval = ({"years": [a["year"] for a in annual], "spread": spread, "note": None} if spread is not None else
                {"years": [a["year"] for a in annual], "spread": None,
                 "note": f"no interval: fewer than {MIN_BAND_YEARS} whole years of metered history "
                         f"({len(annual)} before {year})"})
    return {
        "subject": subject, "product": product, "timezone": tz, "history": history,
        "year_end": asdict(end), "base": {"year": year, "output_t": base_output, "energy_tce": base_energy,
                                          "co2_t": end.projected},
        "scenarios": paths, "interval": interval,
        "decomposition": ({"period": change_note, "effects": _effects(change)} if change is not None
                          else {"period": None, "note": change_note}),
        "drivers": "C = Q·(E/Q)·(C/E): output, energy per tonne, CO2 per tce",
        "method": f"year end: run rate of the whole months ±1.96·s·√m; years: Kaya drivers, ranked by LMDI "
                  f"contribution, band C·exp(±1.96·s·√k) from the history's yearly log changes; {METHOD}",
    }


async def _whole_years(conn: psycopg.AsyncConnection, sites: tuple[str, ...], year: int, zone: ZoneInfo,
                       product: str) -> list[dict[str, Any]]:
    """The unbroken run of calendar years with metered CO2 that ends the year before `year` (at most
    BAND_HISTORY_YEARS), oldest first."""
    out: list[dict[str, Any]] = []
    for y in range(year - 1, year - 1 - BAND_HISTORY_YEARS, -1):
        start, end = _window(str(y), zone)
        _rows, _output, _energy, co2 = await _period(conn, sites, start, end, product)
        if not co2 > 0:
            break
        out.append({"year": y, "co2_t": co2})
    return out[::-1]


async def _year_to_date_lmdi(conn: psycopg.AsyncConnection, sites: tuple[str, ...], year: int, months: int,
                             zone: ZoneInfo, product: str) -> tuple[Any, str]:
    """By-process LMDI of the base year's first `months` months against the same months a year before, for the
    decomposition-based suggestions; (None, why) when it cannot be made."""
    last = f"{year}-{months:02d}"
    label = f"{year - 1}-01..{year - 1}-{months:02d} → {year}-01..{last}"
    periods = []
    for y in (year - 1, year):
        start, _ = _window(f"{y}-01", zone)
        _, end = _window(f"{y}-{months:02d}", zone)
        rows, output, _energy, _co2 = await _period(conn, sites, start, end, product)
        if not output:
            return None, f"no process suggestions: no production of {product} in {y}-01..{y}-{months:02d}"
        periods.append((rows, output))
    try:
        return process_lmdi(periods[0][0], periods[1][0], base_output=periods[0][1],
                            target_output=periods[1][1]), label
    except FormulaInputError as exc:
        return None, f"no process suggestions: {exc}"

