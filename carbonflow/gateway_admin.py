"""Gateway administration shared by `carbonflow gateways` and the API: register a gateway (issuing its client
certificate or password), revoke it, and hand out its certificate bundle, keeping the broker's ACL in step.

Each change runs in one transaction that also rewrites the ACL from the registry, under one advisory lock so two
administrators never write the ACL from different views of the registry. The blocking forms (the CLI) write their
own audit entry as a system actor (`cli:<os user>`); the async forms (the API) leave auditing to the caller, who
knows the user. Files live under the deployment's home: `certs/` (the development CA and the client
certificates, `carbonflow.certs`) and `mqtt/` (the broker's ACL and password file).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from carbon_domain.schemas import IDENTIFIER_RULE, is_identifier
from carbonflow.certs import CertPaths, certificate_expiry, ensure_client_cert
from carbonflow.gateways import GatewayError, new_password, write_acl_files

__all__ = ["Added", "GatewayConflict", "GatewayFiles", "UnknownGateway", "add_gateway", "add_gateway_async",
           "certificate_bundle", "gateway_view_async", "revoke", "revoke_async"]


class UnknownGateway(GatewayError):
    """No gateway of that id is registered."""


class GatewayConflict(GatewayError):
    """The operation does not fit the gateway's state (already active, revoked, no certificate)."""


@dataclass(frozen=True)
class GatewayFiles:
    """Where certificates and the broker's ACL are written."""

    certs: Path
    broker: Path

    @classmethod
    def under(cls, home: Path, broker: Path | None = None) -> GatewayFiles:
        return cls(home / "certs", broker or home / "mqtt")


@dataclass(frozen=True)
class Added:
    """A registered gateway: its row, its new password (password gateways, shown once), the broker ACL written."""

    gateway: dict[str, Any]
    password: str | None
    certificate: CertPaths | None
    acl: Path


_COLUMNS = "gateway_id, site_id, status, auth, registered_at, revoked_at, cert_expires_at"
_VIEW = f"SELECT {_COLUMNS} FROM gateways WHERE gateway_id = %s"
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('carbonflow.gateway_acl'))"
_SITE = "SELECT 1 FROM sites WHERE site_id = %s"
_REGISTER = (
    "INSERT INTO gateways (gateway_id, site_id, status, auth, registered_at, cert_expires_at)"
    " VALUES (%(id)s, %(site)s, 'active', %(auth)s, now(), %(expires)s)"
    " ON CONFLICT (gateway_id) DO UPDATE SET status = 'active', auth = EXCLUDED.auth,"
    " site_id = COALESCE(EXCLUDED.site_id, gateways.site_id), registered_at = now(), revoked_at = NULL,"
    " cert_expires_at = EXCLUDED.cert_expires_at"
)
_REVOKE = "UPDATE gateways SET status = 'revoked', revoked_at = now() WHERE gateway_id = %s"
_ACTIVE = "SELECT gateway_id FROM gateways WHERE status = 'active' ORDER BY gateway_id"
_AUDIT = ("INSERT INTO audit_log (actor, actor_kind, action, target, outcome, before, after, detail)"
          " VALUES (%s, 'system', %s, %s, 'ok', %s, %s, %s)")


def _check_add(gateway_id: str, auth: str, found: dict[str, Any] | None, site_id: str | None, site_known: bool,
               replace_active: bool) -> None:
    if not is_identifier(gateway_id):
        raise GatewayError(f"gateway id {gateway_id!r} is not an identifier: use {IDENTIFIER_RULE}")
    if auth not in ("certificate", "password"):
        raise GatewayError(f"auth must be 'certificate' or 'password', not {auth!r}")
    if site_id is not None and not site_known:
        raise GatewayError(f"no site {site_id!r}; create it first (POST /api/v1/sites or `carbonflow registry apply`)")
    if found is not None and found["status"] == "active" and not replace_active:
        raise GatewayConflict(f"gateway {gateway_id!r} is already registered and active; revoke it first to"
                              " register it again")


def _issue(files: GatewayFiles, gateway_id: str) -> tuple[CertPaths, dt.datetime]:
    """The gateway's client certificate, issued now unless a valid one exists (an expired one is replaced)."""
    paths = ensure_client_cert(files.certs, gateway_id)
    if certificate_expiry(paths) <= dt.datetime.now(dt.UTC):
        paths.cert.unlink()
        paths.key.unlink()
        paths = ensure_client_cert(files.certs, gateway_id)
    return paths, certificate_expiry(paths)


def _credentials(files: GatewayFiles, gateway_id: str, auth: str
                 ) -> tuple[str | None, CertPaths | None, dt.datetime | None]:
    if auth == "password":
        return new_password(), None, None
    paths, expires = _issue(files, gateway_id)
    return None, paths, expires


def _write_acl(files: GatewayFiles, active: list[str], gateway_id: str, password: str | None) -> Path:
    acl, _ = write_acl_files(files.broker, active, passwords={gateway_id: password} if password else None)
    return acl


def _row(cur: psycopg.Cursor[dict[str, Any]], gateway_id: str) -> dict[str, Any] | None:
    return cur.execute(_VIEW, (gateway_id,)).fetchone()


