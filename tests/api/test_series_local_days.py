"""GET /series?interval=1d: days run from local midnight in `tz` (default Asia/Shanghai), in rows and columns."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient


def _params(**extra: str) -> dict[str, str]:
    end = datetime.now(UTC)
    return {"device": "m-dev-a", "point": "power_kw", "start": (end - timedelta(days=3)).isoformat(),
            "end": end.isoformat(), "interval": "1d", **extra}


@pytest.mark.parametrize("tz", [None, "Asia/Shanghai", "UTC", "Asia/Kolkata"])
@pytest.mark.parametrize("fmt", ["rows", "columns"])
def test_day_buckets_start_at_local_midnight(api_app_client: TestClient, role_headers: dict[str, dict[str, str]],
                                             tz: str | None, fmt: str) -> None:
    params = _params(format=fmt, **({"tz": tz} if tz else {}))
    answer = api_app_client.get("/api/v1/series", headers=role_headers["government"], params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    stamps = body["columns"]["ts"] if fmt == "columns" else [p["ts"] for p in body["points"]]
    zone = ZoneInfo(tz or "Asia/Shanghai")
    assert stamps and {datetime.fromisoformat(s).astimezone(zone).time() for s in stamps} == {time(0)}


def test_an_unknown_time_zone_is_refused_with_422(api_app_client: TestClient,
                                                  role_headers: dict[str, dict[str, str]]) -> None:
    answer = api_app_client.get("/api/v1/series", headers=role_headers["government"],
                                params=_params(tz="Mars/Olympus_Mons"))
    assert answer.status_code == 422
    assert "unknown time zone 'Mars/Olympus_Mons'" in answer.json()["detail"]
