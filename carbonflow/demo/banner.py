"""What the running demo prints: the addresses of the scenario that runs, not of another one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from carbonflow.registry import SiteRegistry
from device_profiles.point_rules import profile_unit

__all__ = ["demo_banner", "series_example"]

_POWER = "active_power_kw"


class _Credentials(Protocol):
    username: str
    password: str


def series_example(registry: SiteRegistry) -> tuple[str, str]:
    """(device, point) of a power reading the demo's site has: the first device whose profile has active power."""
    for device in registry.devices:
        if profile_unit(device.profile, _POWER) is not None:
            return device.id, _POWER
    return registry.devices[0].id, _POWER


def demo_banner(*, base: str, registry: SiteRegistry, mqtt_url: str, kafka: str, certs: Path,
                worker_metrics: list[str], users: Mapping[str, _Credentials], users_file: Path) -> list[str]:
    """The lines that tell a user where the running demo is: its dashboard, its site and a device of it."""
    site = registry.sites[0].id
    device, point = series_example(registry)
    return [
        f"carbonflow demo is running: {registry.sites[0].name} ({site})",
        f"  dashboard   {base}/",
        f"  API docs    {base}/docs",
        f"  health      {base}/api/v1/health",
        f"  series      {base}/api/v1/series?device={device}&point={point}&start=...&end=...&interval=raw",
        f"  emissions   {base}/api/v1/emissions?site={site}&start=...&end=...&interval=1h",
        f"  MQTT        {mqtt_url} (client certificates in {certs})",
        f"  Kafka       {kafka}",
        f"  metrics     {base}/metrics (technician or admin), workers: {', '.join(worker_metrics)}",
        f"  users       {', '.join(f'{c.username} ({role})' for role, c in users.items())}",
        f"              passwords (new each start) in {users_file}",
        f"  admin       {users['admin'].username} / {users['admin'].password}",
        "  Ctrl-C stops everything",
    ]
