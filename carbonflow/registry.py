"""Site registry: enterprises, sites, devices and which counter feeds which accounting activity."""

from __future__ import annotations

from pathlib import Path

import psycopg
import yaml
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SiteRegistry", "load_registry", "apply_registry"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegistryDevice(_Model):
    id: str
    site: str
    process: str
    profile: str
    bindings: dict[str, str] = Field(default_factory=dict, description="point -> activity")
    gateway: str | None = Field(None, description="the gateway the device is bound to: ingest accepts its readings "
                                                  "from this gateway only")


class RegistrySite(_Model):
    id: str
    name: str
    province: str | None = None
    grid_region: str | None = None


class SiteRegistry(_Model):
    enterprise_id: str
    enterprise_name: str
    industry: str | None = None
    region: str = "CN"
    sites: list[RegistrySite]
    devices: list[RegistryDevice]


def load_registry(path: Path) -> SiteRegistry:
    return SiteRegistry.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def apply_registry(conn: psycopg.Connection, registry: SiteRegistry, *, actor: str | None = None) -> None:
    """Upsert the registry; existing readings are untouched. With `actor` (a person at the command line) the
    change is audited as `registry.apply`, with the registry applied."""
    with conn.transaction():
        if actor is not None:
            conn.execute("INSERT INTO audit_log (actor, actor_kind, action, target, outcome, after) VALUES"
                         " (%s, 'system', 'registry.apply', %s, 'ok', %s)",
                         (actor, f"enterprise:{registry.enterprise_id}", Jsonb(registry.model_dump(mode="json"))))
        conn.execute(
            "INSERT INTO enterprises (enterprise_id, name, region, industry) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (enterprise_id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region,"
            " industry = EXCLUDED.industry",
            (registry.enterprise_id, registry.enterprise_name, registry.region, registry.industry),
        )
        for site in registry.sites:
            conn.execute(
                "INSERT INTO sites (site_id, enterprise_id, name, province, grid_region) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (site_id) DO UPDATE SET name = EXCLUDED.name, province = EXCLUDED.province,"
                " grid_region = EXCLUDED.grid_region",
                (site.id, registry.enterprise_id, site.name, site.province, site.grid_region),
            )
        for device in registry.devices:
            # binds a device bound to no gateway yet; re-pointing a bound device is a move (`gateways bind`)
            bound = conn.execute(
                "INSERT INTO devices (device_id, site_id, process, profile, gateway_id) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (device_id) DO UPDATE SET site_id = EXCLUDED.site_id, process = EXCLUDED.process,"
                " profile = EXCLUDED.profile, gateway_id = coalesce(devices.gateway_id, EXCLUDED.gateway_id)"
                " RETURNING gateway_id",
                (device.id, device.site, device.process, device.profile, device.gateway),
            ).fetchone()
            if device.gateway is not None and bound is not None and bound[0] != device.gateway:
                raise ValueError(f"device {device.id!r} is bound to gateway {bound[0]!r}, not {device.gateway!r}: "
                                 f"move it with `carbonflow gateways bind {device.gateway} --device {device.id}`")
            for point, activity in device.bindings.items():
                conn.execute(
                    "INSERT INTO points (device_id, point, activity) VALUES (%s, %s, %s)"
                    " ON CONFLICT (device_id, point) DO UPDATE SET activity = EXCLUDED.activity",
                    (device.id, point, activity),
                )
