"""Serve simulated Modbus devices, one unit id per device, on TCP or on a pseudo-terminal.

Registers are produced from the device model on every read, exactly as the
profile lays them out; client writes to holding registers and coils are
decoded back into the model, so `SimulatedDevice.get` sees them.  Before
answering, each request passes the device's `Link`: a slow device waits, a
silent one drops the request, a failing one answers an exception code (to
every request, or to those touching some registers).

    >>> meter = SimulatedDevice(load_profile("cf-demo/pm3-meter"))      # doctest: +SKIP
    >>> async with ModbusDeviceServer([meter], port=0) as server:       # doctest: +SKIP
    ...     print(server.endpoint)                                      # tcp://127.0.0.1:40123
    >>> async with ModbusRtuServer([meter]) as server:                  # doctest: +SKIP
    ...     print(server.path)                                          # /dev/pts/7
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import tty
from collections.abc import Sequence

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ModbusIOException, NoSuchIdException
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimAction, SimData, SimDevice

# SimCore runs a request against SimDevices; pymodbus servers use it the same way.
from pymodbus.simulator.simcore import SimCore

from carbon_domain.registers import RegisterCodecError
from device_profiles.schema import ModbusTable, Protocol
from simulators.lifecycle import StartStop

from .device import SimulatedDevice
from .errors import ServeError

__all__ = ["ModbusDeviceServer", "ModbusRtuServer", "SimulatedDevice"]

_log = logging.getLogger(__name__)

_RTU_SILENCE_S = 0.05
"""A gap this long ends a frame (RTU's 3.5 characters, generously for a pty)."""

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


class _ServesUnits:
    """The unit ids a Modbus server answers for, and the devices behind them."""

    _units: dict[int, SimulatedDevice]

    @property
    def unit_ids(self) -> list[int]:
        """Unit ids served."""
        return sorted(self._units)

    @property
    def devices(self) -> list[SimulatedDevice]:
        """The devices served, one per unit id (a device may hold several)."""
        return list({id(d): d for d in self._units.values()}.values())


class ModbusDeviceServer(_ServesUnits, StartStop):
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
        self._units = _units_of(devices, f"port {port}")
        self._server: ModbusTcpServer | None = None
        self._suspended = False

    @property
    def endpoint(self) -> str:
        """``tcp://host:port`` (the bound port once started)."""
        return f"tcp://{self.host}:{self.port}"

    async def start(self) -> None:
        """Bind and start answering; port 0 picks a free port."""
        if self._server is not None:
            raise ServeError(f"{self.endpoint} already started")
        self._suspended = False
        await self._listen()

    async def sync(self) -> None:
        """Follow the devices' links: close the port while every device is offline."""
        offline = all(device.link.offline for device in self.devices)
        if offline and self._server is not None:
            _log.info("%s offline: closing the port", self.endpoint)
            await self._shutdown()
            self._suspended = True
        elif not offline and self._suspended:
            try:
                await self._listen()
            except (
                ServeError
            ) as exc:  # e.g. the port was taken meanwhile; retry next sync
                _log.warning("%s cannot come back online: %s", self.endpoint, exc)
                return
            self._suspended = False
            _log.info("%s back online", self.endpoint)

    async def _listen(self) -> None:
        server = ModbusTcpServer(
            _sim_devices(self._units, gateway=True),
            address=(self.host, self.port),
            ignore_missing_devices=True,  # lets a silent device drop a request
        )
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
        self._suspended = False
        await self._shutdown()

    async def _shutdown(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()
            await asyncio.sleep(0)  # let the transports run their close callbacks


class ModbusRtuServer(_ServesUnits, StartStop):
    """Modbus RTU on a pseudo-terminal: serves one end, clients open ``path`` (the other end).

    A pty pair behaves like a serial line with nothing in between, so any
    serial Modbus client (pymodbus with pyserial, a terminal tool) can talk
    to the simulated devices without hardware.
    """

    def __init__(self, devices: Sequence[SimulatedDevice]) -> None:
        self._units = _units_of(devices, "the serial line")
        self.path = ""
        self.port = 0  # no TCP port; keeps the plant's server interface
        self._master = self._slave = -1
        self._buffer = bytearray()
        self._last_byte = 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._core: SimCore | None = None
        self._framer = FramerRTU(DecodePDU(True))

    @property
    def endpoint(self) -> str:
        """``rtu://<pty path>``."""
        return f"rtu://{self.path}"

    async def start(self) -> None:
        """Open the pty pair and answer frames arriving on it."""
        if self._task is not None:
            raise ServeError(f"{self.endpoint} already started")
        self._core = SimCore(_sim_devices(self._units, gateway=False))
        self._master, self._slave = os.openpty()
        # Raw, no echo: our answers must not come back to us as input.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        loop = asyncio.get_running_loop()
        loop.add_reader(self._master, self._on_readable)
        self._task = asyncio.create_task(self._serve(), name=f"modbus-rtu {self.path}")
        _log.info("modbus RTU simulator on %s, units %s", self.path, self.unit_ids)

    async def stop(self) -> None:
        """Stop answering and close both ends of the pty."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        asyncio.get_running_loop().remove_reader(self._master)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master = self._slave = -1

    async def sync(self) -> None:
        """Nothing to close on a serial line: an offline device just stays silent."""

    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # EIO: no process holds the other end
            _log.debug("pty read failed: %s", exc)
            return
        now = time.monotonic()
        if self._buffer and now - self._last_byte > _RTU_SILENCE_S:
            self._buffer.clear()  # a silent gap ended a frame we could not use
        self._last_byte = now
        self._buffer += data
        self._wake.set()

    async def _serve(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._buffer:
                try:
                    used, request = self._framer.handleFrame(bytes(self._buffer), 0, 0)
                except (
                    ModbusIOException
                ) as exc:  # a sound frame with an unknown request
                    _log.debug("RTU frame dropped: %s", exc)
                    self._buffer.clear()
                    break
                if used == 0 and request is None:
                    break  # wait for the rest of the frame
                del self._buffer[:used]
                if request is not None:
                    await self._answer(request)

    async def _answer(self, request: ModbusPDU) -> None:
        if request.dev_id not in self._units:
            return  # another station's frame (or a broadcast): stay off the bus
        assert self._core is not None
        try:
            response = await request.datastore_update(self._core, request.dev_id)  # type: ignore[arg-type]
        except NoSuchIdException:
            return  # a silent device: the client times out
        except Exception as exc:  # noqa: BLE001 - pymodbus answers device failure too
            _log.warning("RTU request failed: %s", exc)
            response = ExceptionResponse(request.function_code, ExcCodes.DEVICE_FAILURE)
        response.dev_id = request.dev_id
        frame = self._framer.buildFrame(response)
        try:
            os.write(self._master, frame)
        except OSError as exc:
            _log.warning("RTU answer to unit %d lost: %s", request.dev_id, exc)


def _units_of(
    devices: Sequence[SimulatedDevice], where: str
) -> dict[int, SimulatedDevice]:
    units: dict[int, SimulatedDevice] = {}
    for device in devices:
        if device.profile.protocol is not Protocol.MODBUS:
            raise ServeError(
                f"device {device.device_id} is {device.profile.protocol}, not modbus"
            )
        for unit_id in device.unit_ids:
            other = units.get(unit_id)
            if other is not None:
                raise ServeError(
                    f"unit {unit_id} on {where} claimed by {other.device_id} and {device.device_id}"
                )
            units[unit_id] = device
    if not units:
        raise ServeError("a Modbus server needs at least one device")
    return units


def _sim_devices(
    units: dict[int, SimulatedDevice], *, gateway: bool
) -> list[SimDevice]:
    """pymodbus devices for ``units``; ``gateway``: a TCP port in front of several devices."""
    shared = gateway and len({id(device) for device in units.values()}) > 1
    sims = []
    for unit_id, device in sorted(units.items()):
        blocks = tuple(_initial_block(device, unit_id, table) for table in _BLOCK_ORDER)
        sims.append(
            SimDevice(
                id=unit_id,
                simdata=blocks,  # type: ignore[arg-type]
                use_bit_addressing=True,
                action=_sync_action(device, unit_id, shared=shared),
            )
        )
    return sims


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


def _sync_action(device: SimulatedDevice, unit_id: int, *, shared: bool) -> SimAction:
    """pymodbus hook: apply the link, refresh registers before reads, decode writes."""

    async def action(
        function_code: int,
        start_address: int,
        address: int,
        _count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        link = device.link
        if link.offline and shared:
            return (
                ExcCodes.GATEWAY_NO_RESPONSE
            )  # the gateway is up, the device behind it is not
        if link.offline or link.silent:
            raise NoSuchIdException(f"unit {unit_id} is silent")  # no answer at all
        if link.delay_s:
            await asyncio.sleep(link.delay_s)
        if link.exception_code is not None:
            return ExcCodes(link.exception_code)
        table = _TABLE_BY_FUNCTION.get(function_code)
        if table is None:
            return None
        if table not in device.tables(unit_id):
            return ExcCodes.ILLEGAL_ADDRESS
        for refused in link.refused:
            if refused.refuses(unit_id, table, address, _count):
                return ExcCodes(refused.code)
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
