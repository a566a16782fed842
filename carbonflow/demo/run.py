"""Start and supervise every component of the demo; stop them all on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import threading
import time
from datetime import date
from importlib import resources
from pathlib import Path

import yaml

from api.auth.bootstrap import ensure_demo_users
from carbonflow.certs import certificate_expiry, ensure_dev_pki
from carbonflow.db.connect import connect_with_retry
from carbonflow.db.migrate import migrate
from carbonflow.db.roles import role_of
from carbonflow.demo.banner import demo_banner
from carbonflow.demo.region_seed import YEARS as SEED_YEARS
from carbonflow.demo.region_seed import seed_region
from carbonflow.demo.scenario_registry import registry_for_scenario
from carbonflow.device_bindings import AUTO_REGISTER_VARIABLE
from carbonflow.embedded.kafka import tansu_command
from carbonflow.embedded.mqtt import INGEST_IDENTITY, plan_mqtt_broker
from carbonflow.embedded.postgres import EmbeddedPostgres
from carbonflow.gateways import register_gateway, write_broker_acl
from carbonflow.registry import apply_registry, load_registry
from carbonflow.running_demo import forget_running_demo, record_running_demo
from carbonflow.settings import Settings, load_settings
from carbonflow.supervisor import Child, Supervisor
from carbonflow.topics import MQTT_ROOT

__all__ = ["run_demo", "DEMO_GATEWAY", "edge_config_for_scenario"]

DEMO_GATEWAY = "demo-gw-1"
_KAFKA_PORT = 9092
_MQTT_PORT = 8883


def _free_loopback_port() -> int:
    """A port nothing listens on now, for a worker's metrics (the demo's fixed ports are the ones users connect to)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_port(host: str, port: int, timeout_s: float, what: str, child: Child | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child is not None and child.process is not None and child.process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {child.process.returncode}; see its log lines above")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not open {host}:{port} within {timeout_s:.0f} s; see its log lines above")


def edge_config_for_scenario(
    scenario_name: str, *, gateway: str, spool: Path, mqtt_url: str, certs: dict, host: str = "127.0.0.1"
) -> dict:
    """An edge-agent config that polls every device of a simulator scenario."""
    from simulators.scenario import load_scenario

    scenario = load_scenario(scenario_name)
    devices = []
    for d in scenario.devices:
        entry = {"id": d.id, "profile": d.profile, "protocol": d.protocol.value, "host": host,
                 "port": scenario.port_of(d)}
        if d.unit_id is not None:
            entry["unit_id"] = d.unit_id
        devices.append(entry)
    client = certs[gateway]
    return {
        "gateway_id": gateway,
        "spool_path": str(spool),
        "mqtt": {"url": mqtt_url, "ca": str(client.ca), "cert": str(client.cert), "key": str(client.key),
                 "topic_root": MQTT_ROOT},
        "devices": devices,
    }


