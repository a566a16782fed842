"""Which pg_dump / pg_restore a backup uses: the one of the server's major version, or a clear refusal."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from carbonflow.db.backup import PG_BIN_VARIABLE, BackupError, client_tool

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import pgserver

PGSERVER_BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"


def _major(tool: Path) -> int:
    import subprocess

    return int(subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=True)
               .stdout.split(")")[1].split(".")[0])


def test_the_embedded_servers_own_pg_dump_is_chosen_for_its_version() -> None:
    major = _major(PGSERVER_BIN / "pg_dump")
    chosen = client_tool("pg_dump", major)
    assert _major(chosen) == major


def test_a_client_of_another_major_version_is_refused_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = _major(PGSERVER_BIN / "pg_restore")
    monkeypatch.setenv(PG_BIN_VARIABLE, str(PGSERVER_BIN))
    with pytest.raises(BackupError) as refused:
        client_tool("pg_restore", bundled - 1)
    message = str(refused.value)
    assert f"pg_restore of PostgreSQL {bundled - 1}, the server's major version, is needed" in message
    assert f"found {PGSERVER_BIN / 'pg_restore'} ({bundled})" in message
    assert f"apt install postgresql-client-{bundled - 1}" in message


def test_no_client_at_all_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(PG_BIN_VARIABLE, str(tmp_path))
    with pytest.raises(BackupError, match="none found"):
        client_tool("pg_dump", 15)
