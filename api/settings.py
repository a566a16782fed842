"""Settings of the API deployable, read once from the environment."""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.auth.security import is_placeholder_password
from carbonflow.device_bindings import auto_register_setting
from carbonflow.settings import DEFAULT_HOME

__all__ = ["ApiSettings", "OidcSettings", "load_api_settings"]


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _metrics_url(name: str, url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not parts.path.endswith("/metrics"):
        raise SystemExit(f"api: {name} holds {url!r}; give comma-separated http://host:port/metrics URLs")
    return url


def _check_url(name: str, url: str, *, allow_http: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{name} must be an absolute https:// URL, got {url!r}")
    if parts.scheme == "http" and not allow_http:
        raise ValueError(f"{name} must use https:// (plain http is allowed only for a provider on loopback), "
                         f"got {url!r}")
    if parts.fragment or (parts.query and name == "issuer"):
        raise ValueError(f"{name} must not have a {'fragment' if parts.fragment else 'query'}, got {url!r}")
    return url


class OidcSettings(BaseModel):
    """Single sign-on through one OpenID Connect provider (authorization code flow with PKCE)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(description="the provider's issuer URL, exactly as its ID tokens name it")
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: str = Field(min_length=1, max_length=1024, repr=False)
    redirect_url: str = Field(description="this API's /api/v1/auth/sso/callback as the provider knows it")
    scopes: str = "openid email profile"
    display_name: str = Field("SSO", max_length=64, description="the provider's name on the login button")

    @model_validator(mode="after")
    def _urls(self) -> OidcSettings:
        # plain http only when the provider itself is on this machine (development and tests); the token
        # request carries the client secret, and a redirect over http could leak the code
        loopback = _is_loopback(urlsplit(self.issuer).hostname)
        _check_url("issuer", self.issuer, allow_http=loopback)
        _check_url("redirect URL", self.redirect_url,
                   allow_http=loopback and _is_loopback(urlsplit(self.redirect_url).hostname))
        if not urlsplit(self.redirect_url).path.endswith("/auth/sso/callback"):
            raise ValueError(f"redirect URL must end in /api/v1/auth/sso/callback, got {self.redirect_url!r}")
        if "openid" not in self.scopes.split():
            raise ValueError(f"scopes must include 'openid', got {self.scopes!r}")
        return self


class ApiSettings(BaseModel):
    """Identity, session and rate-limit settings; see `load_api_settings` for the variables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Literal["development", "production"] = "production"
    admin_username: str = "admin"
    admin_password: str | None = None
    bootstrap_admin: bool = True
    session_ttl: timedelta = timedelta(hours=8)
    password_max_age: timedelta | None = timedelta(days=90)
    # failed logins per (user name, client address): the first `login_free_failures` cost nothing, then each
    # blocks the pair for twice as long as the one before, from `login_first_delay` up to `login_max_delay`
    login_free_failures: int = Field(5, ge=1)
    login_first_delay: timedelta = timedelta(seconds=1)
    login_max_delay: timedelta = timedelta(minutes=15)
    scrypt_n: int = Field(2**15, ge=2**10)
    rate_per_s: float = Field(10.0, gt=0)
    rate_burst: int = Field(100, ge=1)
    anonymous_rate_per_s: float = Field(1.0, gt=0)
    anonymous_rate_burst: int = Field(30, ge=1)
    trusted_proxies: frozenset[str] = frozenset()
    totp_issuer: str = "carbonflow"
    kafka_bootstrap: str | None = Field(None, description="Kafka for HTTP ingest; without it POST /ingest answers 503")
    topic_prefix: str = "carbonflow"
    db_pool_max: int = Field(20, ge=1, description="database connections per API worker (a login holds one only "
                                                   "to read the user and store the outcome, not while hashing)")
    session_cache_s: float = Field(5.0, ge=0, description="how long a worker reuses a session lookup (0: never)")
    dashboard_cache_s: float = Field(2.0, ge=0, description="how long an overview answer is shared (0: never)")
    oidc: OidcSettings | None = Field(None, description="single sign-on; None: the login page has no SSO button")
    # /metrics of the ingest and stream workers, which GET /health scrapes for their heartbeats
    component_metrics: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    cert_login_ca: Path | None = Field(None, description="PEM bundle of the CAs whose client certificates may "
                                                         "log in; None: certificate login answers 404")
    cert_token_ttl: timedelta = timedelta(hours=1)
    auto_register_devices: bool = Field(False, description="HTTP ingest registers a gateway's unknown devices under "
                                                           "its site (on in the demo); off: they are refused")
    cross_check_tolerance: float = Field(0.05, gt=0, le=1, description=(
        "数据交叉核对 on report submission: relative difference between an entered energy figure and the "
        "metered total of the same period above which reviewers get a cross_check finding (0.05 = 5 %); set by "
        "the platform, not by the enterprise that submits"))
    default_site: str | None = Field(None, max_length=128, description=(
        "the site the dashboard opens on (GET /sites `default_site`; the demo sets its scenario's site); None: "
        "the first site the caller may see"))
    report_signing_key: Path | None = Field(None, description="PEM private key that signs approved PDF reports")
    report_signing_cert: Path | None = Field(None, description="PEM certificate of that key; None (both): approved "
                                                               "reports are not signed (?signed=true answers 409)")
    gateway_home: Path | None = Field(None, description="CARBONFLOW_HOME, where the gateway registry keeps certs/ "
                                                        "and the broker's mqtt/ ACL; None: registering and revoking "
                                                        "gateways through the API answer 409")

    @model_validator(mode="after")
    def _signing_pair(self) -> ApiSettings:
        if (self.report_signing_key is None) != (self.report_signing_cert is None):
            raise ValueError("report signing needs both CARBONFLOW_REPORT_SIGNING_KEY and CARBONFLOW_REPORT_SIGNING_CERT"
                             " (or neither)")
        for path in (self.report_signing_key, self.report_signing_cert):
            if path is not None and not path.is_file():
                raise ValueError(f"report signing file {str(path)!r} does not exist")
        return self

    @field_validator("cert_login_ca")
    @classmethod
    def _ca_bundle(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        try:
            certs = x509.load_pem_x509_certificates(value.read_bytes())
        except OSError as exc:
            raise ValueError(f"certificate-login CA bundle {str(value)!r} cannot be read: {exc.strerror}") from exc
        except ValueError as exc:
            raise ValueError(f"certificate-login CA bundle {str(value)!r} holds no PEM certificate") from exc
        if not certs:
            raise ValueError(f"certificate-login CA bundle {str(value)!r} holds no PEM certificate")
        return value

    @field_validator("cert_token_ttl")
    @classmethod
    def _positive_ttl(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= value <= timedelta(days=1):
            raise ValueError(f"certificate-login token lifetime must be 1 min to 1 day, got {value}")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secret(self) -> ApiSettings:
        if (self.oidc is not None and self.environment != "development"
                and is_placeholder_password(self.oidc.client_secret)):
            raise ValueError("the OIDC client secret is a placeholder; set the one the provider issued "
                             "(placeholders are accepted only with CARBONFLOW_ENV=development)")
        return self

    @field_validator("scrypt_n")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"scrypt N must be a power of two, got {value}")
        return value


_OIDC_VARIABLES = (
    ("CARBONFLOW_OIDC_ISSUER", "issuer"),
    ("CARBONFLOW_OIDC_CLIENT_ID", "client_id"),
    ("CARBONFLOW_OIDC_CLIENT_SECRET", "client_secret"),
    ("CARBONFLOW_OIDC_REDIRECT_URL", "redirect_url"),
    ("CARBONFLOW_OIDC_SCOPES", "scopes"),
    ("CARBONFLOW_OIDC_NAME", "display_name"),
)


def load_api_settings(env: dict[str, str] | None = None) -> ApiSettings:
    """Read CARBONFLOW_ENV, CARBONFLOW_ADMIN_USER, CARBONFLOW_ADMIN_PASSWORD, CARBONFLOW_SESSION_TTL_MINUTES,
    CARBONFLOW_PASSWORD_MAX_AGE_DAYS (0: never expires), CARBONFLOW_LOGIN_FREE_FAILURES, CARBONFLOW_LOGIN_MAX_DELAY_MINUTES,
    CARBONFLOW_SCRYPT_N, CARBONFLOW_RATE_PER_S, CARBONFLOW_RATE_BURST, CARBONFLOW_ANON_RATE_PER_S,
    CARBONFLOW_ANON_RATE_BURST, CARBONFLOW_TRUSTED_PROXIES (comma-separated IPs), CARBONFLOW_TOTP_ISSUER, and for
    HTTP ingest KAFKA_BOOTSTRAP and CARBONFLOW_TOPIC_PREFIX. Health: CARBONFLOW_INGEST_METRICS_URLS and
    CARBONFLOW_STREAM_METRICS_URLS (comma-separated /metrics URLs of the workers, whose heartbeats GET /health reads).

    Single sign-on (all four or none): CARBONFLOW_OIDC_ISSUER, CARBONFLOW_OIDC_CLIENT_ID,
    CARBONFLOW_OIDC_CLIENT_SECRET, CARBONFLOW_OIDC_REDIRECT_URL; optional CARBONFLOW_OIDC_SCOPES and
    CARBONFLOW_OIDC_NAME. Certificate login: CARBONFLOW_CERT_LOGIN_CA (PEM bundle) and
    CARBONFLOW_CERT_TOKEN_MINUTES (default 60). Device bindings: CARBONFLOW_AUTO_REGISTER_DEVICES (on/off, default
    off). Report submission: CARBONFLOW_CROSS_CHECK_TOLERANCE (default 0.05). Signed approved reports:
    CARBONFLOW_REPORT_SIGNING_KEY and CARBONFLOW_REPORT_SIGNING_CERT (PEM files). The dashboard's first site:
    CARBONFLOW_DEFAULT_SITE. Gateway registry files: CARBONFLOW_HOME (as the CLI)."""
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
    for gone in ("CARBONFLOW_LOCKOUT_ATTEMPTS", "CARBONFLOW_LOCKOUT_MINUTES"):
        if env.get(gone, "").strip():
            raise SystemExit(f"api: {gone} is gone: accounts are no longer locked; failed logins are throttled per"
                             " user name and address with a growing delay. Set CARBONFLOW_LOGIN_FREE_FAILURES and"
                             " CARBONFLOW_LOGIN_MAX_DELAY_MINUTES instead (see README, Security)")
    if (failures := number("CARBONFLOW_LOGIN_FREE_FAILURES")) is not None:
        values["login_free_failures"] = failures
    if (minutes := number("CARBONFLOW_LOGIN_MAX_DELAY_MINUTES")) is not None:
        values["login_max_delay"] = timedelta(minutes=minutes)  # type: ignore[arg-type]
    for name, field, kind in (
        ("CARBONFLOW_SCRYPT_N", "scrypt_n", int),
        ("CARBONFLOW_RATE_PER_S", "rate_per_s", float),
        ("CARBONFLOW_RATE_BURST", "rate_burst", int),
        ("CARBONFLOW_ANON_RATE_PER_S", "anonymous_rate_per_s", float),
        ("CARBONFLOW_ANON_RATE_BURST", "anonymous_rate_burst", int),
        ("CARBONFLOW_DB_POOL_MAX", "db_pool_max", int),
        ("CARBONFLOW_SESSION_CACHE_S", "session_cache_s", float),
        ("CARBONFLOW_DASHBOARD_CACHE_S", "dashboard_cache_s", float),
        ("CARBONFLOW_CROSS_CHECK_TOLERANCE", "cross_check_tolerance", float),
    ):
        if (value := number(name, kind)) is not None:
            values[field] = value
    if env.get("CARBONFLOW_TRUSTED_PROXIES"):
        values["trusted_proxies"] = frozenset(p.strip() for p in env["CARBONFLOW_TRUSTED_PROXIES"].split(",") if p.strip())
    if env.get("CARBONFLOW_DEFAULT_SITE", "").strip():
        values["default_site"] = env["CARBONFLOW_DEFAULT_SITE"].strip()
    if env.get("CARBONFLOW_TOTP_ISSUER"):
        values["totp_issuer"] = env["CARBONFLOW_TOTP_ISSUER"]
    if env.get("KAFKA_BOOTSTRAP", "").strip():
        values["kafka_bootstrap"] = env["KAFKA_BOOTSTRAP"].strip()
    if env.get("CARBONFLOW_TOPIC_PREFIX", "").strip():
        values["topic_prefix"] = env["CARBONFLOW_TOPIC_PREFIX"].strip()
    oidc = {field: env[name].strip() for name, field in _OIDC_VARIABLES if env.get(name, "").strip()}
    required = [name for name, field in _OIDC_VARIABLES[:4] if field not in oidc]
    if oidc and required:
        raise SystemExit(f"api: single sign-on needs {', '.join(required)} as well (or unset every CARBONFLOW_OIDC_*)")
    if oidc:
        values["oidc"] = oidc
    if env.get("CARBONFLOW_CERT_LOGIN_CA", "").strip():
        values["cert_login_ca"] = Path(env["CARBONFLOW_CERT_LOGIN_CA"].strip())
    if (minutes := number("CARBONFLOW_CERT_TOKEN_MINUTES")) is not None:
        values["cert_token_ttl"] = timedelta(minutes=minutes)  # type: ignore[arg-type]
    for name, field in (("CARBONFLOW_REPORT_SIGNING_KEY", "report_signing_key"),
                        ("CARBONFLOW_REPORT_SIGNING_CERT", "report_signing_cert")):
        if env.get(name, "").strip():
            values[field] = Path(env[name].strip())
    values["gateway_home"] = Path(env.get("CARBONFLOW_HOME", "").strip() or DEFAULT_HOME)
    values["auto_register_devices"] = auto_register_setting(env, "api")
    values["component_metrics"] = {
        service: tuple(_metrics_url(name, url) for url in env.get(name, "").split(",") if url.strip())
        for service, name in (("ingest", "CARBONFLOW_INGEST_METRICS_URLS"), ("stream", "CARBONFLOW_STREAM_METRICS_URLS"))
    }
    try:
        return ApiSettings.model_validate(values)
    except ValueError as exc:
        raise SystemExit(f"api: invalid setting: {exc}") from exc
