"""Reading a CSV of settled electricity fees (结算电费): a header naming `month`, `amount_yuan` and one of
`energy_kwh` / `energy_mwh`, then one line per month. Each bad line is reported with its line number (the header
is line 1) and the others are kept, so that one typo never loses a year of bills.

    month,energy_kwh,amount_yuan
    2025-01,212150,84860
    2025-02,198400,79360.5
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = ["MAX_FEE_FILE_BYTES", "FeeFile", "FeeFileError", "FeeLine", "LineProblem", "read_fee_csv"]

MAX_FEE_FILE_BYTES = 1024 * 1024
_MAX = 1e12  # as schemas.FeeIn
_MONTH = re.compile(r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$")
_ENERGY_COLUMNS = {"energy_kwh": 1e-3, "energy_mwh": 1.0}  # column -> factor to MWh


class FeeFileError(ValueError):
    """The file as a whole cannot be read (encoding, header); the message says what to fix."""


@dataclass(frozen=True)
class FeeLine:
    line: int
    month: str  # YYYY-MM
    energy_mwh: float
    amount_yuan: float

    @property
    def first_day(self) -> date:
        return date(int(self.month[:4]), int(self.month[5:]), 1)


@dataclass(frozen=True)
class LineProblem:
    line: int
    problem: str


@dataclass(frozen=True)
class FeeFile:
    lines: list[FeeLine]
    problems: list[LineProblem]


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # spreadsheets in China often save CSV as GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FeeFileError("the file is neither UTF-8 nor GBK text; save it as CSV (UTF-8)")


def _number(raw: str, column: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"{column} {raw.strip()!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or value > _MAX:
        raise ValueError(f"{column} {raw.strip()} must be between 0 and {_MAX:.0e}")
    return value


def read_fee_csv(data: bytes) -> FeeFile:
    """The good lines and the problems of the bad ones; a later line of a month already read is refused."""
    rows = csv.reader(io.StringIO(_text(data)))
    try:
        return _read(rows)
    except csv.Error as exc:  # a field beyond the csv module's limit, an unclosed quote
        raise FeeFileError(f"line {rows.line_num}: {exc}; save the file as plain CSV") from exc


def _read(rows: Any) -> FeeFile:
    header = next(rows, None)
    names = [h.strip().lower() for h in header or []]
    energy = [c for c in _ENERGY_COLUMNS if c in names]
    missing = [c for c in ("month", "amount_yuan") if c not in names]
    if header is None or missing or len(energy) != 1:
        need = ", ".join(missing) if missing else "exactly one of energy_kwh or energy_mwh"
        raise FeeFileError(f"line 1 must be the header month,energy_kwh,amount_yuan (or energy_mwh); it lacks {need}")
    at = {name: names.index(name) for name in ("month", "amount_yuan", energy[0])}
    lines: list[FeeLine] = []
    problems: list[LineProblem] = []
    seen: dict[str, int] = {}
    for row in rows:
        number = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(names):
            problems.append(LineProblem(number, f"{len(row)} fields, the header has {len(names)}"))
            continue
        month = row[at["month"]].strip()
        try:
            if not _MONTH.match(month):
                raise ValueError(f"month {month!r} is not YYYY-MM")
            if month in seen:
                raise ValueError(f"month {month} is already on line {seen[month]}")
            mwh = _number(row[at[energy[0]]], energy[0]) * _ENERGY_COLUMNS[energy[0]]
            amount = _number(row[at["amount_yuan"]], "amount_yuan")
        except ValueError as exc:
            problems.append(LineProblem(number, str(exc)))
            continue
        seen[month] = number
        lines.append(FeeLine(number, month, mwh, amount))
    return FeeFile(lines, problems)
