"""End-to-end payload protection: sign and/or encrypt what the agent publishes.

For links where TLS ends before the platform (a plant DMZ broker, a carrier's
MQTT relay), the agent can wrap each payload so the cloud can check it came
from the gateway unaltered (signature) and nobody in between read it
(encryption). The wrapped payload ("CFP1") is binary:

    offset   size  field
    0        4     magic  b"CFP1"
    4        1     signature algorithm: 0 none, 1 hmac-sm3, 2 ed25519
    5        1     encryption algorithm: 0 none, 1 sm4-gcm, 2 aes-gcm
    6        1     k = length of the key id (1..64)
    7        k     key id, ASCII
    7+k      n     nonce: 12 random bytes when encrypted, else absent (n = 0)
    7+k+n    m     body: ciphertext followed by the 16-byte GCM tag when encrypted, else the plain payload
    end-s    s     signature: 32 bytes (HMAC-SM3), 64 (Ed25519), or absent

The header is bytes [0, 7+k+n). Encryption uses the header as GCM associated
data; the signature covers header and body (encrypt-then-sign), so a
signature is checked before anything is decrypted. The receiver decides which
algorithms a key id must use (`PeerKeys`): a payload that names different
ones - e.g. a stripped signature - is rejected. Replays are harmless because
envelopes carry per-gateway sequence numbers the cloud deduplicates.

Key file (YAML, readable by the agent only; `KeyMaterial` is its parsed form):

    key_id: gw-17-2026-01
    sign_key: <base64>      # hmac-sm3: a secret of 32+ bytes; ed25519: the 32-byte private key
    encrypt_key: <base64>   # sm4-gcm: 16 bytes; aes-gcm: 16, 24 or 32 bytes

The cloud holds the same secrets for HMAC and encryption, and only the public
key for Ed25519 (`KeyMaterial.peer_keys` derives it). Example on the cloud:

    >>> keys = {"gw-17-2026-01": PeerKeys(sign="ed25519", encrypt="aes-gcm",
    ...                                   sign_key=public_key, encrypt_key=aes_key)}   # doctest: +SKIP
    >>> envelope_bytes = verify_and_decrypt(payload, keys)                              # doctest: +SKIP

The sender (edge_agent) and the receiver (ingest) both use this module, so it
lives in the domain package: pure computation on bytes and mappings, no file
or network I/O. Reading and writing key files is each stage's own business
(`edge_agent.key_files`, `ingest.peer_keys`); `KeyMaterial` is what both parse
the file into.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac as std_hmac
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from carbon_domain.errors import KeyMaterialError, ProtectionError

__all__ = [
    "MAGIC",
    "EncryptAlg",
    "KeyMaterial",
    "PeerKeys",
    "Protector",
    "SignAlg",
    "is_protected",
    "verify_and_decrypt",
]

MAGIC = b"CFP1"
SignAlg = Literal["hmac-sm3", "ed25519", "none"]
EncryptAlg = Literal["sm4-gcm", "aes-gcm", "none"]

_SIGN_CODE: dict[str, int] = {"none": 0, "hmac-sm3": 1, "ed25519": 2}
_ENCRYPT_CODE: dict[str, int] = {"none": 0, "sm4-gcm": 1, "aes-gcm": 2}
_SIGN_NAME = {v: k for k, v in _SIGN_CODE.items()}
_ENCRYPT_NAME = {v: k for k, v in _ENCRYPT_CODE.items()}
_SIGNATURE_BYTES = {"none": 0, "hmac-sm3": 32, "ed25519": 64}
_NONCE_BYTES = 12
_TAG_BYTES = 16
_MAX_KEY_ID = 64
_FIXED = struct.Struct("<4sBBB")
_MIN_HMAC_KEY = 16


@dataclass(frozen=True)
class PeerKeys:
    """What a receiver holds for one key id, and which algorithms that key id must use.

    `sign_key` is the HMAC secret (hmac-sm3) or the 32-byte raw public key (ed25519).
    """

    sign: SignAlg
    encrypt: EncryptAlg
    sign_key: bytes = b""
    encrypt_key: bytes = b""


def is_protected(payload: bytes) -> bool:
    """True if the payload is a CFP1 wrapper (plain envelopes start with '{' or 'Z')."""
    return payload[:4] == MAGIC


# --- primitives ------------------------------------------------------------------------------
def _hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def _gcm_encrypt(alg: str, key: bytes, nonce: bytes, plain: bytes, aad: bytes) -> bytes:
    if alg == "aes-gcm":
        return AESGCM(key).encrypt(nonce, plain, aad)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plain) + encryptor.finalize() + encryptor.tag


def _gcm_decrypt(alg: str, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < _TAG_BYTES:
        raise ProtectionError("ciphertext shorter than the GCM tag")
    try:
        if alg == "aes-gcm":
            return AESGCM(key).decrypt(nonce, sealed, aad)
        body, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag as exc:
        raise ProtectionError(f"{alg}: authentication tag does not match (tampered or wrong key)") from exc


def _check_key_id(key_id: str) -> None:
    if not key_id.isascii() or not 1 <= len(key_id) <= _MAX_KEY_ID:
        raise KeyMaterialError(f"key_id must be 1..{_MAX_KEY_ID} ASCII characters, got {key_id!r}")


def _check_key_sizes(sign: str, encrypt: str, sign_key: bytes, encrypt_key: bytes, *, private: bool) -> None:
    if sign == "hmac-sm3" and len(sign_key) < _MIN_HMAC_KEY:
        raise KeyMaterialError(f"hmac-sm3 needs a sign_key of at least {_MIN_HMAC_KEY} bytes, got {len(sign_key)}")
    if sign == "ed25519" and len(sign_key) != 32:
        kind = "private" if private else "public"
        raise KeyMaterialError(f"ed25519 needs a 32-byte {kind} sign_key, got {len(sign_key)}")
    if encrypt == "sm4-gcm" and len(encrypt_key) != 16:
        raise KeyMaterialError(f"sm4-gcm needs a 16-byte encrypt_key, got {len(encrypt_key)}")
    if encrypt == "aes-gcm" and len(encrypt_key) not in (16, 24, 32):
        raise KeyMaterialError(f"aes-gcm needs a 16, 24 or 32-byte encrypt_key, got {len(encrypt_key)}")


def _require_support(sign: str, encrypt: str) -> None:
    """Fail early, naming the alternative, when the installed OpenSSL lacks an SM algorithm."""
    if sign == "hmac-sm3":
        try:
            _hmac_sm3(b"\0" * _MIN_HMAC_KEY, b"probe")
        except UnsupportedAlgorithm as exc:
            raise KeyMaterialError("sign hmac-sm3: the installed OpenSSL has no SM3; use sign: ed25519") from exc
    if encrypt == "sm4-gcm":
        try:
            _gcm_encrypt("sm4-gcm", b"\0" * 16, b"\0" * _NONCE_BYTES, b"probe", b"")
        except UnsupportedAlgorithm as exc:
            raise KeyMaterialError(
                "encrypt sm4-gcm: the installed OpenSSL has no SM4-GCM; use encrypt: aes-gcm"
            ) from exc


# --- sender ----------------------------------------------------------------------------------
class Protector:
    """Wraps payloads for one key id with the configured algorithms."""

    def __init__(self, *, key_id: str, sign: SignAlg, encrypt: EncryptAlg, sign_key: bytes, encrypt_key: bytes) -> None:
        _check_key_id(key_id)
        _check_key_sizes(sign, encrypt, sign_key, encrypt_key, private=True)
        _require_support(sign, encrypt)
        self.key_id = key_id
        self.sign = sign
        self.encrypt = encrypt
        self._sign_key = sign_key
        self._encrypt_key = encrypt_key
        self._ed25519 = Ed25519PrivateKey.from_private_bytes(sign_key) if sign == "ed25519" else None
        self.fingerprint = hashlib.sha256(
            b"|".join((key_id.encode(), sign.encode(), encrypt.encode(), sign_key, encrypt_key))
        ).hexdigest()[:16]

    def protect(self, payload: bytes) -> bytes:
        """The CFP1 wrapper of `payload`."""
        kid = self.key_id.encode("ascii")
        nonce = os.urandom(_NONCE_BYTES) if self.encrypt != "none" else b""
        header = _FIXED.pack(MAGIC, _SIGN_CODE[self.sign], _ENCRYPT_CODE[self.encrypt], len(kid)) + kid + nonce
        body = payload if self.encrypt == "none" else _gcm_encrypt(
            self.encrypt, self._encrypt_key, nonce, payload, header
        )
        signed = header + body
        if self.sign == "hmac-sm3":
            return signed + _hmac_sm3(self._sign_key, signed)
        if self._ed25519 is not None:
            return signed + self._ed25519.sign(signed)
        return signed


# --- receiver --------------------------------------------------------------------------------
def verify_and_decrypt(payload: bytes, keys: Mapping[str, PeerKeys]) -> bytes:
    """Check and unwrap a CFP1 payload; returns the original bytes or raises ProtectionError."""
    if len(payload) < _FIXED.size or payload[:4] != MAGIC:
        raise ProtectionError("not a CFP1 protected payload")
    _, sign_code, enc_code, kid_len = _FIXED.unpack_from(payload)
    sign, encrypt = _SIGN_NAME.get(sign_code), _ENCRYPT_NAME.get(enc_code)
    if sign is None or encrypt is None:
        raise ProtectionError(f"unknown algorithm codes sign={sign_code} encrypt={enc_code}")
    if not 1 <= kid_len <= _MAX_KEY_ID:
        raise ProtectionError(f"key id length {kid_len} outside 1..{_MAX_KEY_ID}")
    nonce_len = _NONCE_BYTES if encrypt != "none" else 0
    sig_len = _SIGNATURE_BYTES[sign]
    header_len = _FIXED.size + kid_len + nonce_len
    if len(payload) < header_len + sig_len:
        raise ProtectionError(f"payload of {len(payload)} bytes is shorter than its header and signature")
    try:
        key_id = payload[_FIXED.size : _FIXED.size + kid_len].decode("ascii")
    except UnicodeDecodeError as exc:
        raise ProtectionError("key id is not ASCII") from exc
    peer = keys.get(key_id)
    if peer is None:
        raise ProtectionError(f"unknown key id {key_id!r}")
    if (sign, encrypt) != (peer.sign, peer.encrypt):
        raise ProtectionError(
            f"key id {key_id!r} must use sign={peer.sign} encrypt={peer.encrypt}, payload says sign={sign} "
            f"encrypt={encrypt}"
        )
    signed = payload[: len(payload) - sig_len] if sig_len else payload
    signature = payload[len(payload) - sig_len :] if sig_len else b""
    if sign == "hmac-sm3":
        if not std_hmac.compare_digest(_hmac_sm3(peer.sign_key, signed), signature):
            raise ProtectionError("hmac-sm3 signature does not match (tampered or wrong key)")
    elif sign == "ed25519":
        try:
            Ed25519PublicKey.from_public_bytes(peer.sign_key).verify(signature, signed)
        except InvalidSignature as exc:
            raise ProtectionError("ed25519 signature does not verify (tampered or wrong key)") from exc
    header, body = signed[:header_len], signed[header_len:]
    if encrypt == "none":
        return body
    return _gcm_decrypt(encrypt, peer.encrypt_key, header[-nonce_len:], body, header)


# --- key material ----------------------------------------------------------------------------
_KEY_FIELDS = ("key_id", "sign_key", "encrypt_key")


@dataclass(frozen=True)
class KeyMaterial:
    """The secrets of one key id, as a key file holds them (base64 in the file, bytes here)."""

    key_id: str
    sign_key: bytes = b""
    encrypt_key: bytes = b""

    @classmethod
    def from_mapping(cls, data: object) -> KeyMaterial:
        """Parse a key file's mapping; KeyMaterialError names the field that is missing or wrong."""
        if not isinstance(data, Mapping) or not isinstance(data.get("key_id"), str):
            raise KeyMaterialError("needs `key_id`, `sign_key` and/or `encrypt_key`")
        unknown = set(data) - set(_KEY_FIELDS)
        if unknown:
            raise KeyMaterialError(f"unknown keys {sorted(unknown)}")

        def decode(name: str) -> bytes:
            text = data.get(name)
            if text is None:
                return b""
            try:
                return base64.b64decode(str(text), validate=True)
            except binascii.Error as exc:
                raise KeyMaterialError(f"{name} is not base64") from exc

        return cls(str(data["key_id"]), decode("sign_key"), decode("encrypt_key"))

    @classmethod
    def generate(cls, *, key_id: str, sign: SignAlg, encrypt: EncryptAlg) -> KeyMaterial:
        """New random secrets of the sizes `sign` and `encrypt` need."""
        _check_key_id(key_id)
        sign_key = {"none": b"", "hmac-sm3": os.urandom(32), "ed25519": os.urandom(32)}[sign]
        encrypt_key = {"none": b"", "sm4-gcm": os.urandom(16), "aes-gcm": os.urandom(32)}[encrypt]
        return cls(key_id, sign_key, encrypt_key)

    def to_mapping(self) -> dict[str, str]:
        """The key file's mapping (secrets in base64; absent ones left out)."""
        data = {"key_id": self.key_id}
        if self.sign_key:
            data["sign_key"] = base64.b64encode(self.sign_key).decode()
        if self.encrypt_key:
            data["encrypt_key"] = base64.b64encode(self.encrypt_key).decode()
        return data

    def protector(self, sign: SignAlg, encrypt: EncryptAlg) -> Protector:
        """The sender's protector for these secrets; KeyMaterialError when they do not fit the algorithms."""
        return Protector(
            key_id=self.key_id, sign=sign, encrypt=encrypt, sign_key=self.sign_key, encrypt_key=self.encrypt_key
        )

    def peer_keys(self, sign: SignAlg, encrypt: EncryptAlg) -> PeerKeys:
        """What a receiver keeps for these secrets: the same ones, except an Ed25519 private key becomes public."""
        _check_key_sizes(sign, encrypt, self.sign_key, self.encrypt_key, private=True)
        sign_key = self.sign_key
        if sign == "ed25519":
            sign_key = Ed25519PrivateKey.from_private_bytes(sign_key).public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        return PeerKeys(sign=sign, encrypt=encrypt, sign_key=sign_key, encrypt_key=self.encrypt_key)
