"""A take with a record the sink cannot store (issue 14): the record is dead-lettered with its reason, every other
record is stored once, and a database that is unavailable for a while dead-letters nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from prometheus_client import REGISTRY

from carbon_domain.schemas import epoch_us
from stream_jobs import agents
from stream_jobs.batch_store import _device_lock_key
from tests.conftest import owner_url

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
RECORDS = 3  # per device
READINGS = 4  # per record


def _record(gateway: str, device: str, index: int, *, base: int = 1000, point: str = "kwh", unit: str = "kWh") -> bytes:
    """Record `index` of a device, written as ingest writes it but without its checks: 4 counter readings 5
    minutes apart, 10 kWh each, numbered from `base` (a gateway numbers its readings across its devices)."""
    n = [index * READINGS + i for i in range(READINGS)]
    times = [epoch_us(T0 + timedelta(minutes=5 * i)) for i in n]
    return json.dumps({
        "v": 2, "gateway": gateway, "device": device, "received_at": T0.isoformat(), "last_gateway_us": max(times),
        "seq": [base + i for i in n], "point": [point] * READINGS, "value": [1000.0 + 10.0 * i for i in n],
        "unit": [unit] * READINGS, "kind": ["counter"] * READINGS, "quality": [0] * READINGS, "source_us": times,
    }).encode()


def _register(url: str, run: str) -> tuple[str, dict[str, list[str]]]:
    """A site with two gateways' metered devices; returns the site and each gateway's devices."""
    site = f"iso-{run}"
    fleet = {f"gwa-{run}": [f"a0-{run}", f"a1-{run}"], f"gwb-{run}": [f"b0-{run}", f"b1-{run}"]}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises VALUES ('iso-ent', 'Isolation', 'CN', NULL) ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO sites VALUES (%s, 'iso-ent', 'Isolation site', NULL, NULL)", (site,))
        for device in (d for devices in fleet.values() for d in devices):
            conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (device, site))
            conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 'kWh',"
                         " 'counter', 'electricity')", (device,))
    return site, fleet


def _good_take(fleet: dict[str, list[str]]) -> list[bytes]:
    """Every device's records, interleaved across devices as Kafka partitions hand them over."""
    return [_record(gw, device, i, base=_base(devices, device))
            for i in range(RECORDS) for gw, devices in fleet.items() for device in devices]


def _base(devices: list[str], device: str) -> int:
    """The first sequence number of a device's readings: 1000 for a gateway's first device, 2000 for its second."""
    return 1000 * (devices.index(device) + 1)


def _every_seq(devices: list[str]) -> dict[str, list[int]]:
    """Each device's sequence numbers in a good take, once each."""
    return {d: [_base(devices, d) + i for i in range(RECORDS * READINGS)] for d in devices}


