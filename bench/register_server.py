"""A bare Modbus TCP register server for the benchmarks: it answers reads and costs next to nothing.

The plant simulator (`carbonflow simulate plant`) computes every register from its device model on each read,
through pymodbus: right for tests, but on a 2-core machine it saturates long before a gateway does, and a gateway
bench would then measure the simulator. This server answers function codes 3 and 4 (holding and input registers)
for any unit id from one precomputed table of float32 values (big-endian words, ABCD), p_i = 100 + i + a ripple
that changes every second, so successive polls do not read identical values. Every port it listens on is the same
device map; give each device its own port to let a gateway poll them in parallel.

    python bench/register_server.py --ports 15020 15021 15022      # runs until interrupted
    python bench/register_server.py --count 40                     # 40 free ports, printed on the first line
"""

from __future__ import annotations

import argparse
import asyncio
import math
import struct
import subprocess
import sys
import time

__all__ = ["RegisterServer", "start_register_server"]

_REGISTERS = 2 * 125  # the largest read a client may ask for in one request
_MBAP = struct.Struct(">HHHB")  # transaction id, protocol id, length, unit id


def _table(second: int) -> bytes:
    """The register bytes for one second of time: float32 p_i at registers 2i, 2i+1."""
    ripple = math.sin(second / 10.0)
    return b"".join(struct.pack(">f", 100.0 + i + ripple) for i in range(_REGISTERS // 2))


class _Connection(asyncio.Protocol):
    def __init__(self, server: RegisterServer) -> None:
        self._server = server
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        out = []
        while len(buffer) >= 7:
            tid, _protocol, length, unit = _MBAP.unpack_from(buffer)
            end = 6 + length
            if len(buffer) < end:
                break
            pdu, buffer = buffer[7:end], buffer[end:]
            out.append(self._server.answer(tid, unit, pdu))
        self._buffer = buffer
        if out and self._transport is not None:
            self._transport.write(b"".join(out))


class RegisterServer:
    """Listens on each port of `ports` (0 = pick one) on loopback; `ports` holds the bound ones after start()."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.requests = 0
        self._servers: list[asyncio.base_events.Server] = []
        self._second = -1
        self._table = b""

    def answer(self, tid: int, unit: int, pdu: bytes) -> bytes:
        self.requests += 1
        function = pdu[0] if pdu else 0
        if function in (3, 4) and len(pdu) >= 5:
            start, count = struct.unpack_from(">HH", pdu, 1)
            if 1 <= count <= 125 and start + count <= _REGISTERS:
                second = int(time.time())
                if second != self._second:
                    self._second, self._table = second, _table(second)
                body = bytes((function, 2 * count)) + self._table[2 * start : 2 * (start + count)]
            else:
                body = bytes((function | 0x80, 2))  # illegal data address
        else:
            body = bytes((function | 0x80, 1))  # illegal function
        return _MBAP.pack(tid, 0, len(body) + 1, unit) + body

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        bound = []
        for port in self.ports:
            server = await loop.create_server(lambda: _Connection(self), "127.0.0.1", port)
            self._servers.append(server)
            bound.append(server.sockets[0].getsockname()[1])
        self.ports = bound

    async def close(self) -> None:
        for server in self._servers:
            server.close()
            await server.wait_closed()


async def _serve(ports: list[int]) -> None:
    server = RegisterServer(ports)  # binding port 0 itself: free ports picked beforehand may be taken meanwhile
    await server.start()
    print(f"serving Modbus TCP registers on 127.0.0.1 ports {' '.join(map(str, server.ports))}", flush=True)
    await asyncio.Event().wait()


def start_register_server(devices: int) -> tuple[subprocess.Popen[str], list[int]]:
    """This server in a child process with one free port per device: (the process, its ports)."""
    proc = subprocess.Popen([sys.executable, __file__, "--count", str(devices)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("serving"):
        proc.kill()
        raise RuntimeError(f"the register server did not start (exit code {proc.wait()})")
    return proc, [int(p) for p in line.split("ports", 1)[1].split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ports = parser.add_mutually_exclusive_group(required=True)
    ports.add_argument("--ports", type=int, nargs="+")
    ports.add_argument("--count", type=int, help="listen on this many free ports")
    args = parser.parse_args()
    try:
        asyncio.run(_serve(args.ports or [0] * args.count))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
