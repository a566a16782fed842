"""The CSV/XLSX files of the electricity-carbon factors (docs/grid_factors.md): regional inputs, unit
energy data and third-party verified emissions, read into rows with their line numbers.

Shared by the API's uploads and `carbonflow factors`, so that both refuse exactly the same lines. Every
bad line is reported (line number, column, what to write instead); a file with a bad line yields no rows.

Regional inputs (`record,region,to_region,mwh,tco2`): a `region` row gives a region's generation (mwh)
and its emissions (tco2); a `flow` row gives electricity sent from `region` to `to_region` (mwh).
Unit energy (`unit_id,industry,region,period,electricity_mwh,coal_tco2,oil_tco2,gas_tco2`): one row per
unit and period (2025 or 2025-03); an empty fuel cell means the fuel data are missing.
Verified emissions (`unit_id,period,verified_tco2,verifier`): a verifier's figure for a unit and period.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from carbonflow.tabular import TabularFileError, read_numbered_rows

__all__ = [
    "REGIONAL_COLUMNS",
    "UNIT_ENERGY_COLUMNS",
    "VERIFIED_COLUMNS",
    "FileKind",
    "LineProblem",
    "GridFileError",
    "read_grid_file",
    "check_rows",
]

FileKind = Literal["regional", "unit_energy", "verified"]
REGIONAL_COLUMNS = ("record", "region", "to_region", "mwh", "tco2")
UNIT_ENERGY_COLUMNS = ("unit_id", "industry", "region", "period", "electricity_mwh", "coal_tco2", "oil_tco2",
                       "gas_tco2")
VERIFIED_COLUMNS = ("unit_id", "period", "verified_tco2", "verifier")
_COLUMNS: dict[str, tuple[str, ...]] = {"regional": REGIONAL_COLUMNS, "unit_energy": UNIT_ENERGY_COLUMNS,
                                        "verified": VERIFIED_COLUMNS}
_OPTIONAL = {"to_region", "tco2", "coal_tco2", "oil_tco2", "gas_tco2", "verifier"}
_NUMBERS = {"mwh", "tco2", "electricity_mwh", "coal_tco2", "oil_tco2", "gas_tco2", "verified_tco2"}
_PERIOD = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$")
MAX_TEXT = 160


class GridFileError(Exception):
    """The file cannot be read at all (not CSV/XLSX, unreadable); the message names the file."""


@dataclass(frozen=True)
class LineProblem:
    line: int
    reason: str


def read_grid_file(path: Path, kind: FileKind) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """Checked rows (dicts with `line`) of a .csv/.xlsx file of `kind`, and every bad line."""
    try:
        numbered = read_numbered_rows(path, what=f"{kind.replace('_', ' ')} file")
    except TabularFileError as exc:
        raise GridFileError(str(exc)) from exc
    rows = [(n, [_cell(v) for v in cells]) for n, cells in numbered]
    rows = [(n, cells) for n, cells in rows if any(c != "" for c in cells)]
    columns = _COLUMNS[kind]
    if not rows:
        return [], [LineProblem(1, f"no header row; the first row must be {','.join(columns)}")]
    header_line, header = rows[0]
    names = [str(h).strip().lower() for h in header]
    while names and names[-1] == "":
        names.pop()
    missing = [c for c in columns if c not in names]
    unknown = [n or "(empty)" for n in names if n not in columns]
    if missing or unknown or len(set(names)) != len(names):
        return [], [LineProblem(header_line, f"bad header (missing: {missing or 'none'}; unknown: {unknown or 'none'};"
                                             f" or a repeated column); expected {','.join(columns)}")]
    records: list[dict[str, Any]] = []
    for number, cells in rows[1:]:
        while len(cells) > len(names) and cells[-1] == "":
            cells.pop()
        cells += [""] * (len(names) - len(cells))
        if len(cells) != len(names):
            return [], [LineProblem(number, f"{len(cells)} fields, header has {len(names)}; quote commas")]
        records.append({"line": number, **dict(zip(names, cells, strict=True))})
    checked, problems = check_rows(records, kind)
    if not checked and not problems:
        problems.append(LineProblem(header_line, f"{path.name} has a header but no rows"))
    return checked, problems


def check_rows(records: list[dict[str, Any]], kind: FileKind) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """Rows of `kind` (from a file or a JSON body, each with its `line`) with typed values, and bad lines."""
    columns = _COLUMNS[kind]
    checked: list[dict[str, Any]] = []
    problems: list[LineProblem] = []
    seen: dict[tuple[str, ...], int] = {}
    for record in records:
        line = int(record.get("line", len(checked) + len(problems) + 1))
        row: dict[str, Any] = {"line": line}
        reasons: list[str] = []
        for column in columns:
            value = record.get(column, "")
            value = "" if value is None else value
            if value == "" and column not in _OPTIONAL:
                reasons.append(f"{column} is empty")
            elif column in _NUMBERS:
                row[column] = None if value == "" else _number(column, value, reasons)
            elif column == "period":
                text = _period_text(value)
                if not _PERIOD.match(text):
                    reasons.append(f"period {text!r} is neither a year (2025) nor a month (2025-03)")
                row[column] = text
            else:
                text = str(value).strip()
                if len(text) > MAX_TEXT:
                    reasons.append(f"{column} is longer than {MAX_TEXT} characters")
                row[column] = text or None
        if not reasons:
            reasons += _kind_rules(row, kind)
            key = _identity(row, kind)
            if key is not None and key in seen:
                reasons.append(f"repeats line {seen[key]} ({', '.join(key)}); give each once")
            elif key is not None:
                seen[key] = line
        if reasons:
            problems.append(LineProblem(line, "; ".join(reasons)))
        else:
            checked.append(row)
    return (checked, problems) if not problems else ([], problems)


def _kind_rules(row: dict[str, Any], kind: FileKind) -> list[str]:
    if kind != "regional":
        return []
    if row["record"] not in ("region", "flow"):
        return [f"record must be 'region' or 'flow', got {row['record']!r}"]
    if row["record"] == "region":
        if row["to_region"] is not None:
            return ["a region row has no to_region (a flow row sends mwh from region to to_region)"]
        if row["tco2"] is None:
            return ["a region row needs tco2, the emissions of its generation"]
        return []
    if row["to_region"] is None:
        return ["a flow row needs to_region, the region receiving the electricity"]
    if row["tco2"] is not None:
        return ["a flow row has no tco2: its carbon follows from the regions' factors"]
    return []


def _identity(row: dict[str, Any], kind: FileKind) -> tuple[str, ...] | None:
    if kind == "regional":
        if row["record"] == "region":
            return ("region", row["region"])
        return ("flow", row["region"], row["to_region"])
    if kind == "unit_energy":
        return (row["unit_id"], row["period"])
    return (row["unit_id"], row["period"], row["verifier"] or "")


def _number(column: str, value: Any, reasons: list[str]) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        reasons.append(f"{column} {value!r} is not a number")
        return None
    if not math.isfinite(number) or number < 0:
        reasons.append(f"{column} must be a finite number >= 0, got {value!r}")
        return None
    return number


def _cell(value: object) -> Any:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def _period_text(value: Any) -> str:
    # Excel turns a typed 2025-03 into a date and 2025 into a number; give back what was typed
    if isinstance(value, date) and value.day == 1:
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
