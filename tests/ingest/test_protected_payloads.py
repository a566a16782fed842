"""End-to-end protected payloads (CFP1) are verified and unwrapped by ingest; anything else is rejected."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from carbon_domain.schemas import Envelope, Reading
from carbon_domain.wire import encode_envelope
from edge_agent.key_files import load_protector, write_key_file
from ingest.peer_keys import load_peer_keyring
from ingest.validation import Rejected, validate_payload

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _payload(gateway: str) -> bytes:
    readings = [Reading(seq=1, device="d", point="p", value=1.0, unit="kW", source_ts=NOW, gateway_ts=NOW)]
    return encode_envelope(Envelope(gateway=gateway, seq_first=1, seq_last=1, sent_at=NOW, readings=readings))


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    key_file = tmp_path / "gw-17.key"
    write_key_file(key_file, key_id="gw-17-k1", sign="ed25519", encrypt="aes-gcm")
    (tmp_path / "peers.yaml").write_text(yaml.safe_dump(
        {"gw-17": {"sign": "ed25519", "encrypt": "aes-gcm", "key_file": str(key_file)}}))
    return load_protector("ed25519", "aes-gcm", key_file), load_peer_keyring(tmp_path / "peers.yaml")


def test_signed_and_encrypted_envelope_is_accepted(setup) -> None:  # type: ignore[no-untyped-def]
    protector, keyring = setup
    envelope = validate_payload(protector.protect(_payload("gw-17")), "gw-17", NOW, keyring)
    assert (envelope.gateway, envelope.seq_last) == ("gw-17", 1)


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


@pytest.mark.parametrize(
    ("make", "gateway", "reason"),
    [
        (lambda p: _payload("gw-17"), "gw-17", "must sign/encrypt"),
        # the last byte flipped (set to 0 it was unchanged whenever it already was 0: one run in 256 passed)
        (lambda p: _flip_last_byte(p.protect(_payload("gw-17"))), "gw-17", "does not verify"),
        (lambda p: p.protect(_payload("gw-18")), "gw-18", "no keys"),
    ],
    ids=["plain-from-signing-gateway", "tampered", "unknown-gateway"],
)
def test_bad_protection_is_rejected_with_reason(setup, make, gateway: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    protector, keyring = setup
    with pytest.raises(Rejected, match=reason):
        validate_payload(make(protector), gateway, NOW, keyring)
