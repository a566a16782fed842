"""Storage benchmark: bytes per raw reading at rest on plain PostgreSQL, for dense and sparse points.

Readings go through the stream job's sink (stream_jobs/sink.py: hot batches, rollups, counters) into a scratch
database, simulated hour by hour as a running system would see them: after each hour the compaction job
runs with its default 2-hour horizon (carbonflow/db/compaction.py) and the hot tables are vacuumed, as
autovacuum would, so the space of what compaction moved is reused. Measured per profile:

- bytes_per_hot_reading: the hot batches (reading_batches, heap + 3 indexes) / readings in them, after two
  hours, before compaction;
- bytes_per_compacted_reading: reading_blocks (heap, TOAST, primary key) / readings in blocks;
- bytes_per_raw_reading: everything at rest once every hour is closed and compacted: readings and
  reading_batches (their emptied pages included) + reading_blocks, with every index and TOAST table, /
  readings stored.

Profiles: `dense`, 50 points polled every second (one meter's registers); `sparse`, 1,000 points every minute.
Values are float32 register values (a random walk), timestamps whole seconds plus poll jitter, sequence
numbers gateway-wide as an edge agent allocates them. Writes bench/results/storage.json.
PostgreSQL: $DATABASE_URL's server, else 127.0.0.1:5432, else embedded; a scratch database per profile.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import struct
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import create_scratch_database, table_bytes, write_result

from carbon_domain.schemas import DeviceBatch, PointKind, Quality, Reading
from carbonflow.db.compaction import CompactionSettings, compact_readings
from stream_jobs.sink import ReadingSink, load_factor_library

POINTS_PER_DEVICE = 50
PROFILES = {"dense": (50, 1), "sparse": (1000, 60)}  # points, seconds between readings
_F32 = struct.Struct("<f")


def _float32(x: float) -> float:
    return _F32.unpack(_F32.pack(x))[0]


def _hour_of_readings(points: int, every_s: int, hour_start: datetime, seq: int,
                      values: list[float], rng: random.Random) -> tuple[list[list[DeviceBatch]], int]:
    """One hour of polls as lists of device batches, a list per write (a minute of polls, or ten)."""
    writes: list[list[DeviceBatch]] = []
    per_write = 60 if every_s == 1 else 600
    for write_start in range(0, 3600, per_write):
        batches = []
        for second in range(write_start, write_start + per_write, every_s):
            ts = hour_start + timedelta(seconds=second, microseconds=rng.randrange(20_000))
            for first in range(0, points, POINTS_PER_DEVICE):
                readings = []
                for p in range(first, min(points, first + POINTS_PER_DEVICE)):
                    values[p] = _float32(values[p] + rng.gauss(0, 0.5))
                    readings.append(Reading.model_construct(
                        seq=seq, device=f"dev{first // POINTS_PER_DEVICE:03d}", point=f"p{p:04d}", value=values[p],
                        unit="kW", kind=PointKind.GAUGE, quality=Quality.GOOD, reason=None, source_ts=ts,
                        gateway_ts=ts))
                    seq += 1
                batches.append(DeviceBatch.model_construct(gateway="gw-storage", device=readings[0].device,
                                                           received_at=ts, backlog=False, readings=readings))
        writes.append(batches)
    return writes, seq


async def _run_profile(name: str, hours: int) -> dict[str, object]:
    points, every_s = PROFILES[name]
    url, drop = create_scratch_database(f"cf_storage_{name}")
    rng = random.Random(5)
    values = [rng.uniform(50, 500) for _ in range(points)]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=3)
    settings = CompactionSettings()
    result: dict[str, object] = {"points": points, "seconds_between_readings": every_s, "hours": hours}
    try:
        # the sync connection for compaction and sizes: the same calls as `carbonflow db compact`
        conn = psycopg.connect(url, autocommit=True)
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as aconn:
            sink = ReadingSink(aconn, await load_factor_library(aconn))
            seq, written, compaction_s, write_s = 0, 0, 0.0, 0.0
            for hour in range(hours):
                writes, seq = _hour_of_readings(points, every_s, start + timedelta(hours=hour), seq, values, rng)
                t0 = time.monotonic()
                for batches in writes:
                    await sink.write(batches)
                    written += sum(len(b.readings) for b in batches)
                write_s += time.monotonic() - t0
                if hour == 1:
                    result["bytes_per_hot_reading"] = round(table_bytes(conn, "reading_batches") / written, 1)
                # the worker's timer, an hour of data later each time: hours closed two hours before move
                done = compact_readings(conn, settings, now=start + timedelta(hours=hour + 1))
                compaction_s += done["seconds"]
                conn.execute("VACUUM readings")
                conn.execute("VACUUM reading_batches")
            done = compact_readings(conn, settings, now=start + timedelta(hours=hours + 3))  # every hour closed
            compaction_s += done["seconds"]
            conn.execute("VACUUM readings")
            conn.execute("VACUUM reading_batches")
            stored = conn.execute("SELECT (SELECT count(*) FROM readings) + (SELECT count(*) FROM reading_batches),"
                                  " (SELECT sum(n) FROM reading_blocks)").fetchone()
            assert stored[0] == 0 and stored[1] == written, (stored, written)
            hot = table_bytes(conn, "readings") + table_bytes(conn, "reading_batches")
            blocks = table_bytes(conn, "reading_blocks")
            result.update({
                "readings": written,
                "bytes_per_raw_reading": round((hot + blocks) / written, 1),
                "bytes_per_compacted_reading": round(blocks / written, 1),
                "bytes_at_rest": {"readings and reading_batches": hot, "reading_blocks": blocks},
                "store_readings_per_s": round(written / write_s),
                "compaction_readings_per_s": round(written / compaction_s),
            })
        conn.close()
    finally:
        drop()
    print(f"{name}: {result}", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=12, help="hours of readings per profile")
    parser.add_argument("--no-write", action="store_true", help="print the result instead of writing storage.json")
    args = parser.parse_args()
    result: dict[str, object] = {name: asyncio.run(_run_profile(name, args.hours)) for name in PROFILES}
    result["storage"] = "plain PostgreSQL: hot batches (reading_batches) compacted into reading_blocks"
    result["command"] = f"python bench/storage_bench.py --hours {args.hours}"
    if args.no_write:
        print(result)
    else:
        print(f"wrote {write_result('storage', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
