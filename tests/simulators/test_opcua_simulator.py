"""The OPC-UA simulator, read, written and subscribed to by a plain asyncua client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asyncua import Client, ua

from device_profiles.loader import load_profile
from simulators.device import SimulatedDevice
from simulators.opcua_device import OpcUaDeviceServer
from tests.leaks import no_leaked_tasks_or_threads

PROFILE = "cf-demo/boiler-opcua"
VARIANT = {
    "double": ua.VariantType.Double,
    "float": ua.VariantType.Float,
    "boolean": ua.VariantType.Boolean,
}


@pytest.fixture(autouse=True)
async def _no_leaked_tasks_or_threads() -> AsyncIterator[None]:
    async with no_leaked_tasks_or_threads():
        yield


@pytest.fixture
async def boiler() -> AsyncIterator[tuple[SimulatedDevice, Client]]:
    device = SimulatedDevice(load_profile(PROFILE), device_id="boiler-1")
    async with (
        OpcUaDeviceServer(device, port=0) as server,
        Client(server.endpoint, timeout=5) as client,
    ):
        yield device, client


async def test_plain_client_reads_every_tag_with_its_documented_value_and_type(
    boiler,
) -> None:  # type: ignore[no-untyped-def]
    _, client = boiler
    profile = load_profile(PROFILE)
    namespace = await client.get_namespace_index(profile.namespace_uri)
    read: dict[str, Any] = {}
    for point in profile.opcua_points:
        node = client.get_node(point.node_id)
        value = await node.read_data_value()
        read[point.name] = (
            value.Value.Value,
            value.Value.VariantType,
            (await node.read_browse_name()).Name,
        )
    assert (namespace, read) == (
        2,
        {
            p.name: (pytest.approx(p.example, rel=1e-6), VARIANT[p.data_type], p.name)
            for p in profile.opcua_points
        },
    )


async def test_model_changes_reach_subscribers_and_client_writes_reach_the_model(
    boiler,
) -> None:  # type: ignore[no-untyped-def]
    device, client = boiler
    seen: asyncio.Queue[float] = asyncio.Queue()

    class Handler:
        def datachange_notification(self, node: Any, value: float, data: Any) -> None:
            seen.put_nowait(value)

    subscription = await client.create_subscription(50, Handler())
    flow = client.get_node("ns=2;s=Boiler1.SteamFlow")
    await subscription.subscribe_data_change(flow)
    first = await asyncio.wait_for(seen.get(), 5)
    device.set("steam_flow_tph", 71.25)
    second = await asyncio.wait_for(seen.get(), 5)
    await subscription.delete()

    heat = client.get_node("ns=2;s=Boiler1.HeatTotal")
    await heat.write_value(ua.DataValue(ua.Variant(900000.5, ua.VariantType.Double)))
    firing = client.get_node("ns=2;s=Boiler1.Firing")
    await firing.write_value(ua.DataValue(ua.Variant(False, ua.VariantType.Boolean)))
    assert (first, second, device.get("heat_total_gj"), device.get("firing")) == (
        65.0,
        71.25,
        900000.5,
        False,
    )


async def test_s7_style_tags_in_namespace_3_are_served_under_the_profiles_uri() -> None:
    profile = load_profile("cf-demo/sinter-s7")
    device = SimulatedDevice(profile, device_id="sinter-dcs")
    async with (
        OpcUaDeviceServer(device, port=0) as server,
        Client(server.endpoint, timeout=5) as client,
    ):
        namespace = await client.get_namespace_index(profile.namespace_uri)
        values = {
            point.name: (await client.get_node(point.node_id).read_value())
            for point in profile.opcua_points
        }
    assert (namespace, values) == (
        3,
        {p.name: pytest.approx(p.example, rel=1e-6) for p in profile.opcua_points},
    )
