"""Backups with pg_dump (custom format) and restores with pg_restore, by client binaries of the server's version.

pg_dump refuses a server newer than itself, and pg_restore cannot read an archive written by a newer pg_dump,
so both tools are taken from the PostgreSQL installation whose major version is the server's: first
`CARBONFLOW_PG_BIN` when set, then the usual per-version directories, pgserver's bundled binaries and `PATH`.
A restore goes into an empty database, as its owner; the objects come back owned by the restoring role (the
owner of the two-role set-up, docs/database.md) and the application role's grants are made again by `migrate`.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = ["BackupError", "BackupResult", "RestoreResult", "backup_database", "restore_database", "client_tool",
           "default_backup_path", "PG_BIN_VARIABLE"]

PG_BIN_VARIABLE = "CARBONFLOW_PG_BIN"
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")
_ARCHIVE_SERVER = re.compile(r"Dumped from database version:\s*(\d+)")

Progress = Callable[[int, int, int], None]  # done, total, bytes of the archive so far


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says what to change."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    tables: int
    size: int
    seconds: float
    server_major: int


@dataclass(frozen=True)
class RestoreResult:
    items: int
    seconds: float
    archive_major: int
    server_major: int


def _candidate_dirs(major: int) -> list[Path]:
    explicit = os.environ.get(PG_BIN_VARIABLE)
    if explicit:
        return [Path(explicit)]
    dirs = [Path(f"/usr/lib/postgresql/{major}/bin"), Path(f"/usr/pgsql-{major}/bin"),
            Path(f"/opt/homebrew/opt/postgresql@{major}/bin"), Path(f"/usr/local/opt/postgresql@{major}/bin")]
    try:
        import pgserver  # the embedded server's own binaries

        dirs.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    dirs += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    return dirs


def _major_of(tool: Path) -> int | None:
    try:
        out = subprocess.run([str(tool), "--version"], check=False, capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(out)
    return int(match.group(1)) if match else None


def client_tool(name: str, major: int) -> Path:
    """The `name` (pg_dump, pg_restore) of PostgreSQL `major`, or BackupError listing what was found."""
    found: list[str] = []
    for directory in _candidate_dirs(major):
        tool = directory / name
        if not (tool.is_file() and os.access(tool, os.X_OK)):
            continue
        tool_major = _major_of(tool)
        if tool_major == major:
            return tool
        found.append(f"{tool} ({tool_major if tool_major is not None else 'unknown version'})")
    seen = "; found " + ", ".join(dict.fromkeys(found)) if found else "; none found"
    where = f" in {PG_BIN_VARIABLE}={os.environ[PG_BIN_VARIABLE]}" if os.environ.get(PG_BIN_VARIABLE) else ""
    raise BackupError(f"{name} of PostgreSQL {major}, the server's major version, is needed{where}{seen}. Install"
                      f" it (Debian: apt install postgresql-client-{major}) or set {PG_BIN_VARIABLE} to its bin"
                      " directory")


def _server_major(url: str) -> int:
    with psycopg.connect(url, connect_timeout=10) as conn:
        return conn.info.server_version // 10000


def _client_env(url: str) -> tuple[str, dict[str, str]]:
    """A conninfo for --dbname without the password, which goes to PGPASSWORD (not the process list)."""
    info = conninfo_to_dict(url)
    password = info.pop("password", None)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in info.items()}), env


def _run(argv: list[str], env: dict[str, str], counts: Callable[[str], bool], tick: Callable[[int], None]) -> None:
    """Run a pg tool with --verbose, calling `tick(n)` after each line `counts`; BackupError with its errors."""
    done, errors = 0, []
    with subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            if counts(line):
                done += 1
                tick(done)
            elif "error" in line or "FATAL" in line or "warning" in line.lower():
                errors.append(line.strip())
    if proc.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed (exit {proc.returncode}): " + " | ".join(errors[-8:]))


def backup_database(url: str, path: Path, *, progress: Progress | None = None) -> BackupResult:
    """Dump the database at `url` (its owner's URL) into `path`, custom format, written whole or not at all."""
    started = time.monotonic()
    major = _server_major(url)
    tool = client_tool("pg_dump", major)
    with psycopg.connect(url) as conn:
        counted = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
            " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
        ).fetchone()
        tables = int(counted[0]) if counted else 0
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    conninfo, env = _client_env(url)

    def tick(done: int) -> None:
        if progress is not None:
            progress(min(done, tables), tables, partial.stat().st_size if partial.exists() else 0)

    try:
        _run([str(tool), "--format=custom", "--verbose", f"--file={partial}", f"--dbname={conninfo}"], env,
             lambda line: "dumping contents of table" in line, tick)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    if progress is not None:
        progress(tables, tables, path.stat().st_size)
    return BackupResult(path, tables, path.stat().st_size, time.monotonic() - started, major)


def _archive_items(tool: Path, path: Path) -> tuple[int, int]:
    """(TOC entries, major version of the server the archive was dumped from)."""
    listing = subprocess.run([str(tool), "--list", str(path)], check=False, capture_output=True,
                             text=True)
    if listing.returncode != 0:
        raise BackupError(f"{path} is not a pg_dump custom-format archive {tool.name} can read:"
                          f" {listing.stderr.strip()}")
    source = _ARCHIVE_SERVER.search(listing.stdout)
    items = sum(1 for line in listing.stdout.splitlines() if line.strip() and not line.startswith(";"))
    return items, int(source.group(1)) if source else 0


def restore_database(url: str, path: Path, *, progress: Progress | None = None) -> RestoreResult:
    """Restore the archive `path` into the empty database at `url`, as the role of `url`, which then owns it all.

    The caller grants the application role its privileges again (migrate); they are not restored from the
    archive because the role may be named differently where the backup is restored."""
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    started = time.monotonic()
    major = _server_major(url)
    tool = client_tool("pg_restore", major)
    items, archive_major = _archive_items(tool, path)
    if archive_major > major:
        raise BackupError(f"{path} was dumped from PostgreSQL {archive_major}; this server is {major}: restore"
                          f" into a server of version {archive_major} or newer")
    with psycopg.connect(url) as conn:
        taken = conn.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL").fetchone()
    if taken and taken[0]:
        raise BackupError("the target database already holds carbonflow's tables: restore into a new, empty"
                          " database (createdb -O <owner> carbonflow_restored) and point the URLs at it")
    conninfo, env = _client_env(url)
    size = path.stat().st_size

    def tick(done: int) -> None:
        if progress is not None:
            progress(min(done, items), items, size)

    _run([str(tool), "--verbose", "--exit-on-error", "--no-owner", "--no-privileges", f"--dbname={conninfo}",
          str(path)], env, lambda line: line.startswith(("pg_restore: creating ", "pg_restore: processing data",
                                                         "pg_restore: executing ")), tick)
    tick(items)  # some entries (comments, skipped grants) print no line of their own
    return RestoreResult(items, time.monotonic() - started, archive_major, major)


def default_backup_path(home: Path) -> Path:
    """`<home>/backups/carbonflow-<UTC time>.dump`."""
    return home / "backups" / time.strftime("carbonflow-%Y%m%dT%H%M%SZ.dump", time.gmtime())

