"""PostgreSQL sink: raw readings, counter state and emissions written in one transaction per batch.

Exactly-once in effect: raw readings are stored one row per device batch (stream_jobs/batch_store.py), and a
reading whose (gateway, seq, ts) is already stored, in a batch, a compacted block or a row, is dropped
before anything counts it; only counter readings that were new advance counter state and produce
emissions, so a replayed Kafka record changes nothing. That check needs the stored reading, which retention
deletes: readings older than the raw retention horizon are dropped before they are stored, so that a record
replayed after retention is not stored and counted in the hourly rollups a second time. It sees only what is
committed: two writes of the same device (a partition handed over mid-write) wait for each other.

Before they are stored, a device batch's readings are checked for plausibility (stream_jobs/plausibility.py):
a negative counter reading, a counter rising faster than its limit, or a gauge outside its range is stored as
bad, and so never drives a delta or an emission.

Electricity is accounted with the grid factor the enterprise inventory uses for the point's site by default
(stream_jobs/site_factors.py): the sites and the factor library are read again every _CACHE_TTL_S, as the
points are, so a site's new province or a new factor row applies to the intervals stored after that.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import psycopg

from carbon_domain.accounting import EMITTING_ACTIVITIES, emission_for_activity
from carbon_domain.counters import CounterState, Delta, counter_delta
from carbon_domain.errors import DomainError, UnitError
from carbon_domain.factors import FactorLibrary, FactorRow
from carbon_domain.schemas import (
    QUALITY_CODE,
    DeviceBatch,
    DeviceColumns,
    PointKind,
    device_columns,
    epoch_us,
    from_epoch_us,
)
from carbon_domain.units import convert, storage_unit
from carbonflow.db.compaction import SINK_CHECK_AGE
from carbonflow.db.retention import raw_horizon
from device_profiles.point_rules import point_rollover
from stream_jobs.batch_store import Batch, distinct_readings, lock_devices, store_batches
from stream_jobs.plausibility import Flag, Limits, point_limits, record_flags, screen_batch
from stream_jobs.scope_rollups import EMISSION_COLUMNS, ScopeRollups
from stream_jobs.site_factors import SiteGridFactors, load_site_locations

__all__ = ["ReadingSink", "load_factor_library"]

log = logging.getLogger("stream_jobs.sink")
_CACHE_TTL_S = 30.0
# retention moves the raw horizon once a day; re-read every few minutes, one query per lane
_HORIZON_TTL_S = 300.0
# counters bound to production:<product> give activity intervals (no emission), rolled up like emissions
_PRODUCTION = "production:"
# _emission_rows makes both kinds of interval rows; an emission row is the wider (activity intervals carry no
# factors, formula, tco2 or energy), so its width tells the two apart
_EMISSION_WIDTH = len(EMISSION_COLUMNS)

_SCOPE_ROLLUP_LOCK = 0x63665F73636F7065  # pg_advisory_xact_lock key ("cf_scope")

@dataclass(frozen=True)
class _PointInfo:
    key: int
    kind: str
    unit: str
    activity: str | None
    site_id: str | None
    rollover: float | None = None  # register wrap value from the device profile, in `unit`
    normalised: bool = False  # readings are converted to `unit`, the storage unit of their dimension
    source_unit: str | None = None  # the unit readings last came in (NULL for points from before 072)
    limits: Limits | None = None  # what its readings are checked against (stream_jobs/plausibility.py)
    counter: bool = field(init=False)  # kind == "counter", read for every reading the sink stores

    def __post_init__(self) -> None:
        object.__setattr__(self, "counter", self.kind == "counter")


# what _point_info takes, in its order (p: points, d: devices)
_POINT_COLUMNS = ("p.point_key, p.point, p.kind, p.unit, p.activity, d.site_id, d.profile, p.normalised,"
                  " p.source_unit, p.range_low, p.range_high, p.range_source, p.max_rise_per_h")


def _point_info(key: int, point: str, kind: str, unit: str, activity: str | None, site: str | None,
                profile: str | None, normalised: bool, source_unit: str | None, range_low: float | None,
                range_high: float | None, range_source: str | None, max_rise_per_h: float | None) -> _PointInfo:
    """A stored point as the sink uses it, with its rollover from the device's profile in the stored unit and
    the limits its readings are checked against."""
    rollover = point_rollover(profile, point, unit=unit, source_unit=source_unit, normalised=normalised)
    limits = point_limits(profile=profile, point=point, kind=kind, unit=unit, source_unit=source_unit,
                          normalised=normalised, range_low=range_low, range_high=range_high,
                          range_source=range_source, max_rise_per_h=max_rise_per_h)
    return _PointInfo(key, kind, unit, activity, site, rollover, normalised, source_unit, limits)


async def load_factor_library(conn: psycopg.AsyncConnection) -> FactorLibrary:
    """The factor library as stored in the database (seeded defaults plus administrators' versions), oldest row
    first as the inventory reads it (of two versions valid from the same day, the later one wins)."""
    cur = await conn.execute(
        "SELECT factor_id, key, value, unit, scope, scope_id, valid_from, valid_to, series, source FROM factors"
        " ORDER BY created_at, factor_id"
    )
    names = [d.name for d in cur.description or []]
    return FactorLibrary(FactorRow.model_validate(dict(zip(names, row))) for row in await cur.fetchall())


def _stored_value(value: float | None, unit: str, quality: int, info: _PointInfo) -> tuple[float | None, int]:
    """The value and quality code stored for a reading: converted to the point's unit when it is normalised; a
    value in a unit that does not convert is stored as bad, without a value."""
    try:
        return convert(value, unit, info.unit), quality  # type: ignore[arg-type]
    except UnitError:
        log.warning("point %s: %s does not convert to the point's unit %s; stored as bad", info.key, unit, info.unit)
        return None, QUALITY_CODE["bad"]


def _stored_columns(record: DeviceColumns, infos: list[_PointInfo]) -> tuple[list[float | None], list[int]]:
    """The record's values and quality codes as stored: the record's own lists unless a normalised point's
    reading came in another unit of its dimension (then copies, with those readings converted)."""
    values, qualities = record.value, record.quality
    if not any(info.normalised for info in infos):
        return values, qualities  # type: ignore[return-value]
    values, qualities = list(values), list(qualities)
    for i, (info, value, unit) in enumerate(zip(infos, values, record.unit)):
        if info.normalised and value is not None and unit != info.unit:
            values[i], qualities[i] = _stored_value(value, unit, qualities[i], info)
    return values, qualities  # type: ignore[return-value]


def _by_table(rows: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """Interval rows split into those of `emissions` and those of `activity_intervals`."""
    emissions = [r for r in rows if len(r) == _EMISSION_WIDTH]
    return emissions, [r for r in rows if len(r) != _EMISSION_WIDTH]


class ReadingSink:
    """Writes Kafka reading records; one instance per lane, owning one connection.

    Without a `library` the factor library is the database's, read again every _CACHE_TTL_S; with one (tests,
    benchmarks) that library is used throughout. The sites' locations are always read from the database."""

    def __init__(self, conn: psycopg.AsyncConnection, library: FactorLibrary | None = None) -> None:
        self._conn = conn
        self._library = library
        self._grid: SiteGridFactors | None = None
        self._grid_loaded_at = 0.0
        self._scopes = ScopeRollups(conn)
        self._gateways: dict[str, int] = {}
        self._points: dict[str, dict[str, _PointInfo]] = {}  # device -> point -> info
        self._counters: dict[str, dict[int, _PointInfo]] = {}  # device -> counter points by key
        self._limits: dict[str, dict[int, Limits]] = {}  # device -> limits of its points that have one, by key
        self._points_loaded_at = 0.0
        self._rows_horizon: tuple[datetime | None] | None = None
        self._raw_horizon_us: int | None = None
        self._raw_horizon_read_at: float | None = None
        self.readings_written = 0
        self.readings_too_old = 0  # dropped: older than the raw retention horizon
        self.emissions_written = 0
        self.readings_implausible = 0  # counter readings stored as bad by the plausibility check

    async def _gateway_key(self, gateway: str) -> int:
        if gateway not in self._gateways:
            cur = await self._conn.execute(
                "INSERT INTO gateways (gateway_id) VALUES (%s) ON CONFLICT (gateway_id)"
                " DO UPDATE SET gateway_id = EXCLUDED.gateway_id RETURNING gateway_key",
                (gateway,),
            )
            row = await cur.fetchone()
            assert row is not None
            self._gateways[gateway] = row[0]
        return self._gateways[gateway]

    async def _point_infos(self, record: DeviceColumns) -> dict[str, _PointInfo]:
        """The device's points by name, registering those the record brings for the first time.

        Re-read from the database every _CACHE_TTL_S, which picks up what administrators changed (activities,
        sites, profiles); the first record after a re-read also records a known point's new unit or kind as
        sent. Points that did not change are not written again (each rewrite left a dead row and its WAL)."""
        if time.monotonic() - self._points_loaded_at > _CACHE_TTL_S:
            self._points.clear()
            self._counters.clear()
            self._limits.clear()
            self._points_loaded_at = time.monotonic()
        device = record.device
        known = self._points.get(device)
        reread = known is None
        if known is None:
            known = self._points[device] = await self._load_points(device)
        # between re-reads only new points are written; at a re-read, also the points whose unit or kind changed
        changed = {(p, u, k) for p, u, k in zip(record.point, record.unit, record.kind)
                   if (info := known.get(p)) is None or (reread and (info.source_unit != u or info.kind != k))}
        if changed:
            # one statement for all of a device's new points (a new gateway's first batch brings hundreds);
            # a point sent twice with different units or kinds keeps the last, as one statement each did
            chosen = {point: (unit, PointKind(kind).value) for point, unit, kind in sorted(changed)}
            # a new point stores its storage unit; one from before 072_point_units keeps the unit as sent
            await self._conn.execute(
                "INSERT INTO points (device_id, point, unit, kind, source_unit)"
                " SELECT %s, v.point, v.unit, v.kind, v.source FROM unnest(%s::text[], %s::text[], %s::text[],"
                " %s::text[]) AS v(point, unit, kind, source) ORDER BY v.point"
                " ON CONFLICT (device_id, point) DO UPDATE SET kind = EXCLUDED.kind, source_unit = EXCLUDED.source_unit,"
                " unit = CASE WHEN points.normalised THEN EXCLUDED.unit ELSE EXCLUDED.source_unit END",
                (device, list(chosen), [storage_unit(u) for u, _ in chosen.values()],
                 [k for _, k in chosen.values()], [u for u, _ in chosen.values()]),
            )
            known = self._points[device] = await self._load_points(device)
        if changed or device not in self._counters:
            self._counters[device] = {info.key: info for info in known.values() if info.counter}
            self._limits[device] = {info.key: info.limits for info in known.values() if info.limits is not None}
        return known

    async def _load_points(self, device: str) -> dict[str, _PointInfo]:
        """A device's stored points by name, with its site and each point's rollover from its profile."""
        cur = await self._conn.execute(
            f"SELECT {_POINT_COLUMNS} FROM points p LEFT JOIN devices d ON d.device_id = p.device_id"
            " WHERE p.device_id = %s", (device,),
        )
        return {row[1]: _point_info(*row) for row in await cur.fetchall()}

    async def write(self, records: Sequence[DeviceColumns | DeviceBatch]) -> None:
        """Store a list of Kafka records (or device batches) atomically; safe to call again with the same ones."""
        async with self._conn.transaction():
            # first, while the transaction holds nothing another writer could wait for: a concurrent write of
            # one of these devices commits before this one checks what is stored
            await lock_devices(self._conn, {(r.gateway, r.device) for r in records})
            batches: list[Batch] = []
            counters: dict[int, _PointInfo] = {}  # counter points of the write by key: their readings drive deltas
            seen: dict[str, int] = {}  # device -> its newest gateway time in the write
            old_before_at = datetime.now(UTC) - SINK_CHECK_AGE
            old_before = epoch_us(old_before_at)
            has_old = False
            horizon = await self._raw_horizon()
            too_old = 0
            for record in records:
                if isinstance(record, DeviceBatch):
                    if not record.readings:
                        continue
                    record = device_columns(record.gateway, record.device, record.received_at, record.backlog,
                                            record.readings)
                oldest = min(record.source_us)
                keep: list[int] | None = None  # positions of the readings kept, when some are too old
                if horizon is not None and oldest < horizon:  # rare: only then is each reading compared
                    keep = [i for i, us in enumerate(record.source_us) if us >= horizon]
                    too_old += len(record.seq) - len(keep)
                    if not keep:
                        continue
                    oldest = min(record.source_us[i] for i in keep)
                gkey = await self._gateway_key(record.gateway)
                points = await self._point_infos(record)
                infos = [points[p] for p in record.point]
                values, qualities = _stored_columns(record, infos)
                batch = Batch(gkey, record.device, record.seq, record.source_us, [i.key for i in infos], values,
                              qualities)
                batches.append(batch if keep is None else batch.only(keep))
                counters.update(self._counters[record.device])
                has_old = has_old or oldest < old_before
                seen[record.device] = max(seen.get(record.device, record.last_gateway_us), record.last_gateway_us)
            if too_old and horizon is not None:
                # not dead-lettered: retention has deleted their period, as it would delete them
                log.warning("dropped %d readings older than the raw retention horizon %s: their period was deleted"
                            " by retention, so they are not stored or counted again", too_old,
                            from_epoch_us(horizon).isoformat())
                self.readings_too_old += too_old
            batches = distinct_readings(batches)
            if not batches:
                return
            state = await self._counter_state(sorted(counters))
            batches, flags = self._screened(batches, state)
            new_counter_rows = await store_batches(
                self._conn, batches, sorted(counters), old_before=old_before_at if has_old else None,
                rows_newest=await self._rows_newest())
            # last contact only: a device's gateway is its binding, which ingest checks and only an administrator
            # changes (carbonflow/device_bindings.py), never the gateway a record happens to come from
            await self._conn.execute(
                "UPDATE devices d SET last_seen = greatest(d.last_seen, v.ts)"
                " FROM unnest(%s::text[], %s::timestamptz[]) AS v(device, ts) WHERE d.device_id = v.device",
                (list(seen), [from_epoch_us(us) for us in seen.values()]),
            )
            await self._record_flags(flags, new_counter_rows)
            await self._advance_counters(new_counter_rows, counters, state)
            self.readings_written += sum(len(b.seqs) for b in batches)

    async def _site_factors(self) -> SiteGridFactors:
        """The sites' grid factors, read again (sites and, unless fixed, the factor library) after _CACHE_TTL_S."""
        if self._grid is not None and time.monotonic() - self._grid_loaded_at <= _CACHE_TTL_S:
            return self._grid
        library = self._library
        if library is None:
            try:
                library = await load_factor_library(self._conn)
            except ValueError as exc:  # a row written past the API's checks (a duplicate id, a malformed row)
                if self._grid is None:
                    raise
                # the readings are not to blame: keep accounting with the library read last, and say why
                log.error("the factor library could not be read again, so the one read before is used: %s", exc)
                library = self._grid.library
        self._grid = SiteGridFactors(library, await load_site_locations(self._conn))
        self._grid_loaded_at = time.monotonic()
        return self._grid

    async def _rows_newest(self) -> datetime | None:
        """The newest reading stored as a row of `readings` when batches came (085), read once per sink."""
        if self._rows_horizon is None:
            cur = await self._conn.execute("SELECT max(newest) FROM reading_rows_horizon")
            row = await cur.fetchone()
            self._rows_horizon = (row[0] if row else None,)
        return self._rows_horizon[0]

    async def _raw_horizon(self) -> int | None:
        """The raw retention horizon (retention_horizon 'raw') in microseconds since the epoch, None before any
        retention; re-read after _HORIZON_TTL_S."""
        now = time.monotonic()
        if self._raw_horizon_read_at is None or now - self._raw_horizon_read_at > _HORIZON_TTL_S:
            before = await raw_horizon(self._conn)
            self._raw_horizon_us = None if before is None else epoch_us(before)
            self._raw_horizon_read_at = now
        return self._raw_horizon_us

    async def _counter_state(self, keys: list[int]) -> dict[int, CounterState]:
        """The counters' state (their last counted reading), locked until the write commits."""
        if not keys:
            return {}
        cur = await self._conn.execute(
            "SELECT point_key, ts, value FROM point_state WHERE point_key = ANY(%s) ORDER BY point_key FOR UPDATE",
            (keys,),
        )
        return {k: CounterState(ts, v) for k, ts, v in await cur.fetchall()}

    def _screened(self, batches: list[Batch], state: dict[int, CounterState]) -> tuple[list[Batch], list[Flag]]:
        """The batches with their implausible readings made bad, and the flags of the implausible counter
        readings; each counter judged from its state on (stream_jobs/plausibility.py)."""
        bases = {k: (epoch_us(s.ts), s.value) for k, s in state.items()}
        flags: list[Flag] = []
        out = []
        for batch in batches:
            limits = self._limits.get(batch.device)
            if limits:
                qualities, found = screen_batch(batch.gateway_key, batch.seqs, batch.times_us, batch.point_keys,
                                                batch.values, batch.qualities, limits, bases)
                if qualities is not None:
                    batch = replace(batch, qualities=qualities)
                    flags += found
            out.append(batch)
        return out, flags

    async def _record_flags(self, flags: list[Flag], new_counter_rows: list[tuple]) -> None:
        """Keep the flags of the implausible counter readings that were stored now (not those of a replay)."""
        if not flags:
            return
        stored = {(r[0], r[1], epoch_us(r[2]), r[3]) for r in new_counter_rows if r[5] >= 2}
        new = [f for f in flags if (f.gateway_key, f.seq, f.ts_us, f.point_key) in stored]
        if new:
            log.warning("%d implausible counter readings stored as bad, e.g. point %s at %s: %s", len(new),
                        new[0].point_key, from_epoch_us(new[0].ts_us).isoformat(), new[0].finding.detail)
            self.readings_implausible += await record_flags(self._conn, new)

    async def _advance_counters(self, new_rows: list[tuple], infos: dict[int, _PointInfo],
                                state: dict[int, CounterState]) -> None:
        """Counter state, deltas and emissions from the new counter readings (infos: their points by key; state:
        `_counter_state` of them, advanced here)."""
        counters = sorted(
            (r for r in new_rows if r[4] is not None and r[5] < 2),
            key=lambda r: (r[3], r[2]),
        )
        if not counters:
            return
        await self._site_factors()
        keys = sorted({r[3] for r in counters})
        intervals: list[tuple] = []
        late: dict[int, list[tuple]] = {}
        for row in counters:
            _gkey, _seq, ts, pkey, value, _quality = row
            previous = state.get(pkey)
            if previous is not None and ts <= previous.ts:
                late.setdefault(pkey, []).append(row)  # backlog behind newer data: re-derive that stretch
                continue
            state[pkey] = CounterState(ts, value)
            delta = counter_delta(previous, ts, value, infos[pkey].rollover)
            if delta is not None:
                intervals.extend(self._emission_rows(infos[pkey], row, delta))
        for pkey, rows in late.items():
            intervals.extend(await self._rederive(pkey, rows, infos[pkey]))
        emissions, activity = _by_table(intervals)
        async with self._conn.cursor() as c:
            await c.executemany(
                "INSERT INTO point_state (point_key, ts, value) VALUES (%s, %s, %s)"
                " ON CONFLICT (point_key) DO UPDATE SET ts = EXCLUDED.ts, value = EXCLUDED.value",
                [(k, s.ts, s.value) for k, s in state.items() if k in keys],
            )
        if emissions or activity:
            await self._lock_scope_rollups()
        await self._scopes.upsert("emissions", emissions)
        await self._scopes.upsert("activity_intervals", activity)
        self.emissions_written += len(emissions)

    def _emission_rows(self, info: _PointInfo, row: tuple, delta: Delta) -> list[tuple]:
        """The emission row of one interval ending at `row` (an activity interval for a production counter), or
        none for a point without an activity."""
        gkey, seq, ts, pkey, _value, quality = row
        if info.activity is not None and info.activity.startswith(_PRODUCTION):
            return [(gkey, seq, ts, delta.start_ts, pkey, info.site_id, info.activity, delta.amount, info.unit,
                     max(quality, 1 if delta.note else 0))]
        if info.activity not in EMITTING_ACTIVITIES:
            return []
        factors = self._grid
        assert factors is not None, "_site_factors is read before intervals are derived"
        try:
            grid = factors.row(info.site_id, ts) if info.activity == "electricity" else None
            result = emission_for_activity(info.activity, delta.amount, info.unit, ts, factors.library, grid=grid)
        except DomainError as exc:
            log.warning("point %s: no emission computed: %s", pkey, exc)
            return []
        return [(gkey, seq, ts, delta.start_ts, pkey, info.site_id, info.activity, result.quantity,
                 result.quantity_unit, result.tco2, list(result.factor_ids), result.formula,
                 max(quality, 1 if delta.note else 0), result.energy_kwh)]

    async def _rederive(self, pkey: int, late_rows: list[tuple], info: _PointInfo) -> list[tuple]:
        """Recompute the intervals of a stretch that late readings fell into, from the stored readings."""
        return await self.stretch_emissions(pkey, info, late_rows[0][2], late_rows[-1][2])

    async def stretch_emissions(self, pkey: int, info: _PointInfo, lo: datetime, hi: datetime) -> list[tuple]:
        """Emission rows of every interval ending in [lo, hi] and of the first one after, from stored readings:
        those accounting counts (good or uncertain) and the implausible rises a person accepted."""
        await self._site_factors()
        cur = await self._conn.execute(
            "SELECT * FROM cf_point_last(%(p)s, '-infinity', %(lo)s, 1, true)"
            " UNION ALL (SELECT * FROM cf_point_readings(%(p)s, %(lo)s, %(hi)s + interval '1 microsecond')"
            "  WHERE quality < 2 AND value IS NOT NULL)"
            " UNION ALL SELECT * FROM cf_point_first(%(p)s, %(hi)s + interval '1 microsecond', 'infinity', 1, true)"
            " UNION ALL (SELECT gateway_key, seq, ts, point_key, value, 0::smallint FROM implausible_readings"
            "  WHERE point_key = %(p)s AND state = 'accepted' AND ts < %(lo)s ORDER BY ts DESC LIMIT 1)"
            " UNION ALL SELECT gateway_key, seq, ts, point_key, value, 0::smallint FROM implausible_readings"
            "  WHERE point_key = %(p)s AND state = 'accepted' AND ts >= %(lo)s AND ts <= %(hi)s"
            " UNION ALL (SELECT gateway_key, seq, ts, point_key, value, 0::smallint FROM implausible_readings"
            "  WHERE point_key = %(p)s AND state = 'accepted' AND ts > %(hi)s ORDER BY ts LIMIT 1)",
            {"p": pkey, "lo": lo, "hi": hi},
        )
        stretch = sorted(await cur.fetchall(), key=lambda r: (r[2], r[1]))
        # the reading before the stretch and the one after it: the newer (older) of the stored and the accepted one
        before = [r for r in stretch if r[2] < lo][-1:]
        after = [r for r in stretch if r[2] > hi][:1]
        stretch = before + [r for r in stretch if lo <= r[2] <= hi] + after
        rows: list[tuple] = []
        previous: CounterState | None = None
        for row in stretch:
            delta = counter_delta(previous, row[2], row[4], info.rollover)
            if delta is not None:
                rows.extend(self._emission_rows(info, row, delta))
            if previous is None or row[2] > previous.ts:
                previous = CounterState(row[2], row[4])
        return rows

    async def accounted_points(self, site: str) -> list[tuple[int, _PointInfo]]:
        """Counter points of a site bound to an emitting activity or to production, with their rollover in the
        unit they are stored in (as the live path takes it)."""
        cur = await self._conn.execute(
            f"SELECT {_POINT_COLUMNS} FROM points p JOIN devices d USING (device_id)"
            " WHERE d.site_id = %s AND p.kind = 'counter' AND (p.activity = ANY(%s) OR p.activity LIKE %s)"
            " ORDER BY p.point_key",
            (site, sorted(EMITTING_ACTIVITIES), _PRODUCTION + "%"),
        )
        return [(info.key, info) for info in (_point_info(*row) for row in await cur.fetchall())]

    async def upsert_intervals(self, rows: list[tuple]) -> None:
        """Insert emission and production-interval rows, replacing the stored row of the same interval."""
        emissions, activity = _by_table(rows)
        await self._scopes.upsert("emissions", emissions)
        await self._scopes.upsert("activity_intervals", activity)

    async def _lock_scope_rollups(self) -> None:
        """Take the scope-rollup lock until the end of the transaction.

        The live path's sinks on other connections (the stream worker's lanes, other workers) add to the
        same site, process and enterprise rows; updating them one transaction at a time, in commit order,
        keeps two transactions from each waiting for a row the other has updated.
        """
        await self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCOPE_ROLLUP_LOCK,))
