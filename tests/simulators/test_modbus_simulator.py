"""The Modbus simulator, read and written by a plain pymodbus client on loopback."""

from __future__ import annotations

import socket
import struct
from collections.abc import AsyncIterator

import pytest
from pymodbus.client import AsyncModbusTcpClient

from device_profiles.loader import library_names, load_profile
from simulators.errors import ServeError
from simulators.modbus_device import ModbusDeviceServer, SimulatedDevice

# (profile, unit id served at) - three devices behind one port, as behind a gateway.
MODBUS_LIBRARY = [n for n in library_names() if load_profile(n).protocol == "modbus"]
DEVICES = [("cf-demo/pm3-meter", 1), ("cf-demo/gfc200", 2), ("cf-demo/plc-line", 3)]


@pytest.fixture
async def plant() -> AsyncIterator[
    tuple[dict[str, SimulatedDevice], AsyncModbusTcpClient]
]:
    devices = {
        name: SimulatedDevice(load_profile(name), unit_id=unit)
        for name, unit in DEVICES
    }
    async with ModbusDeviceServer(list(devices.values()), port=0) as server:
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=server.port, timeout=2, retries=0
        )
        await client.connect()
        try:
            yield devices, client
        finally:
            client.close()


def _by_hand(words: list[int], data_type: str, order: str) -> float | str:
    """Decode registers the way a device manual describes it, with struct alone."""
    arranged = words[::-1] if order in ("CDAB", "DCBA") else words
    raw = struct.pack(
        (">" if order in ("ABCD", "CDAB") else "<") + "H" * len(words), *arranged
    )
    if data_type == "string":
        return raw.rstrip(b"\x00").decode("ascii")
    fmt = {
        "int16": "h",
        "uint16": "H",
        "int32": "i",
        "uint32": "I",
        "int64": "q",
        "uint64": "Q",
        "float32": "f",
        "float64": "d",
    }[data_type]
    return struct.unpack(">" + fmt, raw)[0]


async def _read(
    client: AsyncModbusTcpClient, table: str, address: int, count: int, unit: int
) -> list[int] | list[bool]:
    read = {
        "coil": client.read_coils,
        "discrete_input": client.read_discrete_inputs,
        "holding_register": client.read_holding_registers,
        "input_register": client.read_input_registers,
    }[table]
    response = await read(address, count=count, device_id=unit)
    assert not response.isError(), f"{table} {address}+{count} unit {unit}: {response}"
    return (
        response.bits[:count]
        if table in ("coil", "discrete_input")
        else response.registers
    )


@pytest.mark.parametrize(("profile_name", "unit"), DEVICES)
async def test_plain_client_reads_the_values_the_profile_documents(
    plant, profile_name: str, unit: int
) -> None:  # type: ignore[no-untyped-def]
    _, client = plant
    assert await _read_by_hand(client, profile_name, unit) == _documented(profile_name)


@pytest.mark.parametrize("profile_name", MODBUS_LIBRARY)
async def test_every_library_profile_is_served_as_documented(profile_name: str) -> None:
    device = SimulatedDevice(load_profile(profile_name))
    async with ModbusDeviceServer([device], port=0) as server:
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=server.port, timeout=2, retries=0
        )
        await client.connect()
        try:
            read = await _read_by_hand(client, profile_name, device.unit_ids[0])
        finally:
            client.close()
    assert read == _documented(profile_name)


def _documented(profile_name: str) -> dict[str, object]:
    return {p.name: p.example for p in load_profile(profile_name).modbus_points}


async def _read_by_hand(
    client: AsyncModbusTcpClient, profile_name: str, unit: int
) -> dict[str, object]:
    profile = load_profile(profile_name)
    read: dict[str, object] = {}
    for point in profile.modbus_points:
        values = await _read(
            client, point.table, point.address - profile.address_base, point.width, unit
        )
        if point.data_type == "bool":
            read[point.name] = values[0]
        elif point.data_type == "string":
            read[point.name] = _by_hand(values, "string", point.order)  # type: ignore[arg-type]
        else:
            number = _by_hand(values, point.data_type, point.order)  # type: ignore[arg-type]
            read[point.name] = pytest.approx(
                number * point.scale + point.offset, rel=1e-6
            )  # type: ignore[operator]
    return read


