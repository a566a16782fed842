"""Fixtures of the edge-agent tests: a Modbus meter on loopback, agent configs, an agent run in-process, an MQTT listener."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml

from carbonflow.embedded.mqtt import INGEST_IDENTITY
from device_profiles.loader import load_profile
from edge_agent.agent import EdgeAgent
from simulators import ModbusDeviceServer, SimulatedDevice
from tests.leaks import no_leaked_tasks_or_threads

GATEWAY = "gw-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def free_port() -> Callable[[], int]:
    return _free_port


def _server_session_leftover(task: asyncio.Task[Any]) -> bool:
    """asyncua's server keeps a session's tasks when stopped under a live session (as a test does on purpose)."""
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "asyncua/server/internal_s" in code.co_filename.replace("\\", "/")


@pytest.fixture(autouse=True)
async def _no_leaked_tasks_or_threads() -> AsyncIterator[None]:
    async with no_leaked_tasks_or_threads(ignore=_server_session_leftover, polls=200):
        yield


@pytest.fixture
async def meter() -> AsyncIterator[tuple[SimulatedDevice, int]]:
    """A cf-demo/pm3-meter on a Modbus TCP simulator (unit 1): (device, port)."""
    device = SimulatedDevice(load_profile("cf-demo/pm3-meter"), device_id="meter-1")
    async with ModbusDeviceServer([device], port=0) as server:
        yield device, server.port


@pytest.fixture
def write_config(tmp_path: Path, free_port: Callable[[], int]) -> Callable[..., Path]:
    """Write an agent YAML config into tmp_path; keyword arguments replace top-level keys."""

    def write(*, devices: list[dict[str, Any]], path: Path | None = None, **top: Any) -> Path:
        config: dict[str, Any] = {
            "gateway_id": GATEWAY,
            "spool_path": str(tmp_path / "spool.sqlite"),
            "flush_interval_s": 0.05,
            "mqtt": {"url": f"mqtt://127.0.0.1:{free_port()}", "reconnect_min_s": 0.2, "reconnect_max_s": 1.0},
            "devices": devices,
            **top,
        }
        target = path or tmp_path / "edge.yaml"
        target.write_text(yaml.safe_dump(json.loads(json.dumps(config, default=str))))
        return target

    return write


@pytest.fixture
def tls_link(mqtt_broker: str, pki: dict) -> dict[str, Any]:
    """The `mqtt` section for the session's TLS broker, as gateway gw-test."""
    cert = pki[GATEWAY]
    return {"url": mqtt_broker, "ca": str(cert.ca), "cert": str(cert.cert), "key": str(cert.key),
            "reconnect_min_s": 0.2, "reconnect_max_s": 1.0}


def modbus_device(device_id: str, port: int, **extra: Any) -> dict[str, Any]:
    return {"id": device_id, "profile": "cf-demo/pm3-meter", "protocol": "modbus", "port": port, "unit_id": 1,
            "poll_interval_s": 0.2, "timeout_s": 0.5, **extra}


@pytest.fixture
def modbus_endpoint() -> Callable[..., dict[str, Any]]:
    return modbus_device


@contextlib.asynccontextmanager
async def _running(agent: EdgeAgent) -> AsyncIterator[EdgeAgent]:
    task = asyncio.create_task(agent.run(), name="agent-under-test")
    try:
        yield agent
    finally:
        agent.stop.set()
        await asyncio.wait_for(task, timeout=15)


@pytest.fixture
def running() -> Callable[[EdgeAgent], contextlib.AbstractAsyncContextManager[EdgeAgent]]:
    """`async with running(agent):` runs the agent in this event loop and stops it cleanly."""
    return _running


async def _eventually(check: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
def eventually() -> Callable[..., Awaitable[Any]]:
    """`await eventually(check, timeout_s, what)`: poll until check() is truthy."""
    return _eventually


class Listener:
    """An MQTT client (the ingest identity) that records every message below a topic filter."""

    def __init__(self, url: str, cert: Any, topic: str) -> None:
        host, port = url.split("://", 1)[1].split(":")
        self.messages: list[tuple[str, bytes, bool]] = []
        self._subscribed = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"listener-{time.monotonic_ns()}")
        self._client.tls_set(ca_certs=str(cert.ca), certfile=str(cert.cert), keyfile=str(cert.key))
        self._client.on_connect = lambda c, u, f, rc, p=None: c.subscribe(topic, qos=1)
        self._client.on_subscribe = lambda *a: self._subscribed.set()
        self._client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload, bool(m.retain)))
        self._client.connect(host, int(port))
        self._client.loop_start()
        if not self._subscribed.wait(10):
            self.close()
            raise AssertionError("listener could not subscribe")

    def on(self, suffix: str) -> list[bytes]:
        return [payload for topic, payload, _ in list(self.messages) if topic.endswith(suffix)]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def listen(mqtt_broker: str, pki: dict) -> Iterator[Callable[[str], Listener]]:
    """`listen(topic_filter)` subscribes as the ingest service; closed after the test."""
    made: list[Listener] = []

    def start(topic: str) -> Listener:
        listener = Listener(mqtt_broker, pki[INGEST_IDENTITY], topic)
        made.append(listener)
        return listener

    yield start
    for listener in made:
        listener.close()
