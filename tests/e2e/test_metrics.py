"""Every service of a running pipeline serves /metrics, and its counters move as readings flow through."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import psycopg
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.auth.bootstrap import ensure_demo_users
from api.main import create_app
from api.settings import load_api_settings
from carbonflow.supervisor import Supervisor
from carbonflow.topics import MQTT_ROOT
from tests.conftest import free_port, wait_port
from tests.e2e.harness import register_meter_site, start_cloud, start_plant, stored_seqs, wait_for, write_plant_files
from tests.e2e.test_dead_letters import _publisher

GATEWAY = "gw-metrics"
DEVICE = "metrics-meter"

Samples = list[tuple[str, dict[str, str], float]]


def _scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples]


def _sum(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for n, ls, v in samples if n == name and all(ls.get(k) == x for k, x in labels.items()))


def _names(samples: Samples) -> set[str]:
    return {n for n, _, _ in samples}


def test_every_service_serves_metrics_whose_counters_move_with_the_readings(
    tmp_path: Path, database_url: str, kafka_bootstrap: str, mqtt_broker: str, pki: dict
) -> None:
    modbus_port, edge_port, ingest_port, stream_port = free_port(), free_port(), free_port(), free_port()
    files = write_plant_files(tmp_path, gateway=GATEWAY, device=DEVICE, modbus_port=modbus_port, mqtt_url=mqtt_broker,
                              cert=pki[GATEWAY], static=False)
    edge_config = yaml.safe_load(files["edge"].read_text())
    files["edge"].write_text(yaml.safe_dump({**edge_config, "metrics_port": edge_port}))
    register_meter_site(database_url, enterprise="metrics-ent", site="metrics-site", device=DEVICE, gateway=GATEWAY)
    urls = {"edge": f"http://127.0.0.1:{edge_port}/metrics", "ingest": f"http://127.0.0.1:{ingest_port}/metrics",
            "stream": f"http://127.0.0.1:{stream_port}/metrics"}
    log_path = files["log"]
    with open(log_path, "w") as log:
        sup = Supervisor(out=log)
        try:
            start_cloud(sup, database_url=database_url, kafka=kafka_bootstrap, mqtt_url=mqtt_broker, pki=pki,
                        ingest_env={"CARBONFLOW_INGEST_METRICS_PORT": str(ingest_port)},
                        stream_env={"CARBONFLOW_STREAM_METRICS_PORT": str(stream_port)})
            start_plant(sup, files, modbus_port)
            for port in (ingest_port, stream_port, edge_port):
                wait_port(port, timeout_s=60)
            with psycopg.connect(database_url, autocommit=True) as conn:
                wait_for("the first stored readings", lambda: len(stored_seqs(conn, GATEWAY)[0]) > 0, 90, log_path)
                first = {name: _scrape(url) for name, url in urls.items()}
                wait_for("more stored readings", lambda: len(stored_seqs(conn, GATEWAY)[0]) > 40, 60, log_path)
            publisher = _publisher(mqtt_broker, pki[GATEWAY], "metrics-probe")
            publisher.publish(f"{MQTT_ROOT}/{GATEWAY}/data", b"{not json", qos=1).wait_for_publish(10)
            publisher.disconnect()
            publisher.loop_stop()
            wait_for("the ingest dead letter counted", lambda: _sum(
                _scrape(urls["ingest"]), "carbonflow_dead_letters_total", stage="ingest", reason_class="malformed") >= 1,
                30, log_path)
            time.sleep(6)  # one run of the stream worker's lag sampler after the readings above
            second = {name: _scrape(url) for name, url in urls.items()}
            api_settings = load_api_settings({"CARBONFLOW_INGEST_METRICS_URLS": urls["ingest"],
                                              "CARBONFLOW_STREAM_METRICS_URLS": urls["stream"]})
            with psycopg.connect(database_url, autocommit=True) as conn:
                admin = ensure_demo_users(conn)["admin"]
            with TestClient(create_app(database_url, settings=api_settings.model_copy(
                    update={"bootstrap_admin": False}))) as client:
                login = client.post("/api/v1/auth/login", json={"username": admin.username,
                                                                "password": admin.password})
                bearer = {"Authorization": f"Bearer {login.json()['token']}"}
                health = client.get("/api/v1/health", headers=bearer).json()
                api_text = client.get("/metrics", headers=bearer).text
        finally:
            sup.stop_all()

    for counter in ("edge_acknowledged_readings_total", "edge_published_readings_total"):
        assert _sum(second["edge"], counter) > _sum(first["edge"], counter) > 0, counter
    for service, counters in (
        ("ingest", ("carbonflow_ingest_readings_received_total", "carbonflow_ingest_readings_forwarded_total")),
        ("stream", ("carbonflow_stream_readings_received_total", "carbonflow_stream_readings_stored_total",
                    "carbonflow_stream_store_seconds_count")),
    ):
        for counter in counters:
            assert _sum(second[service], counter) > _sum(first[service], counter) > 0, counter
    assert _sum(second["ingest"], "carbonflow_ingest_messages_total", kind="data") > 0
    lags = [(ls, v) for n, ls, v in second["stream"] if n == "carbonflow_stream_consumer_lag_records"]
    assert lags and all(v >= 0 for _, v in lags)
    assert any(ls["topic"].endswith("readings") for ls, _ in lags), lags
    assert _sum(second["stream"], "carbonflow_heartbeat_timestamp_seconds", service="stream") > time.time() - 30
    assert {"carbonflow_stream_alarms_total"} <= _names(second["stream"])
    assert health["components"]["ingest"]["status"] == "ok", health
    assert health["components"]["stream"]["status"] == "ok", health
    assert 'carbonflow_api_request_seconds_count{method="POST",route="/api/v1/auth/login",status="200"}' in api_text

