"""`carbonflow registry apply FILE`: enterprises and sites from the command line, audited."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from carbonflow.cli import main

REGISTRY = """\
enterprise_id: cli-steel
enterprise_name: 命令行钢铁
industry: steel
region: CN-ZJ-NB
sites:
  - {id: cli-steel-1, name: 一厂, province: zhejiang}
  - {id: cli-steel-2, name: 二厂, province: inner_mongolia, grid_region: northeast}
devices: []
"""


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    info = psycopg.conninfo.conninfo_to_dict(database_url)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
                                       f"{info.get('port', 5432)}/{info['dbname']}")


def test_registry_apply_creates_the_enterprise_and_its_sites_and_audits_it(
        tmp_path: Path, database_url: str, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    assert main(["registry", "apply", str(path)]) == 0
    assert "enterprise cli-steel: 2 sites and 0 devices applied" in capsys.readouterr().out
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT name, region FROM enterprises WHERE enterprise_id = 'cli-steel'").fetchone() == (
            "命令行钢铁", "CN-ZJ-NB")
        assert conn.execute("SELECT site_id, province, grid_region FROM sites WHERE enterprise_id = 'cli-steel'"
                            " ORDER BY site_id").fetchall() == [("cli-steel-1", "zhejiang", None),
                                                                ("cli-steel-2", "inner_mongolia", "northeast")]
        [(actor, action)] = conn.execute("SELECT actor, action FROM audit_log WHERE target = 'enterprise:cli-steel'"
                                         ).fetchall()
    assert actor.startswith("cli:") and action == "registry.apply"


def test_registry_apply_names_the_bad_field(tmp_path: Path, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(REGISTRY.replace("enterprise_name", "enterprise_title"), encoding="utf-8")
    assert main(["registry", "apply", str(path)]) == 1
    assert "enterprise_name" in capsys.readouterr().err
