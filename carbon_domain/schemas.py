"""Wire schemas: what a gateway publishes and what travels on Kafka.

These pydantic models are the single definition of a reading and of the
envelope that carries a batch of them from an edge agent to the cloud.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

__all__ = ["Quality", "PointKind", "Reading", "Envelope", "DeviceBatch", "ENVELOPE_VERSION"]

ENVELOPE_VERSION = 1


class Quality(StrEnum):
    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"


class PointKind(StrEnum):
    GAUGE = "gauge"
    COUNTER = "counter"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reading(_Strict):
    """One value of one point of one device, as the gateway saw it."""

    seq: int = Field(ge=0, description="per-gateway sequence number, never repeated")
    device: str = Field(min_length=1, max_length=128)
    point: str = Field(min_length=1, max_length=128)
    value: float | None
    unit: str = Field(max_length=32)
    kind: PointKind = PointKind.GAUGE
    quality: Quality = Quality.GOOD
    reason: str | None = Field(default=None, max_length=200)
    source_ts: AwareDatetime
    gateway_ts: AwareDatetime

    @model_validator(mode="after")
    def _bad_needs_no_value(self) -> "Reading":
        if self.value is None and self.quality is Quality.GOOD:
            raise ValueError(f"point {self.point}: a good reading needs a value")
        return self


class Envelope(_Strict):
    """A batch of readings published by one gateway (versioned)."""

    v: Literal[1] = ENVELOPE_VERSION
    gateway: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    seq_first: int = Field(ge=0)
    seq_last: int = Field(ge=0)
    sent_at: AwareDatetime
    backlog: bool = False
    readings: list[Reading] = Field(min_length=1)

    @model_validator(mode="after")
    def _sequence_range_matches(self) -> "Envelope":
        seqs = [r.seq for r in self.readings]
        if min(seqs) != self.seq_first or max(seqs) != self.seq_last:
            raise ValueError(
                f"envelope says seq {self.seq_first}..{self.seq_last}, "
                f"readings carry {min(seqs)}..{max(seqs)}"
            )
        return self


class DeviceBatch(_Strict):
    """Readings of one device from one envelope: the Kafka record, keyed by device."""

    gateway: str
    device: str
    received_at: datetime
    backlog: bool = False
    readings: list[Reading]
