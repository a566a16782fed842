"""Hourly CEMS CO2 mass per stack, computed from the 1-hour rollups once an hour has closed.

A CEMS device is one with points `co2_pct` and `flue_flow_m3h` (profile
cf-demo/cems-stack and compatible maps). Averages use the hour's good and
uncertain readings. Invalid hours (an input with no such reading, or the
analyser calibrating, in maintenance or faulted at any time in the hour) take the last valid
hour's mass and are flagged, the substitution rule METHODS.md section 5 asks
to document.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from carbon_domain.cems import CEMS_FORMULA, cems_hour
from carbon_domain.errors import FormulaInputError

__all__ = ["compute_cems_hours", "INPUTS", "STATUS_POINTS"]

INPUTS = {
    "flow_m3_h": "flue_flow_m3h",
    "temperature_c": "flue_temperature_degc",
    "static_pa": "static_pressure_pa",
    "barometric_pa": "barometric_pressure_pa",
    "moisture_pct": "moisture_pct",
    "co2_wet_pct": "co2_pct",
}
STATUS_POINTS = ("calibrating", "maintenance", "analyser_fault")


async def compute_cems_hours(conn: psycopg.AsyncConnection, *, start: datetime, end: datetime) -> int:
    """(Re)compute every closed hour in [start, end) for every CEMS device; returns rows written."""
    cur = await conn.execute(
        "SELECT d.device_id, d.site_id FROM devices d WHERE EXISTS (SELECT 1 FROM points p WHERE"
        " p.device_id = d.device_id AND p.point = 'co2_pct') AND EXISTS (SELECT 1 FROM points p WHERE"
        " p.device_id = d.device_id AND p.point = 'flue_flow_m3h') ORDER BY 1")
    written = 0
    for device, site in await cur.fetchall():
        cur = await conn.execute(
            "SELECT r.bucket, p.point, r.sum / NULLIF(r.n_valid, 0), r.max, r.worst_quality FROM rollup_1h r"
            " JOIN points p USING (point_key) WHERE p.device_id = %s AND r.bucket >= %s AND r.bucket < %s",
            (device, start, end))
        hours: dict[datetime, dict[str, tuple[float | None, float | None, int]]] = {}
        for bucket, point, avg, peak, worst in await cur.fetchall():
            hours.setdefault(bucket, {})[point] = (avg, peak, worst)
        cur = await conn.execute(
            "SELECT hour, mass_t FROM cems_hourly WHERE device_id = %s AND valid AND hour < %s"
            " ORDER BY hour DESC LIMIT 1", (device, start))
        previous = await cur.fetchone()
        last_valid: tuple[datetime, float] | None = (previous[0], previous[1]) if previous else None
        for hour in sorted(hours):
            if hour + timedelta(hours=1) > end:
                continue  # not closed yet
            row, last_valid = _hour_row(device, site, hour, hours[hour], last_valid)
            if row is None:
                continue
            await conn.execute(
                "INSERT INTO cems_hourly (device_id, hour, site_id, q_sn_nm3_h, c_dry_pct, c_mg_m3, mass_t, valid,"
                " substituted_from, reason, formula) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (device_id, hour) DO UPDATE SET site_id = EXCLUDED.site_id,"
                " q_sn_nm3_h = EXCLUDED.q_sn_nm3_h, c_dry_pct = EXCLUDED.c_dry_pct, c_mg_m3 = EXCLUDED.c_mg_m3,"
                " mass_t = EXCLUDED.mass_t, valid = EXCLUDED.valid, substituted_from = EXCLUDED.substituted_from,"
                " reason = EXCLUDED.reason, formula = EXCLUDED.formula", row)
            written += 1
    return written


def _hour_row(device: str, site: str | None, hour: datetime, values: dict[str, tuple[float | None, float | None, int]],
              last_valid: tuple[datetime, float] | None) -> tuple[tuple | None, tuple[datetime, float] | None]:
    """The row of one hour, and the last valid (hour, mass) after it."""
    problem = _invalid_because(values)
    if problem is None:
        try:
            result = cems_hour(**{arg: values[point][0] for arg, point in INPUTS.items()})  # type: ignore[arg-type]
        except FormulaInputError as exc:
            problem = str(exc)
        else:
            mass_t = result.mass_kg / 1000.0
            return ((device, hour, site, result.q_sn_nm3_h, result.c_dry_pct, result.c_mg_m3, mass_t, True, None,
                     None, CEMS_FORMULA), (hour, mass_t))
    if last_valid is None:
        return None, None  # nothing to substitute with yet
    return ((device, hour, site, None, None, None, last_valid[1], False, last_valid[0], problem,
             f"{CEMS_FORMULA};substituted-last-valid-hour"), last_valid)


def _invalid_because(values: dict[str, tuple[float | None, float | None, int]]) -> str | None:
    for point in INPUTS.values():
        if point not in values or values[point][0] is None:
            return f"no valid {point} in the hour"
    for status in STATUS_POINTS:
        if status in values and (values[status][1] or 0) > 0:
            return f"analyser {status.replace('_', ' ')} during the hour"
    return None
