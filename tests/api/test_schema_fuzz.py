"""Property-based requests from the app's own OpenAPI document (schemathesis, in-process over ASGI), as an
administrator: no answer may be a server error or differ from the documented response schema.

Bounded: a few examples per operation, valid and invalid (about 300 in all). It runs on a database of its own, since the
fuzzer creates enterprises, users and factors with random names. Endpoints that would end or change its own
session (logout, password, TOTP) and the endless live stream are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.main import create_app
from tests.api.conftest import (
    ROOT,
    ROOT_PASSWORD,
    TEST_SETTINGS,
    _seed_access_data,
    ensure_root,
    login,
)
from tests.conftest import migrated_database

EXAMPLES_PER_OPERATION = 5
_LEFT_OUT = r"/auth/(logout|password|totp/)|/live/stream"


@pytest.fixture(scope="module")
def fuzz_database(postgres_server: str) -> Iterator[str]:
    """A migrated database with the access-test data, dropped afterwards."""
    with migrated_database(postgres_server, "cf_fuzz") as url:
        with psycopg.connect(url) as conn:
            _seed_access_data(conn)
        ensure_root(url)
        yield url


@pytest.fixture(scope="module")
def fuzz_admin(fuzz_database: str) -> dict[str, str]:
    """Bearer headers of an administrator's session on the fuzz database."""
    with TestClient(create_app(fuzz_database, settings=TEST_SETTINGS)) as client:
        return login(client, ROOT, ROOT_PASSWORD)


@pytest.fixture(scope="module")
def fuzz_app(fuzz_database: str) -> Iterator[FastAPI]:
    """The app schemathesis calls; it runs the app's lifespan itself, which is shut down here afterwards."""
    yield create_app(fuzz_database, settings=TEST_SETTINGS)
    shutdown_lifespans()


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation, read from an app that is never started."""
    document = create_app("postgresql://unused", settings=TEST_SETTINGS).openapi()
    return [(method.upper(), path) for path, methods in document["paths"].items() for method in methods
            if not re.search(_LEFT_OUT, path)]


# schemathesis's strategies touch `random`, which this hypothesis version warns about
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: str(v))
def test_no_server_errors_and_responses_match_the_schema(api_schema: schemathesis.schemas.BaseSchema,
                                                         fuzz_admin: dict, method: str, path: str) -> None:
    operation = api_schema[path][method]

    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def examples(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=fuzz_admin, checks=[not_a_server_error, response_schema_conformance])

    examples()
