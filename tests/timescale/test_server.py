"""When the TimescaleDB tier cannot run, it is skipped with the reason (or fails, when CI requires it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonflow import webbuild
from tests.timescale.server import start_server


def _no_node() -> webbuild.Node:
    raise webbuild.NodeMissing("none on PATH and the wheel could not be installed")


def test_the_tier_is_skipped_saying_so_when_there_is_no_node(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CARBONFLOW_REQUIRE_TIMESCALE", raising=False)
    monkeypatch.setattr(webbuild, "find_node", _no_node)
    with (pytest.raises(pytest.skip.Exception, match="TimescaleDB tier not run: no Node.js .* none on PATH"),
          start_server(tmp_path / "server.log")):
        pass


def test_the_skip_is_a_failure_when_ci_requires_the_tier(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CARBONFLOW_REQUIRE_TIMESCALE", "1")
    monkeypatch.setattr(webbuild, "find_node", _no_node)
    with (pytest.raises(pytest.fail.Exception, match="TimescaleDB tier not run: .*CARBONFLOW_REQUIRE_TIMESCALE=1"),
          start_server(tmp_path / "server.log")):
        pass
