"""The agent's payload protection key file: read it into a `Protector`, or write a new one.

The wire format and the cryptography live in `carbon_domain.protection`, which
the cloud's receiver shares; this module only does the file work around it
(YAML, mode 600, a warning when others can read the secrets). The file:

    key_id: gw-17-2026-01
    sign_key: <base64>      # hmac-sm3: a secret of 32+ bytes; ed25519: the 32-byte private key
    encrypt_key: <base64>   # sm4-gcm: 16 bytes; aes-gcm: 16, 24 or 32 bytes
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import yaml

from carbon_domain.errors import KeyMaterialError
from carbon_domain.protection import EncryptAlg, KeyMaterial, Protector, SignAlg
from edge_agent.errors import ConfigError

__all__ = ["load_protector", "read_key_file", "write_key_file"]

log = logging.getLogger("edge_agent.key_files")


def read_key_file(path: Path) -> KeyMaterial:
    """The secrets in a key file; ConfigError names the file and what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"payload_protection.key_file {path}: cannot read: {exc}") from exc
    try:
        return KeyMaterial.from_mapping(data)
    except KeyMaterialError as exc:
        raise ConfigError(f"payload_protection.key_file {path}: {exc}") from exc


def load_protector(sign: SignAlg, encrypt: EncryptAlg, key_file: Path) -> Protector:
    """The protector a `payload_protection` section describes; ConfigError names what is wrong."""
    try:
        mode = key_file.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"payload_protection.key_file {key_file}: {exc.strerror or exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "key file %s is readable by other users (mode %o); chmod 600 it", key_file, stat.S_IMODE(mode)
        )
    try:
        return read_key_file(key_file).protector(sign, encrypt)
    except KeyMaterialError as exc:
        raise ConfigError(f"payload_protection.key_file {key_file}: {exc}") from exc


def write_key_file(path: Path, *, key_id: str, sign: SignAlg, encrypt: EncryptAlg) -> None:
    """Write a new random key file (mode 600) for the given algorithms."""
    material = KeyMaterial.generate(key_id=key_id, sign=sign, encrypt=encrypt)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        yaml.safe_dump(material.to_mapping(), out)
    path.chmod(0o600)
