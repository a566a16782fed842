"""Alarm thresholds from CARBONFLOW_ALARM_* variables: parsed and range-checked at the edge, refused with a message
naming the variable, and what the rules raise follows them (against a real PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbonflow.cli import main as cli_main
from stream_jobs.alarms import (
    ALARM_ENV,
    AlarmSettings,
    alarm_settings_from_env,
    evaluate_alarms,
)

T0 = datetime(2025, 5, 12, 6, 0, tzinfo=UTC)

GOOD = [
    ({}, AlarmSettings()),
    ({"CARBONFLOW_ALARM_OFFLINE_AFTER_S": ""}, AlarmSettings()),  # empty counts as unset
    ({"CARBONFLOW_ALARM_OFFLINE_AFTER_S": "120"}, AlarmSettings(offline_after=timedelta(seconds=120))),
    ({"CARBONFLOW_ALARM_STUCK_AFTER_S": " 1800 "}, AlarmSettings(stuck_after=timedelta(minutes=30))),
    ({"CARBONFLOW_ALARM_RESET_WINDOW_S": "7200"}, AlarmSettings(reset_window=timedelta(hours=2))),
    ({"CARBONFLOW_ALARM_GAP_INTERVALS": "10", "CARBONFLOW_ALARM_GAP_MIN_S": "30"},
     AlarmSettings(gap_intervals=10, gap_min=timedelta(seconds=30))),
    ({"CARBONFLOW_ALARM_GAP_LOOKBACK_S": "3600"}, AlarmSettings(gap_lookback=timedelta(hours=1))),
    ({"CARBONFLOW_ALARM_RANGE_WINDOW_S": "600"}, AlarmSettings(range_window=timedelta(minutes=10))),
    ({"CARBONFLOW_ALARM_CEMS_STATUS_WINDOW_S": "900"}, AlarmSettings(cems_status_window=timedelta(minutes=15))),
    ({"CARBONFLOW_ALARM_OVERFLOW_WINDOW_S": "21600"}, AlarmSettings(overflow_window=timedelta(hours=6))),
    ({"CARBONFLOW_ALARM_GATEWAY_OFFLINE_AFTER_S": "86400"},
     AlarmSettings(gateway_offline_after=timedelta(days=1))),
    ({"CARBONFLOW_ALARM_GATEWAY_MISSED_REPORTS": "1"}, AlarmSettings(gateway_missed_reports=1)),
    ({"CARBONFLOW_OTHER": "x", "PATH": "/bin"}, AlarmSettings()),  # other variables are none of its business
]

BAD = [
    ({"CARBONFLOW_ALARM_OFFLINE_AFTER_S": "0"},
     "CARBONFLOW_ALARM_OFFLINE_AFTER_S must be a whole number of seconds from 1 to 86400, got '0'"),
    ({"CARBONFLOW_ALARM_OFFLINE_AFTER_S": "1m"},
     "CARBONFLOW_ALARM_OFFLINE_AFTER_S must be a whole number of seconds from 1 to 86400, got '1m'"),
    ({"CARBONFLOW_ALARM_OFFLINE_AFTER_S": "1.5"},
     "CARBONFLOW_ALARM_OFFLINE_AFTER_S must be a whole number of seconds from 1 to 86400, got '1.5'"),
    ({"CARBONFLOW_ALARM_STUCK_AFTER_S": "60"},
     "CARBONFLOW_ALARM_STUCK_AFTER_S must be a whole number of seconds from 180 to 604800, got '60'"),
    ({"CARBONFLOW_ALARM_GAP_LOOKBACK_S": "-3600"},
     "CARBONFLOW_ALARM_GAP_LOOKBACK_S must be a whole number of seconds from 3600 to 2592000, got '-3600'"),
    ({"CARBONFLOW_ALARM_GAP_INTERVALS": "0"},
     "CARBONFLOW_ALARM_GAP_INTERVALS must be a whole number from 1 to 1000, got '0'"),
    ({"CARBONFLOW_ALARM_GATEWAY_MISSED_REPORTS": "nan"},
     "CARBONFLOW_ALARM_GATEWAY_MISSED_REPORTS must be a whole number from 1 to 1000, got 'nan'"),
    ({"CARBONFLOW_ALARM_OFLINE_AFTER_S": "30"},
     "unknown alarm setting CARBONFLOW_ALARM_OFLINE_AFTER_S; known: CARBONFLOW_ALARM_OFFLINE_AFTER_S, "),
]


@pytest.mark.parametrize(("env", "expected"), GOOD, ids=[",".join(e) or "missing" for e, _ in GOOD])
def test_alarm_settings_read_from_the_environment(env: dict[str, str], expected: AlarmSettings) -> None:
    assert alarm_settings_from_env(env) == expected


@pytest.mark.parametrize(("env", "message"), BAD, ids=[f"{k}={v}" for e, _ in BAD for k, v in e.items()])
def test_bad_alarm_setting_is_refused_naming_the_variable_and_range(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        alarm_settings_from_env(env)
    assert str(caught.value).startswith(message)


def test_every_alarm_setting_has_one_variable() -> None:
    assert sorted(field for field, _, _ in ALARM_ENV.values()) == sorted(AlarmSettings.__dataclass_fields__)


def test_stream_worker_refuses_to_start_with_a_bad_threshold(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CARBONFLOW_ALARM_RANGE_WINDOW_S", "forever")
    assert cli_main(["stream"]) == 2
    assert capsys.readouterr().err == ("carbonflow stream: CARBONFLOW_ALARM_RANGE_WINDOW_S must be a whole number "
                                       "of seconds from 1 to 86400, got 'forever'\n")


async def _offline(conn: psycopg.AsyncConnection, device: str) -> list[str]:
    cur = await conn.execute("SELECT detail FROM alarms WHERE rule = 'device_offline' AND device_id = %s"
                             " AND state = 'active'", (device,))
    return [row[0] for row in await cur.fetchall()]


async def test_offline_threshold_from_the_environment_changes_what_is_raised(database_url: str) -> None:
    device = f"as-{uuid.uuid4().hex[:6]}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("INSERT INTO devices (device_id, last_seen) VALUES (%s, %s)", (device, T0))
        now = T0 + timedelta(seconds=90)  # silent 90 s: over the default 60 s, under 120 s
        await evaluate_alarms(conn, now, alarm_settings_from_env({"CARBONFLOW_ALARM_OFFLINE_AFTER_S": "120"}))
        patient = await _offline(conn, device)
        await evaluate_alarms(conn, now, alarm_settings_from_env({}))
        default = await _offline(conn, device)
    assert (patient, default) == ([], ["no reading since 2025-05-12T06:00:00+00"])
