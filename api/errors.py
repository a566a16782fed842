"""Errors raised by the api package outside its routes.

Data access and security helpers raise these; routes and dependencies turn
them into HTTP answers (the only place HTTP errors are raised)::

    ApiError                  base class; never raised itself
    ├── NotFound              a user, enterprise or token that does not exist
    ├── Conflict              a user name already taken, TOTP already enabled
    ├── InvalidInput          a value the caller must change (scope for a role, token scopes)
    │   └── PasswordRejected  a password that breaks the policy; ``problems`` lists every rule broken
    ├── LoginRefused          a single sign-on or certificate login that cannot be accepted; the message says why
    ├── Unavailable           a service the API forwards to (Kafka, the OIDC provider) is not configured or
    │                         not reachable
    └── BootstrapError        the first admin cannot be created safely (placeholder password)
"""

from __future__ import annotations

__all__ = ["ApiError", "BootstrapError", "Conflict", "InvalidInput", "LoginRefused", "NotFound", "PasswordRejected",
           "Unavailable"]


class ApiError(Exception):
    """Base class of every error raised on purpose by `api`."""


class NotFound(ApiError, LookupError):
    """The object named does not exist."""


class Conflict(ApiError):
    """The change conflicts with the current state."""


class InvalidInput(ApiError, ValueError):
    """A value the caller has to change."""


class PasswordRejected(InvalidInput):
    """A password that breaks the password policy."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("password rejected: " + "; ".join(problems))
        self.problems = problems


class LoginRefused(ApiError):
    """A login by single sign-on or client certificate that is refused: bad state, a token that does not
    verify, an unlinked identity, a certificate outside the trusted CA... The message says which."""


class Unavailable(ApiError):
    """A service the request needs (Kafka for HTTP ingest) is not configured or not reachable."""


class BootstrapError(ApiError, RuntimeError):
    """The first administrator cannot be created safely."""
