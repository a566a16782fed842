"""Every role against every GHG-accounting endpoint: allowed, refused (401/403) or hidden (404).

acc-flow is in CN-ZJ-NB (seen by gov, by aud, and by ent as its own enterprise); acc-gd is in CN-GD (seen by
gov_gd, aud_gd and ent_gd). Technicians have no 'emissions' permission; only administrators write factors and
benchmarks; only the enterprise itself (or an administrator) enters activity data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

LINE = {"period": "2019-05", "process": "auxiliary", "source_type": "heat", "item": "heat", "quantity": 1,
        "unit": "GJ", "direction": "in"}


def _factor() -> dict[str, Any]:
    series = f"test-{uuid.uuid4().hex[:8]}"
    return {"factor_id": f"heat.test@{series}", "key": "heat.test", "value": 0.1, "unit": "tCO2/GJ",
            "scope": "national", "scope_id": "cn", "valid_from": "2020-01-01", "series": series, "source": "test"}


_INDICATOR = {"benchmark_tco2_per_t": 0.3, "source": "test"}
_CEMS = {"q_s_m3_h": 1000, "t_s_c": 20, "p_s_pa": 0, "x_sw": 0.1, "c_wet_pct": 10}
# endpoint -> (method, path, JSON body factory)
ENDPOINTS: dict[str, tuple[str, str, Callable[[], Any] | None]] = {
    "inventory-flow": ("GET", "/api/v1/inventory/acc-flow?year=2025", None),
    "inventory-gd": ("GET", "/api/v1/inventory/acc-gd?year=2025", None),
    "activity-list-flow": ("GET", "/api/v1/inventory/acc-flow/activity", None),
    "activity-post-flow": ("POST", "/api/v1/inventory/acc-flow/activity", lambda: {"lines": [LINE]}),
    "activity-post-gd": ("POST", "/api/v1/inventory/acc-gd/activity", lambda: {"lines": [LINE]}),
    "gap-flow": ("GET", "/api/v1/inventory/acc-flow/benchmarks?year=2025", None),
    "report-flow-pdf": ("GET", "/api/v1/reports/acc-flow/2019.pdf", None),  # 2019 has LINE (a year without
    "report-gd-xlsx": ("GET", "/api/v1/reports/acc-gd/2019.xlsx", None),  # data has no report: 404)
    "workflow-gd": ("GET", "/api/v1/reports/acc-gd/2025/workflow", None),
    "factors": ("GET", "/api/v1/factors?key=heat.default", None),
    "factor-post": ("POST", "/api/v1/factors", _factor),
    "indicators": ("GET", "/api/v1/process-benchmarks", None),
    "indicator-put": ("PUT", "/api/v1/process-benchmarks/coking/any/coke", lambda: _INDICATOR),
    "cems": ("POST", "/api/v1/calculations/cems", lambda: _CEMS),
    # what the data-entry and reports pages read (api/accounting/routers/activity_entry.py, report_list.py)
    "activity-options-flow": ("GET", "/api/v1/inventory/acc-flow/activity-options", None),
    "activity-template-flow": ("GET", "/api/v1/inventory/acc-flow/activity-template.xlsx?year=2019", None),
    "activity-version-flow": ("GET", "/api/v1/inventory/acc-flow/activity/1", None),
    "reports-list": ("GET", "/api/v1/reports", None),  # cut down to the scope: tests/accounting/test_report_pages_api.py
}
READ_ALL = {"factors": 200, "indicators": 200, "cems": 200, "factor-post": 403, "indicator-put": 403}
_PAGES_FLOW = ("activity-options-flow", "activity-template-flow", "activity-version-flow")
FLOW = {"inventory-flow": 200, "activity-list-flow": 200, "gap-flow": 200, "report-flow-pdf": 200,
        "reports-list": 200} | dict.fromkeys(_PAGES_FLOW, 200)
NOT_FLOW = {name: 404 for name in ("inventory-flow", "activity-list-flow", "gap-flow", "report-flow-pdf",
                                   "activity-post-flow", *_PAGES_FLOW)} | {"reports-list": 200}
GD = {"inventory-gd": 200, "report-gd-xlsx": 200, "workflow-gd": 200}
NOT_GD = {"inventory-gd": 404, "report-gd-xlsx": 404, "workflow-gd": 404, "activity-post-gd": 404}
EXPECTED: dict[str, dict[str, int]] = {
    "anonymous": {name: 401 for name in ENDPOINTS},
    "ent": READ_ALL | FLOW | NOT_GD | {"activity-post-flow": 201},
    "ent_gd": READ_ALL | NOT_FLOW | GD | {"activity-post-gd": 201},
    "gov": READ_ALL | FLOW | NOT_GD | {"activity-post-flow": 403},
    "gov_gd": READ_ALL | NOT_FLOW | GD | {"activity-post-gd": 403},
    "aud": READ_ALL | FLOW | NOT_GD | {"activity-post-flow": 403},
    "aud_gd": READ_ALL | NOT_FLOW | GD | {"activity-post-gd": 403},
    "tech": READ_ALL | {name: 403 for name in ENDPOINTS if name not in READ_ALL},
    "admin": {name: 200 for name in ENDPOINTS} | {"activity-post-flow": 201, "activity-post-gd": 201,
                                                  "factor-post": 201},
}
CASES = [(user, endpoint, status) for user, row in EXPECTED.items() for endpoint, status in row.items()]


@pytest.fixture(scope="module", autouse=True)
def reported_year(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    """LINE entered for both enterprises before any report is read (the matrix enters it again later)."""
    for enterprise in ("acc-flow", "acc-gd"):
        r = client.post(f"/api/v1/inventory/{enterprise}/activity", headers=headers["admin"], json={"lines": [LINE]})
        assert r.status_code == 201, r.text


def test_matrix_covers_every_user_and_endpoint() -> None:
    assert all(set(row) == set(ENDPOINTS) for row in EXPECTED.values())


@pytest.mark.parametrize(("user", "endpoint", "status"), CASES, ids=[f"{u}-{e}" for u, e, _ in CASES])
def test_access(client: TestClient, headers: dict[str, dict[str, str]], user: str, endpoint: str,
                status: int) -> None:
    method, path, body = ENDPOINTS[endpoint]
    r = client.request(method, path, headers=headers[user], json=body() if body else None)
    assert r.status_code == status, r.text
    if status >= 400:
        assert r.json()["detail"]  # every refusal says why
