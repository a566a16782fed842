"""A simulated plant: the devices of a scenario, served and moved by physics.

>>> async with Plant(load_scenario("demo"), base_port=0) as plant:   # doctest: +SKIP
...     for endpoint in plant.endpoints:
...         print(endpoint.line())
device elec-main cf-demo/pm3-meter modbus tcp://127.0.0.1:40001 unit 1
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any, Self
from typing import Protocol as TypingProtocol

from carbon_domain.registers import RegisterCodecError
from carbon_domain.schemas import PointKind
from device_profiles.loader import load_profile
from device_profiles.schema import DeviceProfile, Protocol

from .device import SimulatedDevice
from .modbus_device import ModbusDeviceServer
from .opcua_device import OpcUaDeviceServer, opcua_url
from .physics import CurveRule, Physics, Rule
from .scenario import Scenario, ScenarioDevice, load_scenario, resolve_profiles

__all__ = [
    "Endpoint",
    "Plant",
    "demo_endpoints",
    "device_scenario",
    "scenario_endpoints",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    """Where one simulated device answers."""

    device_id: str
    profile: str
    protocol: str
    host: str
    port: int
    unit_id: int | None
    url: str

    def line(self) -> str:
        """The line the simulator prints for supervisors to read."""
        text = f"device {self.device_id} {self.profile} {self.protocol} {self.url}"
        return f"{text} unit {self.unit_id}" if self.unit_id is not None else text

    def as_dict(self) -> dict[str, Any]:
        """Plain dict: device_id, profile, protocol, host, port, unit_id, url."""
        return asdict(self)


class _Server(TypingProtocol):
    port: int

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class Plant:
    """Serves every device of a scenario and runs its physics until stopped."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        host: str = "127.0.0.1",
        base_port: int | None = None,
        speed: float | None = None,
        static: bool | None = None,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.scenario = scenario
        self.host = host
        self.base_port = scenario.base_port if base_port is None else base_port
        self.speed = scenario.speed if speed is None else speed
        self.static = scenario.static if static is None else static
        self.profiles = resolve_profiles(scenario)
        self.devices: dict[str, SimulatedDevice] = {
            device.id: SimulatedDevice(
                self.profiles[device.id], device_id=device.id, initial=device.initial
            )
            for device in scenario.devices
        }
        self.physics = Physics(scenario.physics, self.devices)
        self.endpoints: list[Endpoint] = []
        self._servers: list[tuple[_Server, list[ScenarioDevice]]] = []
        self._task: asyncio.Task[None] | None = None
        self._reported: set[str] = set()

    def step(self, dt_s: float) -> None:
        """Advance the physics by ``dt_s`` simulated seconds (ignores ``static``)."""
        try:
            self.physics.step(dt_s)
        except (RegisterCodecError, KeyError, ValueError) as exc:
            if str(exc) not in self._reported:  # log a repeating fault once
                self._reported.add(str(exc))
                _log.error("physics step failed: %s", exc)

    async def start(self) -> list[Endpoint]:
        """Serve every device (and start the physics unless static); return the endpoints."""
        if not self.static:
            self.step(0.0)
        try:
            for server, devices in self._build_servers():
                await server.start()
                self._servers.append((server, devices))
        except BaseException:
            await self.stop()
            raise
        self.endpoints = [
            _endpoint(device, self.profiles[device.id], self.host, server.port)
            for server, devices in self._servers
            for device in devices
        ]
        order = [device.id for device in self.scenario.devices]
        self.endpoints.sort(key=lambda endpoint: order.index(endpoint.device_id))
        if not self.static:
            self._task = asyncio.create_task(
                self._run_physics(), name=f"physics-{self.scenario.name}"
            )
        return self.endpoints

    async def stop(self) -> None:
        """Stop the physics and every server."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        servers, self._servers = self._servers, []
        for server, _ in reversed(servers):
            await server.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def _build_servers(self) -> list[tuple[_Server, list[ScenarioDevice]]]:
        servers: list[tuple[_Server, list[ScenarioDevice]]] = []
        modbus: dict[int, list[ScenarioDevice]] = defaultdict(list)
        for device in self.scenario.devices:
            port = self.scenario.port_of(device, self.base_port)
            if device.protocol is Protocol.OPCUA:
                servers.append(
                    (
                        OpcUaDeviceServer(
                            self.devices[device.id], host=self.host, port=port
                        ),
                        [device],
                    )
                )
            else:
                modbus[device.port_offset].append(device)
        for offset, group in sorted(modbus.items()):
            port = self.scenario.port_of(group[0], self.base_port)
            members = [self.devices[device.id] for device in group]
            servers.append(
                (ModbusDeviceServer(members, host=self.host, port=port), group)
            )
        return servers

    async def _run_physics(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.scenario.tick_s)
            now = loop.time()
            self.step((now - last) * self.speed)
            last = now


def _endpoint(
    device: ScenarioDevice, profile: DeviceProfile, host: str, port: int
) -> Endpoint:
    if device.protocol is Protocol.OPCUA:
        return Endpoint(
            device.id,
            device.profile,
            str(device.protocol),
            host,
            port,
            None,
            opcua_url(host, port, device.id),
        )
    return Endpoint(
        device.id,
        device.profile,
        str(device.protocol),
        host,
        port,
        profile.unit_id,
        f"tcp://{host}:{port}",
    )


def scenario_endpoints(
    scenario: Scenario, *, host: str = "127.0.0.1", base_port: int | None = None
) -> list[Endpoint]:
    """Endpoints a plant for ``scenario`` will serve, without starting it (fixed ports only)."""
    base = scenario.base_port if base_port is None else base_port
    if base == 0:
        raise ValueError(
            "base port 0 picks ports at start; read Plant.endpoints instead"
        )
    profiles = resolve_profiles(scenario)
    return [
        _endpoint(d, profiles[d.id], host, scenario.port_of(d, base))
        for d in scenario.devices
    ]


def demo_endpoints(
    host: str = "127.0.0.1", base_port: int | None = None
) -> list[dict[str, Any]]:
    """Endpoints of the demo plant as dicts (device_id, profile, protocol, host, port, unit_id, url)."""
    return [
        endpoint.as_dict()
        for endpoint in scenario_endpoints(
            load_scenario("demo"), host=host, base_port=base_port
        )
    ]


def device_scenario(
    profile: str,
    *,
    port: int,
    device_id: str | None = None,
    unit_id: int | None = None,
    static: bool = False,
) -> Scenario:
    """A one-device scenario for ``profile``: its gauges sway +-3% around their examples."""
    loaded = load_profile(profile)
    device_id = device_id or loaded.name.split("/", 1)[1].replace(".", "-")
    if loaded.protocol is not Protocol.MODBUS:
        unit_id = None
    rules: list[Rule] = [
        CurveRule(
            kind="curve",
            target=f"{device_id}.{point.name}",
            period_s=60.0,
            points=[
                (0.0, value),
                (15.0, value * 1.03),
                (30.0, value),
                (45.0, value * 0.97),
            ],
        )
        for point in loaded.points
        if point.kind is PointKind.GAUGE
        and isinstance(point.example, int | float)
        and not isinstance(point.example, bool)
        and (value := float(point.example)) != 0.0
    ]
    device = ScenarioDevice(
        id=device_id,
        profile=profile,
        protocol=loaded.protocol,
        port_offset=0,
        unit_id=unit_id,
    )
    return Scenario(
        name=f"device-{device_id}",
        base_port=port,
        static=static,
        devices=[device],
        physics=rules,
    )
