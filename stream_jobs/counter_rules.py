"""Per-point facts from the device profile that the stream job needs: a register's rollover value, a point's unit."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from carbon_domain.units import convert
from device_profiles.loader import ProfileError, load_profile

__all__ = ["point_rollover", "profile_rollover", "profile_unit"]

log = logging.getLogger("stream_jobs.counter_rules")
_LIBRARY_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*$")


@lru_cache(maxsize=256)
def _points(profile: str) -> dict[str, tuple[float | None, str]]:
    """Point name -> (rollover, unit) of a library profile; empty when it cannot be loaded."""
    if not _LIBRARY_NAME.match(profile):
        return {}  # a file path names a file on a gateway, not here
    try:
        loaded = load_profile(profile)
    except ProfileError as exc:
        log.warning("profile %s not loaded: %s", profile, exc)
        return {}
    return {p.name: (getattr(p, "rollover", None), p.unit) for p in loaded.points}


def profile_rollover(profile: str | None, point: str) -> float | None:
    """The value at which `point`'s register wraps, from the device's library profile; None when unknown."""
    return _points(profile).get(point, (None, ""))[0] if profile else None


def profile_unit(profile: str | None, point: str) -> str | None:
    """The unit `point` is sent in according to the device's library profile; None when unknown."""
    found = _points(profile).get(point) if profile else None
    return None if found is None else found[1]


def point_rollover(profile: str | None, point: str, *, unit: str, source_unit: str | None,
                   normalised: bool) -> float | None:
    """The rollover of a stored point in the unit its values are stored in: the profile gives it in the unit
    the gateway sends, which a normalised point (migration 072) converts to its storage unit."""
    rollover = profile_rollover(profile, point)
    if rollover is not None and normalised and source_unit and source_unit != unit:
        rollover = convert(rollover, source_unit, unit)
    return rollover
