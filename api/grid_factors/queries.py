"""SQL of the electricity-carbon factors (migrations 115 and 116): keyword-only functions taking a connection.

Everything is append-only: imports, results, factor versions, fuel-model versions and pins are added, and
the newest wins (newest import per unit and period, highest version per scope, newest pin per unit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from carbon_domain.grid_factors import FactorFit, FlowTracingResult, FuelModel, UnitPeriod

__all__ = [
    "add_region_input",
    "region_inputs",
    "region_input",
    "region_rows",
    "add_flow_result",
    "flow_results",
    "flow_result",
    "add_unit_import",
    "unit_periods",
    "verified_emissions",
    "unit_regions",
    "add_factor_versions",
    "factor_library",
    "enterprise_factor",
    "add_pin",
    "current_pins",
    "factors_in_use",
    "add_fuel_models",
    "latest_fuel_models",
]

_RESULT_COLUMNS = ("result_id", "input_id", "convention", "computed_at", "computed_by", "model_version",
                   "generation_emissions_t", "consumption_emissions_t", "conservation_error", "conserved")
_FACTOR_COLUMNS = ("factor_id", "scope", "scope_id", "version", "terms", "coefficients", "std_errors", "period_from",
                   "period_to", "n", "r2", "mape", "bias", "model_version", "fitted_at", "fitted_by")


async def _rows(conn: psycopg.AsyncConnection, query: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)  # type: ignore[arg-type]  # composed from constants in this module
        return list(await cur.fetchall())


# --- regional inputs and flow-tracing results ------------------------------------------------------------

async def add_region_input(conn: psycopg.AsyncConnection, *, name: str, period: str, illustrative: bool, source: str,
                           imported_by: str, origin: str, filename: str | None, content_sha256: str,
                           rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Store one input set with its rows (call inside a transaction)."""
    (created,) = await _rows(conn, "INSERT INTO grid_region_inputs (name, period, illustrative, source, imported_by,"
                             " origin, filename, content_sha256) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                             " RETURNING input_id, imported_at",
                             (name, period, illustrative, source, imported_by, origin, filename, content_sha256))
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO grid_region_rows (input_id, line, record, region, to_region, mwh, tco2)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(created["input_id"], r["line"], r["record"], r["region"], r["to_region"], r["mwh"], r["tco2"])
             for r in rows])
    return {**created, "regions": sum(r["record"] == "region" for r in rows),
            "flows": sum(r["record"] == "flow" for r in rows)}


