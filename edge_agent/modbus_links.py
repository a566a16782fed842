"""One connection object per physical Modbus endpoint, shared by every device behind it.

Devices behind a serial-to-Ethernet gateway (one TCP host:port) or on one
RS-485 line (one serial port) share a link: its lock serialises requests, so
one device's slow answer delays the others by at most one request, and on a
serial line the link waits the inter-frame gap (3.5 character times) the RTU
framing needs between requests.
"""

from __future__ import annotations

import asyncio
from typing import Any

from edge_agent.config import DeviceEndpoint
from edge_agent.errors import ModbusExceptionError

__all__ = ["ModbusLink", "acquire_link", "release_link", "link_key"]

_READERS = {
    "holding_register": "read_holding_registers",
    "input_register": "read_input_registers",
    "coil": "read_coils",
    "discrete_input": "read_discrete_inputs",
}
_LINKS: dict[tuple[Any, ...], ModbusLink] = {}
_EXCEPTION_NAMES = {  # the Modbus application protocol's names of its exception codes
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


def link_key(endpoint: DeviceEndpoint) -> tuple[Any, ...]:
    if endpoint.protocol == "modbus-rtu":
        assert endpoint.serial is not None
        return ("rtu", endpoint.serial.port)
    return ("tcp", endpoint.host, endpoint.port)


class ModbusLink:
    """A pymodbus client for one endpoint with a request lock and reconnect on demand."""

    def __init__(self, endpoint: DeviceEndpoint) -> None:
        self.key = link_key(endpoint)
        self._endpoint = endpoint
        self._client: Any = None
        self._lock = asyncio.Lock()
        self._queued = 0  # requests waiting for the lock
        self.users = 0
        serial = endpoint.serial
        bits_per_char = 1 + 8 + (0 if serial is None or serial.parity == "N" else 1) + (serial.stopbits if serial else 1)
        self.frame_gap_s = 3.5 * bits_per_char / serial.baudrate if serial else 0.0

    def _make_client(self) -> Any:
        from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient

        e = self._endpoint
        if e.serial is not None:
            return AsyncModbusSerialClient(e.serial.port, baudrate=e.serial.baudrate, bytesize=8,
                                           parity=e.serial.parity, stopbits=e.serial.stopbits, timeout=e.timeout_s,
                                           retries=0, reconnect_delay=0)
        return AsyncModbusTcpClient(e.host, port=e.port, timeout=e.timeout_s, retries=0, reconnect_delay=0)

    async def read(self, table: str, start: int, count: int, unit: int) -> list[Any]:
        """Read one block; ModbusExceptionError when the device refuses it, ConnectionError when unreachable."""
        self._queued += 1
        try:
            await self._lock.acquire()
        finally:
            self._queued -= 1
        try:
            if self._client is None:
                self._client = self._make_client()
            if not self._client.connected:
                await self._client.connect()
            if not self._client.connected:
                raise ConnectionError(f"cannot connect to {self.describe()}")
            try:
                response = await getattr(self._client, _READERS[table])(start, count=count, device_id=unit)
            finally:
                if self.frame_gap_s:
                    await asyncio.sleep(self.frame_gap_s)
        finally:
            self._lock.release()
        if self._queued:
            # Let the next request go out before this answer is decoded: the endpoint works on it
            # meanwhile, while the line still carries one request at a time.
            await asyncio.sleep(0)
        if response.isError():
            code = getattr(response, "exception_code", None)
            if not isinstance(code, int):
                raise OSError(f"modbus error response without an exception code: {response}")
            raise ModbusExceptionError(code, f"modbus exception {code} ({_EXCEPTION_NAMES.get(code, 'unknown code')})")
        if table in ("coil", "discrete_input"):
            return list(response.bits[:count])
        return list(response.registers)

    def reset(self) -> None:
        """Drop the connection after a failure; the next read reconnects."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def describe(self) -> str:
        if self.key[0] == "rtu":
            return f"serial line {self.key[1]}"
        return f"{self.key[1]}:{self.key[2]}"


def acquire_link(endpoint: DeviceEndpoint) -> ModbusLink:
    """The shared link of this endpoint (created on first use)."""
    key = link_key(endpoint)
    link = _LINKS.get(key)
    if link is None:
        link = _LINKS[key] = ModbusLink(endpoint)
    link.users += 1
    return link


def release_link(link: ModbusLink) -> None:
    """Give a link back; the last user closes it."""
    link.users -= 1
    if link.users <= 0:
        link.reset()
        _LINKS.pop(link.key, None)
