"""`carbonflow inventory report`: the enterprise GHG report (PDF or XLSX, Chinese or English) of an
activity-data file, without a server.

    carbonflow inventory report --activity FILE --out REPORT.pdf|REPORT.xlsx --name NAME
        [--enterprise-id ID] [--region CN-HE] [--industry steel] [--credit-code CODE]
        [--series ndrc-steel-2013] [--lang zh|en]

The file is read as by `inventory compute` (one version, each row's origin is its file line); the
report is the one the API renders (`api.accounting.render`), dated by the file's modification time, so
the same file gives the same bytes. All rows must be of one calendar year.
"""

from __future__ import annotations

import argparse
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.accounting.render import render_pdf, render_xlsx
from carbon_domain.factors import FactorLibrary
from carbon_domain.reports.document import EnteredLine, Enterprise, build_document
from carbon_domain.reports.labels import LANGUAGES

__all__ = ["add_report_parser", "write_report"]


def add_report_parser(sub: Any, series_choices: tuple[str, ...]) -> None:
    """The `report` subcommand's arguments."""
    report = sub.add_parser("report", help="render the GHG report of an activity-data file as PDF or XLSX")
    report.add_argument("--activity", type=Path, required=True, help="activity data, .csv or .xlsx")
    report.add_argument("--out", type=Path, required=True, help="report to write, .pdf or .xlsx")
    report.add_argument("--name", required=True, help="the enterprise's name, as on its business licence")
    report.add_argument("--enterprise-id", default="enterprise", help="the enterprise's id in carbonflow")
    report.add_argument("--region", default="CN", help="region code, e.g. CN-HE (Hebei)")
    report.add_argument("--industry", default="steel", help="industry class (steel, cement, ...)")
    report.add_argument("--credit-code", default=None, help="unified social credit code (统一社会信用代码)")
    report.add_argument("--series", choices=series_choices, default=series_choices[0], help="fuel factor table")
    report.add_argument("--lang", choices=LANGUAGES, default="zh", help="report language (default zh)")
    report.add_argument("--force", action="store_true", help="overwrite an existing report")


def write_report(args: argparse.Namespace, rows: list[dict[str, Any]]) -> tuple[Path, dict[str, Any]]:
    """Render the report of `rows` (read from args.activity) to args.out; raises ReportError or ValueError
    saying what to fix."""
    suffix = args.out.suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        raise ValueError(f"report file must end in .pdf or .xlsx, got {args.out.name!r}")
    if args.out.exists() and not args.force:
        raise ValueError(f"{args.out} exists; pass --force to overwrite it")
    stamp = datetime.fromtimestamp(int(args.activity.stat().st_mtime), UTC)
    lines = [_entered(row, stamp) for row in rows]
    years = sorted({line.period[:4] for line in lines})
    if len(years) != 1:
        raise ValueError(f"a report covers one calendar year; {args.activity.name} has rows of {', '.join(years)}")
    enterprise = Enterprise(args.enterprise_id, args.name, args.region, args.industry, credit_code=args.credit_code)
    document = build_document(enterprise=enterprise, year=int(years[0]), month=None, entered=lines, metered=[],
                              library=FactorLibrary.default(), series=args.series)
    render = render_pdf if suffix == ".pdf" else render_xlsx
    args.out.write_bytes(render(document, args.lang))
    return args.out, document


def _entered(row: dict[str, Any], stamp: datetime) -> EnteredLine:
    try:
        quantity = float(row["quantity"])
    except (TypeError, ValueError):
        raise ValueError(f"line {row['line']}: quantity {row['quantity']!r} is not a number") from None
    if not math.isfinite(quantity):
        raise ValueError(f"line {row['line']}: quantity {row['quantity']!r} is not a finite number")
    return EnteredLine(1, stamp, int(row["line"]), str(row["period"]), str(row["process"]), str(row["source_type"]),
                       str(row["item"]), quantity, str(row["unit"]), str(row["direction"]), "measured")