async def region_inputs(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
    """Every input set, newest first, with its counts of regions and flows."""
    return await _rows(conn, "SELECT i.input_id, i.name, i.period, i.illustrative, i.source, i.imported_at,"
                       " i.imported_by, i.origin, i.filename, i.content_sha256,"
                       " count(*) FILTER (WHERE r.record = 'region') AS regions,"
                       " count(*) FILTER (WHERE r.record = 'flow') AS flows"
                       " FROM grid_region_inputs i LEFT JOIN grid_region_rows r USING (input_id)"
                       " GROUP BY i.input_id ORDER BY i.input_id DESC")


async def region_input(conn: psycopg.AsyncConnection, *, input_id: int) -> dict[str, Any] | None:
    """One input set's header, or None."""
    found = await _rows(conn, "SELECT input_id, name, period, illustrative, source, imported_at, imported_by, origin,"
                        " filename, content_sha256 FROM grid_region_inputs WHERE input_id = %s", (input_id,))
    return found[0] if found else None


async def region_rows(conn: psycopg.AsyncConnection, *, input_id: int) -> list[dict[str, Any]]:
    """The rows of an input set in file order."""
    return await _rows(conn, "SELECT line, record, region, to_region, mwh, tco2 FROM grid_region_rows"
                       " WHERE input_id = %s ORDER BY line", (input_id,))


async def add_flow_result(conn: psycopg.AsyncConnection, *, input_id: int, result: FlowTracingResult,
                          computed_by: str) -> dict[str, Any]:
    """Store a flow-tracing result of an input set."""
    factors = [vars(f) for f in result.factors]
    (stored,) = await _rows(
        conn, "INSERT INTO grid_flow_results (input_id, convention, computed_by, model_version, generation_emissions_t,"
              " consumption_emissions_t, conservation_error, conserved, factors)"
              " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
              f" RETURNING {', '.join(_RESULT_COLUMNS)}, factors",
        (input_id, result.convention, computed_by, result.model_version, result.generation_emissions_t,
         result.consumption_emissions_t, result.conservation_error, result.conserved, Jsonb(factors)))
    return stored


async def flow_results(conn: psycopg.AsyncConnection, *, input_id: int | None,
                       convention: str | None) -> list[dict[str, Any]]:
    """Results (without their factors), newest first."""
    return await _rows(conn, f"SELECT {', '.join(_RESULT_COLUMNS)} FROM grid_flow_results"
                       " WHERE (%s::bigint IS NULL OR input_id = %s) AND (%s::text IS NULL OR convention = %s)"
                       " ORDER BY result_id DESC", (input_id, input_id, convention, convention))


async def flow_result(conn: psycopg.AsyncConnection, *, result_id: int) -> dict[str, Any] | None:
    """One result with its factors and its input set's header, or None."""
    found = await _rows(conn, f"SELECT {', '.join('r.' + c for c in _RESULT_COLUMNS)}, r.factors,"
                        " i.name AS input_name, i.period, i.illustrative, i.source"
                        " FROM grid_flow_results r JOIN grid_region_inputs i USING (input_id)"
                        " WHERE r.result_id = %s", (result_id,))
    return found[0] if found else None


# --- unit energy data and verified emissions ---------------------------------------------------------------

async def add_unit_import(conn: psycopg.AsyncConnection, *, kind: str, imported_by: str, origin: str,
                          filename: str | None, content_sha256: str, note: str,
                          rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Store an import of unit energy data (`unit_energy`) or verified emissions (`verified`)."""
    (created,) = await _rows(conn, "INSERT INTO grid_unit_imports (kind, imported_by, origin, filename,"
                             " content_sha256, note) VALUES (%s, %s, %s, %s, %s, %s) RETURNING import_id, imported_at",
                             (kind, imported_by, origin, filename, content_sha256, note))
    async with conn.cursor() as cur:
        if kind == "unit_energy":
            await cur.executemany(
                "INSERT INTO grid_unit_energy (import_id, line, unit_id, industry, region, period, electricity_mwh,"
                " coal_tco2, oil_tco2, gas_tco2) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(created["import_id"], r["line"], r["unit_id"], r["industry"], r["region"], r["period"],
                  r["electricity_mwh"], r["coal_tco2"], r["oil_tco2"], r["gas_tco2"]) for r in rows])
        else:
            await cur.executemany(
                "INSERT INTO grid_verified_emissions (import_id, line, unit_id, period, verified_tco2, verifier)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [(created["import_id"], r["line"], r["unit_id"], r["period"], r["verified_tco2"], r["verifier"])
                 for r in rows])
    return {**created, "kind": kind, "rows": len(rows)}


async def unit_periods(conn: psycopg.AsyncConnection, *, region: str | None = None) -> list[UnitPeriod]:
    """Every unit-period (newest import wins) with its newest verified figure, optionally of one region."""
    found = await _rows(
        conn, "SELECT e.unit_id, e.industry, e.region, e.period, e.electricity_mwh, e.coal_tco2, e.oil_tco2,"
              " e.gas_tco2, v.verified_tco2 FROM ("
              "  SELECT DISTINCT ON (unit_id, period) * FROM grid_unit_energy"
              "  WHERE %s::text IS NULL OR region = %s ORDER BY unit_id, period, import_id DESC, line DESC) e"
              " LEFT JOIN LATERAL (SELECT verified_tco2 FROM grid_verified_emissions g"
              "  WHERE g.unit_id = e.unit_id AND g.period = e.period ORDER BY import_id DESC, line DESC LIMIT 1) v"
              " ON true ORDER BY e.unit_id, e.period", (region, region))
    return [UnitPeriod(unit_id=r["unit_id"], industry=r["industry"], region=r["region"], period=r["period"],
                       electricity_mwh=r["electricity_mwh"], verified_t=r["verified_tco2"], coal_t=r["coal_tco2"],
                       oil_t=r["oil_tco2"], gas_t=r["gas_tco2"]) for r in found]


async def unit_regions(conn: psycopg.AsyncConnection) -> dict[str, str]:
    """Each unit's region, from its newest imported period."""
    found = await _rows(conn, "SELECT DISTINCT ON (unit_id) unit_id, region FROM grid_unit_energy"
                        " ORDER BY unit_id, period DESC, import_id DESC")
    return {r["unit_id"]: r["region"] for r in found}


async def verified_emissions(conn: psycopg.AsyncConnection) -> list[dict[str, Any]]:
    """The newest verified figure per unit and period, with its verifier and import."""
    return await _rows(conn, "SELECT DISTINCT ON (unit_id, period) unit_id, period, verified_tco2, verifier, import_id"
                       " FROM grid_verified_emissions ORDER BY unit_id, period, import_id DESC, line DESC")


# --- the enterprise factor library ---------------------------------------------------------------------------

async def add_factor_versions(conn: psycopg.AsyncConnection, *, fits: Sequence[FactorFit],
                              fitted_by: str) -> list[dict[str, Any]]:
    """Store each fit as the next version of its scope (call inside a transaction)."""
    if not fits:
        return []
    # versions stay dense under concurrent fits (an advisory lock: the application role may only insert here)
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('cf-grid-factor-versions'))")
    versions = {(r["scope"], r["scope_id"]): r["version"] for r in await _rows(
        conn, "SELECT scope, scope_id, max(version) AS version FROM grid_enterprise_factors GROUP BY scope, scope_id")}
    rows = []
    for fit in fits:
        version = versions.get((fit.scope, fit.scope_id), 0) + 1
        rows.append((f"{fit.scope}:{fit.scope_id}@v{version}", fit.scope, fit.scope_id, version, list(fit.terms),
                     list(fit.coefficients), list(fit.std_errors), fit.period_from, fit.period_to, fit.n, fit.r2,
                     _finite(fit.mape), _finite(fit.bias), fit.model_version, fitted_by))
    async with conn.cursor() as cur:
        await cur.executemany(
            f"INSERT INTO grid_enterprise_factors ({', '.join(_FACTOR_COLUMNS[:14])}, fitted_by)"
            f" VALUES ({', '.join(['%s'] * 15)})", rows)
    return [{"factor_id": r[0], "scope": r[1], "scope_id": r[2], "version": r[3]} for r in rows]


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value  # NaN (no verified figure to compare) is stored as NULL


async def factor_library(conn: psycopg.AsyncConnection, *, scope: str | None, scope_id: str | None,
                         latest_only: bool) -> list[dict[str, Any]]:
    """Factor versions, by scope and scope id, oldest version first (or only the newest of each)."""
    distinct = "DISTINCT ON (scope, scope_id) " if latest_only else ""
    order = "scope, scope_id, version DESC" if latest_only else "scope, scope_id, version"
    return await _rows(conn, f"SELECT {distinct}{', '.join(_FACTOR_COLUMNS)} FROM grid_enterprise_factors"
                       " WHERE (%s::text IS NULL OR scope = %s) AND (%s::text IS NULL OR scope_id = %s)"
                       f" ORDER BY {order}", (scope, scope, scope_id, scope_id))


async def enterprise_factor(conn: psycopg.AsyncConnection, *, factor_id: str) -> dict[str, Any] | None:
    """One factor version, or None."""
    found = await _rows(conn, f"SELECT {', '.join(_FACTOR_COLUMNS)} FROM grid_enterprise_factors WHERE factor_id = %s",
                        (factor_id,))
    return found[0] if found else None


async def add_pin(conn: psycopg.AsyncConnection, *, unit_id: str, factor_id: str | None, reason: str,
                  pinned_by: str) -> dict[str, Any]:
    """Pin a unit to a factor (or lift its pin with factor_id None)."""
    (pin,) = await _rows(conn, "INSERT INTO grid_factor_pins (unit_id, factor_id, reason, pinned_by)"
                         " VALUES (%s, %s, %s, %s) RETURNING pin_id, unit_id, factor_id, reason, pinned_at, pinned_by",
                         (unit_id, factor_id, reason, pinned_by))
    return pin


async def current_pins(conn: psycopg.AsyncConnection) -> dict[str, dict[str, Any]]:
    """The units pinned by hand now, by unit (lifted pins left out)."""
    found = await _rows(conn, "SELECT * FROM (SELECT DISTINCT ON (unit_id) pin_id, unit_id, factor_id, reason,"
                        " pinned_at, pinned_by FROM grid_factor_pins ORDER BY unit_id, pin_id DESC) p"
                        " WHERE factor_id IS NOT NULL ORDER BY unit_id")
    return {p["unit_id"]: p for p in found}


# --- electricity -> fuel models ------------------------------------------------------------------------------

async def add_fuel_models(conn: psycopg.AsyncConnection, *, models: Sequence[FuelModel],
                          fitted_by: str) -> list[dict[str, Any]]:
    """Store each industry's model as its next version (call inside a transaction)."""
    if not models:
        return []
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('cf-grid-fuel-model-versions'))")
    versions = {r["industry"]: r["version"] for r in await _rows(
        conn, "SELECT industry, max(version) AS version FROM grid_fuel_models GROUP BY industry")}
    stored = []
    for model in models:
        version = versions.get(model.industry, 0) + 1
        model_id = f"fuel:{model.industry}@v{version}"
        await conn.execute(
            "INSERT INTO grid_fuel_models (model_id, industry, version, ratios, total_ratio, dispersion, n,"
            " electricity_mwh, model_version, fitted_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (model_id, model.industry, version, Jsonb(dict(model.ratios)), model.total_ratio, model.dispersion,
             model.n, model.electricity_mwh, model.model_version, fitted_by))
        stored.append({"model_id": model_id, "industry": model.industry, "version": version})
    return stored


