"""Storage of the 碳效码 service: configuration versions (append-only), the version in force, and results
kept per period and configuration version (migrations 110 and 111). Keyword-only functions on a connection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from carbon_domain.efficiency_code import DEFAULT_CONFIG, EfficiencyCode, EfficiencyCodeConfig

__all__ = [
    "active_config",
    "activate_config",
    "calendar_results",
    "certificate",
    "config_version",
    "create_config",
    "create_job",
    "finish_job",
    "get_job",
    "issue_certificate",
    "job_progress",
    "list_configs",
    "results",
    "runs",
    "save_results",
    "start_job",
    "stored_periods",
    "unit_results",
]

_RESULT_COLUMNS = ("unit_id", "period", "period_kind", "config_version", "code", "grade", "level", "intensity",
                   "efficiency", "neutrality", "neutrality_share", "colour", "excluded_reason", "excluded_detail",
                   "provenance", "run_id", "computed_at")


def _built_in(config: EfficiencyCodeConfig, *, active: bool) -> dict[str, Any]:
    return {"version": config.version, "active": active, "built_in": True, "created_at": None, "created_by": None,
            "config": config}


def _stored(row: dict[str, Any], *, active: str) -> dict[str, Any]:
    config = EfficiencyCodeConfig.model_validate(row["config"])
    return {"version": row["version"], "active": row["version"] == active,
            "built_in": row["version"] == DEFAULT_CONFIG.version, "created_at": row["created_at"],
            "created_by": row["created_by"], "config": config}


async def _active_version(conn: psycopg.AsyncConnection) -> str:
    cur = await conn.execute("SELECT version FROM efficiency_code_active_config")
    row = await cur.fetchone()
    return DEFAULT_CONFIG.version if row is None else str(row[0])


async def list_configs(conn: psycopg.AsyncConnection) -> tuple[str, list[dict[str, Any]]]:
    """The version in force and every version, oldest first; the built-in one first unless it is stored."""
    active = await _active_version(conn)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT version, config, created_at, created_by FROM efficiency_code_configs"
                          " ORDER BY created_at, version")
        versions = [_stored(row, active=active) for row in await cur.fetchall()]
    if all(v["version"] != DEFAULT_CONFIG.version for v in versions):
        versions.insert(0, _built_in(DEFAULT_CONFIG, active=active == DEFAULT_CONFIG.version))
    return active, versions


async def config_version(conn: psycopg.AsyncConnection, *, version: str) -> dict[str, Any] | None:
    """One version (the built-in one is always there), or None."""
    active = await _active_version(conn)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT version, config, created_at, created_by FROM efficiency_code_configs"
                          " WHERE version = %s", (version,))
        row = await cur.fetchone()
    if row is not None:
        return _stored(row, active=active)
    if version == DEFAULT_CONFIG.version:
        return _built_in(DEFAULT_CONFIG, active=active == version)
    return None


async def active_config(conn: psycopg.AsyncConnection) -> EfficiencyCodeConfig:
    """The configuration in force."""
    found = await config_version(conn, version=await _active_version(conn))
    assert found is not None  # the active row references a stored version
    config: EfficiencyCodeConfig = found["config"]
    return config


async def _store(conn: psycopg.AsyncConnection, config: EfficiencyCodeConfig, created_by: str | None) -> bool:
    cur = await conn.execute(
        "INSERT INTO efficiency_code_configs (version, config, created_by) VALUES (%s, %s, %s)"
        " ON CONFLICT (version) DO NOTHING", (config.version, Jsonb(config.model_dump(mode="json")), created_by))
    return cur.rowcount == 1


async def create_config(conn: psycopg.AsyncConnection, *, config: EfficiencyCodeConfig,
                        created_by: str) -> dict[str, Any] | None:
    """Store a new version; None when the version name is taken (built-in included)."""
    if config.version == DEFAULT_CONFIG.version or not await _store(conn, config, created_by):
        return None
    return await config_version(conn, version=config.version)


async def activate_config(conn: psycopg.AsyncConnection, *, version: str,
                          activated_by: str) -> tuple[str, str] | None:
    """Put `version` in force (storing the built-in one first if needed); (before, after), or None if unknown."""
    if version == DEFAULT_CONFIG.version:
        await _store(conn, DEFAULT_CONFIG, None)
    elif await config_version(conn, version=version) is None:
        return None
    before = await _active_version(conn)
    await conn.execute(
        "INSERT INTO efficiency_code_active_config (singleton, version, activated_by) VALUES (true, %s, %s)"
        " ON CONFLICT (singleton) DO UPDATE SET version = excluded.version, activated_at = now(),"
        " activated_by = excluded.activated_by", (version, activated_by))
    return before, version


def _provenance(result: EfficiencyCode) -> dict[str, Any]:
    provenance = result.provenance
    industry = None
    if provenance.industry is not None:
        industry = {**asdict(provenance.industry), "intensity": provenance.industry.intensity}
    return {"inputs": dict(provenance.inputs), "factor_row_ids": list(provenance.factor_row_ids),
            "industry": industry, "config_version": provenance.config_version,
            "formula_version": provenance.formula_version,
            "months": [result.period.first_month, result.period.last_month]}


async def save_results(conn: psycopg.AsyncConnection, *, results: Sequence[EfficiencyCode],
                       config: EfficiencyCodeConfig, reason: str, computed_by: str | None = None) -> int:
    """Store codes computed under `config` (stored too if it is the built-in version) as one recorded run
    (`reason`: why it was computed). A unit's earlier result for the same period and version is replaced;
    those of other versions are kept. Returns the run's id."""
    if any(r.provenance.config_version != config.version for r in results):
        raise ValueError(f"results computed under another configuration than {config.version!r}")
    periods = {r.period.label for r in results}
    if len(periods) != 1:
        raise ValueError(f"one run stores the results of one period, got {len(periods)} periods")
    await _store(conn, config, None)
    cur = await conn.execute(
        "INSERT INTO efficiency_code_runs (period, config_version, computed_by, reason, units, coded)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING run_id",
        (periods.pop(), config.version, computed_by, reason, len(results),
         sum(1 for r in results if r.has_code)))
    row = await cur.fetchone()
    assert row is not None
    run_id = int(row[0])
    rows = [(r.period.label, r.period.kind, config.version, r.unit_id, r.code, r.grade,
             None if r.level is None else r.level.value, r.intensity, r.efficiency,
             None if r.neutrality is None else r.neutrality.value, r.neutrality_share, r.colour,
             None if r.exclusion is None else r.exclusion.reason.value,
             None if r.exclusion is None else r.exclusion.detail, Jsonb(_provenance(r)), run_id) for r in results]
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO efficiency_code_results (period, period_kind, config_version, unit_id, code, grade, level,"
            " intensity, efficiency, neutrality, neutrality_share, colour, excluded_reason, excluded_detail,"
            " provenance, run_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (period, config_version, unit_id) DO UPDATE SET period_kind = excluded.period_kind,"
            " code = excluded.code, grade = excluded.grade, level = excluded.level, intensity = excluded.intensity,"
            " efficiency = excluded.efficiency, neutrality = excluded.neutrality,"
            " neutrality_share = excluded.neutrality_share, colour = excluded.colour,"
            " excluded_reason = excluded.excluded_reason, excluded_detail = excluded.excluded_detail,"
            " provenance = excluded.provenance, run_id = excluded.run_id, computed_at = now()", rows)
    return run_id


