"""device_profiles: validated register and tag maps of device models, shared by edge agent and simulators.

>>> profile = load_profile("cf-demo/pm3-meter")
>>> blocks = plan_blocks(profile.modbus_points, address_base=profile.address_base)
"""

from device_profiles.blocks import ReadBlock, decode_block, plan_blocks
from device_profiles.errors import ProfileError
from device_profiles.loader import library_names, load_profile, parse_profile
from device_profiles.schema import (
    DeviceProfile,
    ModbusPoint,
    ModbusTable,
    OpcUaMode,
    OpcUaPoint,
    OpcUaType,
    Protocol,
)

__all__ = [
    "DeviceProfile",
    "ModbusPoint",
    "ModbusTable",
    "OpcUaMode",
    "OpcUaPoint",
    "OpcUaType",
    "ProfileError",
    "Protocol",
    "ReadBlock",
    "decode_block",
    "library_names",
    "load_profile",
    "parse_profile",
    "plan_blocks",
]
