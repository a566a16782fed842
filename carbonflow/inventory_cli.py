"""`carbonflow inventory`: a GHG inventory from an activity-data file (CSV or XLSX).

    carbonflow inventory compute --activity FILE [--series ndrc-steel-2013|general-industry]
        [--grid-series enterprise|province|national|carbon-market] [--province P] [--grid-region R] [--json]
    carbonflow inventory template --out FILE.xlsx|FILE.csv
    carbonflow inventory report --activity FILE --out REPORT.pdf|.xlsx --name NAME [--lang zh|en] (see inventory_report)

The file has one header row (`period,process,source_type,item,quantity,unit,direction`,
any order, plus an optional `site` column) and one activity line per row; the accounting is
`carbon_domain.inventory.compute_inventory`. Every bad row is reported with its
line number and reason, and then nothing is computed (exit code 1).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from carbon_domain.errors import DomainError
from carbon_domain.factors import FactorLibrary
from carbon_domain.grid import DEFAULT_GRID_SERIES, GridLocation, GridSeries
from carbon_domain.inventory import (
    ActivityDataError,
    Inventory,
    SourceType,
    compute_inventory,
)
from carbon_domain.reports.errors import ReportError
from carbonflow.activity_file import COLUMNS, ActivityFileError, read_activity_file
from carbonflow.inventory_report import add_report_parser, write_report

__all__ = ["FUEL_SERIES", "inventory_json", "main", "write_template"]

FUEL_SERIES = ("ndrc-steel-2013", "general-industry")

_EXAMPLE_ROWS: tuple[tuple[str, str, str, str, float, str, str], ...] = (
    ("2025-01", "sintering", "combustion", "coke", 12_000, "t", "in"),
    ("2025-01", "sintering", "process", "limestone", 25_000, "t", "in"),
    ("2025-01", "ironmaking", "combustion", "blast_furnace_gas", 12_000, "1e4Nm3", "in"),
    ("2025-01", "rolling", "combustion", "natural_gas", 2_500_000, "Nm3", "in"),
    ("2025-01", "steelmaking_eaf", "process", "electrode", 60, "t", "in"),
    ("2025-01", "steelmaking_eaf", "electricity", "grid", 12_500_000, "kWh", "in"),
    ("2025-01", "auxiliary", "electricity", "grid", 4_000, "MWh", "out"),
    ("2025-01", "auxiliary", "heat", "heat", 20_000, "GJ", "in"),
    ("2025-01", "steelmaking_bof", "fixed_carbon", "crude_steel", 220_000, "t", "out"),
)

_NOTES = (
    ("column", "meaning"),
    ("period", "YYYY-MM (a month) or YYYY (a year)"),
    ("process", "sintering, pelletising, coking, ironmaking, steelmaking_bof, steelmaking_eaf, rolling, auxiliary, ..."),
    ("source_type", "combustion, process, electricity, heat or fixed_carbon"),
    ("item", "fuel, material or product (natural_gas, coke, limestone, electrode, crude_steel); grid / heat"),
    ("quantity", "amount >= 0 in the unit of the next column"),
    ("unit", "t, kg, kt, Nm3, 1e4Nm3, kWh, MWh, GJ, MJ, ..."),
    ("direction", "in = consumed or purchased, out = exported or output"),
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `carbonflow inventory ...` (argv without the word "inventory"); return the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else 2
    if args.command == "template":
        return _template(args.out, force=args.force)
    if args.command == "report":
        return _report(args)
    location = GridLocation(province=args.province, grid_region=args.grid_region)
    return _compute(args.activity, series=args.series, as_json=args.json, jump_threshold=args.jump_threshold,
                    grid_series=GridSeries(args.grid_series), location=location)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carbonflow inventory", description="Offline GHG inventory (GB/T 32150, 32151.5)")
    sub = parser.add_subparsers(dest="command", required=True)
    compute = sub.add_parser("compute", help="compute the inventory of an activity-data file")
    compute.add_argument("--activity", type=Path, required=True, help="activity data, .csv or .xlsx")
    compute.add_argument("--series", choices=FUEL_SERIES, default=FUEL_SERIES[0], help="fuel factor table")
    compute.add_argument(
        "--grid-series", choices=[s.value for s in GridSeries], default=DEFAULT_GRID_SERIES.value,
        help="electricity factor: enterprise (default: enterprise-specific, else province, else regional grid, "
             "else national average), province, national (average of the data year) or carbon-market")
    compute.add_argument("--province", help="the works' province (e.g. zhejiang): its provincial grid factor")
    compute.add_argument("--grid-region", help="the works' regional grid (north, east, ...) when not its province's")
    compute.add_argument("--json", action="store_true", help="print JSON instead of a table")
    compute.add_argument(
        "--jump-threshold", type=float, default=0.30, help="month-on-month change reported as a finding (0.30 = 30 %%)"
    )
    template = sub.add_parser("template", help="write an activity-data template with example rows")
    template.add_argument("--out", type=Path, required=True, help="file to write, .xlsx or .csv")
    template.add_argument("--force", action="store_true", help="overwrite an existing file")
    add_report_parser(sub, FUEL_SERIES)
    return parser


def _compute(path: Path, *, series: str, as_json: bool, jump_threshold: float, grid_series: GridSeries,
             location: GridLocation) -> int:
    try:
        rows, problems = read_activity_file(path)
    except ActivityFileError as exc:
        print(f"carbonflow inventory: {exc}", file=sys.stderr)
        return 1
    try:
        inventory = compute_inventory(
            rows, FactorLibrary.default(), series=series, jump_threshold=jump_threshold, grid_series=grid_series,
            location=location,
        )
    except ActivityDataError as exc:
        problems = [*problems, *exc.problems]
    except DomainError as exc:  # an option the domain refuses (e.g. --jump-threshold 0)
        print(f"carbonflow inventory: {exc}", file=sys.stderr)
        return 2
    if problems:
        for problem in sorted(problems):
            print(f"{path} line {problem.line}: {problem.reason}", file=sys.stderr)
        print(f"carbonflow inventory: {len(problems)} bad rows in {path}; nothing computed", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps(inventory_json(inventory), indent=2, ensure_ascii=False))
    else:
        print(_table(inventory, path))
    return 0


def _report(args: argparse.Namespace) -> int:
    try:
        rows, problems = read_activity_file(args.activity)
    except ActivityFileError as exc:
        print(f"carbonflow inventory: {exc}", file=sys.stderr)
        return 1
    if problems:
        for problem in sorted(problems):
            print(f"{args.activity} line {problem.line}: {problem.reason}", file=sys.stderr)
        print(f"carbonflow inventory: {len(problems)} bad rows in {args.activity}; no report written", file=sys.stderr)
        return 1
    try:
        out, document = write_report(args, rows)
    except (ReportError, ValueError, OSError) as exc:
        print(f"carbonflow inventory: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({args.lang}, {len(document['lines'])} lines, total {document['total_tco2']:,.1f} tCO2)")
    return 0


# --- output ----------------------------------------------------------------------------------


def _tonnes(value: float) -> float:
    return round(value, 1) + 0.0  # + 0.0 turns -0.0 into 0.0


def inventory_json(inventory: Inventory) -> dict[str, Any]:
    """The JSON document of `compute --json`: totals by source and total_tco2 (0.1 t), breakdowns, lines, findings."""
    document: dict[str, Any] = {source.value: _tonnes(inventory.by_source[source]) for source in SourceType}
    document["total_tco2"] = _tonnes(inventory.total_tco2)
    document["grid_series"] = inventory.grid_series
    document["by_process"] = {name: _tonnes(value) for name, value in inventory.by_process.items()}
    document["by_period"] = {name: _tonnes(value) for name, value in inventory.by_period.items()}
    document["lines"] = [
        {
            **line.model_dump(mode="json", include={"line", "period", "process", "source_type", "item", "direction"}),
            "quantity": line.quantity,
            "unit": line.unit,
            "tco2": _tonnes(line.tco2),
            "factor_ids": list(line.factor_ids),
            "formula": line.formula,
            **({"site": line.site} if line.site else {}),
            **({"factor_reason": line.factor_reason} if line.factor_reason else {}),
        }
        for line in inventory.lines
    ]
    document["findings"] = [finding.model_dump(mode="json") for finding in inventory.findings]
    return document


def _table(inventory: Inventory, path: Path) -> str:
    sources = [(source.value, inventory.by_source[source]) for source in SourceType]
    sections = [
        ("By source (tCO2)", [*sources, ("total_tco2", inventory.total_tco2)]),
        ("By process (tCO2)", list(inventory.by_process.items())),
        ("By period (tCO2)", list(inventory.by_period.items())),
    ]
    width = max(len(label) for _, rows in sections for label, _ in rows)
    digits = max(len(f"{value:,.1f}") for _, rows in sections for _, value in rows)
    heading = (
        f"Inventory of {path.name}: {len(inventory.lines)} lines, fuel series {inventory.series}, "
        f"grid {inventory.grid_series}, heat {inventory.heat_series}"
    )
    out = [heading, "E = combustion + process + electricity + heat + fixed_carbon (signed: exports and fixed carbon are negative)"]
    for title, rows in sections:
        out += ["", title]
        out += [f"  {label:<{width}}  {_tonnes(value):>{digits},.1f}" for label, value in rows]
    reasons = sorted({(line.factor_ids[0], line.factor_reason) for line in inventory.lines if line.factor_reason})
    out += ["", "Electricity factor"]
    out += [f"  {factor_id}: {reason}" for factor_id, reason in reasons] or ["  no electricity lines"]
    out += ["", f"Findings ({len(inventory.findings)})"]
    out += [f"  - [{finding.code.value}] {finding.message}" for finding in inventory.findings] or ["  none"]
    return "\n".join(out)


# --- template --------------------------------------------------------------------------------


def write_template(path: Path) -> None:
    """Write an activity-data template (header and example rows) as .xlsx or .csv, by the suffix of `path`."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(_EXAMPLE_ROWS)
    elif suffix == ".xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None  # a new workbook always has one sheet
        sheet.title = "activity"
        sheet.append(COLUMNS)
        for row in _EXAMPLE_ROWS:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for letter, width in zip("ABCDEFG", (10, 18, 14, 20, 12, 10, 10), strict=True):
            sheet.column_dimensions[letter].width = width
        notes = workbook.create_sheet("notes")  # read only from the first sheet, so notes never count
        for note in _NOTES:
            notes.append(note)
        workbook.save(path)
    else:
        raise ValueError(f"template file must end in .xlsx or .csv, got {path.name!r}")


def _template(path: Path, *, force: bool) -> int:
    if path.exists() and not force:
        print(f"carbonflow inventory: {path} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    try:
        write_template(path)
    except (OSError, ValueError) as exc:
        print(f"carbonflow inventory: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({len(_EXAMPLE_ROWS)} example rows; columns {','.join(COLUMNS)})")
    return 0