async def results(conn: psycopg.AsyncConnection, *, period: str, config_version: str) -> list[dict[str, Any]]:
    """The stored codes of a period under a configuration version, by unit id."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {', '.join(_RESULT_COLUMNS)} FROM efficiency_code_results"
                          " WHERE period = %s AND config_version = %s ORDER BY unit_id", (period, config_version))
        return list(await cur.fetchall())


async def runs(conn: psycopg.AsyncConnection, *, period: str) -> list[dict[str, Any]]:
    """Every recorded computation of a period, newest first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT run_id, period, config_version, computed_at, computed_by, reason, units, coded"
                          " FROM efficiency_code_runs WHERE period = %s ORDER BY run_id DESC", (period,))
        return list(await cur.fetchall())


async def unit_results(conn: psycopg.AsyncConnection, *, unit_id: str, config_version: str) -> list[dict[str, Any]]:
    """A unit's stored codes of every period under a configuration version, oldest period first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {', '.join(_RESULT_COLUMNS)} FROM efficiency_code_results"
                          " WHERE unit_id = %s AND config_version = %s ORDER BY period", (unit_id, config_version))
        return list(await cur.fetchall())


async def calendar_results(conn: psycopg.AsyncConnection, *, config_version: str) -> list[dict[str, Any]]:
    """Every unit's stored calendar-year codes (unit, period, grade, intensity) under a version: the history the
    watch list reads."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT unit_id, period, grade, intensity, code FROM efficiency_code_results"
                          " WHERE config_version = %s AND period_kind = 'calendar_year' ORDER BY unit_id, period",
                          (config_version,))
        return list(await cur.fetchall())


