"""Envelopes with one bad string or number, and what the reason for refusing each must say.

Shared by the MQTT tests (tests/ingest) and the HTTP tests (tests/api/test_ingest.py): both doors give the same
reason. Each case spoils one reading of a good envelope: device "d0", point "p2", seq 12, which is reading 2 of
a version-1 envelope and position 1 of device 0 in a version-2 one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from carbon_domain.schemas import Envelope, Reading, column_envelope

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
DEVICE, POINT, SEQ = "d0", "p2", 12
_RAW = "@raw@"  # a marker for JSON text json.dumps cannot write (1e400)


@dataclass(frozen=True)
class Refused:
    field: str  # device, point, value, unit or reason
    sent: object  # what the reading carries in that field
    says: str  # what the reason must say about it

    @property
    def case_id(self) -> str:
        return f"{self.field}-{ascii(self.sent)[:24]}"


STRINGS = [
    Refused("point", "bad\x00point", '"bad\\u0000point" is not an identifier'),
    Refused("point", "esc\x1b[31m", '"esc\\u001b[31m" is not an identifier'),
    Refused("point", "tab\tname", '"tab\\tname" is not an identifier'),
    Refused("point", "half\ud800", '"half\\ud800" holds a lone surrogate'),
    Refused("point", "p" * 129, "is not an identifier: use 1 to 128 letters"),
    Refused("point", "", '"" is not an identifier'),
    Refused("point", "a/b", '"a/b" is not an identifier'),
    Refused("point", "kw ", '"kw " is not an identifier'),
    Refused("device", "dev\x00ice", '"dev\\u0000ice" is not an identifier'),
    Refused("device", "d\udc00", '"d\\udc00" holds a lone surrogate'),
    Refused("device", "d" * 129, "is not an identifier: use 1 to 128 letters"),
    Refused("unit", "k\x00W", "holds a control character"),
    Refused("unit", "k\x7fW", "holds a control character"),
    Refused("unit", "k\udfffW", '"k\\udfffW" holds a lone surrogate'),
    Refused("unit", "u" * 33, "at most 32 characters"),
    Refused("reason", "lost\x00", '"lost\\u0000" holds a control character'),
    Refused("reason", "bell\x07", '"bell\\u0007" holds a control character'),
    Refused("reason", "cut\ud800", '"cut\\ud800" holds a lone surrogate'),
    Refused("reason", "r" * 201, "at most 200 characters"),
]
NUMBERS = [
    Refused("value", float("nan"), "NaN is not a finite number"),
    Refused("value", float("inf"), "Infinity is not a finite number"),
    Refused("value", float("-inf"), "-Infinity is not a finite number"),
    Refused("value", _RAW + "1e400", "Infinity is not a finite number"),
    Refused("value", _RAW + "-1e400", "-Infinity is not a finite number"),
    Refused("value", "nan", '"nan" is not a number'),
    Refused("value", "12.5", '"12.5" is not a number'),
    Refused("value", True, "true is not a number"),
    Refused("value", False, "false is not a number"),
]
CASES = STRINGS + NUMBERS


def readings(gateway_ts: datetime = NOW, device_prefix: str = "d") -> list[Reading]:
    """Six good readings of devices d0 and d1 (seq 10 to 15), one bad and one uncertain with reasons."""
    return [Reading(seq=10 + i, device=f"{device_prefix}{i % 2}", point=f"p{i}", value=None if i == 3 else 1.5 * i, unit="kWh",
                    quality="bad" if i == 3 else ("uncertain" if i == 2 else "good"),
                    reason="meter did not answer" if i == 3 else ("clock unsynchronised" if i == 2 else None),
                    source_ts=gateway_ts - timedelta(seconds=1), gateway_ts=gateway_ts) for i in range(6)]


def good_envelope(gateway: str, version: int, at: datetime = NOW, device_prefix: str = "d") -> bytes:
    envelope = Envelope(gateway=gateway, seq_first=10, seq_last=15, sent_at=at, readings=readings(at, device_prefix))
    chosen = column_envelope(envelope) if version == 2 else envelope
    return chosen.model_dump_json().encode()


def spoiled_envelope(case: Refused, gateway: str, version: int, at: datetime = NOW, device_prefix: str = "d") -> bytes:
    """A good envelope whose reading seq 12 carries `case.sent` in `case.field`."""
    document = json.loads(good_envelope(gateway, version, at, device_prefix))
    if version == 1:
        reading = document["readings"][SEQ - 10]
        reading[case.field] = case.sent
    else:
        device = document["devices"][0]
        position = device["seq"].index(SEQ)
        if case.field == "device":
            device["device"] = case.sent
        elif case.field == "reason":
            device["reasons"][str(position)] = case.sent
        else:
            device[case.field][position] = case.sent
    text = json.dumps(document)  # NaN and Infinity as JavaScript writes them; lone surrogates as \ud800 escapes
    if isinstance(case.sent, str) and case.sent.startswith(_RAW):
        text = text.replace(json.dumps(case.sent), case.sent[len(_RAW):])
    return text.encode()


def reason_parts(case: Refused, version: int) -> list[str]:
    """What the reason must hold: where (path and index), which reading (device, point, seq) and what is wrong."""
    if version == 1:
        where = f"readings.{SEQ - 10}.{case.field}"
    elif case.field == "device":
        where = "devices.0.device"
    elif case.field == "reason":
        where = "devices.0.reasons.1"
    elif case.field == "unit" and "surrogate" not in case.says and "at most" not in case.says:
        where = "(position 1)"  # a unit is checked once per distinct unit, after the lists are read
    else:
        where = f"devices.0.{case.field}.1"
    if version == 2 and case.field == "device":
        return [where, case.says]  # a device's id belongs to all its readings
    named = [f"seq {SEQ}"]
    if case.field != "device":
        named.append(f'device "{DEVICE}"')
    if case.field != "point":
        named.append(POINT)
    return [where, *named, case.says]
