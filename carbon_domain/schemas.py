"""Wire schemas: what a gateway publishes and what travels on Kafka.

These pydantic models are the single definition of a reading and of the
envelope that carries a batch of them from an edge agent to the cloud.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Annotated, ClassVar, Final, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import TzInfo

__all__ = [
    "Quality", "QUALITY_CODE", "QUALITY_NAMES", "PointKind", "Reading", "Envelope", "DeviceBatch", "ENVELOPE_VERSION",
    "DeviceColumns", "COLUMNS_VERSION", "columns_of_device", "column_envelope", "DeviceReadings", "ColumnEnvelope", "COLUMN_ENVELOPE_VERSION", "device_columns", "epoch_us", "from_epoch_us",
    "SpoolReport", "DropReport", "GatewayStatus", "SpoolOverflowEvent", "GatewayHealthRecord",
    "IDENTIFIER_PATTERN", "IDENTIFIER_RULE", "LABEL_PATTERN", "TEXT_PATTERN", "Identifier", "Unit", "ReasonText",
    "Value", "MAX_REASON", "clean_reason", "is_identifier",
]

ENVELOPE_VERSION: Final = 1  # Final: typed Literal[1], the only version Envelope.v accepts


class Quality(StrEnum):
    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"


QUALITY_CODE: dict[str, int] = {Quality.GOOD.value: 0, Quality.UNCERTAIN.value: 1, Quality.BAD.value: 2}
"""Quality name -> the smallint stored in PostgreSQL `quality` columns; worse is higher, so max() is the worst."""
QUALITY_NAMES: dict[int, str] = {code: name for name, code in QUALITY_CODE.items()}
"""Stored quality code -> quality name."""


class PointKind(StrEnum):
    GAUGE = "gauge"
    COUNTER = "counter"


SEQ_MAX = 2**63 - 1  # sequence numbers are stored as PostgreSQL bigint

# What a string on the wire may hold, in one place for every stage (edge agent configuration, device profiles,
# MQTT and HTTP ingest, file import, the Kafka records). The checks run in pydantic's core, element by element
# of a column, for a few tens of nanoseconds each: no Python call per reading.
IDENTIFIER_PATTERN: Final = r"^[A-Za-z0-9_.-]{1,128}$"
"""Gateway, device and point ids: 1 to 128 ASCII letters, digits, '_', '.' and '-' (no space, no control character,
nothing a URL, a topic or a file name must escape)."""
IDENTIFIER_RULE: Final = "1 to 128 letters, digits, '_', '.' or '-'"
"""`IDENTIFIER_PATTERN` in words, for error messages."""
_CONTROLS = r"\x00-\x1f\x7f"
LABEL_PATTERN: Final = rf"^[^{_CONTROLS}]*$"
"""Units and version strings: any text without a control character ("kWh", "m³/h" and "°C" all pass)."""
TEXT_PATTERN: Final = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""A reading's reason: any text without a control character other than tab, line feed and carriage return."""
MAX_REASON: Final = 200

Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
Unit = Annotated[str, Field(max_length=32, pattern=LABEL_PATTERN)]
ReasonText = Annotated[str, Field(max_length=MAX_REASON, pattern=TEXT_PATTERN)]
Value = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A reading's value: a finite JSON number. NaN, ±Infinity, numbers beyond float range (1e400), strings ("12.5")
and booleans are refused, never coerced; points a profile declares boolean (coils, discrete inputs, OPC-UA
booleans) leave the edge agent as 0 or 1."""

_IDENTIFIER = re.compile(IDENTIFIER_PATTERN.removeprefix("^").removesuffix("$"))
_LABEL_BREAKER = re.compile(rf"[{_CONTROLS}]")
_REASON_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")


def is_identifier(text: str) -> bool:
    """True when `text` is a valid gateway, device or point id (`IDENTIFIER_PATTERN`, matched as a whole: Python's
    `$` would let a trailing line feed through)."""
    return _IDENTIFIER.fullmatch(text) is not None


def clean_reason(reason: str) -> str:
    """A reason that `ReasonText` accepts: control characters become a space and the text is cut to `MAX_REASON`
    (an exception's message is the reason of a failed poll, and may be anything)."""
    cleaned = _REASON_CONTROLS.sub(" ", reason)
    cleaned = cleaned.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become '?'
    return cleaned if len(cleaned) <= MAX_REASON else cleaned[:MAX_REASON - 3] + "..."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reading(_Strict):
    """One value of one point of one device, as the gateway saw it."""

    seq: int = Field(ge=0, le=SEQ_MAX, description="per-gateway sequence number, never repeated")
    device: Identifier
    point: Identifier
    value: Value | None
    unit: Unit
    kind: PointKind = PointKind.GAUGE
    quality: Quality = Quality.GOOD
    reason: ReasonText | None = None
    source_ts: AwareDatetime
    gateway_ts: AwareDatetime

    @model_validator(mode="after")
    def _bad_needs_no_value(self) -> Reading:
        if self.value is None and self.quality is Quality.GOOD:
            raise ValueError(f"point {self.point}: a good reading needs a value")
        return self


class _EnvelopeHead(_Strict):
    """What every envelope version says of its batch besides the readings."""

    v: int
    gateway: Identifier
    seq_first: int = Field(ge=0, le=SEQ_MAX)
    seq_last: int = Field(ge=0, le=SEQ_MAX)
    sent_at: AwareDatetime
    backlog: bool = False

    def _seq_range(self) -> tuple[int, int]:
        raise NotImplementedError

    @model_validator(mode="after")
    def _sequence_range_matches(self) -> Self:
        low, high = self._seq_range()
        if low != self.seq_first or high != self.seq_last:
            raise ValueError(f"envelope says seq {self.seq_first}..{self.seq_last}, readings carry {low}..{high}")
        return self


class Envelope(_EnvelopeHead):
    """A batch of readings published by one gateway, one object per reading (envelope version 1)."""

    v: Literal[1] = ENVELOPE_VERSION  # an overridden field keeps its place: "v" stays first in the JSON
    readings: list[Reading] = Field(min_length=1)

    def _seq_range(self) -> tuple[int, int]:
        seqs = [r.seq for r in self.readings]
        return min(seqs), max(seqs)

    @property
    def reading_count(self) -> int:
        return len(self.readings)


class DeviceBatch(_Strict):
    """Readings of one device from one envelope: the Kafka record, keyed by device."""

    gateway: Identifier
    device: Identifier
    received_at: datetime
    backlog: bool = False
    readings: list[Reading]


COLUMN_ENVELOPE_VERSION: Final = 2  # a ColumnEnvelope's "v"; an Envelope's is ENVELOPE_VERSION
COLUMNS_VERSION: Final = 2  # the Kafka record's version; a record without "v" is a DeviceBatch (version 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_EPOCH_ORDINAL = _EPOCH.toordinal()


_FIXED_OFFSET_TYPES = (timezone, TzInfo)  # zones whose offset is the same at every instant
_fixed_offsets_us: dict[tzinfo, int] = {}


def epoch_us(ts: datetime) -> int:
    """Microseconds since 1970-01-01T00:00:00Z of an aware datetime, exactly (no float rounding).

    For a fixed-offset zone (what pydantic parses "Z" and "+08:00" into) the offset is looked up once per zone
    and the count is built from the datetime's fields, half the cost of datetime arithmetic across zones,
    which ingest pays for every reading.
    """
    zone = ts.tzinfo
    if type(zone) in _FIXED_OFFSET_TYPES:
        offset = _fixed_offsets_us.get(zone)  # type: ignore[arg-type]
        if offset is None:
            offset = _fixed_offsets_us[zone] = ts.utcoffset() // _MICROSECOND  # type: ignore[index, operator]
        return (((ts.toordinal() - _EPOCH_ORDINAL) * 86_400 + ts.hour * 3_600 + ts.minute * 60 + ts.second)
                * 1_000_000 + ts.microsecond - offset)
    return (ts - _EPOCH) // _MICROSECOND


def from_epoch_us(us: int) -> datetime:
    """The UTC datetime of a count of microseconds since the Unix epoch (the inverse of `epoch_us`)."""
    return _EPOCH + timedelta(microseconds=us)


# A column holds what a Reading field accepts: the sink packs these numbers as PostgreSQL bigint and
# timestamptz, where a value out of range would fail the whole batch on every retry (a record that blocks
# its partition), so they are refused here, where the record goes to the dead letters instead.
_Seq = Annotated[int, Field(ge=0, le=SEQ_MAX)]
_ColumnUnit = Annotated[str, Field(max_length=32)]  # LABEL_PATTERN is checked once per distinct unit, below
_EpochUs = Annotated[int, Field(ge=epoch_us(datetime.min.replace(tzinfo=UTC)),
                                le=epoch_us(datetime.max.replace(tzinfo=UTC)))]


class _ReadingColumns(_Strict):
    """Readings of one device, one list per field (what a column envelope and a Kafka record share).

    Decoding lists of numbers and strings costs a fifth of decoding one `Reading` object per reading.
    Timestamps are microseconds since the Unix epoch (UTC); quality is its stored code (`QUALITY_CODE`);
    `reasons` holds the readings that have one, by position.
    """

    device: Identifier
    seq: list[_Seq] = Field(min_length=1)
    point: list[Identifier]
    value: list[Value | None]
    unit: list[_ColumnUnit]
    kind: list[PointKind]
    quality: list[Literal[0, 1, 2]]
    source_us: list[_EpochUs]
    reasons: dict[int, ReasonText] = Field(default_factory=dict)

    _COLUMNS: ClassVar[tuple[str, ...]] = ("point", "value", "unit", "kind", "quality", "source_us")

    @model_validator(mode="after")
    def _columns_line_up(self) -> Self:
        n = len(self.seq)
        wrong = {name: len(getattr(self, name)) for name in self._COLUMNS if len(getattr(self, name)) != n}
        if wrong:
            raise ValueError(f"every column needs {n} values (one per seq), got {wrong}")
        outside = sorted(i for i in self.reasons if not 0 <= i < n)
        if outside:
            raise ValueError(f"reasons are by position 0 to {n - 1}, got position {outside[0]}")
        # a device's readings share a handful of units: a pattern per distinct unit costs a third of one per reading
        broken = next((u for u in set(self.unit) if _LABEL_BREAKER.search(u)), None)
        if broken is not None:
            i = self.unit.index(broken)
            raise ValueError(f"point {self.point[i]}, seq {self.seq[i]}: unit {broken!a} holds a control"
                             f" character (position {i})")
        if None in self.value:  # as Reading: only an uncertain or bad reading may come without a value
            missing = next((i for i, (v, q) in enumerate(zip(self.value, self.quality)) if v is None and q == 0), None)
            if missing is not None:
                raise ValueError(f"point {self.point[missing]}: a good reading needs a value (position {missing})")
        return self


class DeviceReadings(_ReadingColumns):
    """One device's readings in a column envelope; `gateway_us` is when the gateway read each one."""

    gateway_us: list[_EpochUs]

    _COLUMNS: ClassVar[tuple[str, ...]] = (*_ReadingColumns._COLUMNS, "gateway_us")


class ColumnEnvelope(_EnvelopeHead):
    """A batch of readings published by one gateway, one `DeviceReadings` per device (envelope version 2).

    The same readings as an `Envelope`, at about 40 % of its size on the link and a fifth of its cost to check.
    """

    v: Literal[2]
    devices: list[DeviceReadings] = Field(min_length=1)

    def _seq_range(self) -> tuple[int, int]:
        return min(min(d.seq) for d in self.devices), max(max(d.seq) for d in self.devices)

    @property
    def reading_count(self) -> int:
        return sum(len(d.seq) for d in self.devices)


class DeviceColumns(_ReadingColumns):
    """Readings of one device from one envelope, one list per field: the Kafka record, keyed by device.

    Decoding it instead of one `Reading` object per reading took a third off the stream worker's CPU.
    """

    v: Literal[2]
    gateway: Identifier
    received_at: AwareDatetime
    backlog: bool = False
    last_gateway_us: _EpochUs = Field(description="the newest gateway_ts of the readings, microseconds since the epoch")


def column_envelope(envelope: Envelope) -> ColumnEnvelope:
    """The same readings as a column envelope (version 2), devices in order of their first reading."""
    by_device: dict[str, list[Reading]] = {}
    for reading in envelope.readings:
        by_device.setdefault(reading.device, []).append(reading)
    devices = [
        DeviceReadings.model_construct(
            device=device, seq=[r.seq for r in rs], point=[r.point for r in rs], value=[r.value for r in rs],
            unit=[r.unit for r in rs], kind=[r.kind for r in rs], quality=[QUALITY_CODE[r.quality] for r in rs],
            source_us=[epoch_us(r.source_ts) for r in rs], gateway_us=[epoch_us(r.gateway_ts) for r in rs],
            reasons={i: r.reason for i, r in enumerate(rs) if r.reason is not None})
        for device, rs in by_device.items()]
    return ColumnEnvelope.model_construct(v=COLUMN_ENVELOPE_VERSION, gateway=envelope.gateway,
                                          seq_first=envelope.seq_first, seq_last=envelope.seq_last,
                                          sent_at=envelope.sent_at, backlog=envelope.backlog, devices=devices)


def columns_of_device(envelope: ColumnEnvelope, device: DeviceReadings, received_at: datetime) -> DeviceColumns:
    """The Kafka record of one device's readings in a column envelope (already validated, so not validated again)."""
    return DeviceColumns.model_construct(
        v=COLUMNS_VERSION, gateway=envelope.gateway, device=device.device, received_at=received_at,
        backlog=envelope.backlog, last_gateway_us=max(device.gateway_us), seq=device.seq, point=device.point,
        value=device.value, unit=device.unit, kind=device.kind, quality=device.quality, source_us=device.source_us,
        reasons=device.reasons)


def device_columns(gateway: str, device: str, received_at: datetime, backlog: bool,
                   readings: list[Reading]) -> DeviceColumns:
    """The Kafka record of one device's readings (already validated, so not validated again)."""
    return DeviceColumns.model_construct(
        v=COLUMNS_VERSION, gateway=gateway, device=device, received_at=received_at, backlog=backlog,
        last_gateway_us=epoch_us(max(r.gateway_ts for r in readings)),
        seq=[r.seq for r in readings], point=[r.point for r in readings], value=[r.value for r in readings],
        unit=[r.unit for r in readings], kind=[r.kind for r in readings],
        quality=[QUALITY_CODE[r.quality] for r in readings], source_us=[epoch_us(r.source_ts) for r in readings],
        reasons={i: r.reason for i, r in enumerate(readings) if r.reason is not None})



class SpoolReport(_Strict):
    """The spool's numbers at the time of a gateway status report."""

    depth: int = Field(ge=0, description="readings not yet acknowledged by the broker")
    bytes: int = Field(ge=0, description="compressed payload bytes held")
    oldest_unsent_age_s: float | None = Field(ge=0, description="age of the oldest unacknowledged reading")


class DropReport(_Strict):
    """The last spool-overflow report the broker acknowledged."""

    dropped: int = Field(ge=0)
    dropped_total: int = Field(ge=0)
    at: AwareDatetime


class GatewayStatus(_Strict):
    """The retained `<root>/<gateway>/status` payload: `online` with numbers, or the last will's bare `offline`.

    Older agents send only state, time and drop counters; every other field is optional so their
    reports still count, but unknown keys are refused.
    """

    state: Literal["online", "offline"]
    gateway: Identifier | None = None
    at: AwareDatetime | None = None
    agent_version: str | None = Field(default=None, max_length=64, pattern=LABEL_PATTERN)
    interval_s: float | None = Field(default=None, gt=0, le=86400, description="the agent republishes this often")
    dropped_total: int | None = Field(default=None, ge=0)
    dropped_unreported: int | None = Field(default=None, ge=0)
    last_drop_report: DropReport | None = None
    spool: SpoolReport | None = None

    @model_validator(mode="after")
    def _online_needs_a_time(self) -> GatewayStatus:
        if self.state == "online" and self.at is None:
            raise ValueError("an online status needs its time `at`")
        return self


class SpoolOverflowEvent(_Strict):
    """`<root>/<gateway>/events`: the spool dropped `dropped` readings (`dropped_total` over its lifetime)."""

    event: Literal["spool_overflow"]
    gateway: Identifier
    dropped: int = Field(ge=1)
    dropped_total: int = Field(ge=1)
    at: AwareDatetime

    @model_validator(mode="after")
    def _total_covers_this_report(self) -> SpoolOverflowEvent:
        if self.dropped > self.dropped_total:
            raise ValueError(f"dropped {self.dropped} exceeds dropped_total {self.dropped_total}")
        return self


class GatewayHealthRecord(_Strict):
    """Kafka record of a gateway's status report or event, keyed by gateway so its reports stay ordered."""

    gateway: Identifier
    received_at: AwareDatetime
    status: GatewayStatus | None = None
    event: SpoolOverflowEvent | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> GatewayHealthRecord:
        if (self.status is None) == (self.event is None):
            raise ValueError("a gateway health record carries either a status or an event")
        return self