async def stored_periods(conn: psycopg.AsyncConnection, *, config_version: str) -> list[str]:
    """The periods with stored codes under a version, newest first."""
    cur = await conn.execute("SELECT DISTINCT period FROM efficiency_code_results WHERE config_version = %s"
                             " ORDER BY period DESC", (config_version,))
    return [str(row[0]) for row in await cur.fetchall()]


# --- jobs (migration 112) ---------------------------------------------------------------------------------

_JOB_COLUMNS = ("job_id, periods, only_changed, state, done, total, message, run_ids, requested_by, requested_at,"
                " finished_at")


async def create_job(conn: psycopg.AsyncConnection, *, periods: Sequence[str], only_changed: bool,
                     requested_by: str) -> dict[str, Any]:
    """Queue a computation of `periods`."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"INSERT INTO efficiency_code_jobs (periods, only_changed, total, requested_by)"
                          f" VALUES (%s, %s, %s, %s) RETURNING {_JOB_COLUMNS}",
                          (list(periods), only_changed, len(periods), requested_by))
        row = await cur.fetchone()
    assert row is not None
    return row


async def get_job(conn: psycopg.AsyncConnection, *, job_id: int) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_JOB_COLUMNS} FROM efficiency_code_jobs WHERE job_id = %s", (job_id,))
        return await cur.fetchone()


async def start_job(conn: psycopg.AsyncConnection, *, job_id: int) -> dict[str, Any] | None:
    """Mark a queued job running and return it; None if it is not queued (taken already)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"UPDATE efficiency_code_jobs SET state = 'running' WHERE job_id = %s AND state = 'queued'"
                          f" RETURNING {_JOB_COLUMNS}", (job_id,))
        return await cur.fetchone()


async def job_progress(conn: psycopg.AsyncConnection, *, job_id: int, run_id: int | None, message: str) -> None:
    """One more period done (its run, None when skipped for no change)."""
    await conn.execute("UPDATE efficiency_code_jobs SET done = done + 1, message = %s,"
                       " run_ids = CASE WHEN %s::bigint IS NULL THEN run_ids ELSE run_ids || %s::bigint END"
                       " WHERE job_id = %s", (message, run_id, run_id, job_id))


async def finish_job(conn: psycopg.AsyncConnection, *, job_id: int, state: str, message: str | None) -> None:
    await conn.execute("UPDATE efficiency_code_jobs SET state = %s, message = COALESCE(%s, message),"
                       " finished_at = now() WHERE job_id = %s", (state, message, job_id))


# --- certificates (migration 113) -------------------------------------------------------------------------


async def issue_certificate(conn: psycopg.AsyncConnection, *, fields: dict[str, Any]) -> dict[str, Any]:
    """Record an issued certificate (token, unit, period, version, code, grade, synthetic, issued_by)."""
    names = list(fields)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"INSERT INTO efficiency_code_certificates ({', '.join(names)})"
                          f" VALUES ({', '.join(['%s'] * len(names))}) RETURNING *", [fields[n] for n in names])
        row = await cur.fetchone()
    assert row is not None
    return row


async def certificate(conn: psycopg.AsyncConnection, *, token: str) -> dict[str, Any] | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute("SELECT token, unit_id, unit_name, credit_code, period, config_version, code, grade,"
                          " synthetic, issued_at FROM efficiency_code_certificates WHERE token = %s", (token,))
        return await cur.fetchone()
