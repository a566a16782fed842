"""The data_gap, out_of_range, cems_calibration, spool_overflow and gateway_offline rules: each raised while its
condition holds and cleared when it stops, against a real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, GatewayHealthRecord, Reading
from stream_jobs.alarms import AlarmSettings, evaluate_alarms
from stream_jobs.gateway_health import store_health_record
from stream_jobs.point_ranges import fill_ranges_from_profiles
from stream_jobs.sink import ReadingSink

T0 = datetime(2025, 5, 12, 6, 0, tzinfo=UTC)
Row = tuple[str, datetime, float | None]


class _Plant:
    """One device (optionally with a profile) whose readings go through the real sink."""

    def __init__(self, conn: psycopg.AsyncConnection, device: str) -> None:
        self.conn, self.device = conn, device
        self.sink = ReadingSink(conn, FactorLibrary.default())
        self.seq = 0

    async def send(self, rows: list[Row], quality: str = "good") -> None:
        readings = []
        for point, ts, value in rows:
            readings.append(Reading(seq=self.seq, device=self.device, point=point, value=value, unit="", quality=quality,
                                    reason=None if quality == "good" else "out of range", source_ts=ts, gateway_ts=ts))
            self.seq += 1
        await self.sink.write([DeviceBatch(gateway=f"gw-{self.device}", device=self.device, received_at=T0,
                                           readings=readings)])

    async def active(self, rule: str, device: str | None = None) -> dict[str, str]:
        cur = await self.conn.execute("SELECT point, detail FROM alarms WHERE rule = %s AND device_id = %s"
                                      " AND state = 'active'", (rule, device or self.device))
        return dict(await cur.fetchall())


async def _plant(database_url: str, profile: str | None = None) -> _Plant:
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    device = f"ar-{uuid.uuid4().hex[:6]}"
    await conn.execute("INSERT INTO devices (device_id, profile) VALUES (%s, %s)", (device, profile))
    return _Plant(conn, device)


def _every(point: str, start: datetime, step_s: int, count: int, value: float = 1.0) -> list[Row]:
    return [(point, start + timedelta(seconds=step_s * i), value + i % 3) for i in range(count)]


async def test_point_that_stops_while_its_device_reports_raises_data_gap_until_it_resumes(database_url: str) -> None:
    plant = await _plant(database_url)
    await plant.send(_every("kw", T0, 10, 72) + _every("volts", T0, 10, 60))  # volts stops after 10 minutes
    now = T0 + timedelta(seconds=715)
    await evaluate_alarms(plant.conn, now)
    raised = await plant.active("data_gap")
    await plant.send(_every("kw", T0 + timedelta(seconds=720), 10, 3) + _every("volts", T0 + timedelta(seconds=720), 10, 3))
    await evaluate_alarms(plant.conn, now + timedelta(seconds=30))
    cleared = await plant.active("data_gap")
    await plant.conn.close()
    assert list(raised) == ["volts"]
    assert "no valid reading since 2025-05-12T06:09:50+00" in raised["volts"] and "one every 10.0 s" in raised["volts"]
    assert cleared == {}


async def test_gap_shorter_than_the_threshold_or_a_silent_device_is_no_data_gap(database_url: str) -> None:
    plant = await _plant(database_url)
    await plant.send(_every("kw", T0, 10, 66) + _every("volts", T0, 10, 60))  # volts 60 s behind: not yet 5 x 10 s
    await evaluate_alarms(plant.conn, T0 + timedelta(seconds=655))
    short = await plant.active("data_gap")
    await evaluate_alarms(plant.conn, T0 + timedelta(minutes=30))  # everything silent: device_offline's business
    silent = await plant.active("data_gap")
    await plant.conn.close()
    assert (short, silent) == ({}, {})


async def test_data_gap_threshold_follows_the_settings(database_url: str) -> None:
    plant = await _plant(database_url)
    await plant.send(_every("kw", T0, 10, 66) + _every("volts", T0, 10, 60))
    await evaluate_alarms(plant.conn, T0 + timedelta(seconds=655),
                          AlarmSettings(gap_intervals=2, gap_min=timedelta(seconds=20)))
    raised = await plant.active("data_gap")
    await plant.conn.close()
    assert list(raised) == ["volts"]


async def test_reading_outside_the_profile_range_raises_out_of_range_until_back_inside(database_url: str) -> None:
    plant = await _plant(database_url, profile="cf-demo/cems-stack")
    await plant.send([("co2_pct", T0, 8.4), ("moisture_pct", T0, 11.0)])
    await plant.send([("co2_pct", T0 + timedelta(seconds=10), 31.5)], quality="bad")  # the edge flags it bad too
    filled = await fill_ranges_from_profiles(plant.conn)
    cur = await plant.conn.execute("SELECT point, range_low, range_high, range_source FROM points"
                                   " WHERE device_id = %s ORDER BY point", (plant.device,))
    ranges = await cur.fetchall()
    await evaluate_alarms(plant.conn, T0 + timedelta(seconds=15))
    raised = await plant.active("out_of_range")
    await plant.send([("co2_pct", T0 + timedelta(seconds=20), 9.0)])
    await evaluate_alarms(plant.conn, T0 + timedelta(seconds=25))
    cleared = await plant.active("out_of_range")
    await plant.conn.close()
    assert filled >= 2 and ranges == [("co2_pct", 0.0, 25.0, "profile"), ("moisture_pct", 0.0, 40.0, "profile")]
    assert raised == {"co2_pct": "value 31.5 above the high limit 25 at 2025-05-12T06:00:10+00"}
    assert cleared == {}


async def test_range_set_by_hand_is_kept_and_checked(database_url: str) -> None:
    plant = await _plant(database_url, profile="cf-demo/cems-stack")
    await plant.send([("o2_pct", T0, 9.0)])
    await plant.conn.execute("UPDATE points SET range_low = 10, range_high = 15, range_source = 'manual'"
                             " WHERE device_id = %s AND point = 'o2_pct'", (plant.device,))
    await fill_ranges_from_profiles(plant.conn)
    cur = await plant.conn.execute("SELECT range_low, range_high FROM points WHERE device_id = %s", (plant.device,))
    kept = await cur.fetchone()
    await evaluate_alarms(plant.conn, T0 + timedelta(seconds=5))
    raised = await plant.active("out_of_range")
    await plant.conn.close()
    assert kept == (10.0, 15.0)
    assert raised == {"o2_pct": "value 9 below the low limit 10 at 2025-05-12T06:00:00+00"}


async def test_cems_analyser_calibrating_raises_until_back_to_normal(database_url: str) -> None:
    plant = await _plant(database_url, profile="cf-demo/cems-stack")
    base = [("co2_pct", T0, 8.4), ("flue_flow_m3h", T0, 182000.0)]
    await plant.send(base + [("calibrating", T0, 1.0), ("analyser_status", T0, 1.0), ("maintenance", T0, 0.0)])
    await evaluate_alarms(plant.conn, T0 + timedelta(seconds=10))
    calibrating = await plant.active("cems_calibration")
    later = T0 + timedelta(minutes=1)
    await plant.send([("calibrating", later, 0.0), ("analyser_status", later, 0.0)])
    await evaluate_alarms(plant.conn, later + timedelta(seconds=10))
    normal = await plant.active("cems_calibration")
    await plant.conn.close()
    assert calibrating == {"": "CEMS analyser calibrating (reported at 2025-05-12T06:00:00+00); its hours are substituted"}
    assert normal == {}


async def test_status_points_of_a_device_that_is_no_cems_raise_nothing(database_url: str) -> None:
    plant = await _plant(database_url)
    await plant.send([("maintenance", T0, 1.0), ("kw", T0, 5.0)])
    await evaluate_alarms(plant.conn, T0 + timedelta(seconds=10))
    raised = await plant.active("cems_calibration")
    await plant.conn.close()
    assert raised == {}


def _record(gateway: str, received: datetime, **body: object) -> GatewayHealthRecord:
    return GatewayHealthRecord.model_validate({"gateway": gateway, "received_at": received, **body})


async def test_reported_spool_drops_raise_spool_overflow_for_the_window(database_url: str) -> None:
    gw = f"gw-ar-{uuid.uuid4().hex[:6]}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        plant = _Plant(conn, gw)
        await store_health_record(conn, _record(gw, T0, event={
            "event": "spool_overflow", "gateway": gw, "dropped": 1200, "dropped_total": 1200, "at": T0}))
        await evaluate_alarms(conn, T0 + timedelta(minutes=10))
        raised = await plant.active("spool_overflow")
        await evaluate_alarms(conn, T0 + timedelta(minutes=61))
        cleared = await plant.active("spool_overflow")
    assert raised == {"": "1200 readings dropped by the gateway spool since 2025-05-12T06:00:00+00"
                          " (1200 over its lifetime)"}
    assert cleared == {}


async def test_gateway_offline_raises_after_the_grace_and_clears_when_it_reports_again(database_url: str) -> None:
    gw = f"gw-ar-{uuid.uuid4().hex[:6]}"
    online = {"state": "online", "at": T0, "interval_s": 30, "spool": {"depth": 0, "bytes": 0,
                                                                          "oldest_unsent_age_s": None}}
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        plant = _Plant(conn, gw)
        await store_health_record(conn, _record(gw, T0, status=online))
        await store_health_record(conn, _record(gw, T0 + timedelta(seconds=5), status={"state": "offline"}))
        await evaluate_alarms(conn, T0 + timedelta(seconds=30))
        within_grace = await plant.active("gateway_offline")
        await evaluate_alarms(conn, T0 + timedelta(minutes=2))
        offline = await plant.active("gateway_offline")
        back = T0 + timedelta(minutes=3)
        await store_health_record(conn, _record(gw, back, status={**online, "at": back}))
        await evaluate_alarms(conn, back + timedelta(seconds=1))
        cleared = await plant.active("gateway_offline")
        await evaluate_alarms(conn, back + timedelta(seconds=100))  # three 30 s reports missed, no last will
        silent = await plant.active("gateway_offline")
    assert within_grace == {} and cleared == {}
    assert offline == {"": "gateway offline since 2025-05-12T06:00:05+00"}
    assert silent == {"": "no status report since 2025-05-12T06:03:00+00 (one expected every 30 s)"}


def test_alarm_settings_refuse_counts_below_one() -> None:
    with pytest.raises(ValueError, match="gap_intervals \\(0\\)"):
        AlarmSettings(gap_intervals=0)


def _flat(point: str, start: datetime, step_s: int, count: int, value: float) -> list[Row]:
    return [(point, start + timedelta(seconds=step_s * i), value) for i in range(count)]


async def test_stuck_value_waits_for_the_whole_ten_minutes_of_a_flat_gauge(database_url: str) -> None:
    plant = await _plant(database_url)
    await plant.send(_flat("kw", T0, 10, 60, 42.0))  # flat from 06:00:00 to 06:09:50
    await evaluate_alarms(plant.conn, T0 + timedelta(seconds=595))
    early = await plant.active("stuck_value")
    await plant.send(_flat("kw", T0 + timedelta(minutes=10), 10, 1, 42.0))
    await evaluate_alarms(plant.conn, T0 + timedelta(minutes=10))
    on_time = await plant.active("stuck_value")
    await plant.conn.close()
    assert early == {}
    assert on_time == {"kw": "value 42 unchanged since 06:00"}


async def test_stuck_value_skips_status_points_and_shows_values_at_the_points_precision(database_url: str) -> None:
    plant = await _plant(database_url, profile="cf-demo/plc-line")  # line_running: bool; tap temperature: int16 x 0.1
    await plant.send(_flat("line_running", T0, 30, 31, 1.0) + _flat("tap_temperature_degc", T0, 30, 31, 1635.4999999999998)
                     + _flat("speed", T0, 30, 31, 0.949999988079071))  # speed: not in the profile, sent as float32
    await evaluate_alarms(plant.conn, T0 + timedelta(minutes=15))
    stuck = await plant.active("stuck_value")
    await plant.conn.close()
    assert stuck == {"tap_temperature_degc": "value 1635.5 unchanged since 06:05",
                     "speed": "value 0.95 unchanged since 06:05"}


async def test_stuck_value_needs_every_minute_and_stays_raised_at_each_minutes_turn(database_url: str) -> None:
    plant = await _plant(database_url)
    start = T0 + timedelta(seconds=5)  # readings at :05, :15, ... as a poller started mid-minute sends them
    gap = T0 + timedelta(minutes=3)
    await plant.send([row for row in _flat("kw", start, 10, 78, 7.0) if not gap <= row[1] < gap + timedelta(minutes=1)])
    await evaluate_alarms(plant.conn, T0 + timedelta(minutes=13, seconds=30))  # 06:03 had no reading
    after_gap = await plant.active("stuck_value")
    await plant.send(_flat("kw", T0 + timedelta(minutes=13, seconds=5), 10, 12, 7.0))  # to 06:14:55
    raised = []
    for now in (T0 + timedelta(minutes=14, seconds=8),  # 10 min after 06:04:05, 06:04's first reading
                T0 + timedelta(minutes=15, seconds=2),  # 06:05:02: the window's first reading is at 06:05:05
                T0 + timedelta(minutes=15, seconds=30)):  # no reading of 06:15 has arrived yet
        await evaluate_alarms(plant.conn, now)
        raised.append(await plant.active("stuck_value"))
    await plant.conn.close()
    assert after_gap == {}
    assert raised == [{"kw": "value 7 unchanged since 06:04"}] * 3
