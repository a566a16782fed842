"""Per-point counter rules from the device profile: the register's rollover value."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from device_profiles.loader import ProfileError, load_profile

__all__ = ["profile_rollover"]

log = logging.getLogger("stream_jobs.counter_rules")
_LIBRARY_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*$")


@lru_cache(maxsize=256)
def _rollovers(profile: str) -> dict[str, float]:
    if not _LIBRARY_NAME.match(profile):
        return {}  # a file path names a file on a gateway, not here
    try:
        loaded = load_profile(profile)
    except ProfileError as exc:
        log.warning("profile %s not loaded for counter rollovers: %s", profile, exc)
        return {}
    return {p.name: p.rollover for p in loaded.points if getattr(p, "rollover", None) is not None}


def profile_rollover(profile: str | None, point: str) -> float | None:
    """The value at which `point`'s register wraps, from the device's library profile; None when unknown."""
    return _rollovers(profile).get(point) if profile else None
