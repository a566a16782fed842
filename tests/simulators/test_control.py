"""The plant's HTTP control endpoint, driven by a plain HTTP client and by `simulate fault`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from pymodbus.client import AsyncModbusTcpClient

from simulators.cli import main as simulate_main
from simulators.control import ControlServer
from simulators.plant import Plant
from simulators.scenario import Scenario

SCENARIO = {
    "name": "control",
    "base_port": 0,
    "static": True,
    "devices": [
        {
            "id": "meter",
            "profile": "cf-demo/pm3-meter",
            "protocol": "modbus",
            "port_offset": 0,
            "process": "steelmaking",
        },
        {
            "id": "cems",
            "profile": "cf-demo/cems-stack",
            "protocol": "modbus",
            "port_offset": 1,
        },
    ],
}


@pytest.fixture
async def control() -> AsyncIterator[tuple[Plant, httpx.AsyncClient, str]]:
    async with (
        Plant(Scenario.model_validate(SCENARIO)) as plant,
        ControlServer(plant, port=0) as server,
        httpx.AsyncClient(base_url=server.url, timeout=5) as http,
    ):
        yield plant, http, server.url


async def test_fault_round_trip_is_seen_by_a_modbus_client(control) -> None:  # type: ignore[no-untyped-def]
    plant, http, _ = control
    created = await http.post(
        "/faults",
        json={"device": "meter", "kind": "exception", "code": 4, "duration_s": 600},
    )
    listed = (await http.get("/faults")).json()["faults"]
    port = plant.endpoints[0].port
    async with AsyncModbusTcpClient(
        "127.0.0.1", port=port, timeout=2, retries=0
    ) as client:
        during = (
            await client.read_input_registers(0x34, count=2, device_id=1)
        ).exception_code
        deleted = await http.delete(f"/faults/{created.json()['id']}")
        after = (
            await client.read_input_registers(0x34, count=2, device_id=1)
        ).isError()
    assert (
        created.status_code,
        created.json()["state"],
        created.json()["remaining_s"],
        [fault["id"] for fault in listed],
        during,
        deleted.status_code,
        after,
        (await http.get("/faults")).json(),
    ) == (201, "active", 600.0, [created.json()["id"]], 4, 200, False, {"faults": []})


async def test_device_values_are_read_and_written_over_http(control) -> None:  # type: ignore[no-untyped-def]
    plant, http, _ = control
    await http.post(
        "/faults", json={"device": "meter", "kind": "stuck", "point": "active_power_kw"}
    )
    written = await http.post("/devices/meter/values", json={"active_power_kw": 1234.5})
    body = (await http.get("/devices/meter")).json()
    assert (
        written.json(),
        body["process"],
        body["values"]["active_power_kw"],  # what clients read: stuck
        body["model"]["active_power_kw"],  # what the plant holds
        [fault["kind"] for fault in body["faults"]],
        plant.devices["meter"].get("active_power_kw"),
    ) == (
        {"id": "meter", "values": {"active_power_kw": 1234.5}},
        "steelmaking",
        2400.0,
        1234.5,
        ["stuck"],
        1234.5,
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        (
            "POST",
            "/faults",
            {"device": "meter", "kind": "melt"},
            400,
            "Input tag 'melt'",
        ),
        (
            "POST",
            "/faults",
            {"device": "nobody", "kind": "stuck"},
            400,
            "no device 'nobody'; devices: meter, cems",
        ),
        (
            "POST",
            "/faults",
            {"device": "meter", "kind": "clock_drift"},
            400,
            "clock_drift applies to opcua devices, not modbus",
        ),
        (
            "POST",
            "/faults",
            {"device": "meter", "kind": "slow", "delay_ms": -1},
            400,
            "slow.delay_ms: Input should be greater than 0",
        ),
        ("DELETE", "/faults/f99", None, 404, "no fault 'f99'"),
        ("GET", "/devices/nobody", None, 404, "no device 'nobody'"),
        (
            "POST",
            "/devices/meter/values",
            {"bogus": 1},
            400,
            "device meter has no point 'bogus'",
        ),
        (
            "POST",
            "/devices/meter/values",
            {"energy_import_kwh": -5},
            400,
            "value -500 out of range for uint32",
        ),
        ("PUT", "/faults", {}, 405, "PUT /faults: use GET or POST"),
        ("GET", "/nowhere", None, 404, "no resource /nowhere"),
    ],
)
async def test_bad_requests_get_a_status_and_a_message(  # type: ignore[no-untyped-def]
    control, method: str, path: str, body: object, status: int, message: str
) -> None:
    _, http, _ = control
    response = await http.request(method, path, json=body)
    assert (response.status_code, message in response.json()["error"]) == (
        status,
        True,
    ), response.json()


async def test_a_failed_value_write_changes_nothing(control) -> None:  # type: ignore[no-untyped-def]
    plant, http, _ = control
    await http.post(
        "/devices/meter/values", json={"active_power_kw": 1.0, "energy_import_kwh": -5}
    )
    assert plant.devices["meter"].get("active_power_kw") == 2400.0


async def test_simulate_fault_cli_injects_lists_and_clears(  # type: ignore[no-untyped-def]
    control, capsys: pytest.CaptureFixture[str]
) -> None:
    plant, _, url = control
    added = await asyncio.to_thread(
        simulate_main,
        [
            "fault",
            "--control",
            url,
            "--device",
            "cems",
            "--kind",
            "calibration",
            "--reference",
            "co2_pct=12.5",
            "--duration",
            "900",
        ],
    )
    fault = json.loads(capsys.readouterr().out)
    status = plant.devices["cems"].served("analyser_status")
    listed = await asyncio.to_thread(
        simulate_main, ["fault", "--control", url, "--list"]
    )
    faults = json.loads(capsys.readouterr().out)["faults"]
    cleared = await asyncio.to_thread(
        simulate_main, ["fault", "--control", url, "--clear", fault["id"]]
    )
    capsys.readouterr()
    refused = await asyncio.to_thread(
        simulate_main,
        ["fault", "--control", url, "--device", "cems", "--kind", "clock_drift"],
    )
    error = capsys.readouterr().err
    assert (
        (added, fault["kind"], fault["reference"], fault["ends_at_s"], status),
        (listed, [f["id"] for f in faults]),
        (cleared, plant.devices["cems"].served("analyser_status")),
        (
            refused,
            "400 clock_drift on cems: clock_drift applies to opcua devices" in error,
        ),
    ) == (
        (
            0,
            "calibration",
            {"co2_pct": 12.5},
            pytest.approx(plant.time_s + 900, abs=60),
            1.0,
        ),
        (0, [fault["id"]]),
        (0, 0.0),
        (1, True),
    )


def test_simulate_fault_cli_reports_an_unreachable_endpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = simulate_main(
        [
            "fault",
            "--control",
            "http://127.0.0.1:9",
            "--device",
            "m",
            "--kind",
            "offline",
        ]
    )
    assert (code, "http://127.0.0.1:9/faults" in capsys.readouterr().err) == (1, True)
