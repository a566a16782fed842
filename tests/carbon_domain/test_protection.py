"""Payload protection (CFP1): round trips for every algorithm pair, and tampering, downgrades and wrong keys refused."""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest
from cryptography.exceptions import UnsupportedAlgorithm

from carbon_domain import protection
from carbon_domain.errors import KeyMaterialError, ProtectionError
from carbon_domain.protection import KeyMaterial, PeerKeys, Protector, is_protected, verify_and_decrypt

PAIRS = [(s, e) for s, e in product(("hmac-sm3", "ed25519", "none"), ("sm4-gcm", "aes-gcm", "none"))
         if (s, e) != ("none", "none")]
PAYLOAD = b'{"v":1,"gateway":"gw-test","readings":[]}' * 3


def _keys(sign: Any, encrypt: Any, key_id: str = "gw-test-1") -> tuple[Protector, dict[str, PeerKeys]]:
    material = KeyMaterial.generate(key_id=key_id, sign=sign, encrypt=encrypt)
    return material.protector(sign, encrypt), {material.key_id: material.peer_keys(sign, encrypt)}


@pytest.mark.parametrize(("sign", "encrypt"), PAIRS)
def test_protected_payload_round_trips(sign: Any, encrypt: Any) -> None:
    protector, keys = _keys(sign, encrypt)
    wrapped = protector.protect(PAYLOAD)
    assert is_protected(wrapped) and verify_and_decrypt(wrapped, keys) == PAYLOAD
    assert (PAYLOAD in wrapped) is (encrypt == "none")


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize(("sign", "encrypt"), PAIRS)
@pytest.mark.parametrize("where", ["algorithm byte", "key id", "first body byte", "last byte", "truncated"])
def test_any_tampering_is_detected(sign: Any, encrypt: Any, where: str) -> None:
    protector, keys = _keys(sign, encrypt)
    wrapped = protector.protect(PAYLOAD)
    body_start = 7 + len("gw-test-1") + (12 if encrypt != "none" else 0)
    tampered = {
        "algorithm byte": lambda: _flip(wrapped, 4 if sign != "none" else 5),
        "key id": lambda: _flip(wrapped, 8),
        "first body byte": lambda: _flip(wrapped, body_start),
        "last byte": lambda: _flip(wrapped, len(wrapped) - 1),
        "truncated": lambda: wrapped[:-1],
    }[where]()
    with pytest.raises(ProtectionError):
        verify_and_decrypt(tampered, keys)


def test_a_stripped_signature_is_refused_as_a_downgrade() -> None:
    _, keys = _keys("ed25519", "aes-gcm")
    forged, _ = _keys("none", "aes-gcm")
    with pytest.raises(ProtectionError, match="must use sign=ed25519 encrypt=aes-gcm"):
        verify_and_decrypt(forged.protect(PAYLOAD), keys)


def test_wrong_keys_and_unknown_key_ids_are_refused() -> None:
    protector, keys = _keys("hmac-sm3", "sm4-gcm")
    _, other = _keys("hmac-sm3", "sm4-gcm")
    wrapped = protector.protect(PAYLOAD)
    with pytest.raises(ProtectionError, match="hmac-sm3 signature does not match"):
        verify_and_decrypt(wrapped, other)
    with pytest.raises(ProtectionError, match="unknown key id 'gw-test-1'"):
        verify_and_decrypt(wrapped, {"gw-test-2": keys["gw-test-1"]})
    with pytest.raises(ProtectionError, match="not a CFP1"):
        verify_and_decrypt(PAYLOAD, keys)


def test_ed25519_receiver_keeps_only_the_public_key() -> None:
    material = KeyMaterial.generate(key_id="k1", sign="ed25519", encrypt="none")
    peer = material.peer_keys("ed25519", "none")
    assert len(peer.sign_key) == 32 and peer.sign_key != material.sign_key


@pytest.mark.parametrize(("mapping", "message"), [
    ({"key_id": "k1", "encrypt_key": "AAAAAAAAAAAAAAAAAAAA"}, "sm4-gcm needs a 16-byte encrypt_key, got 15"),
    ({"key_id": "k1", "encrypt_key": "not base64!"}, "encrypt_key is not base64"),
    ({"key_id": "k1", "encrypt_key": "AAAAAAAAAAAAAAAAAAAAAA==", "extra": 1}, "unknown keys \\['extra'\\]"),
    ({"encrypt_key": "AAAAAAAAAAAAAAAAAAAAAA=="}, "needs `key_id`"),
    ({"key_id": "k" * 65, "encrypt_key": "AAAAAAAAAAAAAAAAAAAAAA=="}, "key_id must be 1..64 ASCII characters"),
])
def test_unusable_key_material_is_refused_naming_the_field(mapping: dict[str, Any], message: str) -> None:
    with pytest.raises(KeyMaterialError, match=message):
        KeyMaterial.from_mapping(mapping).protector("none", "sm4-gcm")


def test_key_material_survives_its_key_file_mapping() -> None:
    material = KeyMaterial.generate(key_id="k1", sign="hmac-sm3", encrypt="aes-gcm")
    assert KeyMaterial.from_mapping(material.to_mapping()) == material


def test_missing_sm4_support_names_the_alternative(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sm4(*args: object) -> bytes:
        raise UnsupportedAlgorithm("SM4 is not supported by this backend")

    monkeypatch.setattr(protection, "_gcm_encrypt", no_sm4)
    with pytest.raises(KeyMaterialError, match="no SM4-GCM; use encrypt: aes-gcm"):
        KeyMaterial.generate(key_id="k1", sign="none", encrypt="sm4-gcm").protector("none", "sm4-gcm")
