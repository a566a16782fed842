"""simulators: field devices served from the same profiles the edge agent polls.

`SimulatedDevice` holds a device's engineering values; `ModbusDeviceServer`
and `OpcUaDeviceServer` serve it; `Plant` runs a scenario's devices with physics.
"""

from simulators.device import SimulatedDevice
from simulators.errors import ScenarioError, ServeError, SimulatorError
from simulators.modbus_device import ModbusDeviceServer
from simulators.opcua_device import OpcUaDeviceServer
from simulators.plant import Endpoint, Plant, demo_endpoints, scenario_endpoints
from simulators.scenario import Scenario, load_scenario

__all__ = [
    "Endpoint",
    "ModbusDeviceServer",
    "OpcUaDeviceServer",
    "Plant",
    "Scenario",
    "ScenarioError",
    "ServeError",
    "SimulatedDevice",
    "SimulatorError",
    "demo_endpoints",
    "load_scenario",
    "scenario_endpoints",
]
