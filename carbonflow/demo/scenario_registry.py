"""A site registry for any simulator scenario: devices with their process, counters bound to activities."""

from __future__ import annotations

from typing import TYPE_CHECKING

from carbonflow.registry import SiteRegistry

if TYPE_CHECKING:  # the simulators are imported only where a demo runs
    from simulators.scenario import Scenario

__all__ = ["registry_for_scenario"]

# profile -> counter point -> activity; generation meters (own production) are left unbound
_BINDINGS = {
    "cf-demo/pm3-meter": {"energy_import_kwh": "electricity"},
    "cf-demo/em5-energy": {"energy_import_kwh": "electricity"},
    "cf-demo/gfc200": {"volume_total_nm3": "natural_gas"},
    "cf-demo/plc-line": {"crude_steel_t": "production:crude_steel"},
    "cf-demo/plc-works": {"crude_steel_t": "production:crude_steel", "sinter_t": "production:sinter",
                          "hot_metal_t": "production:hot_metal", "rolled_steel_t": "production:rolled_steel"},
}


def registry_for_scenario(scenario: Scenario, *, enterprise_id: str = "demo-steel") -> SiteRegistry:
    """One site named after the scenario; every device under its `process` label (default 'auxiliary')."""
    name = scenario.name
    devices = []
    profiles = {d.profile for d in scenario.devices}
    for d in scenario.devices:
        process = d.process or "auxiliary"
        bindings = _BINDINGS.get(d.profile, {})
        if d.id.endswith("-gen"):  # a generator's meter counts own generation, not purchased electricity
            bindings = {}
        if d.profile == "cf-demo/plc-line" and "cf-demo/plc-works" in profiles:
            bindings = {}  # the works PLC already counts crude steel for the whole site
        devices.append({"id": d.id, "site": name, "process": process, "profile": d.profile, "bindings": bindings})
    return SiteRegistry.model_validate({
        "enterprise_id": enterprise_id, "enterprise_name": "Demo Steel Co. (演示钢铁)", "industry": "3120",
        "region": "CN-ZJ", "sites": [{"id": name, "name": f"Simulated {name}", "province": "zhejiang",
                                      "grid_region": "east"}],
        "devices": devices,
    })