def _stored(url: str, gateway: str) -> dict[str, list[int]]:
    """Each device's stored sequence numbers (with repeats, if any) of a gateway."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT b.device_id, u.seq FROM reading_batches b JOIN gateways g USING (gateway_key)"
            " CROSS JOIN LATERAL unnest(b.seqs) AS u(seq) WHERE g.gateway_id = %s ORDER BY 1, 2", (gateway,)).fetchall()
    stored: dict[str, list[int]] = {}
    for device, seq in rows:
        stored.setdefault(device, []).append(seq)
    return stored


def _dead_letters(url: str, payloads: list[bytes]) -> list[tuple[bytes, str]]:
    with psycopg.connect(url) as conn:
        return [(bytes(p), r) for p, r in conn.execute(
            "SELECT payload, reason FROM dead_letters WHERE stage = 'stream' AND payload = ANY(%s) ORDER BY id",
            (payloads,)).fetchall()]


@pytest.fixture
async def lanes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:  # type: ignore[misc]
    """Two lanes and chunks of 6 records: a poison record shares its chunk and its lane with good ones."""
    monkeypatch.setattr(agents, "_CHUNK", 6)
    monkeypatch.setattr(agents, "_lanes", [agents._Database() for _ in range(2)])
    yield
    for lane in agents._lanes:
        if lane.conn is not None:
            await lane.conn.close()


# Rules of the database that the poison records break, one per kind of key the sink writes. Since issue 14 a NUL
# or another character PostgreSQL text cannot hold is refused when a record is decoded, so a record that decodes
# and still fails to store is one the database itself refuses.
_REFUSING_RULES = {
    "no_refused_points": "ALTER TABLE points ADD CONSTRAINT no_refused_points CHECK (point <> 'refused-point')",
    "no_refused_units": "ALTER TABLE points ADD CONSTRAINT no_refused_units CHECK (unit <> 'refused-unit')",
    "no_refused_devices": "ALTER TABLE reading_batches ADD CONSTRAINT no_refused_devices CHECK (device_id <> 'refused-dev')",
    "no_refused_gateways":
        "ALTER TABLE gateways ADD CONSTRAINT no_refused_gateways CHECK (gateway_id <> 'refused-gw')",
}


def _refuse(url: str, *rules: str) -> None:
    """Add database rules as the owner (the services' role may not alter tables)."""
    with psycopg.connect(owner_url(url), autocommit=True) as conn:
        for rule in rules:
            conn.execute(_REFUSING_RULES[rule])


async def test_a_record_that_cannot_be_stored_is_dead_lettered_with_its_reason_and_the_rest_of_its_take_is_stored(
        lanes: None, scratch_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    site, fleet = _register(scratch_url, uuid.uuid4().hex[:6])
    (gwa, (a0, a1)), (gwb, (b0, _)) = fleet.items()
    _refuse(scratch_url, *_REFUSING_RULES)
    poison = {  # the rule each breaks, which the dead letter's reason names
        _record(gwb, b0, 0, base=5000, point="refused-point"): "no_refused_points",
        _record(gwa, a0, 0, base=6000, point="kvarh", unit="refused-unit"): "no_refused_units",
        _record(gwa, "refused-dev", 0): "no_refused_devices",
        _record("refused-gw", a1, 0, base=7000): "no_refused_gateways",
    }
    values = _good_take(fleet)
    for i, raw in enumerate(poison):
        values.insert(3 + 4 * i, raw)
    await agents._store_take(values)
    await agents._store_take(values)  # replayed after a crash before the offsets were committed

    with psycopg.connect(scratch_url) as conn:
        intervals = conn.execute("SELECT count(*), count(DISTINCT start_ts), round(sum(quantity)::numeric * 1000, 6)"
                                 "::float8 FROM emissions WHERE site_id = %s GROUP BY point_key", (site,)).fetchall()
    letters = _dead_letters(scratch_url, list(poison))
    assert _stored(scratch_url, gwa) == _every_seq(fleet[gwa])
    assert _stored(scratch_url, gwb) == _every_seq(fleet[gwb])
    intervals_per_point = RECORDS * READINGS - 1  # 10 kWh each
    assert intervals == [(intervals_per_point, intervals_per_point, 10.0 * intervals_per_point)] * 4
    assert sorted(payload for payload, _ in letters) == sorted(poison)  # each once, the replay's included
    for (payload, reason) in letters:
        assert reason.startswith("record could not be stored: CheckViolation: ") and poison[payload] in reason, reason


async def test_a_record_with_a_nul_is_dead_lettered_when_decoded_naming_the_field_and_the_rest_is_stored(
        lanes: None, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    _, fleet = _register(database_url, uuid.uuid4().hex[:6])
    (gwa, (a0, _)), (gwb, (b0, _)) = fleet.items()
    poison = {  # a record written without ingest's checks: the decode refuses it before the store
        _record(gwb, b0, 0, base=5000, point="bad\x00point"): "point.0: ",
        _record(gwa, a0, 0, base=6000, point="kvarh", unit="kW\x00h"): "unit 'kW\\x00h'",
        _record(gwa, "dev\x00ice", 0): "device: ",
    }
    values = _good_take(fleet)
    for i, raw in enumerate(poison):
        values.insert(3 + 4 * i, raw)
    await agents._store_take(values)

    assert _stored(database_url, gwa) == _every_seq(fleet[gwa])
    assert _stored(database_url, gwb) == _every_seq(fleet[gwb])
    letters = _dead_letters(database_url, list(poison))
    assert sorted(payload for payload, _ in letters) == sorted(poison)
    for (payload, reason) in letters:
        assert reason.startswith("invalid Kafka record: ") and poison[payload] in reason and "\\x00" in reason, reason


async def test_a_record_the_database_refuses_is_dead_lettered_with_the_databases_reason(
        lanes: None, scratch_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    _, fleet = _register(scratch_url, uuid.uuid4().hex[:6])
    gwa, gwb = fleet
    b1 = fleet[gwb][1]
    _refuse(scratch_url, "no_refused_points")
    refused = _record(gwb, b1, 0, base=8000, point="refused-point")
    values = _good_take(fleet)
    values.insert(5, refused)
    await agents._store_take(values)

    assert _stored(scratch_url, gwa) == _every_seq(fleet[gwa])
    assert _stored(scratch_url, gwb) == _every_seq(fleet[gwb])
    [(_, reason)] = _dead_letters(scratch_url, [refused])
    assert reason.startswith("record could not be stored: CheckViolation: ") and "no_refused_points" in reason


async def _lane_waiting_on_lock(conn: psycopg.Connection, not_pids: set[int]) -> int:
    """The backend of a lane once it waits for an advisory lock (not one of `not_pids`)."""
    for _ in range(200):
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                            " AND wait_event_type = 'Lock' AND wait_event = 'advisory'").fetchall()
        waiting = {pid for (pid,) in rows} - not_pids
        if waiting:
            return waiting.pop()
        await asyncio.sleep(0.05)
    raise AssertionError("no lane waited for the device lock")


async def test_a_lost_connection_dead_letters_nothing_and_the_take_is_stored_after_recovery(
        lanes: None, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    _, fleet = _register(database_url, uuid.uuid4().hex[:6])
    gwa, gwb = fleet
    b0 = fleet[gwb][0]
    values = _good_take(fleet)
    with psycopg.connect(database_url, autocommit=True) as blocker:
        # the lane writing b0 waits for the device's lock, and its connection is killed while it waits, twice
        blocker.execute("SELECT pg_advisory_lock(%s, %s)", _device_lock_key(gwb, b0))
        storing = asyncio.ensure_future(agents._store_take(values))
        killed: set[int] = set()
        for _ in range(2):
            pid = await _lane_waiting_on_lock(blocker, killed)
            blocker.execute("SELECT pg_terminate_backend(%s)", (pid,))
            killed.add(pid)
        await _lane_waiting_on_lock(blocker, killed)
        assert not storing.done()
        blocker.execute("SELECT pg_advisory_unlock(%s, %s)", _device_lock_key(gwb, b0))
        await asyncio.wait_for(storing, 30)

    assert _stored(database_url, gwa) == _every_seq(fleet[gwa])
    assert _stored(database_url, gwb) == _every_seq(fleet[gwb])
    assert _dead_letters(database_url, values) == []


async def test_a_stopped_worker_finishes_storing_its_take_before_the_take_is_acknowledged(
        lanes: None, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    _, fleet = _register(database_url, uuid.uuid4().hex[:6])
    (gwa, (a0, a1)), _ = fleet.items()
    values = [_record(gwa, device, i, base=_base(fleet[gwa], device)) for i in range(RECORDS) for device in (a0, a1)]
    with psycopg.connect(database_url, autocommit=True) as blocker:
        blocker.execute("SELECT pg_advisory_lock(%s, %s)", _device_lock_key(gwa, a0))
        agent = asyncio.ensure_future(agents._store_take_fully(values))
        await _lane_waiting_on_lock(blocker, set())
        agent.cancel()  # what faust does to the agent on SIGTERM; its take() then acks the take's records
        await asyncio.sleep(0.3)
        assert not agent.done()
        blocker.execute("SELECT pg_advisory_unlock(%s, %s)", _device_lock_key(gwa, a0))
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(agent, 30)
    assert _stored(database_url, gwa) == _every_seq(fleet[gwa])


def _dead_letter_count(reason_class: str) -> float:
    return REGISTRY.get_sample_value("carbonflow_dead_letters_total",
                                     {"stage": "stream", "reason_class": reason_class}) or 0.0


async def test_a_record_the_database_refuses_is_counted_once_as_a_stream_store_dead_letter_even_when_replayed(
        lanes: None, scratch_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    _, fleet = _register(scratch_url, uuid.uuid4().hex[:6])
    (gwa, (a0, _)), _ = fleet.items()
    _refuse(scratch_url, "no_refused_points")
    values = [*_good_take(fleet), _record(gwa, a0, 0, base=8000, point="refused-point")]
    stored_before = REGISTRY.get_sample_value("carbonflow_stream_readings_stored_total") or 0.0
    before = _dead_letter_count("store")
    await agents._store_take(values)
    await agents._store_take(values)  # replayed after a crash before the offsets were committed
    assert _dead_letter_count("store") == before + 1
    good_readings = (len(values) - 1) * READINGS
    assert REGISTRY.get_sample_value("carbonflow_stream_readings_stored_total") == stored_before + 2 * good_readings
