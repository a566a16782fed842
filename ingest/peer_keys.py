"""Which gateways protect their payloads end to end (CFP1), with the keys to check them.

File (YAML, `INGEST_PEER_KEYS`), one entry per gateway, each naming the agent's key file and algorithms:

    gw-17:
      sign: ed25519          # hmac-sm3 | ed25519 | none
      encrypt: aes-gcm       # sm4-gcm | aes-gcm | none
      key_file: /etc/carbonflow/peers/gw-17.payload.key

A gateway listed here must send protected payloads; for Ed25519 only the
public key is kept in memory.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from carbon_domain.errors import KeyMaterialError, ProtectionError
from carbon_domain.protection import EncryptAlg, KeyMaterial, PeerKeys, SignAlg, is_protected, verify_and_decrypt

__all__ = ["PeerKeyring", "load_peer_keyring", "peer_keys_from_key_file"]


class PeerKeyring:
    """Per gateway, the key ids it may use; unwraps CFP1 payloads."""

    def __init__(self, keys: dict[str, dict[str, PeerKeys]]) -> None:
        self._keys = keys

    def unwrap(self, gateway: str, payload: bytes) -> bytes:
        """The plain payload; ValueError with the reason when it must be, or cannot be, verified."""
        expected = self._keys.get(gateway)
        if not is_protected(payload):
            if expected:
                raise ValueError(f"gateway {gateway!r} must sign/encrypt its payloads (CFP1) but sent a plain one")
            return payload
        if not expected:
            raise ValueError(f"protected payload from gateway {gateway!r}, which has no keys in the peer keyring")
        try:
            return verify_and_decrypt(payload, expected)
        except ProtectionError as exc:
            raise ValueError(f"protected payload rejected: {exc}") from exc


def peer_keys_from_key_file(sign: SignAlg, encrypt: EncryptAlg, key_file: Path) -> tuple[str, PeerKeys]:
    """(key id, PeerKeys) for an agent's key file; an Ed25519 private key is kept as its public key only."""
    try:
        material = KeyMaterial.from_mapping(yaml.safe_load(key_file.read_text(encoding="utf-8")))
        return material.key_id, material.peer_keys(sign, encrypt)
    except (OSError, yaml.YAMLError, KeyMaterialError) as exc:
        raise ValueError(f"key file {key_file}: {exc}") from exc


def load_peer_keyring(path: Path) -> PeerKeyring:
    """Read the keyring file; errors name the gateway and field."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    keys: dict[str, dict[str, PeerKeys]] = {}
    for gateway, entry in data.items():
        try:
            key_id, peer = peer_keys_from_key_file(entry["sign"], entry["encrypt"], Path(entry["key_file"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: gateway {gateway}: needs sign, encrypt and key_file ({exc})") from exc
        except ValueError as exc:
            raise ValueError(f"{path}: gateway {gateway}: {exc}") from exc
        keys.setdefault(str(gateway), {})[key_id] = peer
    return PeerKeyring(keys)
