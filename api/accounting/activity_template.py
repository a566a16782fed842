"""The activity-data upload template as CSV or XLSX bytes: the activity-file header, one example line per source
type, and (XLSX) a second sheet listing what may be entered, which the upload never reads."""

from __future__ import annotations

import csv
import io
from typing import Any

from carbon_domain.reports.entry import TEMPLATE_COLUMNS

__all__ = ["template_csv", "template_xlsx"]


def template_csv(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads it as UTF-8 (site names may be Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows([row[c] for c in TEMPLATE_COLUMNS] for row in rows)
    return ("\ufeff" + out.getvalue()).encode()


def template_xlsx(rows: list[dict[str, Any]], options: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "activity"
    sheet.append(list(TEMPLATE_COLUMNS))
    for row in rows:
        sheet.append([row[c] for c in TEMPLATE_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGH", (10, 16, 18, 14, 20, 12, 10, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    allowed = workbook.create_sheet("allowed")  # only the first sheet is read on upload
    allowed.append(["source_type", "item", "unit", "other units", "direction"])
    for source in options["source_types"]:
        for item in source["items"]:
            allowed.append([source["source_type"], item["item"], item["unit"], " ".join(item["units"][1:]),
                            "/".join(source["directions"])])
    allowed.append([])
    allowed.append(["process", *options["processes"]])
    for cell in allowed[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
