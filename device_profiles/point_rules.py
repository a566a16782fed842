"""Per-point facts from the device profile that the stream job needs: a register's rollover value, a point's unit,
a counter's rate-of-rise limit, a gauge's valid range, whether a point is a status (on/off or enumerated) and how
many decimals its values carry."""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from carbon_domain.errors import UnitError
from carbon_domain.units import convert
from device_profiles.loader import ProfileError, load_profile

__all__ = ["point_decimals", "point_is_status", "point_rise_limit", "point_rollover", "point_valid_range",
           "profile_rollover", "profile_unit"]

log = logging.getLogger("device_profiles.point_rules")
_LIBRARY_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*$")


class _ProfilePoint(NamedTuple):
    rollover: float | None
    unit: str
    rise_limit_per_h: float | None = None  # counters: plausibility, per hour in `unit`
    valid_range: tuple[float, float] | None = None
    status: bool = False  # a bool or an enumerated integer (`states`): a state, not a measured quantity
    decimals: int | None = None  # scaled integers: the decimals the scale and offset give; None for floats


def _decimals_of(number: float) -> int:
    exponent = Decimal(repr(number)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _status_and_decimals(point: object) -> tuple[bool, int | None]:
    """(is a status, decimals) of a profile point from its data type, states, scale and offset."""
    data_type = str(getattr(point, "data_type", ""))
    if data_type in ("bool", "boolean") or getattr(point, "states", None):
        return True, 0
    if data_type.startswith(("int", "uint")):
        return False, max(_decimals_of(getattr(point, "scale", 1.0)), _decimals_of(getattr(point, "offset", 0.0)))
    return False, None


@lru_cache(maxsize=256)
def _points(profile: str) -> dict[str, _ProfilePoint]:
    """Point name -> what the stream job uses of a library profile's point; empty when it cannot be loaded."""
    if not _LIBRARY_NAME.match(profile):
        return {}  # a file path names a file on a gateway, not here
    try:
        loaded = load_profile(profile)
    except ProfileError as exc:
        log.warning("profile %s not loaded: %s", profile, exc)
        return {}
    return {p.name: _ProfilePoint(p.rollover, p.unit, p.rise_limit_per_h, p.valid_range, *_status_and_decimals(p))
            for p in loaded.points}


def profile_rollover(profile: str | None, point: str) -> float | None:
    """The value at which `point`'s register wraps, from the device's library profile; None when unknown."""
    found = _points(profile).get(point) if profile else None
    return None if found is None else found.rollover


def profile_unit(profile: str | None, point: str) -> str | None:
    """The unit `point` is sent in according to the device's library profile; None when unknown."""
    found = _points(profile).get(point) if profile else None
    return None if found is None else found.unit


def point_is_status(profile: str | None, point: str) -> bool:
    """True when the device's library profile makes `point` a bool or an enumerated integer (`states`)."""
    found = _points(profile).get(point) if profile else None
    return found is not None and found.status


def point_decimals(profile: str | None, point: str) -> int | None:
    """The decimals a point's values carry as sent (a scaled integer's scale, 0 for a status); None for floats
    and points the profile does not know."""
    found = _points(profile).get(point) if profile else None
    return None if found is None else found.decimals


def _stored(value: float, *, unit: str, source_unit: str | None, normalised: bool) -> float:
    """A profile's figure (in the unit the gateway sends) in the unit a stored point's values are in: a normalised
    point (migration 072) converts them to its storage unit."""
    if normalised and source_unit and source_unit != unit:
        return convert(value, source_unit, unit)
    return value


def point_rollover(profile: str | None, point: str, *, unit: str, source_unit: str | None,
                   normalised: bool) -> float | None:
    """The rollover of a stored point in the unit its values are stored in."""
    rollover = profile_rollover(profile, point)
    return None if rollover is None else _stored(rollover, unit=unit, source_unit=source_unit, normalised=normalised)


def point_rise_limit(profile: str | None, point: str, *, unit: str, source_unit: str | None,
                     normalised: bool) -> float | None:
    """A counter's rate-of-rise limit from its device's profile, per hour in the unit its values are stored in;
    None when the profile gives none."""
    found = _points(profile).get(point) if profile else None
    if found is None or found.rise_limit_per_h is None:
        return None
    return _stored(found.rise_limit_per_h, unit=unit, source_unit=source_unit, normalised=normalised)


def point_valid_range(profile: str | None, point: str, *, unit: str, source_unit: str | None,
                      normalised: bool) -> tuple[float, float] | None:
    """A point's valid_range from its device's profile in the unit its values are stored in; None when the
    profile gives none. A profile unit the table does not convert keeps the range as given."""
    found = _points(profile).get(point) if profile else None
    if found is None or found.valid_range is None:
        return None
    try:
        low, high = (_stored(v, unit=unit, source_unit=source_unit or found.unit, normalised=normalised)
                     for v in found.valid_range)
    except UnitError:
        return found.valid_range
    return low, high
