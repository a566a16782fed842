"""GET /series?format=columns: one array per field (queries.point_series_columns), the same figures as the
default one object per point, for raw and bucketed series, gauges and counters, ragged windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.telemetry import queries
from tests.api.test_series_rollups import WINDOWS, Seeded, seeded  # noqa: F401  (seeded is a fixture)


def _as_rows(columns: dict[str, Any]) -> list[dict[str, Any]]:
    fields = [f for f in columns if f != "quality_counts"]
    rows = [dict(zip(fields, values, strict=True)) for values in zip(*(columns[f] for f in fields), strict=True)]
    if "quality_counts" in columns:
        counts = columns["quality_counts"]
        for row, good, uncertain, bad in zip(rows, counts["good"], counts["uncertain"], counts["bad"], strict=True):
            row["quality_counts"] = {"good": good, "uncertain": uncertain, "bad": bad}
    return rows


@pytest.mark.parametrize("interval", ["raw", "1m", "1h", "1d"])
@pytest.mark.parametrize("point", ["power_kw", "energy_kwh"])
@pytest.mark.parametrize("window", ["everything", "ragged-edges", "inside-one-minute", "before-the-data"])
async def test_columns_hold_the_same_figures_as_points(
    database_url: str, seeded: Seeded, window: str, point: str, interval: str,  # noqa: F811
) -> None:
    start, end = WINDOWS[window]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        columns = await queries.point_series_columns(conn, device=seeded.device, point=point, start=start, end=end,
                                                     interval=interval, sites=[seeded.site])
        rows = await queries.point_series(conn, device=seeded.device, point=point, start=start, end=end,
                                          interval=interval, sites=[seeded.site])
    assert columns is not None and rows is not None
    head = {k: v for k, v in rows.items() if k != "points"}
    assert ({k: v for k, v in columns.items() if k != "columns"}, _as_rows(columns["columns"])) == (head, rows["points"])


async def test_columns_of_a_hidden_point_are_none(database_url: str, seeded: Seeded) -> None:  # noqa: F811
    start, end = WINDOWS["everything"]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        hidden = await queries.point_series_columns(conn, device=seeded.device, point="power_kw", start=start,
                                                    end=end, interval="1h", sites=["some-other-site"])
    assert hidden is None


def test_series_answers_in_columns_when_asked(api_app_client: TestClient, role_headers: dict[str, dict[str, str]]) -> None:
    end = datetime.now(UTC)
    params = {"device": "m-dev-a", "point": "power_kw", "start": (end - timedelta(hours=1)).isoformat(),
              "end": end.isoformat(), "interval": "1m"}
    headers = role_headers["government"]
    rows = api_app_client.get("/api/v1/series", headers=headers, params=params).json()
    columns = api_app_client.get("/api/v1/series", headers=headers, params={**params, "format": "columns"}).json()
    hidden = api_app_client.get("/api/v1/series", headers=role_headers["enterprise"],
                                params={**params, "format": "columns"})
    assert (len(rows["points"]) > 0, _as_rows(columns["columns"]), hidden.status_code) == (True, rows["points"], 404)
