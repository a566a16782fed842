"""carbon_domain.deadlines: where a deadline stands on a day, and which regions a deadline's region covers."""

from __future__ import annotations

from datetime import date

import pytest

from carbon_domain.deadlines import DeadlineStatus, deadline_status, region_covers

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("due_on", "remind_days", "expected"), [
    (date(2026, 12, 31), 30, DeadlineStatus(30, "due_soon")),  # the first day of the reminder window
    (date(2027, 1, 1), 30, DeadlineStatus(31, "upcoming")),
    (date(2026, 12, 1), 0, DeadlineStatus(0, "due_soon")),  # due today
    (date(2026, 11, 30), 30, DeadlineStatus(-1, "past")),
])
def test_a_deadline_is_due_soon_inside_its_reminder_window(due_on: date, remind_days: int,
                                                          expected: DeadlineStatus) -> None:
    assert deadline_status(due_on, TODAY, remind_days) == expected


def test_a_negative_reminder_window_is_refused() -> None:
    with pytest.raises(ValueError, match="remind_days -1 is negative"):
        deadline_status(TODAY, TODAY, -1)


@pytest.mark.parametrize(("deadline_region", "region", "covers"), [
    (None, "CN-ZJ-HZ", True),  # no region: every enterprise
    (None, None, True),
    ("CN-ZJ", "CN-ZJ", True),
    ("CN-ZJ", "CN-ZJ-HZ", True),
    ("CN-ZJ", "CN-ZJX", False),  # a prefix of letters is not a sub-region
    ("CN-ZJ-HZ", "CN-ZJ", False),
    ("CN-ZJ", None, False),
])
def test_a_region_covers_itself_and_its_sub_regions(deadline_region: str | None, region: str | None,
                                                    covers: bool) -> None:
    assert region_covers(deadline_region, region) is covers
