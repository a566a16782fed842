"""The monitoring service's scheduled jobs (api/monitoring/schedule.py) through `carbonflow monitoring schedule
--once`: tCO2/tce recomputed when the factor library changed and only then, the metered units' monthly figures of
the last complete months when that job is due, and a failing job's error and alarm until a round succeeds."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict

from api.monitoring import schedule
from carbon_domain.errors import DomainError
from carbonflow.cli import main
from tests.api.test_monitoring import _metered_enterprise, credit_code, csv_file, upload


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """DATABASE_URL of the session's database for the CLI."""
    dsn = conninfo_to_dict(database_url)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{dsn['user']}@{dsn['host']}:{dsn['port']}/{dsn['dbname']}")


def _schedule_once(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["monitoring", "schedule", "--once", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_schedule_once_recomputes_after_a_factor_change_and_not_while_the_library_stays_the_same(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection, cli_database: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    code = credit_code("330502")
    upload(api_app_client, admin_headers, csv_file(f"{code},Scheduled Heat Co,330502,222,2013-05,heat,100,GJ"))
    settled = _schedule_once(capsys, "--meter-every", "86400")  # whatever the library was, it is recomputed now
    unchanged = _schedule_once(capsys, "--meter-every", "86400")
    factor = {"factor_id": "heat.default@heat-default-2013", "key": "heat.default", "value": 0.3,
              "unit": "tCO2/GJ", "scope": "national", "scope_id": "cn", "valid_from": "2013-01-01",
              "valid_to": "2013-12-31", "series": "heat-default", "source": "a test's corrected heat factor for 2013"}
    assert api_app_client.post("/api/v1/factors", headers=admin_headers, json=factor).status_code == 201
    changed = _schedule_once(capsys, "--meter-every", "86400")
    tco2, source = db.execute("SELECT f.tco2, f.source FROM monitoring_figures f JOIN monitoring_units u"
                              " USING (unit_id) WHERE u.credit_code = %s", (code,)).fetchone()  # type: ignore[misc]
    audited = db.execute("SELECT count(*) FROM audit_log WHERE action = 'monitoring.figures.recompute'"
                         " AND actor = %s", (schedule.BY,)).fetchone()[0]  # type: ignore[index]
    assert (settled[0], "recomputed:" in settled[1]) == (0, True)
    assert (unchanged[0], "the factor library is unchanged" in unchanged[1]) == (0, True)
    assert (changed[0], "recomputed:" in changed[1], changed[2]) == (0, True, "")
    assert (tco2, source, audited >= 2) == (pytest.approx(30.0), "file", True)


def _months_back_to(month: date) -> int:
    """How many complete months, counted back from the last one, reach `month`."""
    today = datetime.now(UTC).date()
    return (today.year * 12 + today.month - 1) - (month.year * 12 + month.month - 1)


def test_schedule_once_meters_the_last_complete_months_when_due_and_waits_for_the_next_time(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection, database_url: str,
        cli_database: None, capsys: pytest.CaptureFixture[str]) -> None:
    enterprise, site = asyncio.run(_metered_enterprise(database_url, [1000.0, 2500.0, 4000.0]))  # 3 MWh
    code = credit_code()
    upload(api_app_client, admin_headers, csv_file(f"{code},Scheduled Meter Co,330502,313,2026-02,coal,3,t"))
    db.execute("UPDATE monitoring_units SET enterprise_id = %s, site_id = %s WHERE credit_code = %s",
               (enterprise, site, code))
    months = str(_months_back_to(date(2026, 3, 1)))
    due = _schedule_once(capsys, "--months", months, "--meter-every", "0.001")  # the last run is long enough ago
    not_due = _schedule_once(capsys, "--months", months)  # daily: it ran a moment ago
    figures = db.execute("SELECT to_char(f.month, 'YYYY-MM'), f.item, f.quantity, f.source FROM monitoring_figures f"
                         " JOIN monitoring_units u USING (unit_id) WHERE u.credit_code = %s ORDER BY 1",
                         (code,)).fetchall()
    assert (due[0], "metered months" in due[1], not_due[0], "meter-months: not due" in not_due[1]) == (
        0, True, 0, True)
    assert figures == [("2026-02", "coal", 3.0, "file"), ("2026-03", "electricity", 3.0, "metered")]


def test_a_failing_scheduled_job_is_recorded_and_alarmed_until_a_round_succeeds(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection, cli_database: None,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    db.execute("UPDATE monitoring_jobs SET library = 'a library before this test'")
    original = schedule.recompute

    async def no_factor(*args: object, **kwargs: object) -> object:
        raise DomainError("no factor for heat in 1990-01")

    monkeypatch.setattr(schedule, "recompute", no_factor)
    failed = _schedule_once(capsys, "--meter-every", "86400")
    recorded = db.execute("SELECT last_error FROM monitoring_jobs WHERE job = 'recompute'").fetchone()
    alarmed = db.execute("SELECT count(*) FROM alarms WHERE rule = 'monitoring_job_failed' AND state = 'active'"
                         " AND device_id = 'monitoring_job:recompute'").fetchone()
    monkeypatch.setattr(schedule, "recompute", original)
    recovered = _schedule_once(capsys, "--meter-every", "86400")
    cleared = db.execute("SELECT last_error, (SELECT count(*) FROM alarms WHERE rule = 'monitoring_job_failed'"
                         " AND state = 'active') FROM monitoring_jobs WHERE job = 'recompute'").fetchone()
    assert (failed[0], "no factor for heat in 1990-01" in failed[2]) == (1, True)
    assert (recorded is not None and "no factor for heat" in recorded[0], alarmed) == (True, (1,))
    assert (recovered[0], "recomputed:" in recovered[1], cleared) == (0, True, (None, 0))


@pytest.mark.parametrize(("today", "count", "window"), [
    (date(2026, 12, 7), 3, (date(2026, 9, 1), date(2026, 11, 1))),
    (date(2026, 1, 31), 3, (date(2025, 10, 1), date(2025, 12, 1))),
    (date(2026, 2, 1), 1, (date(2026, 1, 1), date(2026, 1, 1))),
    (date(2026, 3, 15), 14, (date(2025, 1, 1), date(2026, 2, 1))),
])
def test_the_metered_window_is_the_last_complete_months_across_years(today: date, count: int,
                                                                     window: tuple[date, date]) -> None:
    from api.monitoring.metering import last_months

    assert last_months(today, count) == window
