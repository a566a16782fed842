"""No pipeline stage imports another stage, except the few documented crossings below.

The stages are the README diagram's deployables. What they share lives in
packages that are not stages: `carbon_domain` (pure: units, formulas, wire
schemas, payload protection), `device_profiles` (the profiles that drive the
edge agent, the simulators and the stream job alike) and `carbonflow` (the
shell: topics, database helpers, certificates, the CLI). Imports inside
functions count too: a lazy import still ties the two stages together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("edge_agent", "ingest", "stream_jobs", "api", "simulators")

# (importing file, imported module) -> why the crossing is there. Each one is a known debt or a deliberate
# reuse; a new crossing needs an entry here with its reason (or, better, the shared code moved to a shared package).
ALLOWED = {
    ("api/http_ingest/router.py", "ingest.validation"):
        "HTTP ingest is a second door of the ingest stage: it must refuse exactly what the MQTT bridge refuses",
    ("api/http_ingest/kafka_link.py", "ingest.kafka_out"):
        "HTTP ingest produces its records to Kafka with the bridge's producer settings and partitioning",
    ("api/http_ingest/kafka_link.py", "ingest.validation"):
        "HTTP ingest splits an envelope into device records exactly as the bridge does",
    ("api/http_ingest/router.py", "ingest.binding"):
        "HTTP ingest admits a gateway's devices by the bridge's binding rules (a gateway writes only its own devices)",
}


def _imports_of(package: str) -> set[tuple[str, str]]:
    """(file, module) for every absolute import in a package's source."""
    found = set()
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            found.update((path.relative_to(ROOT).as_posix(), module) for module in modules)
    return found


def _stage_imports(stage: str) -> set[tuple[str, str]]:
    """(file, module) for every import in a stage's source that names another stage."""
    return {(file, module) for file, module in _imports_of(stage)
            if module.split(".")[0] in STAGES and module.split(".")[0] != stage}


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_imports_no_other_stage_outside_the_documented_crossings(stage: str) -> None:
    crossings = _stage_imports(stage)
    undocumented = sorted(c for c in crossings if c not in ALLOWED)
    assert not undocumented, (
        f"{stage} imports another stage: {undocumented}; move the shared code to carbon_domain (pure) or "
        "carbonflow, or document the crossing in ALLOWED with its reason"
    )


def test_every_documented_crossing_still_exists() -> None:
    crossings = set().union(*(_stage_imports(stage) for stage in STAGES))
    stale = sorted(set(ALLOWED) - crossings)
    assert not stale, f"crossings no longer made, remove them from ALLOWED: {stale}"


def test_the_api_imports_no_cli_module() -> None:
    """The CLI and the API share code through exported modules (e.g. carbonflow.activity_file); the API never
    imports a command-line module, whose job is argv, exit codes and printing."""
    cli_imports = sorted(
        (file, module) for file, module in _imports_of("api")
        if module == "carbonflow.cli" or (module.startswith("carbonflow.") and module.endswith("_cli"))
    )
    assert not cli_imports, f"the API imports a CLI module: {cli_imports}; export the shared part from carbonflow"
