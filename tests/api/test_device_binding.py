"""A gateway writes only its own devices over HTTP ingest; unknown devices follow CARBONFLOW_AUTO_REGISTER_DEVICES;
moving a device to another gateway is an audited administrator's action (PUT /api/v1/devices/{id}/gateway)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from carbon_domain.schemas import Envelope, Reading
from carbon_domain.wire import decode_device_record
from carbonflow.topics import kafka_readings
from ingest.bridge import ensure_topics
from tests.api.conftest import TEST_SETTINGS, make_user, unique
from tests.api.kafka_reads import batches_on

JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Plant:
    """An enterprise with one site, an active gateway of that site and one device bound to it."""

    enterprise: str
    site: str
    gateway: str
    device: str


def _plant(db: psycopg.Connection, tag: str) -> Plant:
    p = Plant(unique(f"ent-{tag}"), unique(f"site-{tag}"), unique(f"gw-{tag}"), unique(f"dev-{tag}"))
    db.execute("INSERT INTO enterprises (enterprise_id, name) VALUES (%s, %s)", (p.enterprise, p.enterprise))
    db.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, %s)", (p.site, p.enterprise, p.site))
    _gateway(db, p.gateway, p.site)
    db.execute("INSERT INTO devices (device_id, site_id, gateway_id) VALUES (%s, %s, %s)",
               (p.device, p.site, p.gateway))
    return p


def _gateway(db: psycopg.Connection, gateway: str, site: str, status: str = "active") -> str:
    db.execute("INSERT INTO gateways (gateway_id, site_id, status, registered_at) VALUES (%s, %s, %s, now())",
               (gateway, site, status))
    return gateway


def _envelope(gateway: str, devices: list[str], first: int = 1, per_device: int = 2) -> bytes:
    ts = datetime.now(UTC)
    readings = [Reading(seq=first + i, device=device, point="energy_kwh", value=1000.0 + i, unit="kWh",
                        kind="counter", source_ts=ts, gateway_ts=ts)
                for i, device in enumerate(d for d in devices for _ in range(per_device))]
    return Envelope(gateway=gateway, seq_first=first, seq_last=first + len(readings) - 1, sent_at=ts,
                    readings=readings).model_dump_json().encode()


def _binding(db: psycopg.Connection, device: str) -> tuple[str | None, str | None] | None:
    return db.execute("SELECT gateway_id, site_id FROM devices WHERE device_id = %s", (device,)).fetchone()


def _dead_letters(db: psycopg.Connection, gateway: str) -> list[tuple[str, str, str, str]]:
    """(stage, topic, reason, device of the stored record) of the gateway's dead letters."""
    rows = db.execute("SELECT stage, topic, reason, payload FROM dead_letters WHERE gateway_id = %s ORDER BY id",
                      (gateway,)).fetchall()
    return [(stage, topic, reason, decode_device_record(bytes(payload)).device)
            for stage, topic, reason, payload in rows]


@dataclass(frozen=True)
class Ingest:
    client: TestClient
    headers: dict[str, str]
    topic: str
    bootstrap: str

    def post(self, body: bytes) -> object:
        return self.client.post("/api/v1/ingest", headers={**self.headers, **JSON}, content=body)

    def devices_on_kafka(self) -> set[str]:
        return {b.device for b in asyncio.run(batches_on(self.bootstrap, self.topic))}


def _ingest_app(database_url: str, kafka_bootstrap: str, headers: dict[str, str], *, auto_register: bool
                ) -> Iterator[Ingest]:
    prefix = unique("binding")
    asyncio.run(ensure_topics(kafka_bootstrap, prefix))
    settings = TEST_SETTINGS.model_copy(update={"kafka_bootstrap": kafka_bootstrap, "topic_prefix": prefix,
                                                "auto_register_devices": auto_register})
    with TestClient(create_app(database_url, settings=settings)) as client:
        yield Ingest(client, headers, kafka_readings(prefix), kafka_bootstrap)


@pytest.fixture(scope="module")
def ingest_token(api_app_client: TestClient, admin_headers: dict) -> dict[str, str]:
    technician = make_user(api_app_client, admin_headers, "technician")[2]
    r = api_app_client.post("/api/v1/auth/tokens", headers=technician, json={"name": "edge", "scopes": ["ingest"]})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def ingest(database_url: str, kafka_bootstrap: str, ingest_token: dict) -> Iterator[Ingest]:
    """HTTP ingest with the default policy: unknown devices are refused."""
    yield from _ingest_app(database_url, kafka_bootstrap, ingest_token, auto_register=False)


