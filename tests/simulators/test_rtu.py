"""Modbus RTU on a pseudo-terminal pair, read by a plain pymodbus serial client."""

from __future__ import annotations

import re
import signal
import struct
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from pymodbus.client import AsyncModbusSerialClient, ModbusSerialClient
from pymodbus.exceptions import ModbusIOException

from device_profiles.loader import load_profile
from simulators.device import Link
from simulators.modbus_device import ModbusRtuServer, SimulatedDevice

RTU_LINE = re.compile(
    r"^device plc-line cf-demo/plc-line modbus rtu://(?P<path>/dev/\S+) unit (?P<unit>\d+)$"
)


@pytest.fixture
async def line() -> AsyncIterator[
    tuple[dict[int, SimulatedDevice], AsyncModbusSerialClient]
]:
    devices = {
        1: SimulatedDevice(load_profile("cf-demo/pm3-meter"), unit_id=1),
        2: SimulatedDevice(load_profile("cf-demo/gfc200"), unit_id=2),
    }
    async with ModbusRtuServer(list(devices.values())) as server:
        client = AsyncModbusSerialClient(
            server.path, baudrate=19200, timeout=0.5, retries=0
        )
        await client.connect()
        try:
            yield devices, client
        finally:
            client.close()


async def test_serial_client_reads_two_devices_on_one_line(line) -> None:  # type: ignore[no-untyped-def]
    _, client = line
    power = await client.read_input_registers(0x34, count=2, device_id=1)
    flow = await client.read_input_registers(0, count=2, device_id=2)
    assert (
        struct.unpack(">f", struct.pack(">HH", *power.registers))[0],
        struct.unpack(">f", struct.pack(">HH", *flow.registers[::-1]))[
            0
        ],  # word-swapped
    ) == (2400.0, 5200.0)


async def test_serial_client_writes_reach_the_model(line) -> None:  # type: ignore[no-untyped-def]
    devices, client = line
    response = await client.write_registers(0x100, [0x0BEB, 0xC200], device_id=1)
    assert (response.isError(), devices[1].get("energy_import_kwh")) == (
        False,
        2_000_000.0,
    )


@pytest.mark.parametrize(
    ("link", "unit", "expected"),
    [
        (Link(), 1, "ok"),
        (Link(exception_code=6), 1, ("exception", 6)),
        (Link(silent=True), 1, "no answer"),
        (Link(offline=True), 1, "no answer"),  # a dead station just stays off the bus
        (Link(), 7, "no answer"),  # nobody on the line has unit 7
    ],
)
async def test_the_line_answers_as_the_link_says(  # type: ignore[no-untyped-def]
    line, link: Link, unit: int, expected: object
) -> None:
    devices, client = line
    devices[1].set_faults(link, {})
    try:
        response = await client.read_input_registers(0x34, count=2, device_id=unit)
        got: object = (
            ("exception", response.exception_code) if response.isError() else "ok"
        )
    except ModbusIOException:
        got = "no answer"
    devices[1].set_faults(Link(), {})
    after = await client.read_input_registers(0x34, count=2, device_id=1)
    assert (got, after.isError()) == (expected, False)


def test_cli_rtu_prints_the_pty_path_a_serial_client_can_read() -> None:
    code = "import sys; from simulators.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "device",
            "--profile",
            "cf-demo/plc-line",
            "--rtu",
            "--static",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().rstrip("\n")
        match = RTU_LINE.match(line)
        assert match is not None, line
        client = ModbusSerialClient(match["path"], timeout=1, retries=0)
        try:
            assert client.connect()
            words = client.read_holding_registers(
                0, count=2, device_id=int(match["unit"])
            ).registers
        finally:
            client.close()
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    tonnes = struct.unpack(">I", struct.pack(">HH", words[1], words[0]))[0] * 0.1
    assert (exit_code, tonnes) == (0, pytest.approx(1520340.7))
