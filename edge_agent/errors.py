"""Exceptions of the edge agent.

    EdgeError                 anything the agent reports to its operator
    ├── ConfigError           the YAML configuration is invalid (also a ValueError)
    ├── ReloadError           a new configuration cannot be applied to the running agent
    └── AgentRunningError     another agent already runs on the same spool

Payload protection raises the domain's `carbon_domain.errors.KeyMaterialError`
(mapped into `ConfigError` by `edge_agent.key_files`) and `ProtectionError`
(a receiver's; the agent only sends).
"""

from __future__ import annotations

__all__ = ["AgentRunningError", "ConfigError", "EdgeError", "ReloadError"]


class EdgeError(Exception):
    """Base of every error the edge agent raises on purpose."""


class ConfigError(EdgeError, ValueError):
    """The agent configuration is invalid; the message lists every problem."""


class ReloadError(EdgeError):
    """A configuration reload was refused; the running configuration stays in force."""


class AgentRunningError(EdgeError):
    """The spool is locked by another running agent."""
