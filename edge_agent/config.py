"""Edge agent configuration: one YAML file, validated at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = ["DeviceEndpoint", "MqttLink", "AgentConfig", "load_agent_config", "ConfigError"]


class ConfigError(ValueError):
    """The agent configuration is invalid; the message lists every problem."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceEndpoint(_Model):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    profile: str
    protocol: Literal["modbus", "opcua"]
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    unit_id: int | None = Field(default=None, ge=0, le=255)
    poll_interval_s: float | None = Field(default=None, ge=0.1)
    timeout_s: float = Field(default=2.0, gt=0)


class MqttLink(_Model):
    url: str = Field(pattern=r"^mqtts?://[^/:]+:\d+$")
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    username: str | None = None
    password: str | None = None
    topic_root: str = "carbonflow/v1"

    @model_validator(mode="after")
    def _tls_needs_ca(self) -> "MqttLink":
        if self.url.startswith("mqtts://") and self.ca is None:
            raise ValueError("mqtts:// needs `ca` (the broker's CA certificate file)")
        if (self.cert is None) != (self.key is None):
            raise ValueError("give both `cert` and `key` for a client certificate, or neither")
        return self


class AgentConfig(_Model):
    gateway_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    spool_path: Path
    spool_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)
    batch_max_readings: int = Field(default=1000, ge=1, le=20000)
    flush_interval_s: float = Field(default=0.2, gt=0, le=5)
    inflight_window: int = Field(default=32, ge=1, le=1000)
    mqtt: MqttLink
    devices: list[DeviceEndpoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_device_ids(self) -> "AgentConfig":
        seen: set[str] = set()
        for device in self.devices:
            if device.id in seen:
                raise ValueError(f"device id {device.id!r} appears twice")
            seen.add(device.id)
        return self


def load_agent_config(path: Path) -> AgentConfig:
    """Read and validate the YAML file; ConfigError lists each field that is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read agent config: {exc}") from exc
    try:
        return AgentConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc
