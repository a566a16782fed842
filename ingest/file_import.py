"""Manual readings from CSV/XLSX files (meters that are not connected) into the same pipeline.

Columns: device, point, timestamp (ISO-8601 with offset), value, unit, kind
(gauge or counter). Each row becomes a reading of the gateway `manual-import`
whose sequence number is derived from (device, point, timestamp), so importing
the same row twice stores it once. Rejected rows are reported with their line
number and reason; accepted rows go to Kafka like any gateway's readings.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from carbon_domain.schemas import IDENTIFIER_PATTERN, IDENTIFIER_RULE, Envelope, Reading
from carbonflow.tabular import TabularFileError, read_numbered_rows

__all__ = ["IMPORT_GATEWAY", "COLUMNS", "ImportPlan", "plan_import", "main"]

IMPORT_GATEWAY = "manual-import"
COLUMNS = ("device", "point", "timestamp", "value", "unit", "kind")
_BATCH = 1000


@dataclass(frozen=True)
class ImportPlan:
    envelopes: list[Envelope]
    accepted: int
    problems: list[tuple[int, str]]


def _sequence(device: str, point: str, ts: datetime) -> int:
    digest = hashlib.sha256(f"{device}\x1f{point}\x1f{ts.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # 63 bits: fits PostgreSQL bigint


def _timestamp(cell: Any, sheet_tz: timezone) -> datetime:
    if isinstance(cell, datetime):  # a date typed into a spreadsheet carries no zone: use the sheet's
        parsed = cell if cell.tzinfo else cell.replace(tzinfo=sheet_tz)
    else:
        parsed = datetime.fromisoformat(str(cell).strip())
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {cell} needs a UTC offset (e.g. 2026-11-01T00:00:00+08:00)")
    return parsed


def _reading(line: int, cells: list[Any], now: datetime, sheet_tz: timezone) -> Reading:
    values = dict(zip(COLUMNS, (c if not isinstance(c, str) else c.strip() for c in cells)))
    missing = [c for c in COLUMNS[:4] if values.get(c) in (None, "")]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    try:
        ts = _timestamp(values["timestamp"], sheet_tz)
    except ValueError as exc:
        raise ValueError(str(exc) if "UTC offset" in str(exc) else f"timestamp {values['timestamp']!r} is not ISO-8601") from exc
    cell = values["value"]
    try:
        if isinstance(cell, bool):  # a spreadsheet's TRUE is no reading (the wire takes no booleans either)
            raise TypeError(cell)
        value = float(cell)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"value {cell!r} is not a number") from exc
    if not math.isfinite(value):
        raise ValueError(f"value {cell!r} is not a finite number")
    device, point = str(values["device"]), str(values["point"])
    try:
        return Reading(seq=_sequence(device, point, ts), device=device, point=point, value=value,
                       unit=str(values.get("unit") or ""), kind=str(values.get("kind") or "gauge"),
                       source_ts=ts, gateway_ts=now)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        if first["type"] == "string_pattern_mismatch" and first.get("ctx", {}).get("pattern") == IDENTIFIER_PATTERN:
            raise ValueError(f"{field} {first['input']!r} is not an identifier: use {IDENTIFIER_RULE}") from exc
        raise ValueError(f"{field}: {first['msg']}") from exc


_CHINA = timezone(timedelta(hours=8))


def plan_import(path: Path, now: datetime | None = None, *, sheet_tz: timezone = _CHINA) -> ImportPlan:
    """Read and check a file; TabularFileError if it cannot be read at all.

    Text timestamps must carry an offset; spreadsheet date cells (which have none) are read in `sheet_tz`.
    """
    now = now or datetime.now(UTC)
    rows = read_numbered_rows(path, what="import file")
    problems: list[tuple[int, str]] = []
    if not rows:
        return ImportPlan([], 0, [(1, "the file is empty; see `carbonflow import --template FILE`")])
    header_line, header = rows[0]
    names = [str(c).strip().lower() if c is not None else "" for c in header]
    if tuple(names[: len(COLUMNS)]) != COLUMNS:
        return ImportPlan([], 0, [(header_line, f"header must be {','.join(COLUMNS)}; got {','.join(names)}")])
    readings: dict[int, Reading] = {}
    for line, cells in rows[1:]:
        if all(c in (None, "") for c in cells):
            continue
        try:
            reading = _reading(line, cells, now, sheet_tz)
        except ValueError as exc:
            problems.append((line, str(exc)))
            continue
        if reading.source_ts > now:
            problems.append((line, f"timestamp {reading.source_ts.isoformat()} is in the future"))
            continue
        readings[reading.seq] = reading
    ordered = sorted(readings.values(), key=lambda r: (r.device, r.point, r.source_ts))
    envelopes = []
    for i in range(0, len(ordered), _BATCH):
        chunk = ordered[i : i + _BATCH]
        seqs = [r.seq for r in chunk]
        envelopes.append(Envelope(gateway=IMPORT_GATEWAY, seq_first=min(seqs), seq_last=max(seqs), sent_at=now,
                                  backlog=True, readings=chunk))
    return ImportPlan(envelopes, len(ordered), problems)


async def _send(plan: ImportPlan, bootstrap: str, prefix: str) -> None:
    from ingest.bridge import ensure_topics
    from ingest.kafka_out import make_producer, send_envelope

    await ensure_topics(bootstrap, prefix)
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        received = datetime.now(UTC)
        for envelope in plan.envelopes:
            await asyncio.gather(*await send_envelope(producer, envelope, received, prefix))
    finally:
        await producer.stop()


def _write_template(path: Path) -> None:
    example = [
        ("dev-manual-1", "energy_import_kwh", "2026-09-01T00:00:00+08:00", "125000.0", "kWh", "counter"),
        ("dev-manual-1", "energy_import_kwh", "2026-10-01T00:00:00+08:00", "131250.5", "kWh", "counter"),
    ]
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(list(COLUMNS))
        for row in example:
            sheet.append(list(row))
        book.save(path)
    else:
        path.write_text(",".join(COLUMNS) + "\n" + "\n".join(",".join(r) for r in example) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """`carbonflow import FILE [--dry-run]` or `carbonflow import --template FILE`."""
    parser = argparse.ArgumentParser(prog="carbonflow import", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, nargs="?")
    parser.add_argument("--template", type=Path, help="write a template (.csv or .xlsx) and exit")
    parser.add_argument("--dry-run", action="store_true", help="check the file, send nothing")
    args = parser.parse_args(argv)
    if args.template:
        _write_template(args.template)
        print(f"template written to {args.template}")
        return 0
    if args.file is None:
        parser.error("give a FILE to import, or --template FILE")
    try:
        plan = plan_import(args.file)
    except TabularFileError as exc:
        print(f"carbonflow import: {exc}", file=sys.stderr)
        return 2
    for line, reason in plan.problems:
        print(f"{args.file}:{line}: rejected: {reason}", file=sys.stderr)
    if plan.accepted and not args.dry_run:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP")
        if not bootstrap:
            print("carbonflow import: set KAFKA_BOOTSTRAP (host:port) to send the accepted rows", file=sys.stderr)
            return 2
        asyncio.run(_send(plan, bootstrap, os.environ.get("CARBONFLOW_TOPIC_PREFIX", "carbonflow")))
    verb = "checked" if args.dry_run else "sent"
    print(f"{plan.accepted} rows {verb}, {len(plan.problems)} rejected")
    return 1 if plan.problems else 0
