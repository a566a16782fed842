"""Alarm rules evaluated against stored data, raising and clearing alarms idempotently.

Each rule is one SQL query returning the (device, point, detail) that are in
alarm now; alarms no longer returned are cleared. Rules:
- device_offline: no reading from a device for `offline_after`;
- bad_data: the newest minute of a point holds readings of bad quality (timeouts, exception codes, out of range);
- stuck_value: a gauge that has not changed over `stuck_after` with readings every minute;
- counter_reset: a counter went backwards (reset, meter replacement or rollover) in the last hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

__all__ = ["AlarmSettings", "evaluate_alarms", "RULES"]


@dataclass(frozen=True)
class AlarmSettings:
    offline_after: timedelta = timedelta(seconds=60)
    stuck_after: timedelta = timedelta(minutes=10)
    reset_window: timedelta = timedelta(hours=1)


RULES: dict[str, tuple[str, str]] = {
    "device_offline": ("critical", """
        SELECT device_id, '' AS point, 'no reading since ' || to_char(last_seen, 'YYYY-MM-DD"T"HH24:MI:SSOF')
        FROM devices WHERE last_seen IS NOT NULL AND last_seen < %(now)s - %(offline_after)s"""),
    "bad_data": ("warning", """
        SELECT p.device_id, p.point, 'bad readings in the minute from ' || to_char(r.bucket, 'HH24:MI')
        FROM (SELECT DISTINCT ON (point_key) point_key, bucket, worst_quality FROM rollup_1m
              WHERE bucket > %(now)s - interval '5 minutes' ORDER BY point_key, bucket DESC) r
        JOIN points p USING (point_key) WHERE r.worst_quality = 2"""),
    "stuck_value": ("warning", """
        SELECT p.device_id, p.point, 'value ' || min(r.min) || ' unchanged since ' || to_char(min(r.bucket), 'HH24:MI')
        FROM rollup_1m r JOIN points p USING (point_key)
        WHERE p.kind = 'gauge' AND r.bucket > %(now)s - %(stuck_after)s AND r.n_valid > 0
        GROUP BY p.device_id, p.point
        HAVING min(r.min) = max(r.max)
           AND count(*) >= extract(epoch FROM %(stuck_after)s) / 60 - 1"""),
    "counter_reset": ("warning", """
        SELECT p.device_id, p.point, 'counter went backwards at ' || to_char(max(e.ts), 'YYYY-MM-DD"T"HH24:MI:SSOF')
        FROM emissions e JOIN points p USING (point_key)
        WHERE e.quality = 1 AND e.ts > %(now)s - %(reset_window)s GROUP BY p.device_id, p.point"""),
}


async def evaluate_alarms(conn: psycopg.AsyncConnection, now: datetime,
                          settings: AlarmSettings = AlarmSettings()) -> dict[str, int]:
    """Raise new alarms and clear resolved ones; returns how many were raised and cleared."""
    params = {"now": now, "offline_after": settings.offline_after, "stuck_after": settings.stuck_after,
              "reset_window": settings.reset_window}
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
