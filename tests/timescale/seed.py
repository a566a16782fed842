"""Seed the TimescaleDB test server with multi-row INSERTs (COPY FROM STDIN breaks it: server.py).

A reading is the tuple the read functions return: (gateway_key, seq, ts, point_key, value, quality).
Each test names its own device, so that tests sharing the server see only their own points.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

__all__ = ["Reading", "device", "hot_batch", "readings_rows", "emission_rows"]

Reading = tuple[int, int, datetime, int, float | None, int]


def device(conn: psycopg.Connection, name: str, points: Sequence[str]) -> dict[str, int]:
    """A device `name` with `points`; returns each point's key."""
    conn.execute("INSERT INTO devices (device_id) VALUES (%s)", (name,))
    return {p: conn.execute("INSERT INTO points (device_id, point) VALUES (%s, %s) RETURNING point_key",
                            (name, p)).fetchone()[0] for p in points}  # type: ignore[index]


def readings_rows(conn: psycopg.Connection, readings: Sequence[Reading]) -> None:
    """`readings` as rows of the `readings` hypertable, in one statement."""
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(readings))
    conn.execute(f"INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality) VALUES {values}",
                 [v for r in readings for v in r])


def hot_batch(conn: psycopg.Connection, device_id: str, readings: Sequence[Reading]) -> None:
    """`readings` (one gateway) as one row of `reading_batches`, as the stream sink stores a device batch."""
    gateways = {r[0] for r in readings}
    assert len(gateways) == 1, "a batch comes from one gateway"
    conn.execute(
        "INSERT INTO reading_batches (gateway_key, device_id, seq_lo, seq_hi, ts_lo, ts_hi, point_keys, seqs,"
        " times, vals, qualities) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::smallint[])",
        (gateways.pop(), device_id, min(r[1] for r in readings), max(r[1] for r in readings),
         min(r[2] for r in readings), max(r[2] for r in readings), [r[3] for r in readings],
         [r[1] for r in readings], [r[2] for r in readings], [r[4] for r in readings], [r[5] for r in readings]))


def emission_rows(conn: psycopg.Connection, gateway_key: int, point_key: int, times: Sequence[datetime]) -> None:
    """One 0.5 tCO2 electricity emission of `point_key` at each of `times`, as rows of the hypertable."""
    values = ", ".join(["(%s, %s, %s, %s, %s, 'electricity', 1.0, 'MWh', 0.5, '{grid}', 'q*f', 0)"] * len(times))
    conn.execute("INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, activity, quantity,"
                 f" quantity_unit, tco2, factor_ids, formula, quality) VALUES {values}",
                 [v for i, t in enumerate(times) for v in (gateway_key, i, t, t, point_key)])
