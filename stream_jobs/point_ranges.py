"""Fill in each point's plausible range from its device's profile (`valid_range`), for the out_of_range alarm.

Only points never looked at (`range_source` NULL) of devices with a library
profile ("vendor/model") are touched; a range set by hand (`manual`) is never
overwritten. A point the profile gives no range, or whose profile cannot be
loaded, is marked `none` so it is not looked at again.
"""

from __future__ import annotations

import logging
import re

import psycopg

from carbon_domain.errors import UnitError
from carbon_domain.units import convert, storage_unit
from device_profiles.loader import ProfileError, load_profile
from device_profiles.point_rules import profile_unit

__all__ = ["fill_ranges_from_profiles"]

log = logging.getLogger("stream_jobs.point_ranges")
_LIBRARY_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*$")


def _profile_ranges(profile: str) -> dict[str, tuple[float, float]] | None:
    """Point name -> valid_range of a library profile; None when it cannot be loaded."""
    if not _LIBRARY_NAME.match(profile):
        return None  # file paths name files on a gateway, not here
    try:
        loaded = load_profile(profile)
    except ProfileError as exc:
        log.warning("profile %s not loaded for point ranges: %s", profile, exc)
        return None
    return {p.name: p.valid_range for p in loaded.points if p.valid_range is not None}


def _in_storage_unit(bounds: tuple[float, float], unit: str) -> tuple[float, float]:
    """A profile range (in the unit the gateway sends) in the unit the stream job stores a normalised point in
    (072_point_units.sql)."""
    try:
        return convert(bounds[0], unit, storage_unit(unit)), convert(bounds[1], unit, storage_unit(unit))
    except UnitError:
        return bounds  # a unit the table does not know is stored as sent


async def fill_ranges_from_profiles(conn: psycopg.AsyncConnection) -> int:
    """Give unexamined points of profiled devices their profile's range; returns how many points got one."""
    cur = await conn.execute(
        "SELECT p.point_key, p.point, d.profile, p.normalised FROM points p JOIN devices d USING (device_id)"
        " WHERE p.range_source IS NULL AND d.profile IS NOT NULL AND d.profile <> '' ORDER BY d.profile")
    rows = await cur.fetchall()
    ranges: dict[str, dict[str, tuple[float, float]] | None] = {}
    filled = 0
    for point_key, point, profile, normalised in rows:
        if profile not in ranges:
            ranges[profile] = _profile_ranges(profile)
        found = (ranges[profile] or {}).get(point)
        if found is not None and normalised:
            found = _in_storage_unit(found, profile_unit(profile, point) or "")
        low, high = found if found is not None else (None, None)
        await conn.execute(
            "UPDATE points SET range_low = %s, range_high = %s, range_source = %s"
            " WHERE point_key = %s AND range_source IS NULL",
            (low, high, "profile" if found is not None else "none", point_key))
        filled += found is not None
    return filled
