"""Spool blocks straight into one list per field per device: what a column envelope (version 2) carries.

No object per reading: a block's columns are regrouped by device with whole-column operations
(slices over each run of one device's rows, `map` over point ids), so a batch of thousands of readings
costs a few C calls per device and field instead of a pydantic validation per reading. The readings
were checked when they were polled and stored, so `DeviceReadings` are built with `model_construct`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from carbon_domain.schemas import DeviceReadings, PointKind
from edge_agent.spool_codec import decode_block

__all__ = ["PointTable", "SpooledColumns", "device_readings"]


class PointTable:
    """The spool's point dictionary as one dict per field (point id -> device, point name, unit, kind).

    Only ever grows, and a point id is added before any block that uses it is stored, so a reader
    thread may look ids up while the flushing thread adds new ones.
    """

    def __init__(self) -> None:
        self.device: dict[int, str] = {}
        self.point: dict[int, str] = {}
        self.unit: dict[int, str] = {}
        self.kind: dict[int, PointKind] = {}

    def add(self, pid: int, device: str, point: str, unit: str, kind: str) -> None:
        self.device[pid], self.point[pid], self.unit[pid], self.kind[pid] = device, point, unit, PointKind(kind)


@dataclass(frozen=True)
class SpooledColumns:
    """Whole spool blocks as one `DeviceReadings` per device, devices in order of their first reading."""

    seq_first: int
    seq_last: int
    count: int
    first_gateway_us: int  # when the gateway read the reading numbered seq_first (µs since the epoch)
    devices: list[DeviceReadings]


@dataclass
class _Gathering:
    """One device's columns while blocks are added to them."""

    seq: list[int] = field(default_factory=list)
    point: list[str] = field(default_factory=list)
    value: list[float | None] = field(default_factory=list)
    unit: list[str] = field(default_factory=list)
    kind: list[PointKind] = field(default_factory=list)
    quality: list[int] = field(default_factory=list)
    source_us: list[int] = field(default_factory=list)
    gateway_us: list[int] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)


def _no_value_where_nan(values: Sequence[float]) -> list[float | None]:
    if any(map(math.isnan, values)):
        return [None if math.isnan(v) else v for v in values]
    return list(values)


def device_readings(blocks: Iterable[tuple[int, int, bytes]], points: PointTable) -> SpooledColumns | None:
    """The readings of stored blocks (seq_first, seq_last, encoded block), in sequence order, by device."""
    gathered: dict[str, _Gathering] = {}
    seq_first = seq_last = first_gateway_us = -1
    count = 0
    device_of = points.device
    for first, last, data in blocks:
        block = decode_block(data)
        if count == 0:
            seq_first, first_gateway_us = first, block.gateway_us[0]
        seq_last, count = last, count + len(block)
        # a poll's readings sit together in a block: whole runs of one device are copied by slicing
        runs: list[tuple[_Gathering, int, int, int]] = []  # (device's columns, first row, end row, offset there)
        row = 0
        for device, group in groupby(map(device_of.__getitem__, block.point_ids)):
            end = row + len(list(group))
            g = gathered.get(device)
            if g is None:
                g = gathered[device] = _Gathering()
            runs.append((g, row, end, len(g.seq)))
            pids = block.point_ids[row:end]
            g.seq.extend(range(first + row, first + end))
            g.point.extend(map(points.point.__getitem__, pids))
            g.value.extend(_no_value_where_nan(block.values[row:end]))
            g.unit.extend(map(points.unit.__getitem__, pids))
            g.kind.extend(map(points.kind.__getitem__, pids))
            g.quality.extend(block.quality[row:end])
            g.source_us.extend(block.source_us[row:end])
            g.gateway_us.extend(block.gateway_us[row:end])
            row = end
        if block.reasons:
            starts = [run[1] for run in runs]
            for row, reason in block.reasons.items():  # by position in its device's columns
                g, start, _, offset = runs[bisect_right(starts, row) - 1]
                g.reasons[offset + row - start] = reason
    if count == 0:
        return None
    devices = [DeviceReadings.model_construct(device=device, **vars(g)) for device, g in gathered.items()]
    return SpooledColumns(seq_first, seq_last, count, first_gateway_us, devices)
