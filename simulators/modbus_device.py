"""Serve simulated Modbus devices on one TCP port, one unit id per device.

Registers are produced from the device model on every read, exactly as the
profile lays them out; client writes to holding registers and coils are
decoded back into the model, so `SimulatedDevice.get` sees them.

    >>> meter = SimulatedDevice(load_profile("cf-demo/pm3-meter"))      # doctest: +SKIP
    >>> async with ModbusDeviceServer([meter], port=0) as server:       # doctest: +SKIP
    ...     print(server.endpoint)                                      # tcp://127.0.0.1:40123
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimAction, SimData, SimDevice

from carbon_domain.registers import RegisterCodecError
from device_profiles.schema import ModbusTable, Protocol

from .device import SimulatedDevice
from .errors import ServeError

__all__ = ["ModbusDeviceServer", "SimulatedDevice"]

_log = logging.getLogger(__name__)

_TABLE_BY_FUNCTION = {
    1: ModbusTable.COIL,
    5: ModbusTable.COIL,
    15: ModbusTable.COIL,
    2: ModbusTable.DISCRETE_INPUT,
    4: ModbusTable.INPUT_REGISTER,
    3: ModbusTable.HOLDING_REGISTER,
    6: ModbusTable.HOLDING_REGISTER,
    16: ModbusTable.HOLDING_REGISTER,
    22: ModbusTable.HOLDING_REGISTER,
    23: ModbusTable.HOLDING_REGISTER,
}
# pymodbus wants the four blocks in this order: coils, discrete inputs, holding, input.
_BLOCK_ORDER = (
    ModbusTable.COIL,
    ModbusTable.DISCRETE_INPUT,
    ModbusTable.HOLDING_REGISTER,
    ModbusTable.INPUT_REGISTER,
)


class ModbusDeviceServer:
    """A Modbus TCP server for one or more simulated devices (distinct unit ids)."""

    def __init__(
        self,
        devices: Sequence[SimulatedDevice],
        *,
        host: str = "127.0.0.1",
        port: int = 502,
    ) -> None:
        self.host = host
        self.port = port
        self._units: dict[int, SimulatedDevice] = {}
        for device in devices:
            if device.profile.protocol is not Protocol.MODBUS:
                raise ServeError(
                    f"device {device.device_id} is {device.profile.protocol}, not modbus"
                )
            for unit_id in device.unit_ids:
                other = self._units.get(unit_id)
                if other is not None:
                    raise ServeError(
                        f"unit {unit_id} on port {port} claimed by {other.device_id} and {device.device_id}"
                    )
                self._units[unit_id] = device
        if not self._units:
            raise ServeError("a Modbus server needs at least one device")
        self._server: ModbusTcpServer | None = None

    @property
    def endpoint(self) -> str:
        """``tcp://host:port`` (the bound port once started)."""
        return f"tcp://{self.host}:{self.port}"

    @property
    def unit_ids(self) -> list[int]:
        """Unit ids served."""
        return sorted(self._units)

    async def start(self) -> None:
        """Bind and start answering; port 0 picks a free port."""
        if self._server is not None:
            raise ServeError(f"{self.endpoint} already started")
        devices = [
            self._sim_device(unit_id, device)
            for unit_id, device in sorted(self._units.items())
        ]
        server = ModbusTcpServer(devices, address=(self.host, self.port))
        try:
            await server.serve_forever(background=True)
        except RuntimeError as exc:
            await server.shutdown()
            raise ServeError(f"cannot listen on {self.endpoint}: {exc}") from exc
        self._server = server
        sockets = getattr(server.transport, "sockets", None) or ()
        if sockets:
            self.port = sockets[0].getsockname()[1]
        _log.info("modbus simulator on %s, units %s", self.endpoint, self.unit_ids)

    async def stop(self) -> None:
        """Close the listener and every client connection."""
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()
            await asyncio.sleep(0)  # let the transports run their close callbacks

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

    def _sim_device(self, unit_id: int, device: SimulatedDevice) -> SimDevice:
        blocks = tuple(_initial_block(device, unit_id, table) for table in _BLOCK_ORDER)
        return SimDevice(
            id=unit_id,
            simdata=blocks,  # type: ignore[arg-type]
            use_bit_addressing=True,
            action=_sync_action(device, unit_id),
        )


def _initial_block(
    device: SimulatedDevice, unit_id: int, table: ModbusTable
) -> list[SimData]:
    image = device.image(unit_id, table)
    if table.is_bit:
        if not image:  # pymodbus needs one entry; the action refuses access
            return [SimData(0, values=[False], datatype=SimType.BITS)]
        return [
            SimData(addr, values=[bool(bit)], datatype=SimType.BITS)
            for addr, bit in sorted(image.items())
        ]
    if not image:
        return [SimData(0, datatype=SimType.INVALID)]
    return [
        SimData(addr, values=[word], datatype=SimType.REGISTERS)
        for addr, word in sorted(image.items())
    ]


def _sync_action(device: SimulatedDevice, unit_id: int) -> SimAction:
    """pymodbus hook: refresh registers from the model before reads, decode writes into it."""

    async def action(
        function_code: int,
        start_address: int,
        address: int,
        _count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        table = _TABLE_BY_FUNCTION.get(function_code)
        if table is None:
            return None
        if table not in device.tables(unit_id):
            return ExcCodes.ILLEGAL_ADDRESS
        if set_values:
            try:
                device.write(
                    unit_id, table, address, [int(value) for value in set_values]
                )
            except RegisterCodecError as exc:
                _log.warning(
                    "%s rejected write at %s %d: %s",
                    device.device_id,
                    table,
                    address,
                    exc,
                )
                return ExcCodes.ILLEGAL_VALUE
            return None
        _refresh(device.image(unit_id, table), table, start_address, registers)
        return None

    return action


def _refresh(
    image: dict[int, int], table: ModbusTable, start_address: int, registers: list[int]
) -> None:
    if not table.is_bit:
        for address, word in image.items():
            registers[address - start_address] = word
        return
    for address, bit in image.items():  # bits are packed 16 to a register, bit 0 first
        index, mask = address // 16 - start_address, 1 << (address % 16)
        registers[index] = registers[index] | mask if bit else registers[index] & ~mask
