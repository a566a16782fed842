"""POST /api/v1/ingest: a gateway envelope over HTTP, by machine token with the 'ingest' scope, from a registered
active gateway, checked as the MQTT bridge checks it, and answered 202 only once Kafka acknowledged it."""

from __future__ import annotations

import asyncio
import json
import zlib
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient

from api.main import create_app
from carbon_domain.schemas import DeviceColumns, Envelope, Reading, column_envelope
from carbon_domain.wire import decode_device_record, encode_envelope
from carbonflow.topics import kafka_readings
from ingest.bridge import ensure_topics
from tests.api.conftest import TEST_SETTINGS, make_user, unique
from tests.conftest import free_port
from tests.ingest import refused

JSON = {"Content-Type": "application/json"}
BINARY = {"Content-Type": "application/octet-stream"}


def _envelope(gateway: str, n: int = 3, ts: datetime | None = None, first: int = 100) -> Envelope:
    ts = ts or datetime.now(UTC)
    readings = [Reading(seq=first + i, device=f"{gateway}-dev-{i % 2}", point="power_kw", value=float(i), unit="kW",
                        source_ts=ts, gateway_ts=ts) for i in range(n)]
    return Envelope(gateway=gateway, seq_first=first, seq_last=first + n - 1, sent_at=ts, readings=readings)


