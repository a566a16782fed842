"""Settings of the API deployable, read once from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ApiSettings", "load_api_settings"]


class ApiSettings(BaseModel):
    """Identity, session and rate-limit settings; see `load_api_settings` for the variables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Literal["development", "production"] = "production"
    admin_username: str = "admin"
    admin_password: str | None = None
    bootstrap_admin: bool = True
    session_ttl: timedelta = timedelta(hours=8)
    password_max_age: timedelta | None = timedelta(days=90)
    lockout_attempts: int = Field(5, ge=1)
    lockout_duration: timedelta = timedelta(minutes=15)
    scrypt_n: int = Field(2**15, ge=2**10)
    rate_per_s: float = Field(10.0, gt=0)
    rate_burst: int = Field(100, ge=1)
    anonymous_rate_per_s: float = Field(1.0, gt=0)
    anonymous_rate_burst: int = Field(30, ge=1)
    trusted_proxies: frozenset[str] = frozenset()
    totp_issuer: str = "carbonflow"
    kafka_bootstrap: str | None = Field(None, description="Kafka for HTTP ingest; without it POST /ingest answers 503")
    topic_prefix: str = "carbonflow"

    @field_validator("scrypt_n")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"scrypt N must be a power of two, got {value}")
        return value


def load_api_settings(env: dict[str, str] | None = None) -> ApiSettings:
    """Read CARBONFLOW_ENV, CARBONFLOW_ADMIN_USER, CARBONFLOW_ADMIN_PASSWORD, CARBONFLOW_SESSION_TTL_MINUTES,
    CARBONFLOW_PASSWORD_MAX_AGE_DAYS (0: never expires), CARBONFLOW_LOCKOUT_ATTEMPTS, CARBONFLOW_LOCKOUT_MINUTES,
    CARBONFLOW_SCRYPT_N, CARBONFLOW_RATE_PER_S, CARBONFLOW_RATE_BURST, CARBONFLOW_ANON_RATE_PER_S,
    CARBONFLOW_ANON_RATE_BURST, CARBONFLOW_TRUSTED_PROXIES (comma-separated IPs), CARBONFLOW_TOTP_ISSUER, and for
    HTTP ingest KAFKA_BOOTSTRAP and CARBONFLOW_TOPIC_PREFIX."""
    env = dict(os.environ if env is None else env)
    values: dict[str, object] = {}

    def number(name: str, kind: type = int) -> object | None:
        raw = env.get(name, "").strip()
        if not raw:
            return None
        try:
            value: object = kind(raw)
            return value
        except ValueError as exc:
            raise SystemExit(f"api: {name}={raw!r} is not a number") from exc

    if env.get("CARBONFLOW_ENV"):
        values["environment"] = env["CARBONFLOW_ENV"].strip().lower()
    if env.get("CARBONFLOW_ADMIN_USER"):
        values["admin_username"] = env["CARBONFLOW_ADMIN_USER"].strip()
    if env.get("CARBONFLOW_ADMIN_PASSWORD"):
        values["admin_password"] = env["CARBONFLOW_ADMIN_PASSWORD"]
    if (minutes := number("CARBONFLOW_SESSION_TTL_MINUTES")) is not None:
        values["session_ttl"] = timedelta(minutes=minutes)  # type: ignore[arg-type]
    if (days := number("CARBONFLOW_PASSWORD_MAX_AGE_DAYS")) is not None:
        values["password_max_age"] = timedelta(days=days) if days else None  # type: ignore[arg-type]
    if (attempts := number("CARBONFLOW_LOCKOUT_ATTEMPTS")) is not None:
        values["lockout_attempts"] = attempts
    if (minutes := number("CARBONFLOW_LOCKOUT_MINUTES")) is not None:
        values["lockout_duration"] = timedelta(minutes=minutes)  # type: ignore[arg-type]
    for name, field, kind in (
        ("CARBONFLOW_SCRYPT_N", "scrypt_n", int),
        ("CARBONFLOW_RATE_PER_S", "rate_per_s", float),
        ("CARBONFLOW_RATE_BURST", "rate_burst", int),
        ("CARBONFLOW_ANON_RATE_PER_S", "anonymous_rate_per_s", float),
        ("CARBONFLOW_ANON_RATE_BURST", "anonymous_rate_burst", int),
    ):
        if (value := number(name, kind)) is not None:
            values[field] = value
    if env.get("CARBONFLOW_TRUSTED_PROXIES"):
        values["trusted_proxies"] = frozenset(p.strip() for p in env["CARBONFLOW_TRUSTED_PROXIES"].split(",") if p.strip())
    if env.get("CARBONFLOW_TOTP_ISSUER"):
        values["totp_issuer"] = env["CARBONFLOW_TOTP_ISSUER"]
    if env.get("KAFKA_BOOTSTRAP", "").strip():
        values["kafka_bootstrap"] = env["KAFKA_BOOTSTRAP"].strip()
    if env.get("CARBONFLOW_TOPIC_PREFIX", "").strip():
        values["topic_prefix"] = env["CARBONFLOW_TOPIC_PREFIX"].strip()
    try:
        return ApiSettings.model_validate(values)
    except ValueError as exc:
        raise SystemExit(f"api: invalid setting: {exc}") from exc
