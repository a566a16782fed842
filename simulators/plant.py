"""A simulated plant: the devices of a scenario, served, moved by physics and given faults.

Simulated time runs ``speed`` times faster than real time; the physics and
the fault schedule both follow it.  The time of day (for shift and daylight
rules) starts at the scenario's ``start_time``, else at the local time.

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
from datetime import datetime, time
from pathlib import Path
from typing import Any
from typing import Protocol as TypingProtocol

from carbon_domain.registers import RegisterCodecError
from carbon_domain.schemas import PointKind
from device_profiles.loader import load_profile
from device_profiles.schema import DeviceProfile, Protocol
from simulators.lifecycle import StartStop

from .counter_state import CounterState
from .device import SimulatedDevice
from .faults import Fault, FaultBoard, FaultSpec
from .modbus_device import ModbusDeviceServer, ModbusRtuServer
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
_SAVE_EVERY_S = 5.0  # real seconds between writes of the counter state (and once more at stop)


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
    process: str | None = None

    def line(self) -> str:
        """The line the simulator prints for supervisors to read."""
        text = f"device {self.device_id} {self.profile} {self.protocol} {self.url}"
        return f"{text} unit {self.unit_id}" if self.unit_id is not None else text

    def as_dict(self) -> dict[str, Any]:
        """Plain dict: device_id, profile, protocol, host, port, unit_id, url, process."""
        return asdict(self)


class _Server(TypingProtocol):
    port: int

    @property
    def endpoint(self) -> str: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def sync(self) -> None: ...


class Plant(StartStop):
    """Serves every device of a scenario and runs its physics until stopped."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        host: str = "127.0.0.1",
        base_port: int | None = None,
        speed: float | None = None,
        static: bool | None = None,
        start_time: time | None = None,
        rtu: bool = False,
        state_dir: Path | None = None,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.scenario = scenario
        self.host = host
        self.base_port = scenario.base_port if base_port is None else base_port
        self.speed = scenario.speed if speed is None else speed
        self.static = scenario.static if static is None else static
        self.rtu = rtu
        self.profiles = resolve_profiles(scenario)
        self.devices: dict[str, SimulatedDevice] = {
            device.id: SimulatedDevice(
                self.profiles[device.id], device_id=device.id, initial=device.initial
            )
            for device in scenario.devices
        }
        # counters carry on from where the last run of this scenario left them, as a real meter's do
        self.counter_state = None if state_dir is None else CounterState(state_dir, scenario.name)
        if self.counter_state is not None:
            restored = self.counter_state.restore(self.devices)
            if restored:
                _log.info("%d counters restored from %s", restored, self.counter_state.path)
        start = start_time or scenario.start_time or datetime.now().time()
        self.physics = Physics(
            scenario.physics,
            self.devices,
            max_step_s=scenario.max_step_s,
            day_start_s=start.hour * 3600 + start.minute * 60 + start.second,
        )
        self.faults = FaultBoard(self.devices, on_jump=self.physics.rebase)
        for spec in scenario.faults:
            self.faults.add(spec, now_s=0.0)
        self.endpoints: list[Endpoint] = []
        self._servers: list[tuple[_Server, list[ScenarioDevice]]] = []
        self._task: asyncio.Task[None] | None = None
        self._reported: set[str] = set()

    @property
    def time_s(self) -> float:
        """Simulated seconds since the plant started."""
        return self.physics.time_s

    def clock(self) -> str:
        """Simulated time of day as HH:MM:SS."""
        seconds = int(self.physics.time_of_day_s)
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def step(self, dt_s: float) -> None:
        """Advance the physics and the fault schedule by ``dt_s`` simulated seconds (ignores ``static``)."""
        try:
            self.physics.step(dt_s)
        except (RegisterCodecError, KeyError, ValueError) as exc:
            if str(exc) not in self._reported:  # log a repeating fault once
                self._reported.add(str(exc))
                _log.error("physics step failed: %s", exc)
        self.faults.update(self.physics.time_s)

    def add_fault(self, spec: FaultSpec) -> Fault:
        """Schedule a fault ``spec.start_s`` from now; ValueError if it cannot apply.

        Call `sync` afterwards so servers of devices gone offline close.
        """
        return self.faults.add(spec, now_s=self.physics.time_s)

    def remove_fault(self, fault_id: str) -> Fault:
        """End a fault now (KeyError if unknown); call `sync` afterwards."""
        return self.faults.remove(fault_id)

    async def sync(self) -> None:
        """Let every server follow its devices' links (close or reopen ports)."""
        for server, _ in self._servers:
            await server.sync()

    async def start(self) -> list[Endpoint]:
        """Serve every device (and start the physics unless static); return the endpoints."""
        if not self.static:
            self.step(0.0)
        try:
            for server, devices in self._build_servers():
                self._servers.append((server, devices))
                await server.start()
        except BaseException:
            await self.stop()
            raise
        self.endpoints = [
            _endpoint(device, self.profiles[device.id], self.host, server.port)
            if not isinstance(server, ModbusRtuServer)
            else _rtu_endpoint(device, self.profiles[device.id], server.path)
            for server, devices in self._servers
            for device in devices
        ]
        order = [device.id for device in self.scenario.devices]
        self.endpoints.sort(key=lambda endpoint: order.index(endpoint.device_id))
        await self.sync()  # faults scheduled at 0 s
        self._task = asyncio.create_task(
            self._run(), name=f"physics-{self.scenario.name}"
        )
        return self.endpoints

    async def stop(self) -> None:
        """Stop the physics and every server."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._save_counters()
        servers, self._servers = self._servers, []
        # OPC-UA servers take a second each to wind down; let them do it together.
        await asyncio.gather(*(server.stop() for server, _ in reversed(servers)))

    def _save_counters(self) -> None:
        if self.counter_state is None:
            return
        try:
            self.counter_state.save(self.devices)
        except OSError as exc:
            if str(exc) not in self._reported:  # log a repeating failure once
                self._reported.add(str(exc))
                _log.error("counter state not saved to %s: %s", self.counter_state.path, exc)

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
            server: _Server = (
                ModbusRtuServer(members)
                if self.rtu
                else ModbusDeviceServer(members, host=self.host, port=port)
            )
            servers.append((server, group))
        return servers

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = saved = loop.time()
        while True:
            await asyncio.sleep(self.scenario.tick_s)
            now = loop.time()
            dt = (now - last) * self.speed
            last = now
            if self.static:  # the clock and the fault schedule run on; values stay
                self.physics.time_s += dt
                self.faults.update(self.physics.time_s)
            else:
                self.step(dt)
            await self.sync()
            if now - saved >= _SAVE_EVERY_S:
                saved = now
                self._save_counters()


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
            device.process,
        )
    return Endpoint(
        device.id,
        device.profile,
        str(device.protocol),
        host,
        port,
        profile.unit_id,
        f"tcp://{host}:{port}",
        device.process,
    )


def _rtu_endpoint(
    device: ScenarioDevice, profile: DeviceProfile, path: str
) -> Endpoint:
    return Endpoint(
        device.id,
        device.profile,
        str(device.protocol),
        "",
        0,
        profile.unit_id,
        f"rtu://{path}",
        device.process,
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
