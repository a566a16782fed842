"""Exceptions of the edge agent.

    EdgeError                 anything the agent reports to its operator
    ├── ConfigError           the YAML configuration is invalid (also a ValueError)
    ├── ReloadError           a new configuration cannot be applied to the running agent
    ├── ModbusExceptionError  a device answered a read with a Modbus exception code (it is there; it refused)
    └── AgentRunningError     another agent already runs on the same spool

Payload protection raises the domain's `carbon_domain.errors.KeyMaterialError`
(mapped into `ConfigError` by `edge_agent.key_files`) and `ProtectionError`
(a receiver's; the agent only sends).
"""

from __future__ import annotations

__all__ = ["AgentRunningError", "ConfigError", "EdgeError", "ModbusExceptionError", "ReloadError"]


class EdgeError(Exception):
    """Base of every error the edge agent raises on purpose."""


class ConfigError(EdgeError, ValueError):
    """The agent configuration is invalid; the message lists every problem."""


class ReloadError(EdgeError):
    """A configuration reload was refused; the running configuration stays in force."""


class ModbusExceptionError(EdgeError):
    """A device answered a request with a Modbus exception response; `code` is the exception code.

    Codes 10 and 11 come from a gateway in front of the device and mean the
    device did not answer (`device_unreachable`); every other code means the
    device is there and refused this request, e.g. 2 for a register it lacks.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def device_unreachable(self) -> bool:
        return self.code in (10, 11)


class AgentRunningError(EdgeError):
    """The spool is locked by another running agent."""