@pytest.fixture(scope="module")
def auto_ingest(database_url: str, kafka_bootstrap: str, ingest_token: dict) -> Iterator[Ingest]:
    """HTTP ingest with CARBONFLOW_AUTO_REGISTER_DEVICES=on, as in the demo."""
    yield from _ingest_app(database_url, kafka_bootstrap, ingest_token, auto_register=True)


# --- another gateway's device -------------------------------------------------------------------------------


def test_a_foreign_device_over_http_is_dead_lettered_with_its_reason_and_the_own_device_goes_through(
        ingest: Ingest, db: psycopg.Connection) -> None:
    a, c = _plant(db, "a"), _plant(db, "c")
    r = ingest.post(_envelope(a.gateway, [a.device, c.device]))
    reason = (f"device {c.device!r} is bound to gateway {c.gateway!r}, not {a.gateway!r}; an administrator moves a "
              f"device with `carbonflow gateways bind {a.gateway} --device {c.device}` or PUT "
              f"/api/v1/devices/{c.device}/gateway")
    assert r.status_code == 202, r.text
    assert (r.json()["readings"], r.json()["refused"]) == (2, [{"device": c.device, "readings": 2, "reason": reason}])
    assert {a.device, c.device} & ingest.devices_on_kafka() == {a.device}
    assert _dead_letters(db, a.gateway) == [("ingest", "http", reason, c.device)]
    assert _binding(db, c.device) == (c.gateway, c.site)  # not re-pointed to the gateway that sent it
    audit = db.execute("SELECT outcome, detail FROM audit_log WHERE action = 'ingest.envelope' AND target = %s",
                       (f"gateway:{a.gateway}",)).fetchall()
    assert [(o, d["readings"], d["refused"][0]["device"]) for o, d in audit] == [("ok", 2, c.device)]


def test_an_envelope_of_foreign_devices_only_is_403_with_the_reason_and_forwards_nothing(
        ingest: Ingest, db: psycopg.Connection) -> None:
    a, c = _plant(db, "a"), _plant(db, "c")
    r = ingest.post(_envelope(a.gateway, [c.device]))
    assert r.status_code == 403
    assert r.json()["detail"].startswith(f"no device of this envelope may be written by gateway {a.gateway!r}: "
                                         f"device {c.device!r} is bound to gateway {c.gateway!r}")
    assert c.device not in ingest.devices_on_kafka()
    assert [(s, d) for s, _, _, d in _dead_letters(db, a.gateway)] == [("ingest", c.device)]
    assert _binding(db, c.device) == (c.gateway, c.site)
    outcome = db.execute("SELECT outcome FROM audit_log WHERE action = 'ingest.envelope' AND target = %s",
                         (f"gateway:{a.gateway}",)).fetchone()
    assert outcome == ("denied",)


# --- devices not yet known ----------------------------------------------------------------------------------


def test_an_unknown_device_is_refused_saying_how_to_register_it_when_auto_registration_is_off(
        ingest: Ingest, db: psycopg.Connection) -> None:
    a = _plant(db, "a")
    newcomer = unique("dev-new")
    r = ingest.post(_envelope(a.gateway, [newcomer]))
    assert r.status_code == 403
    assert (f"device {newcomer!r} is not registered; register it with gateway_id {a.gateway!r} (POST /api/v1/devices,"
            f" or `gateway: {a.gateway}` in the site registry), or turn on CARBONFLOW_AUTO_REGISTER_DEVICES") in \
        r.json()["detail"]
    assert (_binding(db, newcomer), [d for *_, d in _dead_letters(db, a.gateway)]) == (None, [newcomer])


def test_an_unknown_device_is_registered_under_the_gateways_site_when_auto_registration_is_on(
        auto_ingest: Ingest, db: psycopg.Connection) -> None:
    a = _plant(db, "a")
    newcomer = unique("dev-new")
    r = auto_ingest.post(_envelope(a.gateway, [newcomer]))
    assert (r.status_code, r.json()["readings"], r.json()["refused"]) == (202, 2, [])
    assert _binding(db, newcomer) == (a.gateway, a.site)
    assert newcomer in auto_ingest.devices_on_kafka()
    audit = db.execute("SELECT actor, actor_kind, after FROM audit_log WHERE action = 'device.auto_register'"
                       " AND target = %s", (f"device:{newcomer}",)).fetchall()
    assert audit == [("api", "system", {"device_id": newcomer, "gateway_id": a.gateway, "site_id": a.site})]


