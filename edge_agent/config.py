"""Edge agent configuration: one YAML file, validated at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from carbon_domain.schemas import Identifier
from edge_agent.errors import ConfigError

__all__ = [
    "AgentConfig",
    "ClockCheck",
    "ConfigError",
    "ENDPOINT_POLL_FLOOR_S",
    "DeviceEndpoint",
    "MqttLink",
    "PayloadProtection",
    "load_agent_config",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SerialLine(_Model):
    """An RS-485/RS-232 line for Modbus RTU."""

    port: str = Field(min_length=1, description="device path, e.g. /dev/ttyUSB0")
    baudrate: int = Field(default=9600, ge=300, le=921600)
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1


# The endpoint may poll faster than a profile allows (profiles keep their 0.1 s floor and 1 s default), down to
# 10 ms, for a fast local device or a benchmark that must find the agent's ceiling rather than the poll schedule's.
# Production configs leave poll_interval_s unset, so each point polls at its profile's interval.
ENDPOINT_POLL_FLOOR_S = 0.01


class DeviceEndpoint(_Model):
    id: Identifier
    profile: str
    protocol: Literal["modbus", "modbus-rtu", "opcua"]
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)
    serial: SerialLine | None = None
    unit_id: int | None = Field(default=None, ge=0, le=255)
    poll_interval_s: float | None = Field(default=None, ge=ENDPOINT_POLL_FLOOR_S)
    timeout_s: float = Field(default=2.0, gt=0)
    opcua_mode: Literal["profile", "poll", "subscribe"] = "profile"

    @model_validator(mode="after")
    def _transport_matches_protocol(self) -> DeviceEndpoint:
        if self.protocol == "modbus-rtu" and self.serial is None:
            raise ValueError(f"device {self.id}: modbus-rtu needs `serial: {{port: /dev/ttyUSB0, baudrate: 9600}}`")
        if self.protocol != "modbus-rtu" and self.port is None:
            raise ValueError(f"device {self.id}: {self.protocol} needs `port`")
        if self.protocol != "modbus-rtu" and self.serial is not None:
            raise ValueError(f"device {self.id}: `serial` applies to modbus-rtu, not {self.protocol}")
        return self

    @model_validator(mode="after")
    def _opcua_mode_for_opcua(self) -> DeviceEndpoint:
        if self.opcua_mode != "profile" and self.protocol != "opcua":
            raise ValueError(f"device {self.id}: opcua_mode applies to opcua devices, not {self.protocol}")
        return self


class MqttLink(_Model):
    url: str = Field(pattern=r"^mqtts?://[^/:]+:\d+$")
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    username: str | None = None
    password: str | None = None
    topic_root: str = "carbonflow/v1"
    reconnect_min_s: float = Field(default=1.0, gt=0, le=300)
    reconnect_max_s: float = Field(default=30.0, gt=0, le=3600)
    # 2: ColumnEnvelope (a list per field per device); 1: Envelope (an object per reading), for a gateway
    # upgraded before the cloud behind its broker can read version 2
    envelope_version: Literal[1, 2] = 2

    @model_validator(mode="after")
    def _tls_needs_ca(self) -> MqttLink:
        if self.url.startswith("mqtts://") and self.ca is None:
            raise ValueError("mqtts:// needs `ca` (the broker's CA certificate file)")
        if (self.cert is None) != (self.key is None):
            raise ValueError("give both `cert` and `key` for a client certificate, or neither")
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError(
                f"reconnect_min_s {self.reconnect_min_s} is above reconnect_max_s {self.reconnect_max_s}"
            )
        return self


class ClockCheck(_Model):
    """Watch the gateway's clock; readings taken while it is unsynchronised are marked `uncertain`."""

    source: Literal["system"] = "system"
    max_offset_s: float = Field(default=1.0, gt=0)
    interval_s: float = Field(default=10.0, ge=0.1, le=3600)


class PayloadProtection(_Model):
    """Sign and/or encrypt MQTT payloads end to end (for links where TLS ends before the platform)."""

    sign: Literal["hmac-sm3", "ed25519", "none"] = "none"
    encrypt: Literal["sm4-gcm", "aes-gcm", "none"] = "none"
    key_file: Path

    @model_validator(mode="after")
    def _something_to_do(self) -> PayloadProtection:
        if self.sign == "none" and self.encrypt == "none":
            raise ValueError("payload_protection with sign: none and encrypt: none does nothing; leave it out")
        return self


class AgentConfig(_Model):
    gateway_id: Identifier
    spool_path: Path
    spool_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)
    batch_max_readings: int = Field(default=1000, ge=1, le=20000)
    flush_interval_s: float = Field(default=0.2, gt=0, le=5)
    inflight_window: int = Field(default=32, ge=1, le=1000)
    status_interval_s: float = Field(default=30.0, ge=1, le=3600)  # how often the retained status is republished
    mqtt: MqttLink
    devices: list[DeviceEndpoint] = Field(min_length=1)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    clock_check: ClockCheck | None = None
    payload_protection: PayloadProtection | None = None

    @model_validator(mode="after")
    def _unique_device_ids(self) -> AgentConfig:
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
