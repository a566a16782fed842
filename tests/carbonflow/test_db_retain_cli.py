"""`carbonflow db retain`: out-of-range --raw-days / --hourly-days are refused before any database is touched."""

from __future__ import annotations

import pytest

import carbonflow.db
from carbonflow.cli import main

_ENV = ("CARBONFLOW_RAW_RETENTION_DAYS", "CARBONFLOW_HOURLY_RETENTION_DAYS")


@pytest.fixture(autouse=True)
def _no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DATABASE_URL that is never reached: a refused option must stop before connecting."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/never")
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)

    def _connect(*args: object, **kwargs: object) -> None:
        raise AssertionError("db retain connected although its options were refused")

    monkeypatch.setattr(carbonflow.db, "connect_with_retry", _connect)


@pytest.mark.parametrize(("argv", "message"), [
    (["--raw-days", "0"], "raw retention must be at least 1 day and at most 36525 days (100 years), got 0"),
    (["--raw-days", "-3"], "raw retention must be at least 1 day and at most 36525 days (100 years), got -3"),
    (["--raw-days", "1000000"], "at most 36525 days (100 years), got 1000000"),
    (["--hourly-days", "0"], "hourly retention must be at least 1827 days (5 years) and at most 36525 days"),
    (["--hourly-days", "99999999"], "at most 36525 days (100 years), got 99999999"),
    (["--raw-days", "2000"], "hourly retention (1830 days) is shorter than the raw retention (2000 days)"),
])
def test_db_retain_refuses_out_of_range_days_with_the_allowed_range(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "retain", *argv]) == 2
    assert message in capsys.readouterr().err


def test_db_retain_refuses_out_of_range_days_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CARBONFLOW_RAW_RETENTION_DAYS", "0")
    assert main(["db", "retain"]) == 2
    assert "raw retention must be at least 1 day" in capsys.readouterr().err
