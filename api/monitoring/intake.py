"""Turning an uploaded file or pushed figures into stored monitoring figures, one way for every source.

`read_upload` gives the (line, cells) rows of a CSV/XLSX upload; `take_in` checks the lines against the
registry and the caller's scope (units outside it, or registered in another region or industry, are line
problems), registers the units a file introduces, computes tCO2 and tce and stores the figures. With problems
and without `take_valid`, nothing is stored.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from api.accounting.queries import load_library
from api.monitoring import queries
from carbon_domain.monitoring import (
    ENERGY_TYPES,
    TEMPLATE_COLUMNS,
    EnergyType,
    FigureCalculator,
    FigureLine,
    Industry,
    IndustryTable,
    LineProblem,
    Region,
    RegionTree,
)
from carbonflow.tabular import TabularFileError, read_numbered_rows

__all__ = ["MAX_UPLOAD_BYTES", "Intake", "UploadError", "digest_of", "read_upload", "registries", "take_in",
           "template_csv"]

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
_ENERGY_ITEMS = frozenset(kind.value for kind in EnergyType)


class UploadError(ValueError):
    """The upload cannot be read as a figure file; the message says why (answered 415/422)."""


@dataclass
class Intake:
    read: int = 0
    stored: int = 0
    same: int = 0
    problems: list[LineProblem] = field(default_factory=list)
    units_created: list[str] = field(default_factory=list)
    batch_id: int | None = None

    @property
    def refused(self) -> int:
        return len({p.line for p in self.problems})

    def as_dict(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "rows_read": self.read, "stored": self.stored, "unchanged": self.same,
                "refused": self.refused, "units_created": self.units_created,
                "errors": [{"line": p.line, "field": p.field, "reason": p.reason} for p in self.problems]}


def template_csv() -> str:
    """The import template: the header and one example line per energy type and value added."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TEMPLATE_COLUMNS)
    example = ["91350100M000100Y43", "Example Co. (the standard's sample code)", "330502", "301", "2025-01"]
    for kind in EnergyType:
        writer.writerow([*example, kind.value, "0", ENERGY_TYPES[kind].unit])
    writer.writerow([*example, "value_added", "0", "1e4CNY"])
    return out.getvalue()


def read_upload(name: str, data: bytes) -> list[tuple[int, list[Any]]]:
    """(line, cells) of an uploaded .csv or .xlsx file."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise UploadError(f"a figure file is .csv or .xlsx, got {name or 'a file without a name'!r}")
    with tempfile.TemporaryDirectory(prefix="cf-monitoring-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            return read_numbered_rows(path, what="figure file")
        except TabularFileError as exc:
            raise UploadError(str(exc).replace(str(path), name)) from exc


async def take_in(conn: psycopg.AsyncConnection, *, lines: Sequence[FigureLine], problems: list[LineProblem],
                  read: int, scope: queries.UnitScope, may_register: bool, take_valid: bool, source: str,
                  origin: str, digest: str | None, by: str) -> Intake:
    """Check `lines` against the registry and scope, then store them (in one transaction) unless there are
    problems and not `take_valid`."""
    result = Intake(read=read, problems=list(problems))
    known = await queries.units_by_credit_code(conn, codes={line.credit_code for line in lines})
    accepted: list[FigureLine] = []
    to_register: dict[str, FigureLine] = {}
    for line in lines:
        problem = _unit_problem(line, known.get(line.credit_code), scope, may_register)
        if problem is not None:
            result.problems.append(LineProblem(line.line, *problem))
            continue
        if line.credit_code not in known:
            to_register.setdefault(line.credit_code, line)
        accepted.append(line)
    result.problems.sort(key=lambda p: p.line)
    if (result.problems and not take_valid) or not accepted:  # refused as a whole, or nothing to store: no batch
        return result
    calculator = FigureCalculator(await load_library(conn))
    async with conn.transaction():
        for code, line in to_register.items():
            unit = await queries.create_unit(conn, fields={
                "credit_code": code, "name": line.unit_name, "region_code": line.region_code,
                "industry_code": line.industry_code})
            known[code] = unit
            result.units_created.append(code)
        figures = []
        for line in accepted:
            tco2 = tce = None
            factor_ids: tuple[str, ...] = ()
            if line.item in _ENERGY_ITEMS:
                computed = calculator.energy(line.item, line.quantity, line.month)
                tco2, tce, factor_ids = computed.tco2, computed.tce, computed.factor_ids
            figures.append((known[line.credit_code]["unit_id"], line.month, line.item, line.quantity, line.unit,
                            tco2, tce, factor_ids))
        result.batch_id = await queries.create_batch(conn, source=source, origin=origin, sha256=digest, by=by)
        result.stored = await queries.store_figures(conn, figures=figures, source=source,
                                                    batch_id=result.batch_id, by=by)
        result.same = len(figures) - result.stored
        await queries.finish_batch(conn, batch_id=result.batch_id, read=read, stored=result.stored,
                                   same=result.same, refused=result.refused)
    return result


def _unit_problem(line: FigureLine, unit: dict[str, Any] | None, scope: queries.UnitScope,
                  may_register: bool) -> tuple[str, str] | None:
    if unit is None:
        if not (line.unit_name and line.region_code and line.industry_code):
            return ("credit_code", (f"unit {line.credit_code} is not registered; give unit_name, region_code and "
                                    "industry_code to register it, or register it first"))
        if not may_register or not scope.covers_region(line.region_code):
            return ("region_code", f"you may not register unit {line.credit_code} in region {line.region_code}")
        return None
    if not scope.all and not (scope.covers_region(unit["region_code"]) or unit["enterprise_id"] in scope.enterprises):
        return ("credit_code", f"unit {line.credit_code} is outside what you may report for")
    for column in ("region_code", "industry_code"):
        given = getattr(line, column)
        if given and given != str(unit[column]).strip():
            return (column, (f"unit {line.credit_code} is registered with {column} {unit[column]}, the line says "
                             f"{given}; correct the unit's registration first"))
    return None


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def registries(conn: psycopg.AsyncConnection) -> tuple[RegionTree, IndustryTable]:
    """The region tree and industry classes as stored (the packaged ones plus any loaded code list)."""
    regions = RegionTree(Region(code=r["code"], name=r["name"], level=r["level"], parent=r["parent_code"],
                                name_en=r["name_en"], label=r["label"]) for r in await queries.list_regions(conn))
    industries = IndustryTable(Industry(code=c["code"], level=c["level"], parent=c["parent_code"], name=c["name"],
                                        name_en=c["name_en"], high_energy=c["high_energy"])
                               for c in await queries.list_industries(conn))
    return regions, industries
