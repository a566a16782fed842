"""Fixtures of the stream job tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import migrated_database


@pytest.fixture
def scratch_url(postgres_server: str) -> Iterator[str]:
    """A migrated database of the test's own, for work that reaches every point (compaction, retention)."""
    with migrated_database(postgres_server, "cf_scratch") as url:
        yield url
