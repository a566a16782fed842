"""The activity-file reader the inventory CLI and the API's activity upload share."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonflow.activity_file import COLUMNS, ActivityFileError, read_activity_file


def test_a_file_that_cannot_be_read_raises_activity_file_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "activity.csv"
    with pytest.raises(ActivityFileError, match="activity.csv: no such file"):
        read_activity_file(missing)


def test_rows_come_back_with_their_line_numbers_and_bad_rows_as_problems(tmp_path: Path) -> None:
    path = tmp_path / "activity.csv"
    path.write_text(",".join(COLUMNS) + "\n2025-01,rolling,combustion,natural_gas,2500000,Nm3,in\n"
                    "2025-01,rolling,combustion\n", encoding="utf-8")
    rows, problems = read_activity_file(path)
    assert ([r["line"] for r in rows], [(p.line, p.reason.split(";")[0]) for p in problems]) == (
        [2], [(3, "3 fields, header has 7 (" + ",".join(COLUMNS) + ")")])
