"""A list of rows as a CSV or XLSX download: the one way the projects and assets services answer format=csv|xlsx."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

from fastapi import Response

__all__ = ["TableFormat", "table_response"]

TableFormat = Literal["json", "csv", "xlsx"]
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value


def table_response(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, fmt: Literal["csv", "xlsx"],
                   filename: str) -> Response:
    """`rows` (only `columns`, in that order, under a header row) as `filename`.csv or .xlsx."""
    table = [[_cell(row.get(c)) for c in columns] for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(table)
        body, media = out.getvalue().encode("utf-8"), "text/csv; charset=utf-8"
    else:
        from openpyxl import Workbook  # only when a spreadsheet is asked for

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = filename[:31]
        sheet.append(list(columns))
        for line in table:
            sheet.append(line)
        buffer = io.BytesIO()
        workbook.save(buffer)
        body, media = buffer.getvalue(), _XLSX
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})