def add_gateway(conn: psycopg.Connection, files: GatewayFiles, gateway_id: str, *, site_id: str | None,
                auth: str = "certificate", actor: str, replace_active: bool = False) -> Added:
    """Register (or re-activate) a gateway, issue its certificate or password and rewrite the ACL, audited as
    `actor`; `replace_active` re-registers an active gateway (the CLI's way to set a new password)."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_LOCK)
        before = _row(cur, gateway_id)
        site_known = site_id is None or cur.execute(_SITE, (site_id,)).fetchone() is not None
        _check_add(gateway_id, auth, before, site_id, site_known, replace_active)
        password, paths, expires = _credentials(files, gateway_id, auth)
        cur.execute(_REGISTER, {"id": gateway_id, "site": site_id, "auth": auth, "expires": expires})
        after = _row(cur, gateway_id)
        assert after is not None
        acl = _write_acl(files, [r["gateway_id"] for r in cur.execute(_ACTIVE).fetchall()], gateway_id, password)
        cur.execute(_AUDIT, (actor, "gateway.add", f"gateway:{gateway_id}", _json(before), _json(after), None))
    return Added(after, password, paths, acl)


async def add_gateway_async(conn: psycopg.AsyncConnection, files: GatewayFiles, gateway_id: str, *,
                            site_id: str | None, auth: str = "certificate") -> tuple[dict[str, Any] | None, Added]:
    """As `add_gateway`, inside the caller's transaction, which audits it: (before, added)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_LOCK)
        before = await (await cur.execute(_VIEW, (gateway_id,))).fetchone()
        site_known = site_id is None or await (await cur.execute(_SITE, (site_id,))).fetchone() is not None
        _check_add(gateway_id, auth, before, site_id, site_known, replace_active=False)
        password, paths, expires = await asyncio.to_thread(_credentials, files, gateway_id, auth)
        await cur.execute(_REGISTER, {"id": gateway_id, "site": site_id, "auth": auth, "expires": expires})
        after = await (await cur.execute(_VIEW, (gateway_id,))).fetchone()
        assert after is not None
        active = [r["gateway_id"] for r in await (await cur.execute(_ACTIVE)).fetchall()]
        acl = await asyncio.to_thread(_write_acl, files, active, gateway_id, password)
    return before, Added(after, password, paths, acl)


def _check_revoke(gateway_id: str, found: dict[str, Any] | None) -> None:
    if found is None or found["status"] == "unregistered":
        raise UnknownGateway(f"no registered gateway {gateway_id!r}; see `carbonflow gateways list` or GET "
                             "/api/v1/gateways")
    if found["status"] == "revoked":
        since = f" since {found['revoked_at']:%Y-%m-%d %H:%M}Z" if found["revoked_at"] else ""
        raise GatewayConflict(f"gateway {gateway_id!r} is already revoked{since}")


def revoke(conn: psycopg.Connection, files: GatewayFiles, gateway_id: str, *, actor: str
           ) -> tuple[dict[str, Any], Path]:
    """Revoke a gateway (ingest refuses its data from now on) and rewrite the ACL without it, audited as
    `actor`: (the gateway's row after, the ACL written)."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_LOCK)
        before = _row(cur, gateway_id)
        _check_revoke(gateway_id, before)
        cur.execute(_REVOKE, (gateway_id,))
        after = _row(cur, gateway_id)
        assert after is not None
        acl, _ = write_acl_files(files.broker, [r["gateway_id"] for r in cur.execute(_ACTIVE).fetchall()])
        cur.execute(_AUDIT, (actor, "gateway.revoke", f"gateway:{gateway_id}", _json(before), _json(after), None))
    return after, acl


async def revoke_async(conn: psycopg.AsyncConnection, files: GatewayFiles, gateway_id: str
                       ) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """As `revoke`, inside the caller's transaction, which audits it: (before, after, ACL)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_LOCK)
        before = await (await cur.execute(_VIEW, (gateway_id,))).fetchone()
        _check_revoke(gateway_id, before)
        assert before is not None
        await cur.execute(_REVOKE, (gateway_id,))
        after = await (await cur.execute(_VIEW, (gateway_id,))).fetchone()
        assert after is not None
        active = [r["gateway_id"] for r in await (await cur.execute(_ACTIVE)).fetchall()]
        acl, _ = await asyncio.to_thread(write_acl_files, files.broker, active)
    return before, after, acl


async def gateway_view_async(conn: psycopg.AsyncConnection, gateway_id: str) -> dict[str, Any] | None:
    """The gateway's registry row (status, auth, certificate expiry), or None."""
    async with conn.cursor(row_factory=dict_row) as cur:
        return await (await cur.execute(_VIEW, (gateway_id,))).fetchone()


def certificate_bundle(files: GatewayFiles, gateway: dict[str, Any]) -> bytes:
    """A zip of what the gateway's edge agent needs to connect: `ca.crt`, `<id>.crt` and `<id>.key`."""
    gateway_id = gateway["gateway_id"]
    if gateway["status"] != "active":
        raise GatewayConflict(f"gateway {gateway_id!r} is {gateway['status']}: only an active gateway's certificate"
                              " is handed out; register it again to issue one")
    if gateway["auth"] != "certificate":
        raise GatewayConflict(f"gateway {gateway_id!r} logs in with a password and has no certificate")
    paths = CertPaths(files.certs / f"client-{gateway_id}.crt", files.certs / f"client-{gateway_id}.key",
                      files.certs / "ca.crt")
    missing = [p.name for p in (paths.cert, paths.key, paths.ca) if not p.is_file()]
    if missing:
        raise GatewayConflict(f"gateway {gateway_id!r}: {', '.join(missing)} not found in {files.certs}; issue a new"
                              " certificate by revoking the gateway and registering it again")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("ca.crt", paths.ca.read_bytes())
        bundle.writestr(f"{gateway_id}.crt", paths.cert.read_bytes())
        bundle.writestr(f"{gateway_id}.key", paths.key.read_bytes())
    return out.getvalue()


def _json(row: dict[str, Any] | None) -> Jsonb | None:
    return None if row is None else Jsonb({k: v.isoformat() if isinstance(v, dt.datetime) else v
                                           for k, v in row.items()})
