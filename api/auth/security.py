"""Password hashing and policy, TOTP (RFC 6238) and opaque tokens; pure functions, no I/O."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import string
import struct
from collections.abc import Iterable
from urllib.parse import quote, urlencode

from zxcvbn import zxcvbn

__all__ = [
    "API_TOKEN_PREFIX",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "MIN_PASSWORD_STRENGTH",
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
# zxcvbn's score, 0 to 4: 3 is an estimated 10**8 guesses or more, out of reach online and costly offline
# against scrypt
MIN_PASSWORD_STRENGTH = 3
# zxcvbn's own bound: its time grows fast with the length, and 72 characters of a strong password say enough
_STRENGTH_READS = 72
_SCRYPT_R, _SCRYPT_P, _KEY_LEN = 8, 1, 32
_PLACEHOLDERS = frozenset({
    "admin", "administrator", "password", "passw0rd", "changeme", "change-me", "change_me", "secret", "root",
    "carbonflow", "default", "letmein", "123456", "12345678", "123456789", "qwerty", "test", "demo", "",
})
# a generated password holds one of each, for systems it is copied into that still demand them
_CHARACTER_KINDS = (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())


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


def password_problems(password: str, *, username: str, user_inputs: Iterable[str] = ()) -> list[str]:
    """Every rule of the password policy that `password` breaks; empty when it is acceptable.

    Strength is zxcvbn's estimate, which knows common passwords, words, names, keyboard patterns, repeats and
    dates; `username` and `user_inputs` (anything else known about the user) count as guessable words too.
    Takes tens of milliseconds: call it off the event loop.

    >>> password_problems("short", username="li.wei")[0]
    'at least 12 characters (got 5)'
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters (got {len(password)})")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"at most {MAX_PASSWORD_LENGTH} characters (got {len(password)})")
    if username and password.casefold() == username.casefold():
        problems.append("must not be the user name")
    if is_placeholder_password(password):
        problems.append("must not be a well-known placeholder")
    if not problems:
        weakness = _weakness(password, [username, *user_inputs])
        if weakness:
            problems.append(weakness)
    return problems


def _weakness(password: str, user_inputs: list[str]) -> str | None:
    """Why zxcvbn finds `password` too easy to guess, in its own words, or None when it is strong enough."""
    # the user name, its parts and them run together: 'li.wei' makes 'li.wei', 'li', 'wei' and 'liwei' guessable
    words: set[str] = set()
    for given in filter(None, user_inputs):
        parts = [part for part in re.split(r"[^A-Za-z0-9]+", given) if part]
        words.update([given, "".join(parts), *parts])
    words = {word for word in words if len(word) >= 2}
    estimate = zxcvbn(password[:_STRENGTH_READS], user_inputs=sorted(words))
    if estimate["score"] >= MIN_PASSWORD_STRENGTH:
        return None
    feedback = estimate["feedback"]
    advice = [text.rstrip(".") for text in (feedback["warning"], *feedback["suggestions"]) if text]
    if not advice:
        advice = ["make it longer, e.g. a few uncommon words"]
    return (f"too easy to guess (strength {estimate['score']} of 4, at least {MIN_PASSWORD_STRENGTH} needed): "
            + ". ".join(advice) + ".")


def is_placeholder_password(password: str) -> bool:
    """True for passwords such as 'admin' or 'password' that ship in examples."""
    return password.strip().casefold() in _PLACEHOLDERS


def generate_password(length: int = 20) -> str:
    """A random password (about 120 bits, all four character kinds) that meets the policy."""
    symbols = "-_.!@#%+="
    alphabet = string.ascii_letters + string.digits + symbols
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if all(any(kind(c) for c in candidate) for kind in _CHARACTER_KINDS):
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
