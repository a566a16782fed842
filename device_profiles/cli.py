"""``carbonflow profiles`` command: validate profile files, show a register map.

carbonflow profiles validate [PATH|NAME...]   (directories recurse; none: the library)
carbonflow profiles show NAME|PATH
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .errors import ProfileError
from .loader import library_names, load_profile
from .schema import DeviceProfile, ModbusPoint, OpcUaPoint, Protocol

__all__ = ["main", "render_profile"]

_SUFFIXES = (".yaml", ".yml")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``profiles`` with ``argv`` (without the word "profiles"); return the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    if args.command == "validate":
        return _validate(args.paths, sys.stdout, sys.stderr)
    return _show(args.profile, sys.stdout, sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carbonflow profiles", description="Device profiles."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate", help="validate profile files or directories"
    )
    validate.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files or directories (default: the library)",
    )
    show = commands.add_parser("show", help="print a profile's register or tag map")
    show.add_argument(
        "profile", help='library name such as "cf-demo/pm3-meter", or a file'
    )
    return parser


def _validate(paths: list[Path], out: TextIO, err: TextIO) -> int:
    sources: list[str | Path] = list(library_names()) if not paths else []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix in _SUFFIXES
            )
            if not found:
                problems.append(f"{path}: no profiles (*.yaml, *.yml) found")
            sources += found
        elif not path.exists() and str(path) in library_names():
            sources.append(str(path))  # a library name such as cf-demo/pm3-meter
        else:
            sources.append(path)
    failed = 0
    for source in sources:
        try:
            load_profile(source)
        except ProfileError as exc:
            failed += 1
            problems.append(str(exc))
    for problem in problems:
        print(problem, file=err)
    if problems:
        print(f"{failed} of {len(sources)} profiles invalid", file=err)
        return 1
    print(f"{len(sources)} profiles valid", file=out)
    return 0


def _show(name: str, out: TextIO, err: TextIO) -> int:
    try:
        profile = load_profile(name)
    except ProfileError as exc:
        print(exc, file=err)
        return 1
    out.write(render_profile(profile))
    return 0


def render_profile(profile: DeviceProfile) -> str:
    """A profile's header and point map as aligned text."""
    lines = [
        f"{profile.name} v{profile.version} ({profile.protocol})",
        f"  {' '.join(profile.description.split())}",
        f"  follows: {profile.follows}",
    ]
    if profile.protocol is Protocol.MODBUS:
        lines.append(
            f"  unit {profile.unit_id}, addresses {profile.address_base}-based, "
            f"default order {profile.default_order}"
        )
        rows = [_modbus_row(profile, point) for point in profile.modbus_points]
        header: tuple[str, ...] = (
            "point",
            "table",
            "addr",
            "proto",
            "unit_id",
            "type",
            "order",
            "regs",
            "scale",
            "offset",
            "eng",
            "kind",
            "poll_s",
        )
    else:
        if profile.namespace_uri:
            lines.append(f"  namespace {profile.namespace_uri}")
        rows = [_opcua_row(point) for point in profile.opcua_points]
        header = ("point", "node_id", "type", "eng", "kind", "mode", "sample_s")
    lines += ["", *_table(header, rows)]
    enumerated = [point for point in profile.points if point.states]
    if enumerated:
        lines.append("")
    for point in enumerated:
        labels = sorted((point.states or {}).items())
        states = ", ".join(f"{code}={label}" for code, label in labels)
        lines.append(f"  {point.name} states: {states}")
    return "\n".join(lines) + "\n"


def _modbus_row(profile: DeviceProfile, point: ModbusPoint) -> tuple[str, ...]:
    return (
        point.name,
        str(point.table),
        str(point.address),
        str(profile.zero_based_address(point)),
        str(point.unit_id),
        str(point.data_type),
        str(point.order or profile.default_order),
        str(point.width),
        f"{point.scale:g}",
        f"{point.offset:g}",
        point.unit or "-",
        str(point.kind),
        f"{point.poll_interval_s:g}",
    )


def _opcua_row(point: OpcUaPoint) -> tuple[str, ...]:
    return (
        point.name,
        point.node_id,
        str(point.data_type),
        point.unit or "-",
        str(point.kind),
        str(point.mode),
        f"{point.sampling_interval_s:g}",
    )


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    rule = tuple("-" * width for width in widths)
    return [
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in (header, rule, *rows)
    ]
