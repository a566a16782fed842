"""Fixtures of the stream job tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from carbonflow.db.migrate import migrate


@pytest.fixture
def scratch_url(postgres_server: str) -> Iterator[str]:
    """A migrated database of the test's own, for work that reaches every point (compaction, retention)."""
    name = f"cf_scratch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(postgres_server)
    url = psycopg.conninfo.make_conninfo(**{**info, "dbname": name})
    with psycopg.connect(url) as conn:
        migrate(conn)
    yield url
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
