"""The agent's payload protection: key files read into protectors, and published envelopes the cloud can unwrap.

The wire format and its cryptography are tested in tests/carbon_domain/test_protection.py.
"""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import UnsupportedAlgorithm

from carbon_domain import protection
from carbon_domain.protection import verify_and_decrypt
from carbon_domain.schemas import ColumnEnvelope
from carbon_domain.wire import decode_envelope
from edge_agent.agent import EdgeAgent
from edge_agent.config import load_agent_config
from edge_agent.errors import ConfigError
from edge_agent.key_files import load_protector, write_key_file
from ingest.peer_keys import peer_keys_from_key_file

PAYLOAD = b'{"v":1,"gateway":"gw-test","readings":[]}' * 3


def test_a_written_key_file_is_private_and_protects_what_the_receiver_unwraps(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "gw.key"
    write_key_file(key_file, key_id="gw-test-1", sign="hmac-sm3", encrypt="sm4-gcm")
    key_id, peer = peer_keys_from_key_file("hmac-sm3", "sm4-gcm", key_file)
    wrapped = load_protector("hmac-sm3", "sm4-gcm", key_file).protect(PAYLOAD)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert verify_and_decrypt(wrapped, {key_id: peer}) == PAYLOAD


def test_key_sizes_are_checked_with_the_file_and_numbers_in_the_message(tmp_path: Path) -> None:
    key_file = tmp_path / "short.key"
    key_file.write_text("key_id: k1\nencrypt_key: AAAAAAAAAAAAAAAAAAAA\n")  # 15 bytes
    key_file.chmod(0o600)
    with pytest.raises(ConfigError, match=f"key_file {key_file}: sm4-gcm needs a 16-byte encrypt_key, got 15"):
        load_protector("none", "sm4-gcm", key_file)


def test_an_unreadable_or_missing_key_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="payload_protection.key_file .*missing.key"):
        load_protector("ed25519", "none", tmp_path / "missing.key")
    broken = tmp_path / "broken.key"
    broken.write_text("key_id: [unclosed\n")
    broken.chmod(0o600)
    with pytest.raises(ConfigError, match="broken.key: cannot read"):
        load_protector("ed25519", "none", broken)


def test_a_key_file_others_can_read_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key_file = tmp_path / "gw.key"
    write_key_file(key_file, key_id="k1", sign="ed25519", encrypt="none")
    key_file.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="edge_agent.key_files"):
        load_protector("ed25519", "none", key_file)
    assert "chmod 600" in caplog.text


def test_missing_sm4_support_refuses_the_config_naming_the_alternative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
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
