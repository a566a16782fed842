"""GET /series answers with JSON built by PostgreSQL (queries.point_series_json): the same answer as
point_series encoded by FastAPI, for raw and bucketed series, gauges and counters, ragged windows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import psycopg
import pytest
from fastapi.encoders import jsonable_encoder

from api import queries
from tests.api.test_series_rollups import WINDOWS, Seeded, seeded  # noqa: F401  (seeded is a fixture)


def _instants(answer: dict[str, Any]) -> dict[str, Any]:
    # PostgreSQL writes fractions of a second without trailing zeros (.5), Python with six digits (.500000)
    return {**answer, "points": [{**p, "ts": datetime.fromisoformat(p["ts"])} for p in answer["points"]]}


@pytest.mark.parametrize("interval", ["raw", "1m", "1h", "1d"])
@pytest.mark.parametrize("point", ["power_kw", "energy_kwh"])
@pytest.mark.parametrize("window", ["everything", "ragged-edges", "inside-one-minute", "before-the-data"])
async def test_series_json_is_the_encoded_point_series(
    database_url: str, seeded: Seeded, window: str, point: str, interval: str,  # noqa: F811
) -> None:
    start, end = WINDOWS[window]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        as_json = await queries.point_series_json(conn, device=seeded.device, point=point, start=start, end=end,
                                                  interval=interval, sites=[seeded.site])
        answer = await queries.point_series(conn, device=seeded.device, point=point, start=start, end=end,
                                            interval=interval, sites=[seeded.site])
    assert as_json is not None and answer is not None
    assert _instants(json.loads(as_json)) == _instants(jsonable_encoder(answer))


async def test_series_json_of_a_hidden_point_is_none(database_url: str, seeded: Seeded) -> None:  # noqa: F811
    start, end = WINDOWS["everything"]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        hidden = await queries.point_series_json(conn, device=seeded.device, point="power_kw", start=start, end=end,
                                                 interval="1h", sites=["some-other-site"])
    assert hidden is None
