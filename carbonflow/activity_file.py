"""Reading an activity-data file (CSV or XLSX) into numbered activity rows, for the inventory CLI
(`carbonflow inventory compute`) and the API's activity upload alike.

The file has one header row (`period,process,source_type,item,quantity,unit,direction`, any order, plus
an optional `site` column) and one activity line per row. Rows that cannot be read come back as
`LineProblem`s with their line number; a file that cannot be read at all raises `ActivityFileError`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from carbon_domain.inventory import LineProblem
from carbonflow.tabular import TabularFileError, read_numbered_rows

__all__ = ["COLUMNS", "OPTIONAL_COLUMNS", "ActivityFileError", "read_activity_file"]

COLUMNS = ("period", "process", "source_type", "item", "quantity", "unit", "direction")
OPTIONAL_COLUMNS = ("site",)


class ActivityFileError(Exception):
    """The file as a whole cannot be read (missing, wrong format); the message names the file."""


def read_activity_file(path: Path) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """Rows of a .csv or .xlsx activity file as mappings with their `line`, and the rows that cannot be read."""
    try:
        numbered = read_numbered_rows(path, what="activity file")
    except TabularFileError as exc:
        raise ActivityFileError(str(exc)) from exc
    return _records(numbered, path)


def _records(numbered: list[tuple[int, list[Any]]], path: Path) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    rows = [(number, [_cell(value) for value in cells]) for number, cells in numbered]
    rows = [(number, cells) for number, cells in rows if any(cell != "" for cell in cells)]
    if not rows:
        return [], [LineProblem(1, f"no header row; the first row must be {','.join(COLUMNS)}")]
    header_line, header = rows[0]
    names = [str(name).strip().lower() for name in header]
    while names and names[-1] == "":
        names.pop()
    header_problem = _header_problem(names)
    if header_problem:
        return [], [LineProblem(header_line, header_problem)]
    records: list[dict[str, Any]] = []
    problems: list[LineProblem] = []
    for number, cells in rows[1:]:
        while len(cells) > len(names) and cells[-1] == "":
            cells.pop()  # spreadsheets pad rows with empty cells
        if len(cells) != len(names):
            problems.append(
                LineProblem(number, f"{len(cells)} fields, header has {len(names)} ({','.join(names)}); quote commas")
            )
            continue
        record = dict(zip(names, cells, strict=True))
        record["period"] = _period_text(record["period"])
        records.append({"line": number, **record})
    if not records and not problems:
        problems.append(LineProblem(header_line, f"{path.name} has a header but no activity rows"))
    return records, problems


def _header_problem(names: list[str]) -> str | None:
    missing = [column for column in COLUMNS if column not in names]
    unknown = [name or "(empty)" for name in names if name not in COLUMNS + OPTIONAL_COLUMNS]
    doubled = sorted({name for name in names if names.count(name) > 1})
    if not (missing or unknown or doubled):
        return None
    parts = [
        f"{label}: {', '.join(found)}"
        for label, found in (("missing columns", missing), ("unknown columns", unknown), ("repeated columns", doubled))
        if found
    ]
    return f"bad header ({'; '.join(parts)}); expected {','.join(COLUMNS)} (and optionally {','.join(OPTIONAL_COLUMNS)})"


def _cell(value: object) -> Any:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def _period_text(value: Any) -> Any:
    # Excel turns a typed 2025-01 into a date and 2025 into a number; give back what was typed.
    if isinstance(value, date) and value.day == 1:
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)
