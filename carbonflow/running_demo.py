"""Where a running `carbonflow demo` can be reached, so that other commands find it without environment variables.

The demo writes `<CARBONFLOW_HOME>/running-demo.json` once its services are up and removes it when it stops:

    {"pid": 4242, "scenario": "demo", "DATABASE_URL": "postgresql://...", "MIGRATION_DATABASE_URL": "...",
     "KAFKA_BOOTSTRAP": "127.0.0.1:9092", "MQTT_URL": "mqtts://127.0.0.1:8883", "API_URL": "http://127.0.0.1:8000"}

`demo_environment` gives the variables a command should use when neither DATABASE_URL nor KAFKA_BOOTSTRAP is
set; a file left by a demo that is no longer running (its process is gone) is ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DEMO_FILE", "demo_environment", "forget_running_demo", "record_running_demo"]

DEMO_FILE = "running-demo.json"
_VARIABLES = ("DATABASE_URL", "MIGRATION_DATABASE_URL", "KAFKA_BOOTSTRAP", "MQTT_URL")


def record_running_demo(home: Path, *, scenario: str, endpoints: Mapping[str, str | None]) -> Path:
    """Write the running demo's endpoints (variable name -> value) for this process; readable by its owner only."""
    path = home / DEMO_FILE
    content = {"pid": os.getpid(), "scenario": scenario, **{k: v for k, v in endpoints.items() if v}}
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    return path


def forget_running_demo(home: Path) -> None:
    """Remove the file of the demo this process runs (not another process's)."""
    path = home / DEMO_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    return True


def demo_environment(home: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The variables to add for a command run while a demo is running under `home`: empty when DATABASE_URL or
    KAFKA_BOOTSTRAP is set (the environment wins), or when no demo is running there."""
    if env.get("DATABASE_URL") or env.get("KAFKA_BOOTSTRAP"):
        return {}
    try:
        content = json.loads((home / DEMO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(content, dict) or not _alive(content.get("pid")):
        return {}
    return {name: str(content[name]) for name in _VARIABLES if content.get(name) and not env.get(name)}
