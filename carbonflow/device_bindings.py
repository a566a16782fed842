"""Which gateway each device is bound to, as stored in `devices.gateway_id`: read, claimed, moved.

A device is bound to one gateway, and through the gateway's site to one site and one enterprise. Ingest admits a
device's readings only from its gateway (ingest/binding.py decides). A binding is set by an administrator
(`gateway_id` when the device is registered, or a move), or, when auto-registration is on, claimed by the first
active gateway that sends the device: an unknown device is registered under that gateway's site, and a registered
device bound to no gateway is bound to it when it is of the gateway's site. Nothing ever re-points a bound device
but an administrator's move, and moves and claims are audited.

Each operation has a blocking form (ingest, the CLI) and an async one (`*_async`, the API) around one statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

__all__ = ["AUTO_REGISTER_VARIABLE", "Bound", "BindingError", "UnknownDevice", "Registry", "auto_register_setting",
           "load_registry", "bindings_of", "bindings_of_async", "gateway_site", "gateway_site_async", "claim_devices",
           "claim_devices_async", "move_device", "move_device_async"]

AUTO_REGISTER_VARIABLE = "CARBONFLOW_AUTO_REGISTER_DEVICES"
_SWITCH = {"on": True, "off": False}


class BindingError(ValueError):
    """A move that cannot be done; the message says why and what to do."""


class UnknownDevice(BindingError):
    """The device to move is not registered."""


@dataclass(frozen=True)
class Bound:
    """A registered device: the gateway it is bound to (None: none yet) and its site."""

    gateway: str | None
    site: str | None


@dataclass(frozen=True)
class Registry:
    """What ingest checks a device batch against: each registered device's binding, each gateway's site."""

    devices: dict[str, Bound]
    gateway_sites: dict[str, str | None]


def auto_register_setting(env: dict[str, str], who: str) -> bool:
    """CARBONFLOW_AUTO_REGISTER_DEVICES: 'on' or 'off' (default); anything else stops `who` with a message."""
    raw = env.get(AUTO_REGISTER_VARIABLE, "").strip().lower() or "off"
    if raw not in _SWITCH:
        raise SystemExit(f"{who}: {AUTO_REGISTER_VARIABLE} must be 'on' or 'off', got {env[AUTO_REGISTER_VARIABLE]!r}")
    return _SWITCH[raw]


_REGISTRY_DEVICES = "SELECT device_id, gateway_id, site_id FROM devices"
_GATEWAY_SITES = "SELECT gateway_id, site_id FROM gateways"
_BINDINGS_OF = "SELECT device_id, gateway_id, site_id FROM devices WHERE device_id = ANY(%s)"

# Binds each listed device to the gateway only where it is unbound: an unknown device is registered under the
# gateway's site; a registered one keeps its site and is bound only when that is the gateway's site (or it has
# none). One statement, so that of two gateways claiming one device at once, exactly one wins.
_CLAIM = (
    "WITH g AS (SELECT site_id FROM gateways WHERE gateway_id = %(gateway)s AND status = 'active')"
    " INSERT INTO devices (device_id, site_id, gateway_id)"
    " SELECT d, (SELECT site_id FROM g), %(gateway)s FROM unnest(%(devices)s::text[]) AS d"
    " WHERE EXISTS (SELECT 1 FROM g)"
    " ON CONFLICT (device_id) DO UPDATE SET gateway_id = EXCLUDED.gateway_id,"
    "  site_id = coalesce(devices.site_id, EXCLUDED.site_id)"
    " WHERE devices.gateway_id IS NULL AND (devices.site_id IS NULL OR devices.site_id = EXCLUDED.site_id)"
    " RETURNING device_id, site_id, (xmax = 0) AS registered"
)
_AUDIT = ("INSERT INTO audit_log (actor, actor_kind, action, target, outcome, before, after, detail)"
          " VALUES (%s, 'system', %s, %s, 'ok', %s, %s, %s)")

_LOCK_DEVICE = "SELECT device_id, gateway_id, site_id FROM devices WHERE device_id = %s FOR UPDATE"
_GATEWAY = "SELECT status, site_id FROM gateways WHERE gateway_id = %s"
_MOVE = "UPDATE devices SET gateway_id = %s WHERE device_id = %s"


def _view(device: str, gateway: str | None, site: str | None) -> dict[str, Any]:
    return {"device_id": device, "gateway_id": gateway, "site_id": site}


def load_registry(conn: psycopg.Connection) -> Registry:
    """Every registered device's binding and every gateway's site."""
    devices = {d: Bound(g, s) for d, g, s in conn.execute(_REGISTRY_DEVICES).fetchall()}
    return Registry(devices, dict(conn.execute(_GATEWAY_SITES).fetchall()))


def bindings_of(conn: psycopg.Connection, devices: list[str]) -> dict[str, Bound]:
    """The bindings of the listed devices that are registered."""
    return {d: Bound(g, s) for d, g, s in conn.execute(_BINDINGS_OF, (devices,)).fetchall()}


async def bindings_of_async(conn: psycopg.AsyncConnection, devices: list[str]) -> dict[str, Bound]:
    cur = await conn.execute(_BINDINGS_OF, (devices,))
    return {d: Bound(g, s) for d, g, s in await cur.fetchall()}


def gateway_site(conn: psycopg.Connection, gateway: str) -> str | None:
    """The site a gateway serves (None: none, or no such gateway)."""
    row = conn.execute(_GATEWAY, (gateway,)).fetchone()
    return None if row is None else row[1]


async def gateway_site_async(conn: psycopg.AsyncConnection, gateway: str) -> str | None:
    cur = await conn.execute(_GATEWAY, (gateway,))
    row = await cur.fetchone()
    return None if row is None else row[1]


def _claim_audit(gateway: str, rows: list[tuple[str, str | None, bool]], actor: str) -> list[tuple[Any, ...]]:
    """One audit entry per device claimed: registered (it was unknown) or bound (it was registered, unbound)."""
    return [(actor, "device.auto_register" if registered else "device.claim", f"device:{device}", None,
             Jsonb(_view(device, gateway, site)), Jsonb({"policy": AUTO_REGISTER_VARIABLE}))
            for device, site, registered in rows]


def claim_devices(conn: psycopg.Connection, gateway: str, devices: list[str], *, actor: str = "ingest"
                  ) -> dict[str, Bound]:
    """Bind the unbound of `devices` to `gateway` (auto-registration); returns the listed devices' bindings after."""
    with conn.transaction():
        rows = conn.execute(_CLAIM, {"gateway": gateway, "devices": devices}).fetchall()
        if rows:
            with conn.cursor() as cur:
                cur.executemany(_AUDIT, _claim_audit(gateway, rows, actor))
    return bindings_of(conn, devices)


