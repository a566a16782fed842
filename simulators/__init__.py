"""simulators: field devices served from the same profiles the edge agent polls.

`SimulatedDevice` holds a device's engineering values; `ModbusDeviceServer`
(TCP), `ModbusRtuServer` (a pseudo-terminal) and `OpcUaDeviceServer` serve
it; `Plant` runs a scenario's devices with physics and faults, and
`ControlServer` lets a tester inject faults and set values over HTTP.
"""

from simulators.control import ControlServer
from simulators.device import Link, RefusedRange, SimulatedDevice
from simulators.errors import ScenarioError, ServeError, SimulatorError
from simulators.faults import Fault, FaultBoard, FaultKind, FaultSpec, parse_fault
from simulators.modbus_device import ModbusDeviceServer, ModbusRtuServer
from simulators.opcua_device import OpcUaDeviceServer
from simulators.plant import Endpoint, Plant, demo_endpoints, scenario_endpoints
from simulators.scenario import Balance, Scenario, load_scenario

__all__ = [
    "Balance",
    "ControlServer",
    "Endpoint",
    "Fault",
    "FaultBoard",
    "FaultKind",
    "FaultSpec",
    "Link",
    "ModbusDeviceServer",
    "ModbusRtuServer",
    "OpcUaDeviceServer",
    "Plant",
    "RefusedRange",
    "Scenario",
    "ScenarioError",
    "ServeError",
    "SimulatedDevice",
    "SimulatorError",
    "demo_endpoints",
    "load_scenario",
    "parse_fault",
    "scenario_endpoints",
]