def _write_demo_users(home: Path, users: dict) -> Path:
    """Demo credentials in a file only the owner can read."""
    path = home / "demo-users.txt"
    lines = [f"{role:<11} {c.username:<16} {c.password}" for role, c in users.items()]
    path.write_text("# role      user             password (reset at every demo start)\n" + "\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


async def _illustrative_grid_factors(url: str) -> None:
    """The illustrative provincial dataset of the electricity-carbon factors (docs/grid_factors.md), the
    synthetic prefecture's units as unit energy data with labelled made-up verified figures and first fits, and the
    fuel CO2 of its electricity-only units estimated into monitoring with those fits; once."""
    import psycopg

    from api.grid_factors.demo_data import ensure_demo_estimates, ensure_demo_unit_data, ensure_illustrative_input

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await ensure_illustrative_input(conn)
        await ensure_demo_unit_data(conn, since=date(2000, 1, 1))
        await ensure_demo_estimates(conn, since=date(SEED_YEARS[0], 1, 1))


def run_demo(settings: Settings | None = None, scenario: str = "demo") -> int:
    """Run until interrupted; returns the exit code."""
    settings = settings or load_settings()
    home = settings.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    sup = Supervisor()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    embedded_pg: EmbeddedPostgres | None = None
    py = sys.executable
    cli = [py, "-m", "carbonflow.cli"]
    try:
        certs = ensure_dev_pki(home / "certs", [DEMO_GATEWAY, INGEST_IDENTITY])
        sup.log("demo", f"certificates in {home / 'certs'}")

        app_role: str | None = None
        if settings.database_url:
            db_url = settings.database_url
            owner_url = settings.migration_database_url or db_url
            if settings.migration_database_url:
                app_role = role_of(db_url)
                sup.log("postgres", "using DATABASE_URL for the services, MIGRATION_DATABASE_URL to migrate")
            else:
                sup.log("postgres", "using DATABASE_URL, which also migrates and so owns the tables"
                                    " (set MIGRATION_DATABASE_URL for two roles: docs/database.md)")
        else:
            embedded_pg = EmbeddedPostgres(home / "pgdata")
            owner_url = embedded_pg.start()
            db_url, app_role = embedded_pg.app_url(), EmbeddedPostgres.APP_ROLE
            sup.log("postgres", f"embedded server, data in {home / 'pgdata'}; services log in as {app_role}")
        with connect_with_retry(owner_url) as conn:
            applied = migrate(conn, app_role=app_role)
        with connect_with_retry(db_url) as conn:
            if scenario == "demo":
                registry = load_registry(Path(str(resources.files("carbonflow.demo").joinpath("registry.yaml"))))
            else:
                from simulators.scenario import load_scenario

                registry = registry_for_scenario(load_scenario(scenario))
            apply_registry(conn, registry)
            users = ensure_demo_users(conn, enterprise_id=registry.enterprise_id)
            conn.autocommit = True
            register_gateway(conn, DEMO_GATEWAY, site_id=registry.sites[0].id,
                             cert_expires_at=certificate_expiry(certs[DEMO_GATEWAY]))
            acl, _ = write_broker_acl(conn, home / "mqtt")
        sup.log("postgres", f"schema ready ({len(applied)} migrations applied now)")
        seeded = asyncio.run(seed_region(db_url))  # government monitoring's synthetic prefecture
        sup.log("postgres", f"synthetic prefecture: {seeded['units']} units, {seeded['stored']} figures stored now,"
                            f" 碳效码 of {seeded['coded']} units")
        asyncio.run(_illustrative_grid_factors(db_url))  # after the prefecture: its units feed the factor tools
        users_file = _write_demo_users(home, users)

        if settings.kafka_bootstrap:
            kafka = settings.kafka_bootstrap
        else:
            kafka = f"127.0.0.1:{_KAFKA_PORT}"
            tansu = sup.start(Child("kafka", tansu_command("127.0.0.1", _KAFKA_PORT)))
            _wait_port("127.0.0.1", _KAFKA_PORT, 20, "tansu", tansu)

        if settings.mqtt_url:
            mqtt_url = settings.mqtt_url
        else:
            plan = plan_mqtt_broker(home / "mqtt", "127.0.0.1", _MQTT_PORT, certs["server"], MQTT_ROOT, acl=acl)
            mqtt_url = plan.url
            broker = sup.start(Child("mqtt", plan.argv))
            _wait_port("127.0.0.1", _MQTT_PORT, 20, plan.name, broker)

        # the demo's gateway claims the registry's devices (and any new one) on first sight: outside the demo,
        # devices are bound by an administrator and unknown ones are refused (docs/ingest.md, "Device bindings")
        common = {"DATABASE_URL": db_url, "KAFKA_BOOTSTRAP": kafka, "MQTT_URL": mqtt_url,
                  AUTO_REGISTER_VARIABLE: "on"}
        # counters carry on across demo restarts (a restart from the initial values would raise counter_reset)
        simulator = sup.start(Child("simulator", cli + ["simulate", "plant", "--scenario", scenario,
                                                        "--state-dir", str(home / "simulator")]))
        edge_cfg = edge_config_for_scenario(
            scenario, gateway=DEMO_GATEWAY, spool=home / "edge" / f"{DEMO_GATEWAY}.spool", mqtt_url=mqtt_url, certs=certs
        )
        for port in sorted({d["port"] for d in edge_cfg["devices"]}):
            _wait_port("127.0.0.1", port, 60, "simulator", simulator)
        edge_path = home / "edge" / f"{DEMO_GATEWAY}.yaml"
        edge_path.parent.mkdir(parents=True, exist_ok=True)
        edge_path.write_text(yaml.safe_dump(edge_cfg, sort_keys=False))
        ingest_cert = certs[INGEST_IDENTITY]
        # the workers' metrics on loopback, which GET /api/v1/health reads for their heartbeats (docs/metrics.md)
        metrics_ports = {"INGEST": _free_loopback_port(), "STREAM": _free_loopback_port()}
        metrics_urls = {f"CARBONFLOW_{name}_METRICS_URLS": f"http://127.0.0.1:{port}/metrics"
                        for name, port in metrics_ports.items()}
        sup.start(Child("ingest", cli + ["ingest"], {
            **common, "MQTT_CA": str(ingest_cert.ca), "MQTT_CERT": str(ingest_cert.cert), "MQTT_KEY": str(ingest_cert.key),
            "CARBONFLOW_INGEST_METRICS_PORT": str(metrics_ports["INGEST"]),
        }))
        sup.start(Child("stream", cli + ["stream"], {**common,
                                                     "CARBONFLOW_STREAM_METRICS_PORT": str(metrics_ports["STREAM"])}))
        sup.start(Child("edge", cli + ["edge", "run", "--config", str(edge_path)]))
        # the platform alarms (projected deficits, deadline reminders, targets off track) are checked every 10 minutes
        sup.start(Child("platform-alarms", cli + ["alarms", "check", "--poll", "600"], {"DATABASE_URL": db_url}))
        # government monitoring's scheduled jobs: tCO2/tce recomputed after a factor change (looked for every 10
        # minutes) and the metered units' monthly figures of the last complete months (daily)
        sup.start(Child("monitoring-jobs", cli + ["monitoring", "schedule", "--poll", "600"], {"DATABASE_URL": db_url}))
        # the dashboard opens on this scenario's site, not on one a demo of another scenario left in the database
        api = sup.start(Child("api", cli + ["api", "--host", settings.api_host, "--port", str(settings.api_port)],
                              {**common, **metrics_urls, "CARBONFLOW_DEFAULT_SITE": registry.sites[0].id}))
        _wait_port(settings.api_host, settings.api_port, 60, "api", api)
        base = f"http://{settings.api_host}:{settings.api_port}"
        banner = demo_banner(base=base, registry=registry, mqtt_url=mqtt_url, kafka=kafka, certs=home / "certs",
                             worker_metrics=list(metrics_urls.values()), users=users, users_file=users_file)
        for line in banner:
            sup.log("demo", line)
        # other carbonflow commands (gateways list, db compact, import) find this demo through it
        record_running_demo(home, scenario=scenario, endpoints={
            "DATABASE_URL": db_url, "MIGRATION_DATABASE_URL": owner_url if owner_url != db_url else None,
            "KAFKA_BOOTSTRAP": kafka, "MQTT_URL": mqtt_url, "API_URL": base})
        while not stop.wait(1.0):
            dead = sup.failed()
            if dead:
                sup.log("demo", f"{dead[0].name} exited; stopping the demo")
                return 1
        return 0
    except RuntimeError as exc:
        sup.log("demo", f"error: {exc}")
        return 1
    finally:
        forget_running_demo(home)
        sup.log("demo", "stopping")
        sup.stop_all()
        if embedded_pg is not None:
            embedded_pg.stop()
        sup.log("demo", "stopped")
