"""GET /metrics of the API: who may read it, request latency by route template, authentication failures, and the
workers' heartbeats in GET /health, and multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Gauge, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_app
from tests.api.conftest import TEST_SETTINGS
from tests.conftest import free_port


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _value(text: str, name: str, **labels: str) -> float:
    wanted = tuple(sorted(labels.items()))
    return next((v for (n, ls), v in _samples(text).items() if n == name and ls == wanted), 0.0)


@pytest.fixture(scope="module")
def client(api_app_client: TestClient, admin_headers: dict[str, str]) -> TestClient:
    """The API client with a scraper's machine token (scope 'health') in its headers."""
    answer = api_app_client.post("/api/v1/auth/tokens", headers=admin_headers,
                                 json={"name": "prometheus", "scopes": ["health"]})
    assert answer.status_code == 201, answer.text
    return TestClient(api_app_client.app, headers={"Authorization": f"Bearer {answer.json()['token']}"})


def _scrape(client: TestClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    return response.text


def test_metrics_are_refused_to_anonymous_callers_and_to_roles_without_the_health_permission(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]],
) -> None:
    anonymous = api_app_client.get("/metrics")
    auditor = api_app_client.get("/metrics", headers=role_headers["auditor"])
    technician = api_app_client.get("/metrics", headers=role_headers["technician"])
    assert (anonymous.status_code, auditor.status_code, technician.status_code) == (401, 403, 200)


def test_metrics_answer_a_machine_token_with_the_health_scope(client: TestClient) -> None:
    assert "carbonflow_api_request_seconds" in _scrape(client)


def test_request_latency_is_labelled_by_route_template_not_raw_path(client: TestClient) -> None:
    route = "/api/v1/devices/{device_id}"
    before = _value(_scrape(client), "carbonflow_api_request_seconds_count", method="GET", route=route, status="401")
    for device in ("a-1", "b-2", "c-3"):
        client.get(f"/api/v1/devices/{device}", headers={"Authorization": ""})
    text = _scrape(client)
    assert _value(text, "carbonflow_api_request_seconds_count", method="GET", route=route, status="401") == before + 3
    assert not any("a-1" in dict(labels).get("route", "") for _, labels in _samples(text))


def test_unknown_paths_share_one_unmatched_label(client: TestClient) -> None:
    before = _value(_scrape(client), "carbonflow_api_request_seconds_count", method="GET", route="unmatched",
                    status="404")
    client.get("/api/v1/no-such-thing/1")
    client.get("/api/v1/no-such-thing/2")
    after = _value(_scrape(client), "carbonflow_api_request_seconds_count", method="GET", route="unmatched",
                   status="404")
    assert after == before + 2


def test_failed_logins_and_missing_credentials_count_as_authentication_failures(client: TestClient) -> None:
    login_route = "/api/v1/auth/login"
    before = _value(_scrape(client), "carbonflow_api_auth_failures_total", route=login_route)
    answer = client.post(login_route, json={"username": "nobody-here", "password": "wrong-password-123"})
    assert answer.status_code == 401
    assert _value(_scrape(client), "carbonflow_api_auth_failures_total", route=login_route) == before + 1


def test_health_reports_each_worker_from_its_metrics_heartbeat(database_url: str, admin_headers: dict[str, str],
                                                               api_app_client: TestClient) -> None:
    registry = CollectorRegistry()
    Gauge("carbonflow_heartbeat_timestamp_seconds", "h", ["service"], registry=registry).labels(
        "stream").set_to_current_time()
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    dead = f"http://127.0.0.1:{free_port()}/metrics"
    settings = TEST_SETTINGS.model_copy(update={"component_metrics": {
        "stream": (f"http://127.0.0.1:{port}/metrics",), "ingest": (dead,)}})
    try:
        with TestClient(create_app(database_url, settings=settings)) as client:
            body = client.get("/api/v1/health", headers=admin_headers).json()
    finally:
        server.shutdown()
        thread.join()
    assert body["status"] == "degraded"
    assert body["components"]["stream"]["status"] == "ok"
    assert body["components"]["stream"]["workers"][0]["heartbeat_age_s"] < 30
    assert body["components"]["ingest"]["status"] == "down"
    assert body["components"]["ingest"]["workers"][0]["url"] == dead


def test_with_a_multiprocess_directory_metrics_add_up_the_requests_of_every_worker(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[2])}
    worker = ("from api.metrics import REQUEST_SECONDS; "
              "REQUEST_SECONDS.labels('GET', '/api/v1/health', '200').observe(0.01)")
    for _ in range(2):  # two uvicorn workers, each its own process
        subprocess.run([sys.executable, "-c", worker], env=env, check=True, timeout=60)
    scraper = "import sys; from api.metrics import _exposition; sys.stdout.write(_exposition().decode())"
    scrape = subprocess.run([sys.executable, "-c", scraper], env=env, check=True, timeout=60, capture_output=True, text=True).stdout
    assert _value(scrape, "carbonflow_api_request_seconds_count", method="GET", route="/api/v1/health",
                  status="200") == 2
