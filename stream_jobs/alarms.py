"""Alarm rules evaluated against stored data, raising and clearing alarms idempotently.

Each rule is one SQL query returning the (device, point, detail) that are in
alarm now; alarms no longer returned are cleared. Rules:
- device_offline: no reading from a device for `offline_after`;
- bad_data: the newest minute of a point holds readings of bad quality (timeouts, exception codes, out of range);
- stuck_value: a gauge that has not changed over the whole of `stuck_after` with readings every minute (status
  points, bool or enumerated in the device's profile, are states and are skipped);
- counter_reset: a counter went backwards (reset, meter replacement or rollover) in the last hour;
- data_gap: a point stopped giving valid readings for `gap_intervals` of its usual intervals (at least
  `gap_min`) while its device still reports other points;
- out_of_range: a point's newest reading lies outside its configured range (points.range_low/range_high);
- implausible_reading: counter readings stored as bad because they are negative or rose faster than the
  point's limit (implausible_readings, stream_jobs/plausibility.py), not accepted, within `implausible_window`;
- cems_calibration: a CEMS analyser reports calibrating, maintenance or fault;
- spool_overflow: a gateway reported readings dropped by its spool within `overflow_window`;
- gateway_offline: a gateway's status is `offline`, or it missed `gateway_missed_reports` status reports.

Gateway rules (spool_overflow, gateway_offline) put the gateway id in the alarm's device_id, point ''.
The stream worker reads the thresholds from CARBONFLOW_ALARM_* variables (`alarm_settings_from_env`).
See docs/alarms.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import psycopg

from device_profiles.point_rules import point_decimals, point_is_status
from stream_jobs.cems import STATUS_POINTS

__all__ = ["ALARM_ENV", "RULES", "AlarmSettings", "alarm_settings_from_env", "evaluate_alarms"]


@dataclass(frozen=True)
class AlarmSettings:
    offline_after: timedelta = timedelta(seconds=60)
    stuck_after: timedelta = timedelta(minutes=10)
    reset_window: timedelta = timedelta(hours=1)
    gap_intervals: int = 5  # data_gap: missed intervals, each the point's mean spacing over gap_lookback
    gap_min: timedelta = timedelta(seconds=60)  # data_gap: never shorter than this
    gap_lookback: timedelta = timedelta(hours=24)  # data_gap: only points with valid readings in this window
    range_window: timedelta = timedelta(minutes=5)  # out_of_range: the newest reading must be this recent
    cems_status_window: timedelta = timedelta(minutes=5)  # cems_calibration: newest status reading this recent
    overflow_window: timedelta = timedelta(hours=1)  # spool_overflow: raised this long after the last drop report
    gateway_offline_after: timedelta = timedelta(seconds=60)  # gateway_offline: offline (or silent) this long
    gateway_missed_reports: int = 3  # gateway_offline: status reports missed before a silent gateway counts
    implausible_window: timedelta = timedelta(hours=24)  # implausible_reading: readings this recent

    def __post_init__(self) -> None:
        if self.gap_intervals < 1 or self.gateway_missed_reports < 1:
            raise ValueError(f"gap_intervals ({self.gap_intervals}) and gateway_missed_reports "
                             f"({self.gateway_missed_reports}) must be at least 1")


_MINUTE, _HOUR, _DAY = 60, 3600, 86_400
# environment variable -> (AlarmSettings field, accepted range); durations in whole seconds, counts as numbers.
# The bounds keep a typo from silencing or flooding a rule: stuck_value needs at least 3 minutes of rollups,
# data_gap's usual interval comes from hourly rollups, so its lookback is at least an hour.
ALARM_ENV: dict[str, tuple[str, int, int]] = {
    "CARBONFLOW_ALARM_OFFLINE_AFTER_S": ("offline_after", 1, _DAY),
    "CARBONFLOW_ALARM_STUCK_AFTER_S": ("stuck_after", 3 * _MINUTE, 7 * _DAY),
    "CARBONFLOW_ALARM_RESET_WINDOW_S": ("reset_window", _MINUTE, 7 * _DAY),
    "CARBONFLOW_ALARM_GAP_INTERVALS": ("gap_intervals", 1, 1000),
    "CARBONFLOW_ALARM_GAP_MIN_S": ("gap_min", 1, _DAY),
    "CARBONFLOW_ALARM_GAP_LOOKBACK_S": ("gap_lookback", _HOUR, 30 * _DAY),
    "CARBONFLOW_ALARM_RANGE_WINDOW_S": ("range_window", 1, _DAY),
    "CARBONFLOW_ALARM_CEMS_STATUS_WINDOW_S": ("cems_status_window", 1, _DAY),
    "CARBONFLOW_ALARM_OVERFLOW_WINDOW_S": ("overflow_window", _MINUTE, 30 * _DAY),
    "CARBONFLOW_ALARM_GATEWAY_OFFLINE_AFTER_S": ("gateway_offline_after", 1, _DAY),
    "CARBONFLOW_ALARM_GATEWAY_MISSED_REPORTS": ("gateway_missed_reports", 1, 1000),
    "CARBONFLOW_ALARM_IMPLAUSIBLE_WINDOW_S": ("implausible_window", _MINUTE, 30 * _DAY),
}
_ENV_PREFIX = "CARBONFLOW_ALARM_"
_DEFAULTS = AlarmSettings()


def alarm_settings_from_env(env: Mapping[str, str] | None = None) -> AlarmSettings:
    """AlarmSettings from the CARBONFLOW_ALARM_* variables (unset or empty: the default); ValueError naming the
    variable and its accepted range for a bad value, and for an unknown CARBONFLOW_ALARM_* name (a typo would
    otherwise leave the default threshold running unnoticed)."""
    env = os.environ if env is None else env
    unknown = sorted(name for name in env if name.startswith(_ENV_PREFIX) and name not in ALARM_ENV)
    if unknown:
        raise ValueError(f"unknown alarm setting {', '.join(unknown)}; known: {', '.join(ALARM_ENV)}")
    values: dict[str, int | timedelta] = {}
    for name, (field, low, high) in ALARM_ENV.items():
        raw = env.get(name, "").strip()
        if not raw:
            continue
        duration = isinstance(getattr(_DEFAULTS, field), timedelta)
        try:
            number = int(raw)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            what = "a whole number of seconds" if duration else "a whole number"
            raise ValueError(f"{name} must be {what} from {low} to {high}, got {raw!r}")
        values[field] = timedelta(seconds=number) if duration else number
    return AlarmSettings(**values)  # type: ignore[arg-type]


# A value in an alarm text, at the precision the point was sent with: rounded to its profile's decimals (scaled
# integers); otherwise a value that is exactly a float32 (as most float registers are) is shown as the shortest
# decimal of that float32, so 0.949999988079071 reads 0.95. `prec` is the point's row of %(decimals)s.
_SHOWN = """CASE WHEN prec.decimals IS NOT NULL THEN round({v}::numeric, prec.decimals)::text
             WHEN {v}::real::double precision = {v} THEN {v}::real::text::numeric::text
             ELSE {v}::text END"""
_PRECISION = "LEFT JOIN unnest(%(decimal_keys)s::int[], %(decimals)s::int[]) AS prec(point_key, decimals) USING (point_key)"

RULES: dict[str, tuple[str, str]] = {
    "device_offline": ("critical", """
        SELECT device_id, '' AS point, 'no reading since ' || to_char(last_seen, 'YYYY-MM-DD"T"HH24:MI:SSOF')
        FROM devices WHERE last_seen IS NOT NULL AND last_seen < %(now)s - %(offline_after)s"""),
    "bad_data": ("warning", """
        SELECT p.device_id, p.point, 'bad readings in the minute from ' || to_char(r.bucket, 'HH24:MI')
        FROM (SELECT DISTINCT ON (point_key) point_key, bucket, worst_quality FROM rollup_1m
              WHERE bucket > %(now)s - interval '5 minutes' ORDER BY point_key, bucket DESC) r
        JOIN points p USING (point_key) WHERE r.worst_quality = 2"""),
    # Flat for the whole of stuck_after: every whole minute from the one holding now - stuck_after has a valid
    # reading, all of them (and the current minute's, when there is one yet) hold one value, and that value was
    # already read at now - stuck_after (a reading of the window's first minute at or before it, or the previous
    # minute's last reading). The current minute does not count towards "every minute" (its readings may still be
    # on their way), so a raised alarm does not clear and rise again at each minute's turn.
    "stuck_value": ("warning", """
        SELECT p.device_id, p.point, 'value ' || """ + _SHOWN.format(v="min(r.min)") + """
               || ' unchanged since ' || to_char(min(r.first_ts), 'HH24:MI')
        FROM rollup_1m r JOIN points p USING (point_key) """ + _PRECISION + """
        WHERE p.kind = 'gauge' AND NOT p.point_key = ANY(%(status_keys)s::int[])
          AND r.bucket >= date_trunc('minute', %(now)s - %(stuck_after)s) AND r.bucket <= %(now)s AND r.n_valid > 0
        GROUP BY p.point_key, p.device_id, p.point, prec.decimals
        HAVING min(r.min) = max(r.max)
           AND count(*) FILTER (WHERE r.bucket < date_trunc('minute', %(now)s))
               >= extract(epoch FROM %(stuck_after)s) / 60
           AND (min(r.first_ts) <= %(now)s - %(stuck_after)s
                OR EXISTS (SELECT 1 FROM rollup_1m b WHERE b.point_key = p.point_key AND b.n_valid > 0
                           AND b.bucket = date_trunc('minute', %(now)s - %(stuck_after)s) - interval '1 minute'
                           AND b.last_value = min(r.min)))"""),
    "counter_reset": ("warning", """
        SELECT p.device_id, p.point, 'counter went backwards at ' || to_char(max(e.ts), 'YYYY-MM-DD"T"HH24:MI:SSOF')
        FROM emissions e JOIN points p USING (point_key)
        WHERE e.quality = 1 AND e.ts > %(now)s - %(reset_window)s GROUP BY p.device_id, p.point"""),
    # usual interval = (newest - oldest valid reading) / (valid readings - 1) over the lookback, from rollup_1h
    "data_gap": ("warning", """
        WITH pt AS (SELECT point_key, sum(n_valid) AS n, min(first_ts) AS first_ts, max(last_ts) AS last_ts
                    FROM rollup_1h WHERE bucket > %(now)s - %(gap_lookback)s AND n_valid > 0
                    GROUP BY point_key HAVING sum(n_valid) >= 3),
             usual AS (SELECT pt.*, p.device_id, p.point, (pt.last_ts - pt.first_ts) / (pt.n - 1) AS every
                       FROM pt JOIN points p USING (point_key)),
             dev AS (SELECT device_id, max(last_ts) AS device_last FROM usual GROUP BY device_id)
        SELECT u.device_id, u.point, 'no valid reading since ' || to_char(u.last_ts, 'YYYY-MM-DD"T"HH24:MI:SSOF')
               || ' (usually one every ' || round(extract(epoch FROM u.every)::numeric, 1)
               || ' s); the device still reports other points'
        FROM usual u JOIN dev USING (device_id)
        WHERE dev.device_last > %(now)s - %(offline_after)s
          AND dev.device_last - u.last_ts > GREATEST(%(gap_min)s, %(gap_intervals)s * u.every)"""),
    "out_of_range": ("warning", """
        SELECT p.device_id, p.point, 'value ' || """ + _SHOWN.format(v="lr.value") + """
               || CASE WHEN lr.value < p.range_low THEN ' below the low limit ' || p.range_low
                       ELSE ' above the high limit ' || p.range_high END
               || ' at ' || to_char(lr.ts, 'YYYY-MM-DD"T"HH24:MI:SSOF')
        FROM points p """ + _PRECISION + """
        CROSS JOIN LATERAL cf_point_last(p.point_key, %(now)s - %(range_window)s + interval '1 microsecond',
            %(now)s + interval '1 microsecond', 2, true) lr
        WHERE (p.range_low IS NOT NULL OR p.range_high IS NOT NULL)
          AND (lr.value < p.range_low OR lr.value > p.range_high)"""),
    # the detail names the newest open reading; a rise can be accepted by its flag id once checked
    "implausible_reading": ("warning", """
        SELECT p.device_id, p.point, count(*) || ' implausible counter reading(s) stored as bad and not counted;'
               || ' newest at ' || to_char(max(f.ts), 'YYYY-MM-DD"T"HH24:MI:SSOF') || ': '
               || (array_agg(f.detail ORDER BY f.ts DESC))[1]
               || CASE WHEN bool_or(f.reason = 'rise') THEN '. If the meter really counted it, accept rise #'
                       || (array_agg(f.flag_id ORDER BY f.ts) FILTER (WHERE f.reason = 'rise'))[1]
                       || ' (POST /api/v1/implausible-readings/{id}/accept)' ELSE '' END
        FROM implausible_readings f JOIN points p USING (point_key)
        WHERE f.state = 'open' AND f.ts > %(now)s - %(implausible_window)s AND f.ts <= %(now)s
        GROUP BY p.device_id, p.point"""),
    # a CEMS stack as stream_jobs/cems.py defines it; analyser_status codes follow HJ 212 (1 C, 2 M, 3 D)
    "cems_calibration": ("warning", """
        SELECT p.device_id, '' AS point, 'CEMS analyser ' || string_agg(DISTINCT CASE
                   WHEN p.point = 'analyser_status' THEN CASE lr.value WHEN 1 THEN 'calibrating'
                        WHEN 2 THEN 'maintenance' WHEN 3 THEN 'fault' ELSE 'status ' || lr.value END
                   WHEN p.point = 'analyser_fault' THEN 'fault' ELSE p.point END, ', ')
               || ' (reported at ' || to_char(max(lr.ts), 'YYYY-MM-DD"T"HH24:MI:SSOF')
               || '); its hours are substituted'
        FROM points p CROSS JOIN LATERAL cf_point_last(p.point_key,
            %(now)s - %(cems_status_window)s + interval '1 microsecond', %(now)s + interval '1 microsecond', 2, true) lr
        WHERE p.point = ANY(%(cems_status_points)s) AND lr.value > 0
          AND EXISTS (SELECT 1 FROM points c WHERE c.device_id = p.device_id AND c.point = 'co2_pct')
          AND EXISTS (SELECT 1 FROM points c WHERE c.device_id = p.device_id AND c.point = 'flue_flow_m3h')
        GROUP BY p.device_id"""),
    "spool_overflow": ("critical", """
        SELECT e.gateway_id, '' AS point, sum(e.dropped) || ' readings dropped by the gateway spool since '
               || to_char(min(e.at), 'YYYY-MM-DD"T"HH24:MI:SSOF') || ' (' || max(e.dropped_total)
               || ' over its lifetime)'
        FROM gateway_events e WHERE e.event = 'spool_overflow' AND e.received_at > %(now)s - %(overflow_window)s
        GROUP BY e.gateway_id"""),
    "gateway_offline": ("critical", """
        SELECT h.gateway_id, '' AS point, CASE WHEN h.state = 'offline'
                   THEN 'gateway offline since ' || to_char(h.state_since, 'YYYY-MM-DD"T"HH24:MI:SSOF')
                   ELSE 'no status report since ' || to_char(h.last_seen, 'YYYY-MM-DD"T"HH24:MI:SSOF')
                        || ' (one expected every ' || h.interval_s || ' s)' END
        FROM gateway_health h LEFT JOIN gateways g ON g.gateway_id = h.gateway_id
        WHERE g.status IS DISTINCT FROM 'revoked' AND (
            (h.state = 'offline' AND h.state_since < %(now)s - %(gateway_offline_after)s)
            OR (h.state = 'online' AND h.interval_s IS NOT NULL AND h.last_seen < %(now)s
                - GREATEST(%(gateway_offline_after)s, %(gateway_missed_reports)s * h.interval_s * interval '1 second')))"""),
}


async def _profile_facts(conn: psycopg.AsyncConnection) -> dict[str, list[int]]:
    """From the devices' library profiles: the status points (which stuck_value skips) and the decimals of the
    points whose stored values are in the unit they were sent in (for the values alarm texts show)."""
    cur = await conn.execute(
        "SELECT p.point_key, p.point, d.profile, NOT p.normalised OR p.source_unit IS NULL OR p.source_unit = p.unit"
        " FROM points p JOIN devices d USING (device_id) WHERE d.profile IS NOT NULL AND d.profile <> ''")
    status: list[int] = []
    keys: list[int] = []
    decimals: list[int] = []
    for point_key, point, profile, as_sent in await cur.fetchall():
        if point_is_status(profile, point):
            status.append(point_key)
        places = point_decimals(profile, point)
        if places is not None and as_sent:
            keys.append(point_key)
            decimals.append(places)
    return {"status_keys": status, "decimal_keys": keys, "decimals": decimals}


async def evaluate_alarms(conn: psycopg.AsyncConnection, now: datetime,
                          settings: AlarmSettings = AlarmSettings()) -> dict[str, int]:
    """Raise new alarms and clear resolved ones; returns how many were raised and cleared."""
    params = {"now": now, **asdict(settings), "cems_status_points": ["analyser_status", *STATUS_POINTS],
              **await _profile_facts(conn)}
    raised = cleared = 0
    async with conn.transaction():
        for rule, (severity, query) in RULES.items():
            cur = await conn.execute(query, params)
            firing = {(device, point): detail for device, point, detail in await cur.fetchall()}
            cur = await conn.execute("SELECT alarm_id, device_id, point FROM alarms WHERE rule = %s AND state = 'active'",
                                     (rule,))
            active = {(device, point): alarm_id for alarm_id, device, point in await cur.fetchall()}
            for (device, point), detail in firing.items():
                if (device, point) not in active:
                    await conn.execute(
                        "INSERT INTO alarms (rule, device_id, point, severity, detail, raised_at)"
                        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        (rule, device, point, severity, detail, now))
                    raised += 1
            for key, alarm_id in active.items():
                if key not in firing:
                    await conn.execute("UPDATE alarms SET state = 'cleared', cleared_at = %s WHERE alarm_id = %s",
                                       (now, alarm_id))
                    cleared += 1
    return {"raised": raised, "cleared": cleared}
