"""Serve one simulated device's OPC-UA profile with asyncua.

Each point becomes a writable variable with the profile's NodeId under one
object named after the device.  Model changes are pushed to the variables
(so subscriptions see them) with the served value - faults included - and a
source timestamp from the device's clock (`Link.clock_offset_s` makes it
drift); client writes flow back into the model.  While the device is offline
the server is shut down, so connections are refused.

    >>> boiler = SimulatedDevice(load_profile("cf-demo/boiler-opcua"), device_id="boiler-1")  # doctest: +SKIP
    >>> async with OpcUaDeviceServer(boiler, port=4840) as server:                            # doctest: +SKIP
    ...     print(server.endpoint)          # opc.tcp://127.0.0.1:4840/carbonflow/boiler-1
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncua import Server, ua
from asyncua.common.callback import CallbackType, ServerItemCallback

from carbon_domain.registers import RegisterCodecError
from device_profiles.schema import OpcUaPoint, OpcUaType, Protocol
from simulators.lifecycle import StartStop

from .device import SimulatedDevice, Value
from .errors import ServeError

__all__ = ["OpcUaDeviceServer", "free_tcp_port", "opcua_url"]

_log = logging.getLogger(__name__)

_VARIANT = {
    OpcUaType.DOUBLE: ua.VariantType.Double,
    OpcUaType.FLOAT: ua.VariantType.Float,
    OpcUaType.INT32: ua.VariantType.Int32,
    OpcUaType.UINT32: ua.VariantType.UInt32,
    OpcUaType.INT64: ua.VariantType.Int64,
    OpcUaType.BOOLEAN: ua.VariantType.Boolean,
}


def opcua_url(host: str, port: int, device_id: str) -> str:
    """Endpoint URL the simulator serves ``device_id`` at."""
    return f"opc.tcp://{host}:{port}/carbonflow/{device_id}"


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class OpcUaDeviceServer(StartStop):
    """An OPC-UA server (no security, anonymous) for one simulated device."""

    def __init__(
        self, device: SimulatedDevice, *, host: str = "127.0.0.1", port: int = 4840
    ) -> None:
        if device.profile.protocol is not Protocol.OPCUA:
            raise ServeError(
                f"device {device.device_id} is {device.profile.protocol}, not opcua"
            )
        self.device = device
        self.host = host
        self.port = port
        self._server: Server | None = None
        self._nodes: dict[str, ua.NodeId] = {}
        self._points: dict[ua.NodeId, OpcUaPoint] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._pusher: asyncio.Task[None] | None = None
        self._suspended = False

    @property
    def endpoint(self) -> str:
        """``opc.tcp://host:port/carbonflow/<device id>``."""
        return opcua_url(self.host, self.port, self.device.device_id)

    @property
    def devices(self) -> list[SimulatedDevice]:
        """The one device served."""
        return [self.device]

    async def sync(self) -> None:
        """Follow the device's link: shut the server down while it is offline."""
        if self.device.link.offline and self._server is not None:
            _log.info("%s offline: server stopped", self.endpoint)
            await self._shutdown()
            self._suspended = True
        elif not self.device.link.offline and self._suspended:
            try:
                await self._listen()
            except ServeError as exc:
                _log.warning("%s cannot come back online: %s", self.endpoint, exc)
                return
            self._suspended = False

    async def start(self) -> None:
        """Build the address space and listen; port 0 picks a free port."""
        if self._server is not None:
            raise ServeError(f"{self.endpoint} already started")
        self._suspended = False
        await self._listen()

    async def _listen(self) -> None:
        if self.port == 0:
            self.port = free_tcp_port(self.host)
        server = Server()
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name(f"carbonflow simulator {self.device.device_id}")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        await self._build_address_space(server)
        server.subscribe_server_callback(CallbackType.PostWrite, self._on_client_write)
        try:
            await server.start()
        except OSError as exc:
            await server.stop()
            raise ServeError(f"cannot listen on {self.endpoint}: {exc}") from exc
        self._server = server
        self.device.add_listener(self._on_model_change)
        self._pusher = asyncio.create_task(
            self._push_changes(), name=f"opcua-push-{self.device.device_id}"
        )
        _log.info("opcua simulator on %s", self.endpoint)

    async def stop(self) -> None:
        """Stop pushing values and shut the server down."""
        self._suspended = False
        await self._shutdown()

    async def _shutdown(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.device.remove_listener(self._on_model_change)
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None
        await server.stop()

    async def _build_address_space(self, server: Server) -> None:
        points = self.device.profile.opcua_points
        uri = (
            self.device.profile.namespace_uri
            or f"urn:carbonflow:sim:{self.device.device_id}"
        )
        highest = max(point.namespace_index for point in points)
        first = min(point.namespace_index for point in points)
        for index in range(2, highest + 1):  # 0 is the standard's, 1 the server's own
            # The profile's URI names the lowest namespace its points use.
            await server.register_namespace(
                uri if index == first else f"{uri}:ns{index}"
            )
        folder = await server.nodes.objects.add_object(first, self.device.device_id)
        for point in points:
            node_id = ua.NodeId.from_string(point.node_id)
            name = ua.QualifiedName(point.name, point.namespace_index)
            variant = _VARIANT[point.data_type]
            node = await folder.add_variable(
                node_id, name, self.device.served(point.name), variant
            )
            await node.set_writable()
            await server.write_attribute_value(node_id, self._data_value(point))
            self._nodes[point.name] = node_id
            self._points[node_id] = point

    def _on_model_change(self, point: str, _value: Value) -> None:
        self._dirty.add(point)
        self._wake.set()

    async def _push_changes(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            for name in dirty:
                await self._write_node(name)

    async def _write_node(self, name: str) -> None:
        server = self._server
        if server is None:
            return
        point = self._points[self._nodes[name]]
        await server.write_attribute_value(self._nodes[name], self._data_value(point))

    def _data_value(self, point: OpcUaPoint) -> ua.DataValue:
        now = datetime.now(UTC)
        source = now + timedelta(seconds=self.device.link.clock_offset_s)
        variant = ua.Variant(self.device.served(point.name), _VARIANT[point.data_type])
        return ua.DataValue(variant, SourceTimestamp=source, ServerTimestamp=now)  # type: ignore[arg-type]

    async def _on_client_write(
        self, event: ServerItemCallback, _dispatcher: Any
    ) -> None:
        results = event.response_params or []
        for request, status in zip(
            event.request_params.NodesToWrite, results, strict=False
        ):
            point = self._points.get(request.NodeId)
            if (
                point is None
                or request.AttributeId != ua.AttributeIds.Value
                or not status.is_good()
            ):
                continue
            try:
                self.device.set(point.name, request.Value.Value.Value)
            except (RegisterCodecError, TypeError) as exc:
                _log.warning(
                    "%s: ignored client write to %s: %s",
                    self.device.device_id,
                    point.name,
                    exc,
                )
