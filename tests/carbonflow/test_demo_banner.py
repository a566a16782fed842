"""`carbonflow demo --scenario X` names the running scenario's site and devices, and its help lists the scenarios."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from carbonflow.demo.banner import demo_banner
from carbonflow.demo.scenario_registry import registry_for_scenario
from carbonflow.registry import load_registry
from simulators.scenario import load_scenario


@dataclass
class _User:
    username: str
    password: str


def _banner(registry: object) -> str:
    return "\n".join(demo_banner(base="http://127.0.0.1:8000", registry=registry, mqtt_url="mqtts://127.0.0.1:8883",  # type: ignore[arg-type]
                                 kafka="127.0.0.1:9092", certs=Path("certs"), worker_metrics=[],
                                 users={"admin": _User("admin", "pw")}, users_file=Path("users.txt")))


def test_steelworks_banner_shows_the_steelworks_site_and_one_of_its_meters() -> None:
    registry = registry_for_scenario(load_scenario("steelworks"))
    banner = _banner(registry)
    series = next(line for line in banner.splitlines() if line.strip().startswith("series"))
    device = series.split("device=")[1].split("&")[0]
    assert "site=steelworks&" in banner and "demo-steelworks" not in banner
    assert device in {d.id for d in registry.devices} and "point=active_power_kw" in series


def test_default_demo_banner_keeps_its_own_site_and_main_meter() -> None:
    registry = load_registry(Path(str(resources.files("carbonflow.demo").joinpath("registry.yaml"))))
    banner = _banner(registry)
    assert "site=demo-steelworks&" in banner and "device=elec-main&point=active_power_kw" in banner


def test_demo_help_lists_the_scenarios_and_the_steelworks_speed_up() -> None:
    shown = subprocess.run([sys.executable, "-m", "carbonflow.cli", "demo", "--help"], capture_output=True, text=True,
                           check=True).stdout
    assert "{demo,steelworks}" in shown and "60x" in shown


def test_an_unknown_scenario_is_refused_with_the_choices() -> None:
    refused = subprocess.run([sys.executable, "-m", "carbonflow.cli", "demo", "--scenario", "nope"],
                             capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "choose demo, steelworks" in refused.stderr
