"""Every fault kind, seen the way an edge agent would see it: through plain clients on loopback."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from asyncua import Client
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException

from simulators.faults import parse_fault
from simulators.plant import Plant
from simulators.scenario import Scenario

MODBUS_PLANT = {
    "name": "faults",
    "base_port": 0,
    "static": True,
    "devices": [
        {
            "id": "meter",
            "profile": "cf-demo/pm3-meter",
            "protocol": "modbus",
            "port_offset": 0,
        },
        # Two devices behind one gateway port.
        {
            "id": "gas",
            "profile": "cf-demo/gfc200",
            "protocol": "modbus",
            "port_offset": 1,
            "unit_id": 2,
        },
        {
            "id": "plc",
            "profile": "cf-demo/plc-line",
            "protocol": "modbus",
            "port_offset": 1,
            "unit_id": 1,
        },
        {
            "id": "cems",
            "profile": "cf-demo/cems-stack",
            "protocol": "modbus",
            "port_offset": 2,
        },
    ],
}
# (device, table, 0-based address, count, unit, type, word order, scale)
POWER = ("meter", "input_register", 0x34, 2, 1, "f", "ABCD", 1.0)
ENERGY = ("meter", "holding_register", 0x100, 2, 1, "I", "ABCD", 0.01)
TONNES = ("plc", "holding_register", 0, 2, 1, "I", "CDAB", 0.1)
CO2 = ("cems", "input_register", 0, 2, 1, "f", "CDAB", 1.0)
O2 = ("cems", "input_register", 2, 2, 1, "f", "CDAB", 1.0)
STATUS = ("cems", "input_register", 18, 1, 1, "H", "ABCD", 1.0)


@pytest.fixture
async def plant() -> AsyncIterator[Plant]:
    async with Plant(Scenario.model_validate(MODBUS_PLANT)) as running:
        yield running


async def _inject(plant: Plant, **fault: Any) -> str:
    added = plant.add_fault(parse_fault(fault))
    await plant.sync()
    return added.id


async def _read(plant: Plant, what: tuple[Any, ...], *, timeout: float = 2.0) -> Any:
    """The engineering value a client decodes by hand, or ("exception", code)."""
    device, table, address, count, unit, fmt, order, scale = what
    port = next(e.port for e in plant.endpoints if e.device_id == device)
    async with AsyncModbusTcpClient(
        "127.0.0.1", port=port, timeout=timeout, retries=0
    ) as client:
        read = (
            client.read_input_registers
            if table == "input_register"
            else client.read_holding_registers
        )
        response = await read(address, count=count, device_id=unit)
    if response.isError():
        return ("exception", response.exception_code)
    words = response.registers[::-1] if order == "CDAB" else response.registers
    return struct.unpack(">" + fmt, struct.pack(">" + "H" * count, *words))[0] * scale


@pytest.mark.parametrize(
    ("fault", "what", "expected"),
    [
        pytest.param(
            {"device": "meter", "kind": "exception", "code": 6},
            POWER,
            ("exception", 6),
            id="exception-code",
        ),
        pytest.param(
            {"device": "plc", "kind": "offline"},
            TONNES,
            ("exception", 11),
            id="offline-behind-a-gateway-answers-exception-11",
        ),
        pytest.param(
            {
                "device": "meter",
                "kind": "spikes",
                "point": "active_power_kw",
                "factor": 10,
                "probability": 1.0,
            },
            POWER,
            24000.0,
            id="spike-multiplies-the-value",
        ),
        pytest.param(
            {"device": "meter", "kind": "replacement", "point": "energy_import_kwh"},
            ENERGY,
            0.0,
            id="meter-replacement-restarts-the-counter",
        ),
        pytest.param(
            {
                "device": "meter",
                "kind": "rollover",
                "point": "energy_import_kwh",
                "margin": 5,
            },
            ENERGY,
            pytest.approx(42949672.96 - 5),
            id="rollover-jumps-just-below-the-wrap",
        ),
        pytest.param(
            {"device": "plc", "kind": "rollover", "margin": 0.5},
            TONNES,
            pytest.approx(429496729.1),
            id="rollover-picks-the-counters-with-a-rollover",
        ),
        pytest.param(
            {"device": "cems", "kind": "calibration", "reference": {"co2_pct": 12.0}},
            CO2,
            pytest.approx(12.0),
            id="calibration-serves-reference-gas",
        ),
        pytest.param(
            {"device": "cems", "kind": "calibration"},
            STATUS,
            1.0,
            id="calibration-sets-the-status-code",
        ),
    ],
)
async def test_a_plain_client_reads_what_the_fault_makes_of_the_device(
    plant: Plant, fault: dict[str, Any], what: tuple[Any, ...], expected: Any
) -> None:
    await _inject(plant, **fault)
    assert await _read(plant, what) == expected


async def test_stuck_value_stays_while_the_model_moves_and_recovers_after(
    plant: Plant,
) -> None:
    meter = plant.devices["meter"]
    fault = await _inject(plant, device="meter", kind="stuck", point="active_power_kw")
    meter.set("active_power_kw", 1000.0)
    during = await _read(plant, POWER)
    plant.remove_fault(fault)
    after = await _read(plant, POWER)
    assert (during, after, meter.get("active_power_kw")) == (2400.0, 1000.0, 1000.0)


async def test_calibration_holds_values_and_raises_the_flag(plant: Plant) -> None:
    cems = plant.devices["cems"]
    await _inject(plant, device="cems", kind="calibration", reference={"co2_pct": 12.0})
    cems.set("o2_pct", 15.0)  # the process moves; the analyser is on span gas
    port = next(e.port for e in plant.endpoints if e.device_id == "cems")
    async with AsyncModbusTcpClient(
        "127.0.0.1", port=port, timeout=2, retries=0
    ) as client:
        flags = (await client.read_discrete_inputs(0, count=3, device_id=1)).bits[:3]
    assert (await _read(plant, O2), flags) == (
        pytest.approx(9.1),
        [False, True, False],  # fault, calibrating, maintenance
    )


async def test_an_exception_on_a_point_refuses_only_reads_touching_its_registers(plant: Plant) -> None:
    await _inject(plant, device="meter", kind="exception", code=2, point="energy_import_kwh")
    export = ("meter", "holding_register", 0x102, 2, 1, "I", "ABCD", 0.01)
    both = ("meter", "holding_register", 0x100, 4, 1, "Q", "ABCD", 1.0)  # a block read over both counters
    assert (await _read(plant, ENERGY), await _read(plant, both), await _read(plant, export),
            await _read(plant, POWER)) == (("exception", 2), ("exception", 2), 0.0, 2400.0)


async def test_slow_device_answers_after_the_delay(plant: Plant) -> None:
    await _inject(plant, device="meter", kind="slow", delay_ms=400)
    started = time.monotonic()
    value = await _read(plant, POWER)
    assert (value, time.monotonic() - started >= 0.4) == (2400.0, True)


async def test_timeout_device_never_answers_until_the_fault_ends(plant: Plant) -> None:
    fault = await _inject(plant, device="meter", kind="timeout")
    with pytest.raises(ModbusIOException):
        await _read(plant, POWER, timeout=0.3)
    plant.remove_fault(fault)
    assert await _read(plant, POWER) == 2400.0


async def test_offline_device_refuses_connections_and_comes_back(plant: Plant) -> None:
    port = next(e.port for e in plant.endpoints if e.device_id == "meter")
    fault = await _inject(plant, device="meter", kind="offline")
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=0.5, retries=0)
    connected = await client.connect()
    client.close()
    plant.remove_fault(fault)
    await plant.sync()
    assert (connected, await _read(plant, POWER)) == (False, 2400.0)


async def test_faults_from_the_scenario_start_and_end_in_simulated_time() -> None:
    scenario = Scenario.model_validate(
        MODBUS_PLANT
        | {
            "faults": [
                {
                    "device": "meter",
                    "kind": "stuck",
                    "point": "active_power_kw",
                    "start_s": 100,
                    "duration_s": 50,
                },
                {
                    "device": "cems",
                    "kind": "calibration",
                    "start_s": 60,
                    "duration_s": 30,
                    "repeat_s": 1000,
                },
            ]
        }
    )
    plant = Plant(scenario)
    meter, cems = plant.devices["meter"], plant.devices["cems"]
    seen = []
    for dt in (
        59,
        2,
        40,
        2,
        40,
        10,
        900,
        10,
    ):  # t = 59, 61, 101, 103, 143, 153, 1053, 1063
        plant.step(dt)
        meter.set("active_power_kw", plant.time_s)  # the process moves every step
        seen.append((meter.served("active_power_kw"), cems.served("analyser_status")))
    assert seen == [
        (59.0, 0.0),
        (61.0, 1.0),  # calibration from 60 s for 30 s
        (61.0, 0.0),  # stuck from 100 s: held at the value it had then
        (61.0, 0.0),
        (61.0, 0.0),
        (153.0, 0.0),  # stuck ended at 150 s
        (1053.0, 0.0),
        (1063.0, 1.0),  # calibration again 1000 s after it began
    ]


async def test_rollover_and_replacement_do_not_count_as_production() -> None:
    scenario = Scenario.model_validate(
        MODBUS_PLANT
        | {
            "static": False,
            "physics": [
                {
                    "kind": "follow",
                    "source": "meter.energy_import_kwh",
                    "target": "plc.crude_steel_t",
                    "factor": 0.1,
                },
            ],
        }
    )
    plant = Plant(scenario)
    plant.step(1.0)
    before = plant.devices["plc"].get("crude_steel_t")
    plant.add_fault(parse_fault({"device": "meter", "kind": "rollover", "margin": 1}))
    plant.step(1.0)
    plant.add_fault(parse_fault({"device": "meter", "kind": "replacement"}))
    plant.step(1.0)
    assert plant.devices["plc"].get("crude_steel_t") == before


async def test_opcua_clock_drift_offsets_source_timestamps_and_offline_refuses() -> (
    None
):
    scenario = Scenario.model_validate(
        {
            "name": "opcua-faults",
            "base_port": 0,
            "static": True,
            "devices": [
                {
                    "id": "boiler",
                    "profile": "cf-demo/boiler-opcua",
                    "protocol": "opcua",
                    "port_offset": 0,
                },
            ],
        }
    )
    async with Plant(scenario) as plant:
        url = plant.endpoints[0].url
        await _inject(plant, device="boiler", kind="clock_drift", offset_s=3600)
        async with Client(url, timeout=5) as client:
            node = client.get_node("ns=2;s=Boiler1.SteamFlow")
            drift = 0.0
            for _ in range(
                50
            ):  # the server pushes the re-stamped values in the background
                data = await node.read_data_value()
                drift = (data.SourceTimestamp - datetime.now(UTC)).total_seconds()
                if drift > 3000:
                    break
                await asyncio.sleep(0.02)
        await _inject(plant, device="boiler", kind="offline")
        with pytest.raises((OSError, asyncio.TimeoutError)):
            async with Client(url, timeout=1):
                pass
    assert 3590 < drift < 3610
