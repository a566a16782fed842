"""Manual readings files: every bad row named by line, good rows planned once per (device, point, time)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from ingest.file_import import COLUMNS, IMPORT_GATEWAY, plan_import

NOW = datetime(2026, 11, 24, tzinfo=UTC)
GOOD = ["m1", "kwh", "2026-10-01T00:00:00+08:00", "100.5", "kWh", "counter"]


def _csv(tmp_path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    path = tmp_path / "import.csv"
    path.write_text("\n".join(",".join(r) for r in [header or list(COLUMNS), *rows]) + "\n")
    return path


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["m1", "kwh", "yesterday", "1", "kWh", "gauge"], "not ISO-8601"),
        (["m1", "kwh", "2026-10-01T00:00:00", "1", "kWh", "gauge"], "needs a UTC offset"),
        (["m1", "kwh", "2026-10-01T00:00:00Z", "lots", "kWh", "gauge"], "is not a number"),
        (["", "kwh", "2026-10-01T00:00:00Z", "1", "kWh", "gauge"], "missing device"),
        (["m1", "kwh", "2026-10-01T00:00:00Z", "1", "kWh", "meter"], "kind"),
        (["m1", "kwh", "2099-01-01T00:00:00Z", "1", "kWh", "gauge"], "in the future"),
        (["m1", "kwh", "2026-10-01T00:00:00Z", "nan", "kWh", "gauge"], "value 'nan' is not a finite number"),
        (["m1", "kwh", "2026-10-01T00:00:00Z", "-inf", "kWh", "gauge"], "value '-inf' is not a finite number"),
        (["m1", "kwh", "2026-10-01T00:00:00Z", "1e400", "kWh", "gauge"], "value '1e400' is not a finite number"),
        (["meter 1", "kwh", "2026-10-01T00:00:00Z", "1", "kWh", "gauge"], "device 'meter 1' is not an identifier"),
        (["m1", "kwh\x00", "2026-10-01T00:00:00Z", "1", "kWh", "gauge"], "point 'kwh\\x00' is not an identifier"),
        (["m1", "k" * 129, "2026-10-01T00:00:00Z", "1", "kWh", "gauge"], "is not an identifier: use 1 to 128"),
        (["m1", "kwh", "2026-10-01T00:00:00Z", "1", "k\x07Wh", "gauge"], "unit: String should match pattern"),
    ],
    ids=["bad-time", "naive-time", "bad-value", "no-device", "bad-kind", "future", "nan", "minus-infinity",
         "overflow", "device-with-space", "point-with-nul", "point-too-long", "unit-with-bell"],
)
def test_bad_row_is_reported_with_its_line_and_reason(tmp_path: Path, row: list[str], reason: str) -> None:
    plan = plan_import(_csv(tmp_path, [GOOD, row, GOOD[:3] + ["101", "kWh", "counter"]]), NOW)
    assert (plan.accepted, [(line, reason in text) for line, text in plan.problems]) == (1, [(3, True)])


def test_a_spreadsheet_boolean_is_refused_not_read_as_one(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append(["m1", "running", "2026-10-01T00:00:00+08:00", True, "", "gauge"])
    path = tmp_path / "import.xlsx"
    book.save(path)
    plan = plan_import(path, NOW)
    assert (plan.accepted, plan.problems) == (0, [(2, "value True is not a number")])


def test_wrong_header_names_the_expected_columns(tmp_path: Path) -> None:
    plan = plan_import(_csv(tmp_path, [GOOD], header=["meter", "point", "time", "value", "unit", "kind"]), NOW)
    assert "header must be device,point,timestamp,value,unit,kind" in plan.problems[0][1]


def test_the_same_reading_gets_the_same_sequence_number_in_every_import(tmp_path: Path) -> None:
    first = plan_import(_csv(tmp_path, [GOOD]), NOW).envelopes[0].readings[0]
    second = plan_import(_csv(tmp_path, [GOOD, GOOD[:2] + ["2026-10-02T00:00:00+08:00", "7", "kWh", "counter"]]),
                         NOW).envelopes[0]
    assert first.seq in {r.seq for r in second.readings} and second.gateway == IMPORT_GATEWAY


def test_xlsx_rows_are_read_with_spreadsheet_line_numbers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append(["m1", "kwh", datetime(2026, 10, 1, 8, 0), 5.0, "kWh", "counter"])
    sheet.append(["m1", "kwh", "not a time", 6.0, "kWh", "counter"])
    path = tmp_path / "import.xlsx"
    book.save(path)
    plan = plan_import(path, NOW)
    first = plan.envelopes[0].readings[0].source_ts
    assert (plan.accepted, [line for line, _ in plan.problems], first) == (
        1, [3], datetime(2026, 10, 1, 0, 0, tzinfo=UTC))
