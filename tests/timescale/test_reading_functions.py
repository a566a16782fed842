"""The read functions of raw readings (076, 085) on TimescaleDB: rows of the `readings` hypertable, hot
batches and compacted blocks alike, and the same answers once the hypertable's chunks are compressed."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from carbonflow.db.compaction import CompactionSettings, compact_readings
from tests.timescale.conftest import APP, acting_as
from tests.timescale.seed import Reading, device, hot_batch, readings_rows

_EDGES = ((2, False), (1, True), (0, True))  # (max quality, need a value) asked of cf_point_last / first


def _seed(conn: psycopg.Connection, name: str) -> tuple[dict[str, int], list[Reading], datetime]:
    """Two points of device `name`: rows at hours 0-1, a batch compacted into blocks at hour 2, a hot batch
    at hour 5, with uncertain, bad and empty readings among them. Returns the keys, readings and hour 0."""
    start: datetime = conn.execute("SELECT date_trunc('hour', now()) - interval '3 days'").fetchone()[0]  # type: ignore[index]
    keys = device(conn, name, ["kw", "v"])

    def stretch(gateway: int, first_seq: int, hour: int, n: int) -> list[Reading]:
        out: list[Reading] = []
        for i in range(n):
            point = keys["kw"] if i % 3 else keys["v"]
            quality = (0, 0, 1, 0, 2)[i % 5]
            value = None if i % 7 == 6 else 10.0 * hour + i
            out.append((gateway, first_seq + i, start + timedelta(hours=hour, minutes=7 * i), point, value, quality))
        return out

    # gateways of this test's own: readings of the hypertable are unique by (gateway, seq, ts) across points
    row_gateway, batch_gateway = 2 * keys["kw"], 2 * keys["kw"] + 1
    rows = stretch(row_gateway, 1, 0, 17)
    compacted, hot = stretch(batch_gateway, 100, 2, 8), stretch(batch_gateway, 200, 5, 8)
    readings_rows(conn, rows)
    hot_batch(conn, name, compacted)
    hot_batch(conn, name, hot)
    with acting_as(conn, APP):  # as the stream worker compacts: the batch of hour 2 only
        moved = compact_readings(conn, CompactionSettings(120), now=start + timedelta(hours=5, minutes=30),
                                 point_keys=list(keys.values()))
    assert (moved["readings"], moved["blocks"]) == (8, 2)
    stores = conn.execute("SELECT (SELECT count(*) FROM reading_batches WHERE device_id = %s),"
                          " (SELECT count(*) FROM reading_blocks WHERE point_key = ANY(%s))",
                          (name, list(keys.values()))).fetchone()
    assert stores == (1, 2)  # one batch hot, the other in a block per point
    return keys, rows + compacted + hot, start


def _answers(conn: psycopg.Connection, keys: dict[str, int], start: datetime) -> dict:
    """What the read functions say of the seeded points, over the whole stretch and a part of it."""
    out: dict = {}
    ranges = {"all": (start - timedelta(days=1), start + timedelta(days=1)),
              # half-open: 07:00 after hour 0 is a reading (in), hour 5 + 14 min is one (out)
              "part": (start + timedelta(minutes=7), start + timedelta(hours=5, minutes=14))}
    for point, key in keys.items():
        for name, (lo, hi) in ranges.items():
            out[point, name] = sorted(conn.execute("SELECT * FROM cf_point_readings(%s, %s, %s)",
                                                   (key, lo, hi)).fetchall(), key=lambda r: (r[2], r[0], r[1]))
            for fn in ("cf_point_last", "cf_point_first"):
                for max_quality, need_value in _EDGES:
                    out[point, name, fn, max_quality, need_value] = conn.execute(
                        f"SELECT * FROM {fn}(%s, %s, %s, %s, %s)", (key, lo, hi, max_quality, need_value)).fetchone()
    points = list(keys.values())
    out["count"] = conn.execute("SELECT cf_points_reading_count(%s, 1000)", (points,)).fetchone()[0]  # type: ignore[index]
    out["count capped"] = conn.execute("SELECT cf_points_reading_count(%s, 5)", (points,)).fetchone()[0]  # type: ignore[index]
    out["all_readings"] = conn.execute("SELECT count(*) FROM all_readings WHERE point_key = ANY(%s)",
                                       (points,)).fetchone()[0]  # type: ignore[index]
    return out


def _expected(keys: dict[str, int], readings: list[Reading], start: datetime) -> dict:
    """The same answers worked out from the seeded readings."""
    out: dict = {}
    ranges = {"all": (start - timedelta(days=1), start + timedelta(days=1)),
              "part": (start + timedelta(minutes=7), start + timedelta(hours=5, minutes=14))}
    for point, key in keys.items():
        for name, (lo, hi) in ranges.items():
            inside = sorted((r for r in readings if r[3] == key and lo <= r[2] < hi), key=lambda r: (r[2], r[0], r[1]))
            out[point, name] = inside
            for max_quality, need_value in _EDGES:
                match = [r for r in inside if r[5] <= max_quality and (r[4] is not None or not need_value)]
                out[point, name, "cf_point_last", max_quality, need_value] = match[-1] if match else None
                out[point, name, "cf_point_first", max_quality, need_value] = match[0] if match else None
    out["count"], out["count capped"], out["all_readings"] = len(readings), 5, len(readings)
    return out


def test_the_read_functions_see_hypertable_rows_hot_batches_and_blocks_alike(conn: psycopg.Connection) -> None:
    keys, readings, start = _seed(conn, "rf-three-stores")
    with acting_as(conn, APP):
        answers = _answers(conn, keys, start)
    edges = [v for k, v in answers.items() if isinstance(k, tuple) and len(k) == 5]
    assert None not in edges  # every filter has a reading to find, in every range
    assert answers == _expected(keys, readings, start)


def test_the_read_functions_answer_the_same_from_compressed_chunks(conn: psycopg.Connection) -> None:
    keys, readings, start = _seed(conn, "rf-compressed")
    with acting_as(conn, APP):
        before = _answers(conn, keys, start)
    compressed = conn.execute(
        "SELECT count(compress_chunk(c, if_not_compressed => true)) FROM show_chunks('readings',"
        " newer_than => %s::timestamptz, older_than => %s::timestamptz) c",
        (start - timedelta(days=1), start + timedelta(days=1))).fetchone()[0]  # type: ignore[index]
    still_rows = conn.execute(
        "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'readings'"
        " AND NOT is_compressed AND range_end > %s AND range_start <= %s", (start, start)).fetchone()[0]  # type: ignore[index]
    with acting_as(conn, APP):
        after = _answers(conn, keys, start)
    assert (compressed >= 1, still_rows) == (True, 0)
    assert after == before == _expected(keys, readings, start)
