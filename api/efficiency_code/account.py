"""The enterprise carbon account (碳账户) and the government views, assembled from the stored codes, the monitoring
service's units and figures, and (for a unit linked to a metered enterprise) the pipeline's metered activities.

Every function takes a connection and keyword-only arguments; HTTP errors are the routes' business."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

import psycopg

from api.accounting.queries import metered_aggregates, month_range
from api.efficiency_code import compute, queries
from api.monitoring import queries as monitoring
from api.registry.queries import list_devices, list_sites
from carbon_domain.carbon_account import (
    GRADE_SUMMARY_FORMULA,
    WORST_GRADES,
    PeriodMark,
    drivers,
    grade_distribution,
    grade_summary,
    next_grade,
    watch_list,
)
from carbon_domain.efficiency_code import FORMULA_VERSION, EfficiencyCodeConfig
from carbon_domain.monitoring import region_prefix, storage_unit_of

__all__ = ["EXPORT_COLUMNS", "account", "distribution", "export_csv", "export_xlsx", "region_distribution",
           "unit_rows", "watch"]

_SHOWN = ("period", "code", "grade", "level", "intensity", "efficiency", "neutrality", "colour", "excluded_reason",
          "excluded_detail", "run_id", "computed_at")
_UNIT = ("unit_id", "name", "credit_code", "kind", "region_code", "region_name", "region_name_en", "industry_code",
         "industry_name",
         "industry_name_en", "status", "synthetic")


def _unit(unit: dict[str, Any]) -> dict[str, Any]:
    return {key: unit[key] for key in _UNIT}


async def unit_rows(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope, period: str,
                    config_version: str) -> list[dict[str, Any]]:
    """Each unit in scope with its stored code of `period` (None fields where it has not been computed)."""
    units = await monitoring.coded_units(conn, scope=scope)
    stored = {row["unit_id"]: row for row in await queries.results(conn, period=period, config_version=config_version)}
    rows = []
    for unit in units:
        result = stored.get(str(unit["unit_id"]))
        rows.append({**_unit(unit), "computed": result is not None,
                     **{key: (result or {}).get(key) for key in _SHOWN if key != "period"}})
    return rows


async def account(conn: psycopg.AsyncConnection, *, unit: dict[str, Any], period: str | None,
                  config: EfficiencyCodeConfig) -> dict[str, Any] | None:
    """A unit's carbon account for `period` (default: its latest calendar year with a stored code): the code and
    its provenance, history by year, drivers, the step to the next grade, the monthly figures behind it with their
    factor rows, and the metered activities (reading counts by process) of a unit linked to a metered enterprise.
    None when no code of the unit is stored."""
    history = await queries.unit_results(conn, unit_id=str(unit["unit_id"]), config_version=config.version)
    if not history:
        return None
    years = [row for row in history if row["period_kind"] == "calendar_year"]
    chosen = period or (years or history)[-1]["period"]
    result = next((row for row in history if row["period"] == chosen), None)
    if result is None:
        return None
    parsed = compute.parse_period(chosen)
    months = (await compute.monthly_inputs(conn, period=parsed, unit_ids=[unit["unit_id"]])).get(unit["unit_id"], [])
    found = drivers(months)
    inputs = result["provenance"]["inputs"]
    industry = result["provenance"].get("industry")
    step = None
    if result["grade"] is not None and industry:
        found_step = next_grade(grade=result["grade"], net_co2_t=inputs["net_co2_t"],
                                value_added_10k_yuan=inputs["value_added_10k_yuan"],
                                industry_intensity=industry["intensity"], config=config)
        step = None if found_step is None else asdict(found_step)
    start, end = compute.period_bounds(parsed)
    figures = [{"month": f"{month:%Y-%m}", "item": item, "quantity": quantity, "unit": storage_unit_of(item),
                "tco2": tco2, "factor_ids": list(factor_ids)}
               for _, month, item, quantity, tco2, factor_ids in await monitoring.monthly_items(
                   conn, start=start, end=end, unit_ids=[unit["unit_id"]])]
    metered: list[dict[str, Any]] = []
    meters: list[dict[str, Any]] = []
    if unit["enterprise_id"]:
        if parsed.kind == "calendar_year":
            first, last = month_range(int(chosen), None)
            metered = [asdict(row) for row in await metered_aggregates(conn, enterprise=unit["enterprise_id"],
                                                                        start=first, end=last)]
        meters = await _meters(conn, enterprise=unit["enterprise_id"])
    return {
        "unit": _unit(unit) | {"enterprise_id": unit["enterprise_id"], "site_id": unit["site_id"]},
        "period": chosen, "config_version": config.version,
        "result": {key: result[key] for key in (*_SHOWN, "neutrality_share", "provenance")},
        "history": [{key: row[key] for key in _SHOWN} for row in years],
        "periods": [row["period"] for row in history],
        "drivers": asdict(found), "next_grade": step, "figures": figures, "metered": metered,
        "meters": meters,
    }


async def _meters(conn: psycopg.AsyncConnection, *, enterprise: str) -> list[dict[str, Any]]:
    """The energy meters (points with an accounting activity) of the enterprise's sites: where the readings are."""
    sites = [s["site_id"] for s in await list_sites(conn, sites=None) if s["enterprise_id"] == enterprise]
    if not sites:
        return []
    return [{"device_id": d["device_id"], "site_id": d["site_id"], "process": d["process"], "point": p["point"],
             "unit": p["unit"], "activity": p["activity"]}
            for d in await list_devices(conn, sites=sites) for p in d["points"] if p.get("activity")]


