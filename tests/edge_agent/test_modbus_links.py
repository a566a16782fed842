"""Modbus devices behind one endpoint share one link: RTU on a serial line, a dead unit does not stall the rest,
and the next request is sent while the previous answer is handled."""

from __future__ import annotations

import asyncio

import pytest

from device_profiles.loader import load_profile
from edge_agent.config import DeviceEndpoint
from edge_agent.modbus_links import acquire_link, release_link
from edge_agent.sources import ModbusPoller, _PollFailed
from simulators.modbus_device import ModbusDeviceServer, ModbusRtuServer, SimulatedDevice


def _endpoint(device: str, profile: str, path: str, unit: int) -> DeviceEndpoint:
    return DeviceEndpoint(id=device, profile=profile, protocol="modbus-rtu", unit_id=unit, timeout_s=0.3,
                          serial={"port": path, "baudrate": 19200})


def _poller(device: str, profile: str, path: str, unit: int) -> ModbusPoller:
    return ModbusPoller(_endpoint(device, profile, path, unit), load_profile(profile))


async def _poll_all(poller: ModbusPoller) -> list[dict]:
    drafts = []
    for blocks in poller._groups.values():  # one poll of every group, as the run loop does
        try:
            drafts += await poller.poll(blocks)
        except _PollFailed as failure:  # a failed poll is data: bad readings with the reason
            drafts += failure.drafts
    return drafts


def test_rtu_device_without_a_serial_line_is_refused() -> None:
    with pytest.raises(ValueError, match="modbus-rtu needs `serial"):
        DeviceEndpoint(id="m", profile="cf-demo/pm3-meter", protocol="modbus-rtu")


async def test_two_meters_on_one_rtu_line_read_their_own_values_over_one_link() -> None:
    meter = SimulatedDevice(load_profile("cf-demo/pm3-meter"), unit_id=1, initial={"energy_import_kwh": 4321.5})
    gas = SimulatedDevice(load_profile("cf-demo/gfc200"), unit_id=2, initial={"volume_total_nm3": 777.0})
    async with ModbusRtuServer([meter, gas]) as server:
        pollers = [_poller("m1", "cf-demo/pm3-meter", server.path, 1), _poller("g1", "cf-demo/gfc200", server.path, 2)]
        try:
            results = await asyncio.gather(*(_poll_all(p) for p in pollers))
            links = {id(p._link) for p in pollers}
        finally:
            for p in pollers:
                p.close()
    values = {(d["device"], d["point"]): d["value"] for drafts in results for d in drafts}
    assert (values[("m1", "energy_import_kwh")], values[("g1", "volume_total_nm3")], len(links)) == (4321.5, 777.0, 1)


async def test_a_silent_unit_on_the_line_does_not_stop_the_others() -> None:
    meter = SimulatedDevice(load_profile("cf-demo/pm3-meter"), unit_id=1)
    async with ModbusRtuServer([meter]) as server:
        alive = _poller("m1", "cf-demo/pm3-meter", server.path, 1)
        dead = _poller("m9", "cf-demo/pm3-meter", server.path, 9)
        try:
            dead_drafts, alive_drafts = await asyncio.gather(_poll_all(dead), _poll_all(alive))
        finally:
            dead.close()
            alive.close()
    assert ({d["quality"] for d in dead_drafts}, {d["quality"] for d in alive_drafts}) == ({"bad"}, {"good"})


async def test_next_request_goes_out_before_the_previous_answer_is_handled_and_never_overlaps_it() -> None:
    meter = SimulatedDevice(load_profile("cf-demo/pm3-meter"), unit_id=1)
    gas = SimulatedDevice(load_profile("cf-demo/gfc200"), unit_id=2)
    async with ModbusDeviceServer([meter, gas], port=0) as server:
        link = acquire_link(DeviceEndpoint(id="m1", profile="cf-demo/pm3-meter", protocol="modbus", port=server.port))
        try:
            await link.read("input_register", 0, 2, 1)  # connects
            events: list[tuple[str, int]] = []
            send = link._client.read_input_registers

            async def traced(start: int, *, count: int, device_id: int) -> object:
                events.append(("request", device_id))
                response = await send(start, count=count, device_id=device_id)
                events.append(("answer", device_id))
                return response

            link._client.read_input_registers = traced

            async def device(unit: int) -> None:
                await link.read("input_register", 0, 2, unit)
                events.append(("handled", unit))

            await asyncio.gather(device(1), device(2))
        finally:
            release_link(link)
    # one request on the line at a time, but unit 2 is asked while unit 1's answer is still being handled
    assert events == [("request", 1), ("answer", 1), ("request", 2), ("handled", 1), ("answer", 2), ("handled", 2)]
