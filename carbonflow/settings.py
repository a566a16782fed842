"""Runtime settings read from the environment, validated once at start."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from psycopg.conninfo import conninfo_to_dict
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

__all__ = ["Settings", "load_settings", "DEFAULT_HOME"]

DEFAULT_HOME = Path(".carbonflow")


class Settings(BaseModel):
    """Where carbonflow finds its infrastructure; empty means 'start an embedded one'.

    `database_url` is the services' (application) role, `migration_database_url` the tables' owner, which
    only `carbonflow db migrate` / `db compact` and the demo's start use (docs/database.md). Without the
    second, migrations run as DATABASE_URL's role, which then owns the tables.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path = DEFAULT_HOME
    database_url: str | None = None
    migration_database_url: str | None = None
    kafka_bootstrap: str | None = None
    mqtt_url: str | None = None
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    topic_prefix: str = "carbonflow"

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _postgres_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and urlsplit(value).scheme not in {"postgres", "postgresql"}:
            raise ValueError(f"{info.field_name.upper()} must start with postgresql://,"  # type: ignore[union-attr]
                             f" got {value.split(':')[0]}://")
        return value or None

    @model_validator(mode="after")
    def _two_roles_one_database(self) -> Settings:
        if self.migration_database_url is None:
            return self
        if self.database_url is None:
            raise ValueError("MIGRATION_DATABASE_URL is set but DATABASE_URL is not: set DATABASE_URL to the"
                             " application role's URL (postgresql://carbonflow_app@host/db)")
        app, owner = conninfo_to_dict(self.database_url), conninfo_to_dict(self.migration_database_url)
        if not app.get("user"):
            raise ValueError("DATABASE_URL names no user: with MIGRATION_DATABASE_URL set it must name the"
                             " application role, e.g. postgresql://carbonflow_app@host/db")
        if app.get("user") == owner.get("user"):
            raise ValueError(f"DATABASE_URL and MIGRATION_DATABASE_URL both log in as {app['user']!r}: the"
                             " services must not own the tables; give DATABASE_URL the application role")
        where = [(k, app.get(k), owner.get(k)) for k in ("host", "port", "dbname") if app.get(k) != owner.get(k)]
        if where:
            raise ValueError("DATABASE_URL and MIGRATION_DATABASE_URL must reach the same database; they differ in "
                             + ", ".join(f"{k} ({a!r} and {o!r})" for k, a, o in where))
        return self

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in {"mqtt", "mqtts"}:
            raise ValueError(f"MQTT_URL must start with mqtts:// (or mqtt:// on loopback), got {value}")
        return value or None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build Settings from environment variables (CARBONFLOW_HOME, DATABASE_URL, MIGRATION_DATABASE_URL,
    KAFKA_BOOTSTRAP, MQTT_URL, API_PORT)."""
    env = dict(os.environ if env is None else env)
    return Settings(
        home=Path(env.get("CARBONFLOW_HOME", str(DEFAULT_HOME))),
        database_url=env.get("DATABASE_URL") or None,
        migration_database_url=env.get("MIGRATION_DATABASE_URL") or None,
        kafka_bootstrap=env.get("KAFKA_BOOTSTRAP") or None,
        mqtt_url=env.get("MQTT_URL") or None,
        api_host=env.get("API_HOST", "127.0.0.1"),
        api_port=int(env.get("API_PORT", "8000")),
        topic_prefix=env.get("CARBONFLOW_TOPIC_PREFIX", "carbonflow"),
    )