async def distribution(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope, period: str,
                       config_version: str, by: str) -> dict[str, Any]:
    """Grade counts per county (by='region') or per industry class (by='industry') over the units in scope."""
    rows = await unit_rows(conn, scope=scope, period=period, config_version=config_version)
    key = "region_code" if by == "region" else "industry_code"
    name, name_en = ("region_name", "region_name_en") if by == "region" else ("industry_name", "industry_name_en")
    counts = grade_distribution((row[key], row["grade"]) for row in rows)
    names = {row[key]: (row[name], row[name_en]) for row in rows}
    total = grade_distribution(("total", row["grade"]) for row in rows).get("total")
    return {"period": period, "config_version": config_version, "by": by, "total": total,
            "synthetic": any(row["synthetic"] for row in rows),
            "groups": [{"key": k, "name": names[k][0], "name_en": names[k][1], "counts": v} for k, v in counts.items()]}


def _sub_region(region_code: str, level: int) -> str:
    """The sub-region of a province (level 1: its city) or of a city (level 2: the unit's county) a unit lies in,
    as the monitoring map groups them."""
    return region_code[:4] + "00" if level == 1 else region_code


async def region_distribution(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope, region: dict[str, Any],
                              period: str, config: EfficiencyCodeConfig) -> dict[str, Any]:
    """Grade counts, mean grade and share of the worst grades per sub-region of `region` (a province's cities or a
    city's counties) over the units in scope, for the grade map; with the configuration and formula versions."""
    prefix = region_prefix(region["code"])
    rows = [row for row in await unit_rows(conn, scope=scope, period=period, config_version=config.version)
            if row["region_code"].startswith(prefix)]
    counts = grade_distribution((_sub_region(row["region_code"], region["level"]), row["grade"]) for row in rows)
    names = {r["code"]: r for r in await monitoring.list_regions(conn)}
    total = grade_distribution(("total", row["grade"]) for row in rows).get("total")

    def summarised(key: str, found: dict[str, int]) -> dict[str, Any]:
        summary = grade_summary(found)
        named = names.get(key, {})
        return {"key": key, "name": named.get("name", key), "name_en": named.get("name_en"), "counts": found,
                "coded": summary.coded, "mean_grade": summary.mean_grade, "worst_share": summary.worst_share}

    return {"region": {key: region[key] for key in ("code", "name", "name_en", "level")},
            "period": period, "period_kind": compute.parse_period(period).kind, "config_version": config.version,
            "synthetic": any(row["synthetic"] for row in rows),
            "total": summarised("total", total) if total else None,
            "groups": [summarised(key, found) for key, found in counts.items()],
            "provenance": {"config_version": config.version, "formula_version": FORMULA_VERSION,
                           "grade_boundaries": list(config.grade_boundaries), "worst_grades": list(WORST_GRADES),
                           "summary": GRADE_SUMMARY_FORMULA,
                           "units": "the stored codes of the period under the configuration version, of the units "
                                    "in the caller's scope; a unit is counted in the sub-region its region code "
                                    "lies in"}}


async def watch(conn: psycopg.AsyncConnection, *, scope: monitoring.UnitScope, config_version: str,
                rising: int) -> list[dict[str, Any]]:
    """The units in scope on the watch list, from their calendar-year codes."""
    units = {str(u["unit_id"]): u for u in await monitoring.coded_units(conn, scope=scope)}
    history: dict[str, list[PeriodMark]] = {}
    codes: dict[str, dict[str, Any]] = {}
    for row in await queries.calendar_results(conn, config_version=config_version):
        if row["unit_id"] in units:
            history.setdefault(row["unit_id"], []).append(PeriodMark(row["period"], row["grade"], row["intensity"]))
            codes[row["unit_id"]] = row
    out = []
    for item in watch_list(history, rising=rising):
        marks = sorted(history[item.unit_id], key=lambda m: m.period)
        out.append({**_unit(units[item.unit_id]), "grade_worsened": item.grade_worsened,
                    "rising_periods": item.rising_periods, "reasons": list(item.reasons),
                    "latest_period": marks[-1].period, "code": codes[item.unit_id]["code"],
                    "history": [asdict(m) for m in marks]})
    return out


EXPORT_COLUMNS = ("unit_id", "name", "credit_code", "region_code", "region_name", "industry_code", "industry_name",
                  "code", "grade", "level", "intensity", "efficiency", "neutrality", "excluded_reason",
                  "excluded_detail", "synthetic", "run_id")


def export_csv(rows: list[dict[str, Any]]) -> bytes:
    """The rows as UTF-8 CSV with a BOM (so that Excel opens the Chinese names right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in EXPORT_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode()


def export_xlsx(rows: list[dict[str, Any]], *, period: str, config_version: str) -> bytes:
    """The rows as an XLSX workbook, with a sheet saying the period, the version and whether data are synthetic."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "codes"
    sheet.append(list(EXPORT_COLUMNS))
    for row in rows:
        sheet.append([row.get(c) for c in EXPORT_COLUMNS])
    about = book.create_sheet("about")
    about.append(["period", period])
    about.append(["config_version", config_version])
    about.append(["synthetic", "yes: synthetic demo data" if any(r["synthetic"] for r in rows) else "no"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