def test_auto_registration_never_gives_a_gateway_another_sites_unbound_device(
        auto_ingest: Ingest, db: psycopg.Connection) -> None:
    a, c = _plant(db, "a"), _plant(db, "c")
    db.execute("UPDATE devices SET gateway_id = NULL WHERE device_id = %s", (c.device,))
    r = auto_ingest.post(_envelope(a.gateway, [c.device]))
    assert r.status_code == 403
    assert (f"device {c.device!r} is at site {c.site!r} and gateway {a.gateway!r} serves site {a.site!r}; a gateway "
            "claims only devices of its own site") in r.json()["detail"]
    assert _binding(db, c.device) == (None, c.site)


# --- moving a device --------------------------------------------------------------------------------------


def _move(client: TestClient, headers: dict[str, str], device: str, gateway: str) -> object:
    return client.put(f"/api/v1/devices/{device}/gateway", headers=headers, json={"gateway_id": gateway})


def test_an_admins_move_is_audited_and_the_new_gateway_is_accepted_and_the_old_refused(
        ingest: Ingest, api_app_client: TestClient, admin_headers: dict, db: psycopg.Connection) -> None:
    c = _plant(db, "c")
    spare = _gateway(db, unique("gw-spare"), c.site)
    r = _move(api_app_client, admin_headers, c.device, spare)
    assert r.status_code == 200, r.text
    assert r.json() == {"before": {"device_id": c.device, "gateway_id": c.gateway, "site_id": c.site},
                        "after": {"device_id": c.device, "gateway_id": spare, "site_id": c.site}}
    audit = db.execute("SELECT actor_kind, before, after FROM audit_log WHERE action = 'device.move' AND target = %s",
                       (f"device:{c.device}",)).fetchall()
    assert audit == [("user", r.json()["before"], r.json()["after"])]
    new, old = ingest.post(_envelope(spare, [c.device])), ingest.post(_envelope(c.gateway, [c.device]))
    assert (new.status_code, new.json()["refused"]) == (202, [])
    assert old.status_code == 403 and f"is bound to gateway {spare!r}, not {c.gateway!r}" in old.json()["detail"]


@pytest.mark.parametrize("role", ["technician", "enterprise", "government", "auditor"])
def test_only_administrators_may_move_a_device(api_app_client: TestClient, role_headers: dict, role: str,
                                               db: psycopg.Connection) -> None:
    c = _plant(db, "c")
    spare = _gateway(db, unique("gw-spare"), c.site)
    r = _move(api_app_client, role_headers[role], c.device, spare)
    assert r.status_code == 403
    assert _binding(db, c.device) == (c.gateway, c.site)


def test_a_move_that_cannot_be_done_says_why(api_app_client: TestClient, admin_headers: dict,
                                             db: psycopg.Connection) -> None:
    a, c = _plant(db, "a"), _plant(db, "c")
    revoked = _gateway(db, unique("gw-revoked"), c.site, status="revoked")
    cases = [
        (unique("dev-none"), c.gateway, 404, "register it first"),
        (c.device, a.gateway, 409, (f"gateway {a.gateway!r} serves site {a.site!r} and device {c.device!r} is at site "
                                   f"{c.site!r}")),
        (c.device, revoked, 409, f"gateway {revoked!r} is revoked; register it with `carbonflow gateways add"),
        (c.device, unique("gw-none"), 409, "is not registered"),
    ]
    answers = [_move(api_app_client, admin_headers, device, gateway) for device, gateway, _, _ in cases]
    assert [(r.status_code, want in r.json()["detail"]) for r, (*_, want) in zip(answers, cases)] == [
        (status, True) for _, _, status, _ in cases]
    assert _binding(db, c.device) == (c.gateway, c.site)


def test_patching_a_devices_gateway_is_refused_pointing_to_the_move(api_app_client: TestClient, admin_headers: dict,
                                                                     db: psycopg.Connection) -> None:
    c = _plant(db, "c")
    spare = _gateway(db, unique("gw-spare"), c.site)
    r = api_app_client.patch(f"/api/v1/devices/{c.device}", headers=admin_headers, json={"gateway_id": spare})
    assert (r.status_code, r.json()["detail"]) == (422, (f"change a device's gateway with PUT /api/v1/devices/"
                                                        f"{c.device}/gateway"))
    assert _binding(db, c.device) == (c.gateway, c.site)


def test_the_api_reads_auto_registration_from_its_environment_and_refuses_other_values() -> None:
    from api.settings import load_api_settings

    assert (load_api_settings({}).auto_register_devices,
            load_api_settings({"CARBONFLOW_AUTO_REGISTER_DEVICES": "on"}).auto_register_devices) == (False, True)
    with pytest.raises(SystemExit, match="api: CARBONFLOW_AUTO_REGISTER_DEVICES must be 'on' or 'off', got 'maybe'"):
        load_api_settings({"CARBONFLOW_AUTO_REGISTER_DEVICES": "maybe"})
