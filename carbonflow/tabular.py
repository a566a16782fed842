"""Reading the rows of a CSV or XLSX file with their line numbers (for imports and activity files)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

__all__ = ["TabularFileError", "read_numbered_rows"]


class TabularFileError(Exception):
    """The file cannot be read as CSV or XLSX; the message names the file and the problem."""


def read_numbered_rows(path: Path, *, what: str = "file") -> list[tuple[int, list[Any]]]:
    """(line number, cells) of every row; CSV lines starting with '#' are comments and skipped."""
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise TabularFileError(f"{path}: an {what} is .csv or .xlsx, got {suffix or 'no extension'!r}")
    if not path.is_file():
        raise TabularFileError(f"{path}: no such file")
    return _csv_rows(path) if suffix == ".csv" else _xlsx_rows(path)


def _csv_rows(path: Path) -> list[tuple[int, list[Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a byte-order mark
    except (OSError, UnicodeDecodeError) as exc:
        raise TabularFileError(f"{path}: cannot read as UTF-8 CSV: {exc}") from exc
    reader = csv.reader(io.StringIO(text))
    rows, end = [], 0
    for cells in reader:
        start, end = end + 1, reader.line_num
        if cells and not cells[0].lstrip().startswith("#"):
            rows.append((start, list(cells)))
    return rows


def _xlsx_rows(path: Path) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, InvalidFileException) as exc:
        raise TabularFileError(f"{path}: cannot read as XLSX: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        return [(number, list(cells)) for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()
