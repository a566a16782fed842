"""`carbonflow recompute`: --start/--end are ISO-8601 times with an offset, `Z` included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

import stream_jobs.recompute
from carbonflow.cli import main


@pytest.fixture
def recomputed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, datetime, datetime]]:
    """The (site, start, end) each recompute was asked for; no database is touched."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/never")
    calls: list[tuple[str, datetime, datetime]] = []

    def _recompute(url: str, site: str, start: datetime, end: datetime) -> int:
        calls.append((site, start, end))
        return 0

    monkeypatch.setattr(stream_jobs.recompute, "run_recompute", _recompute)
    return calls


def test_recompute_reads_a_z_suffix_as_utc_beside_numeric_offsets(
        recomputed: list[tuple[str, datetime, datetime]]) -> None:
    assert main(["recompute", "--site", "s1", "--start", "2026-01-01T00:00Z", "--end", "2026-01-01T09:00+08:00"]) == 0
    [(site, start, end)] = recomputed
    assert site == "s1"
    assert start == datetime(2026, 1, 1, tzinfo=UTC) and start.utcoffset() == timedelta(0)
    assert end - start == timedelta(hours=1) and end.tzinfo == timezone(timedelta(hours=8))


def test_recompute_refuses_times_without_an_offset(
        recomputed: list[tuple[str, datetime, datetime]], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recompute", "--site", "s1", "--start", "2026-01-01T00:00", "--end", "2026-01-02T00:00Z"]) == 2
    assert "both with a UTC offset" in capsys.readouterr().err
    assert recomputed == []
