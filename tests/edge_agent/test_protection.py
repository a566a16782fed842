"""Payload protection (CFP1): round trips for every algorithm pair, and tampering, downgrades and wrong keys refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import UnsupportedAlgorithm

from carbon_domain.schemas import ColumnEnvelope
from carbon_domain.wire import decode_envelope
from edge_agent import protection
from edge_agent.agent import EdgeAgent
from edge_agent.config import load_agent_config
from edge_agent.errors import ConfigError, ProtectionError
from edge_agent.protection import (
    PeerKeys,
    is_protected,
    load_protector,
    peer_keys_from_key_file,
    verify_and_decrypt,
    write_key_file,
)

PAIRS = [(s, e) for s, e in product(("hmac-sm3", "ed25519", "none"), ("sm4-gcm", "aes-gcm", "none"))
         if (s, e) != ("none", "none")]
PAYLOAD = b'{"v":1,"gateway":"gw-test","readings":[]}' * 3


def _keys(tmp_path: Path, sign: Any, encrypt: Any) -> tuple[protection.Protector, dict[str, PeerKeys]]:
    key_file = tmp_path / f"{sign}-{encrypt}.key"
    write_key_file(key_file, key_id="gw-test-1", sign=sign, encrypt=encrypt)
    key_id, peer = peer_keys_from_key_file(sign, encrypt, key_file)
    return load_protector(sign, encrypt, key_file), {key_id: peer}


@pytest.mark.parametrize(("sign", "encrypt"), PAIRS)
def test_protected_payload_round_trips(tmp_path: Path, sign: Any, encrypt: Any) -> None:
    protector, keys = _keys(tmp_path, sign, encrypt)
    wrapped = protector.protect(PAYLOAD)
    assert is_protected(wrapped) and verify_and_decrypt(wrapped, keys) == PAYLOAD
    assert (PAYLOAD in wrapped) is (encrypt == "none")


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize(("sign", "encrypt"), PAIRS)
@pytest.mark.parametrize("where", ["algorithm byte", "key id", "first body byte", "last byte", "truncated"])
def test_any_tampering_is_detected(tmp_path: Path, sign: Any, encrypt: Any, where: str) -> None:
    protector, keys = _keys(tmp_path, sign, encrypt)
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


def test_a_stripped_signature_is_refused_as_a_downgrade(tmp_path: Path) -> None:
    _, keys = _keys(tmp_path, "ed25519", "aes-gcm")
    key_file = tmp_path / "stripped.key"
    write_key_file(key_file, key_id="gw-test-1", sign="none", encrypt="aes-gcm")
    forged = load_protector("none", "aes-gcm", key_file).protect(PAYLOAD)
    with pytest.raises(ProtectionError, match="must use sign=ed25519 encrypt=aes-gcm"):
        verify_and_decrypt(forged, keys)


def test_wrong_keys_and_unknown_key_ids_are_refused(tmp_path: Path) -> None:
    protector, keys = _keys(tmp_path, "hmac-sm3", "sm4-gcm")
    _, other = _keys(tmp_path / "other", "hmac-sm3", "sm4-gcm")
    wrapped = protector.protect(PAYLOAD)
    with pytest.raises(ProtectionError, match="hmac-sm3 signature does not match"):
        verify_and_decrypt(wrapped, other)
    with pytest.raises(ProtectionError, match="unknown key id 'gw-test-1'"):
        verify_and_decrypt(wrapped, {"gw-test-2": keys["gw-test-1"]})
    with pytest.raises(ProtectionError, match="not a CFP1"):
        verify_and_decrypt(PAYLOAD, keys)


def test_key_sizes_are_checked_with_the_numbers_in_the_message(tmp_path: Path) -> None:
    key_file = tmp_path / "short.key"
    key_file.write_text("key_id: k1\nencrypt_key: AAAAAAAAAAAAAAAAAAAA\n")  # 15 bytes
    key_file.chmod(0o600)
    with pytest.raises(ConfigError, match="sm4-gcm needs a 16-byte encrypt_key, got 15"):
        load_protector("none", "sm4-gcm", key_file)


def test_missing_sm4_support_names_the_alternative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sm4(*args: object) -> bytes:
        raise UnsupportedAlgorithm("SM4 is not supported by this backend")

    monkeypatch.setattr(protection, "_gcm_encrypt", no_sm4)
    key_file = tmp_path / "k.key"
    write_key_file(key_file, key_id="k1", sign="none", encrypt="sm4-gcm")
    with pytest.raises(ConfigError, match="no SM4-GCM; use encrypt: aes-gcm"):
        load_protector("none", "sm4-gcm", key_file)


async def test_the_agent_publishes_envelopes_the_cloud_can_verify_and_decrypt(
    meter: tuple[Any, int], write_config: Callable[..., Path], modbus_endpoint: Callable[..., dict[str, Any]],
    tls_link: dict[str, Any], tmp_path: Path, running: Any, eventually: Any, listen: Callable[[str], Any],
) -> None:
    key_file = tmp_path / "gw.key"
    write_key_file(key_file, key_id="gw-test-2026", sign="ed25519", encrypt="sm4-gcm")
    key_id, peer = peer_keys_from_key_file("ed25519", "sm4-gcm", key_file)
    path = write_config(devices=[modbus_endpoint("meter-1", meter[1])], mqtt=tls_link, payload_protection={
        "sign": "ed25519", "encrypt": "sm4-gcm", "key_file": str(key_file)})
    listener = listen("carbonflow/v1/gw-test/data")
    agent = EdgeAgent(load_agent_config(path))
    async with running(agent):
        payloads = await eventually(lambda: listener.on("/data"), 10, "a data message")
    envelope = decode_envelope(verify_and_decrypt(payloads[0], {key_id: peer}))
    assert isinstance(envelope, ColumnEnvelope)
    assert envelope.gateway == "gw-test" and {d.device for d in envelope.devices} == {"meter-1"}
    assert b"meter-1" not in payloads[0] and json.loads(envelope.model_dump_json())["devices"][0]["seq"]
