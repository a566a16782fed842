"""Exceptions of the edge agent.

    EdgeError                 anything the agent reports to its operator
    ├── ConfigError           the YAML configuration is invalid (also a ValueError)
    ├── ReloadError           a new configuration cannot be applied to the running agent
    ├── ProtectionError       a protected payload fails verification or decryption (also a ValueError)
    └── AgentRunningError     another agent already runs on the same spool
"""

from __future__ import annotations

__all__ = ["AgentRunningError", "ConfigError", "EdgeError", "ProtectionError", "ReloadError"]


class EdgeError(Exception):
    """Base of every error the edge agent raises on purpose."""


class ConfigError(EdgeError, ValueError):
    """The agent configuration is invalid; the message lists every problem."""


class ReloadError(EdgeError):
    """A configuration reload was refused; the running configuration stays in force."""


class ProtectionError(EdgeError, ValueError):
    """A protected payload is malformed, forged, tampered with or for an unknown key."""


class AgentRunningError(EdgeError):
    """The spool is locked by another running agent."""