def _json(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


def _zlib(envelope: Envelope) -> bytes:
    return b"Z" + zlib.compress(_json(envelope))


def _token(client: TestClient, session: dict, scopes: list[str]) -> dict[str, str]:
    r = client.post("/api/v1/auth/tokens", headers=session, json={"name": unique("edge"), "scopes": scopes})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def technician(api_app_client: TestClient, admin_headers: dict) -> dict[str, str]:
    return make_user(api_app_client, admin_headers, "technician")[2]


@pytest.fixture(scope="module")
def ingest_token(api_app_client: TestClient, technician: dict) -> dict[str, str]:
    return _token(api_app_client, technician, ["ingest"])


@pytest.fixture
def gateway(db: psycopg.Connection) -> str:
    """A registered, active gateway, with the two devices `_envelope` sends bound to it."""
    name = unique("http-gw")
    db.execute("INSERT INTO gateways (gateway_id, site_id, status, registered_at) VALUES (%s, 'm-site-a', 'active',"
               " now())", (name,))
    db.execute("INSERT INTO devices (device_id, site_id, gateway_id) VALUES (%s, 'm-site-a', %s), (%s, 'm-site-a', %s)",
               (f"{name}-dev-0", name, f"{name}-dev-1", name))
    return name


def test_the_ingest_scope_is_granted_to_technicians_and_admins_only(api_app_client: TestClient,
                                                                     role_headers: dict) -> None:
    for role in ("technician", "admin"):
        _token(api_app_client, role_headers[role], ["ingest"])
    for role in ("government", "enterprise", "auditor"):
        r = api_app_client.post("/api/v1/auth/tokens", headers=role_headers[role],
                                json={"name": "edge", "scopes": ["ingest"]})
        assert r.status_code == 422 and "ingest" in r.json()["detail"]


def test_a_session_or_a_token_without_the_scope_is_refused(api_app_client: TestClient, technician: dict,
                                                           gateway: str) -> None:
    body = _json(_envelope(gateway))
    r = api_app_client.post("/api/v1/ingest", headers={**technician, **JSON}, content=body)
    assert r.status_code == 403 and "machine token" in r.json()["detail"]
    devices_only = _token(api_app_client, technician, ["devices"])
    r = api_app_client.post("/api/v1/ingest", headers={**devices_only, **JSON}, content=body)
    assert r.status_code == 403 and "'ingest' scope" in r.json()["detail"]
    assert api_app_client.post("/api/v1/ingest", headers=JSON, content=body).status_code == 401


@pytest.mark.parametrize("status", [None, "unregistered", "revoked"])
def test_an_unregistered_or_revoked_gateway_is_403_naming_the_command(api_app_client: TestClient,
                                                                       ingest_token: dict, db: psycopg.Connection,
                                                                       status: str | None) -> None:
    name = unique("http-gw")
    if status:
        db.execute("INSERT INTO gateways (gateway_id, status) VALUES (%s, %s)", (name, status))
    r = api_app_client.post("/api/v1/ingest", headers={**ingest_token, **JSON}, content=_json(_envelope(name)))
    assert r.status_code == 403
    assert f"carbonflow gateways add {name}" in r.json()["detail"]


@pytest.mark.parametrize(("payload", "reason"), [
    (b"{not json", "malformed JSON"),
    (b"Z" + b"not zlib", "not valid zlib"),
    (b'{"v": 1, "gateway": "g", "seq_first": 0, "seq_last": 0, "sent_at": "2026-01-01T00:00:00Z", "readings": []}',
     "readings"),
])
def test_invalid_envelopes_are_400_with_the_reason(api_app_client: TestClient, ingest_token: dict, payload: bytes,
                                                   reason: str) -> None:
    r = api_app_client.post("/api/v1/ingest", headers={**ingest_token, **BINARY}, content=payload)
    assert r.status_code == 400
    assert reason in r.json()["detail"]


def test_readings_from_the_future_are_400(api_app_client: TestClient, ingest_token: dict, gateway: str) -> None:
    future = _envelope(gateway, ts=datetime.now(UTC) + timedelta(hours=1))
    r = api_app_client.post("/api/v1/ingest", headers={**ingest_token, **JSON}, content=_json(future))
    assert r.status_code == 400 and "in the future" in r.json()["detail"]


def test_other_content_types_are_415(api_app_client: TestClient, ingest_token: dict, gateway: str) -> None:
    r = api_app_client.post("/api/v1/ingest", headers={**ingest_token, "Content-Type": "text/plain"},
                            content=_json(_envelope(gateway)))
    assert r.status_code == 415 and "application/json" in r.json()["detail"]


def test_without_kafka_bootstrap_a_valid_envelope_is_503(api_app_client: TestClient, ingest_token: dict,
                                                         gateway: str) -> None:
    r = api_app_client.post("/api/v1/ingest", headers={**ingest_token, **JSON}, content=_json(_envelope(gateway)))
    assert r.status_code == 503
    assert "KAFKA_BOOTSTRAP" in r.json()["detail"]


def _app_with_kafka(database_url: str, bootstrap: str, prefix: str = "carbonflow") -> TestClient:
    settings = TEST_SETTINGS.model_copy(update={"kafka_bootstrap": bootstrap, "topic_prefix": prefix})
    return TestClient(create_app(database_url, settings=settings))


def test_unreachable_kafka_is_503(database_url: str, api_app_client: TestClient, ingest_token: dict,
                                  gateway: str) -> None:
    with _app_with_kafka(database_url, f"127.0.0.1:{free_port()}") as client:
        r = client.post("/api/v1/ingest", headers={**ingest_token, **JSON}, content=_json(_envelope(gateway)))
    assert r.status_code == 503
    assert "unreachable" in r.json()["detail"]


async def _read_back(bootstrap: str, topic: str, expected: int) -> list[tuple[bytes, DeviceColumns]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        records: list[tuple[bytes, DeviceColumns]] = []
        async with asyncio.timeout(30):
            while len(records) < expected:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records += [(r.key, decode_device_record(r.value)) for r in batch]
        return records
    finally:
        await consumer.stop()


def test_a_valid_envelope_reaches_kafka_before_the_202(database_url: str, api_app_client: TestClient,
                                                       ingest_token: dict, gateway: str, admin_headers: dict,
                                                       kafka_bootstrap: str) -> None:
    prefix = unique("http")
    asyncio.run(ensure_topics(kafka_bootstrap, prefix))
    plain, packed = _envelope(gateway, n=3), _envelope(gateway, n=1, first=200)
    columns = column_envelope(_envelope(gateway, n=2, first=300))  # version 2, as edge agents send it
    with _app_with_kafka(database_url, kafka_bootstrap, prefix) as client:
        r = client.post("/api/v1/ingest", headers={**ingest_token, **JSON}, content=_json(plain))
        assert r.status_code == 202, r.text
        assert r.json() == {"gateway": gateway, "seq_first": 100, "seq_last": 102, "readings": 3, "refused": []}
        r = client.post("/api/v1/ingest", headers={**ingest_token, **BINARY}, content=_zlib(packed))
        assert r.status_code == 202, r.text
        assert r.json()["readings"] == 1
        r = client.post("/api/v1/ingest", headers={**ingest_token, **BINARY}, content=encode_envelope(columns))
        assert r.status_code == 202, r.text
        assert r.json() == {"gateway": gateway, "seq_first": 300, "seq_last": 301, "readings": 2, "refused": []}
    records = asyncio.run(_read_back(kafka_bootstrap, kafka_readings(prefix), expected=5))
    seqs = sorted((key.decode(), seq) for key, record in records for seq in record.seq)
    dev0, dev1 = f"{gateway}-dev-0", f"{gateway}-dev-1"
    assert seqs == [(dev0, 100), (dev0, 102), (dev0, 200), (dev0, 300), (dev1, 101), (dev1, 301)]
    assert {batch.gateway for _, batch in records} == {gateway}
    entries = api_app_client.get("/api/v1/audit", headers=admin_headers,
                                 params={"action": "ingest.envelope"}).json()["entries"]
    mine = [e["detail"] for e in entries if e["target"] == f"gateway:{gateway}" and e["outcome"] == "ok"]
    assert sorted(d["readings"] for d in mine) == [1, 2, 3]
    assert json.dumps(mine)  # details are plain JSON


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("case", refused.CASES, ids=[c.case_id for c in refused.CASES])
def test_a_bad_string_or_number_is_400_with_a_reason_naming_the_reading(api_app_client: TestClient,
                                                                       ingest_token: dict, gateway: str,
                                                                       case: refused.Refused, version: int) -> None:
    body = refused.spoiled_envelope(case, gateway, version, datetime.now(UTC) - timedelta(seconds=5))
    r = api_app_client.post("/api/v1/ingest", headers={**ingest_token, **BINARY}, content=body)
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert [part for part in refused.reason_parts(case, version) if part not in detail] == [], detail


def test_a_poison_envelope_costs_no_reading_of_the_envelopes_posted_around_it(
        database_url: str, ingest_token: dict, gateway: str, db: psycopg.Connection, kafka_bootstrap: str) -> None:
    other = unique("http-gw")
    db.execute("INSERT INTO gateways (gateway_id, site_id, status, registered_at) VALUES (%s, 'm-site-a', 'active',"
               " now())", (other,))
    for gw in (gateway, other):  # each gateway's own devices d0 and d1, bound to it (a gateway writes only its own)
        db.execute("INSERT INTO devices (device_id, site_id, gateway_id) VALUES (%s, 'm-site-a', %s),"
                   " (%s, 'm-site-a', %s)", (f"{gw}-d0", gw, f"{gw}-d1", gw))
    prefix = unique("http")
    asyncio.run(ensure_topics(kafka_bootstrap, prefix))
    now = datetime.now(UTC) - timedelta(seconds=5)
    nul_point = refused.CASES[0]
    posts = [(refused.good_envelope(gateway, 2, now, f"{gateway}-d"), 202),
             (refused.spoiled_envelope(nul_point, gateway, 2, now, f"{gateway}-d"), 400),
             (refused.good_envelope(other, 1, now, f"{other}-d"), 202)]
    with _app_with_kafka(database_url, kafka_bootstrap, prefix) as client:
        answers = [client.post("/api/v1/ingest", headers={**ingest_token, **BINARY}, content=body).status_code
                   for body, _ in posts]
    assert answers == [status for _, status in posts]
    records = asyncio.run(_read_back(kafka_bootstrap, kafka_readings(prefix), expected=4))
    stored = sorted((batch.gateway, seq) for _, batch in records for seq in batch.seq)
    assert stored == sorted((g, seq) for g in (gateway, other) for seq in range(10, 16))
