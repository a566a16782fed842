"""Commands find a running demo's database and Kafka through <CARBONFLOW_HOME>/running-demo.json
(carbonflow/running_demo.py) when DATABASE_URL and KAFKA_BOOTSTRAP are unset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from carbonflow.running_demo import DEMO_FILE, demo_environment, forget_running_demo, record_running_demo

_ENDPOINTS = {"DATABASE_URL": "postgresql://app@/demo", "MIGRATION_DATABASE_URL": "postgresql://owner@/demo",
              "KAFKA_BOOTSTRAP": "127.0.0.1:9092", "MQTT_URL": "mqtts://127.0.0.1:8883", "API_URL": "http://x"}


def test_running_demo_gives_its_endpoints_to_commands_without_database_url_or_kafka(tmp_path: Path) -> None:
    record_running_demo(tmp_path, scenario="steelworks", endpoints=_ENDPOINTS)
    found = demo_environment(tmp_path, {"PATH": "/bin"})
    assert found == {k: v for k, v in _ENDPOINTS.items() if k != "API_URL"}
    assert (tmp_path / DEMO_FILE).stat().st_mode & 0o077 == 0


def test_the_environment_wins_over_a_running_demo(tmp_path: Path) -> None:
    record_running_demo(tmp_path, scenario="demo", endpoints=_ENDPOINTS)
    assert demo_environment(tmp_path, {"DATABASE_URL": "postgresql://elsewhere/db"}) == {}
    assert demo_environment(tmp_path, {"KAFKA_BOOTSTRAP": "kafka:9092"}) == {}


def test_a_file_left_by_a_demo_that_is_gone_is_ignored(tmp_path: Path) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    (tmp_path / DEMO_FILE).write_text(json.dumps({"pid": int(ended.stdout), **_ENDPOINTS}))
    assert demo_environment(tmp_path, {}) == {}


def test_stopping_the_demo_removes_its_file(tmp_path: Path) -> None:
    record_running_demo(tmp_path, scenario="demo", endpoints=_ENDPOINTS)
    forget_running_demo(tmp_path)
    assert not (tmp_path / DEMO_FILE).exists()


def test_gateways_list_finds_the_running_demos_database(tmp_path: Path, database_url: str) -> None:
    gateway = f"rd-{uuid.uuid4().hex[:6]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO gateways (gateway_id, status) VALUES (%s, 'active')", (gateway,))
    parts = conninfo_to_dict(database_url)
    url = f"postgresql://{parts['user']}@{parts['host']}:{parts['port']}/{parts['dbname']}"
    # this test's process stands in for the running demo
    record_running_demo(tmp_path, scenario="demo", endpoints={"DATABASE_URL": url,
                                                              "KAFKA_BOOTSTRAP": "127.0.0.1:9"})
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MIGRATION_DATABASE_URL",
                                                            "KAFKA_BOOTSTRAP")}
    listed = subprocess.run([sys.executable, "-m", "carbonflow.cli", "gateways", "list"], check=False,
                            capture_output=True, text=True, env={**env, "CARBONFLOW_HOME": str(tmp_path)}, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert gateway in listed.stdout
    assert "using the running demo's database" in listed.stderr
