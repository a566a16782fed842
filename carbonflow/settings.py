"""Runtime settings read from the environment, validated once at start."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = ["Settings", "load_settings", "DEFAULT_HOME"]

DEFAULT_HOME = Path(".carbonflow")


class Settings(BaseModel):
    """Where carbonflow finds its infrastructure; empty means 'start an embedded one'."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path = DEFAULT_HOME
    database_url: str | None = None
    kafka_bootstrap: str | None = None
    mqtt_url: str | None = None
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    topic_prefix: str = "carbonflow"

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in {"postgres", "postgresql"}:
            raise ValueError(f"DATABASE_URL must start with postgresql://, got {value.split(':')[0]}://")
        return value or None

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in {"mqtt", "mqtts"}:
            raise ValueError(f"MQTT_URL must start with mqtts:// (or mqtt:// on loopback), got {value}")
        return value or None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build Settings from environment variables (CARBONFLOW_HOME, DATABASE_URL, KAFKA_BOOTSTRAP, MQTT_URL, API_PORT)."""
    env = dict(os.environ if env is None else env)
    return Settings(
        home=Path(env.get("CARBONFLOW_HOME", str(DEFAULT_HOME))),
        database_url=env.get("DATABASE_URL") or None,
        kafka_bootstrap=env.get("KAFKA_BOOTSTRAP") or None,
        mqtt_url=env.get("MQTT_URL") or None,
        api_host=env.get("API_HOST", "127.0.0.1"),
        api_port=int(env.get("API_PORT", "8000")),
        topic_prefix=env.get("CARBONFLOW_TOPIC_PREFIX", "carbonflow"),
    )