async def latest_fuel_models(conn: psycopg.AsyncConnection) -> dict[str, tuple[str, FuelModel]]:
    """The newest model per industry, with its id."""
    found = await _rows(conn, "SELECT DISTINCT ON (industry) model_id, industry, ratios, total_ratio, dispersion, n,"
                        " electricity_mwh, model_version FROM grid_fuel_models ORDER BY industry, version DESC")
    return {r["industry"]: (r["model_id"], FuelModel(
        industry=r["industry"], ratios=r["ratios"], total_ratio=r["total_ratio"], dispersion=r["dispersion"], n=r["n"],
        electricity_mwh=r["electricity_mwh"], model_version=r["model_version"])) for r in found}


def _fit_of(row: dict[str, Any]) -> FactorFit:
    return FactorFit(scope=row["scope"], scope_id=row["scope_id"], terms=tuple(row["terms"]),
                     coefficients=tuple(row["coefficients"]), std_errors=tuple(row["std_errors"]),
                     period_from=row["period_from"], period_to=row["period_to"], n=row["n"], r2=row["r2"],
                     mape=math.nan if row["mape"] is None else row["mape"],
                     bias=math.nan if row["bias"] is None else row["bias"],
                     model_version=row["model_version"], factor_id=row["factor_id"])


async def factors_in_use(conn: psycopg.AsyncConnection) -> tuple[dict[str, FactorFit], dict[str, FactorFit],
                                                                 dict[str, FactorFit]]:
    """The factors estimates use: pinned by unit, the newest unit factors and the newest industry factors."""
    latest = [_fit_of(r) for r in await factor_library(conn, scope=None, scope_id=None, latest_only=True)]
    pins: dict[str, FactorFit] = {}
    for unit, pin in (await current_pins(conn)).items():
        row = await enterprise_factor(conn, factor_id=pin["factor_id"])
        if row is not None:
            pins[unit] = _fit_of(row)
    return (pins, {f.scope_id: f for f in latest if f.scope == "unit"},
            {f.scope_id: f for f in latest if f.scope == "industry"})
