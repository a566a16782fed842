"""The monitoring service's scheduled jobs (`carbonflow monitoring schedule`; the demo runs it), beside the
intermediate-database sync (`carbonflow monitoring sync`, api/monitoring/sync.py):

* **recompute**: when the factor library has changed since the last successful recomputation (its fingerprint, an
  md5 over every factor row, differs from the one kept in monitoring_jobs), the stored tCO2/tce are recomputed
  (api/monitoring/recompute.py) and the run is audited. An unchanged library costs one small query.
* **meter-months**: when the last successful metered run is older than `meter_every_s`, the monthly figures of
  metered units are made for the last `months` complete months (api/monitoring/metering.py; late readings give a
  new revision, unchanged sums none) and the run is audited.

A job that fails (e.g. a month without a factor) records its error on its monitoring_jobs row and raises the
platform alarm `monitoring_job_failed` about ``monitoring_job:<job>``; the next successful run clears both, and a
failed job is tried again at the next round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from api.alarms import clear_platform_alarm, raise_platform_alarm
from api.audit import auditlog
from api.monitoring.metering import MeteringRun, last_months, meter_months
from api.monitoring.recompute import Recomputation, recompute
from api.rounds import repeat_rounds
from carbon_domain.errors import DomainError

__all__ = ["ALARM_RULE", "BY", "Round", "library_fingerprint", "run_round", "run_schedule"]

_log = logging.getLogger(__name__)
ALARM_RULE = "monitoring_job_failed"
BY = "carbonflow monitoring schedule"
_JOB_ERRORS = (DomainError, psycopg.errors.DataError, psycopg.errors.IntegrityError)


@dataclass
class Round:
    """What one round of the scheduler did: a job left out was not due."""

    recomputed: Recomputation | None = None
    metered: MeteringRun | None = None
    months: tuple[date, date] | None = None
    errors: list[str] = field(default_factory=list)


async def library_fingerprint(conn: psycopg.AsyncConnection) -> str:
    """An md5 over every row of the factor library: a new, changed or removed factor changes it."""
    cur = await conn.execute("SELECT md5(COALESCE(string_agg(f::text, E'\\n' ORDER BY factor_id), '')) FROM factors f")
    row = await cur.fetchone()
    assert row is not None
    return str(row[0])


async def _job(conn: psycopg.AsyncConnection, job: str) -> dict[str, Any]:
    cur = await conn.execute("SELECT last_ok_at, library FROM monitoring_jobs WHERE job = %s", (job,))
    row = await cur.fetchone()
    return {"last_ok_at": row[0], "library": row[1]} if row else {"last_ok_at": None, "library": None}


async def _succeeded(conn: psycopg.AsyncConnection, job: str, library: str | None = None) -> None:
    await conn.execute(
        "INSERT INTO monitoring_jobs (job, last_run_at, last_ok_at, last_error, library) VALUES (%s, now(), now(),"
        " NULL, %s) ON CONFLICT (job) DO UPDATE SET last_run_at = now(), last_ok_at = now(), last_error = NULL,"
        " library = COALESCE(EXCLUDED.library, monitoring_jobs.library)", (job, library))
    await clear_platform_alarm(conn, rule=ALARM_RULE, subject=f"monitoring_job:{job}")


async def _failed(conn: psycopg.AsyncConnection, job: str, message: str) -> None:
    await conn.execute(
        "INSERT INTO monitoring_jobs (job, last_run_at, last_error) VALUES (%s, now(), %s)"
        " ON CONFLICT (job) DO UPDATE SET last_run_at = now(), last_error = EXCLUDED.last_error", (job, message))
    await raise_platform_alarm(conn, rule=ALARM_RULE, subject=f"monitoring_job:{job}", detail=message)


async def run_round(conn: psycopg.AsyncConnection, *, today: date, months: int = 3,
                    meter_every_s: float = 86400.0) -> Round:
    """Run the jobs that are due now (see the module's docstring); `today` fixes which months are complete."""
    done = Round()
    library = await library_fingerprint(conn)
    if (await _job(conn, "recompute"))["library"] != library:
        try:
            done.recomputed = await recompute(conn, reason="factor library changed (scheduled)", by=BY)
        except _JOB_ERRORS as exc:
            message = f"monitoring recompute: {exc}; correct the factor library, the job runs again next round"
            done.errors.append(message)
            await _failed(conn, "recompute", message)
        else:
            await auditlog.record(conn, action="monitoring.figures.recompute", client_ip=None, actor=BY,
                                  actor_kind="system", target=f"monitoring_batch:{done.recomputed.batch_id}",
                                  detail={**done.recomputed.as_dict(), "reason": "factor library changed"})
            await _succeeded(conn, "recompute", library)
    last_ok = (await _job(conn, "meter_months"))["last_ok_at"]
    if last_ok is None or last_ok <= datetime.now(UTC) - timedelta(seconds=meter_every_s):
        first, last = last_months(today, months)
        done.months = (first, last)
        try:
            done.metered = await meter_months(conn, first=first, last=last, by=BY)
        except _JOB_ERRORS as exc:
            message = f"monitoring meter-months {first:%Y-%m}..{last:%Y-%m}: {exc}; the job runs again next round"
            done.errors.append(message)
            await _failed(conn, "meter_months", message)
        else:
            await auditlog.record(conn, action="monitoring.figures.metered", client_ip=None, actor=BY,
                                  actor_kind="system", target=f"monitoring_batch:{done.metered.batch_id}",
                                  detail={**done.metered.as_dict(), "from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}"})
            await _succeeded(conn, "meter_months")
    return done


async def run_schedule(url: str, *, once: bool, poll_s: float = 600.0, months: int = 3,
                       meter_every_s: float = 86400.0) -> Round | None:
    """`carbonflow monitoring schedule`: a round now and, unless `once`, again every `poll_s` seconds; returns the
    round when `once`. A round that cannot reach the database is logged and tried again (with `once` it raises)."""
    async def one_round() -> Round:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            return await run_round(conn, today=datetime.now(UTC).date(), months=months, meter_every_s=meter_every_s)

    def report(done: Round) -> None:
        if done.recomputed is not None:
            _log.info("monitoring recompute: %d figure(s) changed over %d month(s), batch %d",
                      done.recomputed.changed, done.recomputed.months, done.recomputed.batch_id)
        if done.metered is not None and done.months is not None:
            _log.info("monitoring meter-months %s..%s: %d unit(s), %d stored", f"{done.months[0]:%Y-%m}",
                      f"{done.months[1]:%Y-%m}", done.metered.units, done.metered.stored)
        for error in done.errors:
            _log.warning("%s", error)

    return await repeat_rounds("monitoring schedule", one_round, once=once, poll_s=poll_s, report=report)
