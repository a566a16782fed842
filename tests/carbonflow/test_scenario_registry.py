"""A demo registry made from a simulator scenario binds purchased energy and production, not own generation."""

from __future__ import annotations

from carbonflow.demo.scenario_registry import registry_for_scenario
from simulators.scenario import load_scenario


def test_steelworks_registry_binds_meters_by_process_and_skips_generation() -> None:
    registry = registry_for_scenario(load_scenario("steelworks"))
    devices = {d.id: d for d in registry.devices}
    activities = sorted({a for d in registry.devices for a in d.bindings.values()})
    assert (len(devices), devices["bf-gas"].process, devices["pp-gen"].bindings, activities) == (
        23, "ironmaking", {},
        ["electricity", "natural_gas", "production:crude_steel", "production:hot_metal", "production:rolled_steel",
         "production:sinter"])
