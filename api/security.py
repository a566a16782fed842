"""Password hashing and policy, TOTP (RFC 6238) and opaque tokens; pure functions, no I/O."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import string
import struct
from urllib.parse import quote, urlencode

__all__ = [
    "API_TOKEN_PREFIX",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "SESSION_PREFIX",
    "TOTP_STEP_S",
    "generate_password",
    "hash_password",
    "is_placeholder_password",
    "match_totp",
    "needs_rehash",
    "new_token",
    "new_totp_secret",
    "password_problems",
    "token_digest",
    "totp",
    "totp_uri",
    "verify_password",
    "verify_unknown_user",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
_SCRYPT_R, _SCRYPT_P, _KEY_LEN = 8, 1, 32
_PLACEHOLDERS = frozenset({
    "admin", "administrator", "password", "passw0rd", "changeme", "change-me", "change_me", "secret", "root",
    "carbonflow", "default", "letmein", "123456", "12345678", "123456789", "qwerty", "test", "demo", "",
})
_CLASSES = (
    ("a lower-case letter", str.islower),
    ("an upper-case letter", str.isupper),
    ("a digit", str.isdigit),
    ("a symbol", lambda c: not c.isalnum()),
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: the default (32 MiB) is exactly 128*n*r at n=2**15 and would be refused
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r * p + 2**20,
                          dklen=_KEY_LEN)


def hash_password(password: str, *, n: int = 2**15) -> str:
    """An scrypt hash with a fresh 16-byte salt: ``scrypt$n$r$p$salt$hash``."""
    salt = secrets.token_bytes(16)
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(_scrypt(password, salt, n, _SCRYPT_R, _SCRYPT_P))}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        return int(parts[1]), int(parts[2]), int(parts[3]), base64.b64decode(parts[4]), base64.b64decode(parts[5])
    except ValueError:
        return None


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash (constant-time comparison)."""
    parsed = _parse(stored)
    if parsed is None or len(password) > MAX_PASSWORD_LENGTH:
        return False
    n, r, p, salt, expected = parsed
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), expected)


def needs_rehash(stored: str, *, n: int) -> bool:
    """True when the stored hash uses weaker parameters than the current ones."""
    parsed = _parse(stored)
    return parsed is None or parsed[0] < n or parsed[1] < _SCRYPT_R


@functools.cache
def _dummy_hash(n: int) -> str:
    return hash_password(secrets.token_urlsafe(16), n=n)


def verify_unknown_user(password: str, *, n: int = 2**15) -> bool:
    """Spend the time of a real verification and return False: a login for an unknown user name
    then takes as long as one with a wrong password."""
    verify_password(password, _dummy_hash(n))
    return False


def password_problems(password: str, *, username: str) -> list[str]:
    """Every rule of the password policy that `password` breaks; empty when it is acceptable.

    >>> password_problems("short", username="li.wei")[0]
    'at least 12 characters (got 5)'
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters (got {len(password)})")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"at most {MAX_PASSWORD_LENGTH} characters (got {len(password)})")
    missing = [name for name, test in _CLASSES if not any(test(c) for c in password)]
    if len(missing) > 1:
        have = len(_CLASSES) - len(missing)
        problems.append(f"characters of at least 3 of 4 kinds (lower, upper, digit, symbol); got {have}, add "
                        + " or ".join(missing))
    if username and password.casefold() == username.casefold():
        problems.append("must not be the user name")
    if is_placeholder_password(password):
        problems.append("must not be a well-known placeholder")
    return problems


def is_placeholder_password(password: str) -> bool:
    """True for passwords such as 'admin' or 'password' that ship in examples."""
    return password.strip().casefold() in _PLACEHOLDERS


def generate_password(length: int = 20) -> str:
    """A random password that meets the policy (all four character kinds)."""
    symbols = "-_.!@#%+="
    alphabet = string.ascii_letters + string.digits + symbols
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if all(any(test(c) for c in candidate) for _, test in _CLASSES):
            return candidate


TOTP_STEP_S = 30
_TOTP_DIGITS = 6


def new_totp_secret() -> str:
    """A 160-bit secret in base32 without padding, as authenticator apps expect."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def _secret_bytes(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def totp(key: bytes, unix_time: float, *, digits: int = _TOTP_DIGITS, step_s: int = TOTP_STEP_S,
         algorithm: str = "sha1") -> str:
    """The RFC 6238 code of `key` at `unix_time` (HOTP of the time step, RFC 4226 dynamic truncation)."""
    counter = int(unix_time // step_s)
    mac = hmac.new(key, struct.pack(">Q", counter), algorithm).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def match_totp(secret: str, code: str, unix_time: float, *, last_step: int | None, window: int = 1) -> int | None:
    """The time step `code` is valid for (now +- `window` steps), or None; steps at or before `last_step`
    are refused so that an observed code cannot be replayed."""
    key = _secret_bytes(secret)
    now_step = int(unix_time // TOTP_STEP_S)
    for step in range(now_step - window, now_step + window + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp(key, step * TOTP_STEP_S), code):
            return step
    return None


def totp_uri(secret: str, *, username: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (usually from a QR code)."""
    label = quote(f"{issuer}:{username}", safe="")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": _TOTP_DIGITS,
                       "period": TOTP_STEP_S})
    return f"otpauth://totp/{label}?{query}"


SESSION_PREFIX = "cfs_"
API_TOKEN_PREFIX = "cft_"


def new_token(prefix: str) -> str:
    """An opaque bearer token: a prefix naming its kind and 256 random bits."""
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What the database stores of a token: its SHA-256 (tokens are random, a slow hash adds nothing)."""
    return hashlib.sha256(token.encode("utf-8")).digest()
