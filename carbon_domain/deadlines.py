"""Where a compliance or trading deadline stands on a given day: past, due soon (inside its reminder window) or
upcoming, with the days left; and whether a deadline's region covers an enterprise's region (a region covers its
sub-regions: CN-ZJ covers CN-ZJ-HZ; no region covers every enterprise)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["DeadlineStatus", "deadline_status", "region_covers"]


@dataclass(frozen=True)
class DeadlineStatus:
    days_left: int  # negative once past
    status: str  # past, due_soon or upcoming


def deadline_status(due_on: date, today: date, remind_days: int) -> DeadlineStatus:
    """The status of a deadline due on `due_on`, reminded from `remind_days` before (the due day itself is due soon)."""
    if remind_days < 0:
        raise ValueError(f"remind_days {remind_days} is negative")
    left = (due_on - today).days
    return DeadlineStatus(left, "past" if left < 0 else "due_soon" if left <= remind_days else "upcoming")


def region_covers(deadline_region: str | None, region: str | None) -> bool:
    """Whether a deadline of `deadline_region` applies to an enterprise (or user) of `region`."""
    if deadline_region is None:
        return True
    return region is not None and (region == deadline_region or region.startswith(f"{deadline_region}-"))