async def claim_devices_async(conn: psycopg.AsyncConnection, gateway: str, devices: list[str], *,
                              actor: str = "ingest") -> dict[str, Bound]:
    async with conn.transaction():
        cur = await conn.execute(_CLAIM, {"gateway": gateway, "devices": devices})
        rows = await cur.fetchall()
        if rows:
            async with conn.cursor() as c:
                await c.executemany(_AUDIT, _claim_audit(gateway, rows, actor))
    return await bindings_of_async(conn, devices)


def _check_move(device: str, found: tuple[str, str | None, str | None] | None, gateway: str,
                target: tuple[str, str | None] | None) -> None:
    if found is None:
        raise UnknownDevice(f"no device {device!r}; register it first (POST /api/v1/devices or the site registry)")
    if target is None or target[0] != "active":
        why = "is not registered" if target is None or target[0] == "unregistered" else f"is {target[0]}"
        raise BindingError(f"gateway {gateway!r} {why}; register it with `carbonflow gateways add {gateway}`")
    site, gateway_site = found[2], target[1]
    if site is not None and gateway_site is not None and site != gateway_site:
        raise BindingError(f"gateway {gateway!r} serves site {gateway_site!r} and device {device!r} is at site "
                           f"{site!r}: a device's readings count for its gateway's site; move the device to site "
                           f"{gateway_site!r} first (PATCH /api/v1/devices/{device}) or choose a gateway of {site!r}")


def move_device(conn: psycopg.Connection, device: str, gateway: str, *, actor: str
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Bind a registered device to another active gateway of its site, audited as `actor` (a system actor, such
    as the CLI's user): (before, after)."""
    with conn.transaction():
        found = conn.execute(_LOCK_DEVICE, (device,)).fetchone()
        _check_move(device, found, gateway, conn.execute(_GATEWAY, (gateway,)).fetchone())
        assert found is not None
        conn.execute(_MOVE, (gateway, device))
        before, after = _view(*found), _view(device, gateway, found[2])
        conn.execute(_AUDIT, (actor, "device.move", f"device:{device}", Jsonb(before), Jsonb(after), None))
    return before, after


async def move_device_async(conn: psycopg.AsyncConnection, device: str, gateway: str
                            ) -> tuple[dict[str, Any], dict[str, Any]]:
    """As `move_device`, inside the caller's transaction; the caller audits it (as the API's user)."""
    found = await (await conn.execute(_LOCK_DEVICE, (device,))).fetchone()
    _check_move(device, found, gateway, await (await conn.execute(_GATEWAY, (gateway,))).fetchone())
    assert found is not None
    await conn.execute(_MOVE, (gateway, device))
    return _view(*found), _view(device, gateway, found[2])