@pytest.mark.parametrize(
    ("profile_name", "unit", "address", "words", "point", "expected"),
    [
        # 2 000 000.00 kWh as uint32 x 0.01, big-endian: 200000000 = 0x0BEBC200
        (
            "cf-demo/pm3-meter",
            1,
            0x0100,
            [0x0BEB, 0xC200],
            "energy_import_kwh",
            2_000_000.0,
        ),
        # only the low word of the export counter: 0x0000_0064 = 1.00 kWh
        ("cf-demo/pm3-meter", 1, 0x0103, [0x0064], "energy_export_kwh", 1.0),
        # float64 1.5e8 Nm3, words reversed (CDAB): 0x41A1E1A300000000
        (
            "cf-demo/gfc200",
            2,
            100,
            [0x0000, 0x0000, 0xE1A3, 0x41A1],
            "volume_total_nm3",
            1.5e8,
        ),
        # 1 000 000.0 t as uint32 x 0.1, low word first: 10000000 = 0x00989680
        ("cf-demo/plc-line", 3, 0, [0x9680, 0x0098], "crude_steel_t", 1_000_000.0),
        # int16 x 0.1 degC: -12.3 = -123 = 0xFF85
        ("cf-demo/plc-line", 3, 3, [0xFF85], "tap_temperature_degc", -12.3),
    ],
)
async def test_client_register_writes_are_visible_through_get(  # type: ignore[no-untyped-def]
    plant,
    profile_name: str,
    unit: int,
    address: int,
    words: list[int],
    point: str,
    expected: float,
) -> None:
    devices, client = plant
    response = await client.write_registers(address, words, device_id=unit)
    assert not response.isError() and devices[profile_name].get(point) == pytest.approx(
        expected
    )


async def test_client_coil_write_is_visible_through_get(plant) -> None:  # type: ignore[no-untyped-def]
    devices, client = plant
    response = await client.write_coil(0, False, device_id=3)
    assert (
        not response.isError(),
        devices["cf-demo/plc-line"].get("line_running"),
    ) == (True, False)


async def test_model_changes_are_served_on_the_next_read(plant) -> None:  # type: ignore[no-untyped-def]
    devices, client = plant
    devices["cf-demo/pm3-meter"].set("active_power_kw", -1234.5)
    devices["cf-demo/plc-line"].set("line_running", False)
    power = _by_hand(
        await _read(client, "input_register", 0x34, 2, 1), "float32", "ABCD"
    )  # type: ignore[arg-type]
    running = (await _read(client, "coil", 0, 1, 3))[0]
    assert (power, running) == (-1234.5, False)


@pytest.mark.parametrize(
    ("table", "address", "unit"),
    [
        ("holding_register", 0, 1),  # the meter maps no holding register 0
        ("input_register", 0x0C, 1),  # between current_l3 and active power
        ("coil", 0, 1),  # the meter has no coils at all
    ],
)
async def test_unmapped_addresses_answer_illegal_address(
    plant, table: str, address: int, unit: int
) -> None:  # type: ignore[no-untyped-def]
    _, client = plant
    read = (
        client.read_coils
        if table == "coil"
        else (
            client.read_holding_registers
            if table == "holding_register"
            else client.read_input_registers
        )
    )
    response = await read(address, count=1, device_id=unit)
    assert (response.isError(), getattr(response, "exception_code", None)) == (True, 2)


async def test_two_devices_on_one_unit_id_are_refused() -> None:
    meter = load_profile("cf-demo/pm3-meter")
    with pytest.raises(ServeError, match="unit 1 on port 0 claimed by a and b"):
        ModbusDeviceServer(
            [
                SimulatedDevice(meter, device_id="a"),
                SimulatedDevice(meter, device_id="b"),
            ],
            port=0,
        )


async def test_busy_port_raises_serve_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = ModbusDeviceServer(
            [SimulatedDevice(load_profile("cf-demo/plc-line"))], port=port
        )
        with pytest.raises(
            ServeError, match=f"cannot listen on tcp://127.0.0.1:{port}"
        ):
            await server.start()
