"""Every role against every endpoint: allowed, refused (401/403), hidden (404) or cut down to its scope.

Scopes (see conftest): government CN-ZJ sees enterprises a and c (CN-ZJ-HZ is a sub-region), enterprise
sees b, the auditor is assigned a and b, technician and admin see everything.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import T0, unique

A, B, C = "m-dev-a", "m-dev-b", "m-dev-c"
WINDOW = {"start": T0.isoformat(), "end": (T0.replace(hour=12)).isoformat()}


def _ids(items: list[dict[str, Any]], key: str) -> frozenset[str]:
    return frozenset(i[key] for i in items if str(i[key]).startswith(("m-dev-", "m-gw-", "m-site-")))


def _created(r: httpx.Response) -> str:
    return "created"


# endpoint -> (method, path, query or JSON body, what a successful answer is reduced to)
ENDPOINTS: dict[str, tuple[str, str, Callable[[], dict[str, Any]], Callable[[httpx.Response], Any]]] = {
    "health": ("GET", "/api/v1/health", dict, lambda r: "details" if "components" in r.json() else "status only"),
    "me": ("GET", "/api/v1/auth/me", dict, lambda r: r.json()["role"]),
    "devices": ("GET", "/api/v1/devices", dict, lambda r: _ids(r.json()["devices"], "device_id")),
    "gateways": ("GET", "/api/v1/gateways", dict, lambda r: _ids(r.json()["gateways"], "gateway_id")),
    "live": ("GET", "/api/v1/live", dict, lambda r: _ids(r.json()["values"], "device")),
    "series-a": ("GET", "/api/v1/series", lambda: {"device": A, "point": "power_kw", **WINDOW},
                 lambda r: len(r.json()["points"])),
    "series-b": ("GET", "/api/v1/series", lambda: {"device": B, "point": "power_kw", **WINDOW},
                 lambda r: len(r.json()["points"])),
    "emissions-a": ("GET", "/api/v1/emissions", lambda: {"site": "m-site-a", **WINDOW},
                    lambda r: r.json()["total_tco2"]),
    "emissions-b": ("GET", "/api/v1/emissions", lambda: {"site": "m-site-b", **WINDOW},
                    lambda r: r.json()["total_tco2"]),
    "audit": ("GET", "/api/v1/audit", lambda: {"limit": 5}, lambda r: "entries" in r.json()),
    "users": ("GET", "/api/v1/users", dict, lambda r: any(u["username"] == "root" for u in r.json()["users"])),
    "create-user": ("POST", "/api/v1/users", lambda: {"username": unique("made"), "role": "technician"}, _created),
    "assign-scope": ("PUT", "/api/v1/users/root/scope", dict, lambda r: r.json()["role"]),
    "create-token": ("POST", "/api/v1/auth/tokens", lambda: {"name": "matrix", "scopes": ["devices"]}, _created),
    "sites": ("GET", "/api/v1/sites", dict, lambda r: _ids(r.json()["sites"], "site_id")),
    "device-health": ("GET", "/api/v1/devices/health", dict, lambda r: _ids(r.json()["devices"], "device_id")),
    "overview-a": ("GET", "/api/v1/overview", lambda: {"site": "m-site-a", "day": "2026-03-01", "tz": "UTC"},
                   lambda r: r.json()["co2"]["total_tco2"]),
    "export-a": ("GET", "/api/v1/export/series.csv", lambda: {"device": A, "point": "power_kw", **WINDOW},
                 lambda r: r.text.count("\n2026-03-01T08:00:00+00:00,")),
    "benchmarks": ("GET", "/api/v1/benchmarks", dict, lambda r: "benchmarks" in r.json()),
    "set-benchmark": ("PUT", "/api/v1/benchmarks/m-site-a/crude_steel",
                      lambda: {"tco2_per_t": 1.8, "source": "matrix"}, lambda r: r.json()["tco2_per_t"]),
    "live-ticket": ("POST", "/api/v1/live/ticket", dict, lambda r: r.json()["ticket"][:5]),
    "sso-links": ("GET", "/api/v1/auth/sso/links", dict, lambda r: "links" in r.json()),
    "cert-identities": ("GET", "/api/v1/auth/cert/identities", dict, lambda r: "identities" in r.json()),
}
ALL_DEVICES = frozenset({A, B, C})
ALL_GATEWAYS = frozenset({"m-gw-a", "m-gw-b"})
ANONYMOUS = {name: 401 for name in ENDPOINTS} | {"health": "status only"}
SCOPED = {"health": "status only", "gateways": 403, "audit": 403, "users": 403, "create-user": 403,
          "assign-scope": 403, "create-token": "created", "set-benchmark": 403, "benchmarks": True,
          "live-ticket": "cfst_", "sso-links": 403, "cert-identities": 403}
ALL_SITES = frozenset({"m-site-a", "m-site-b", "m-site-c"})
EXPECTED: dict[str, dict[str, Any]] = {
    "anonymous": ANONYMOUS,
    "government": SCOPED | {"me": "government", "devices": frozenset({A, C}), "live": frozenset({A, C}),
                            "series-a": 1, "series-b": 404, "emissions-a": 1.0, "emissions-b": 404,
                            "sites": frozenset({"m-site-a", "m-site-c"}), "device-health": frozenset({A, C}),
                            "overview-a": 1.0, "export-a": 1},
    "enterprise": SCOPED | {"me": "enterprise", "devices": frozenset({B}), "live": frozenset({B}),
                            "series-a": 404, "series-b": 1, "emissions-a": 404, "emissions-b": 2.0,
                            "sites": frozenset({"m-site-b"}), "device-health": frozenset({B}), "overview-a": 404,
                            "export-a": 404},
    "auditor": SCOPED | {"me": "auditor", "devices": frozenset({A, B}), "live": frozenset({A, B}),
                         "series-a": 1, "series-b": 1, "emissions-a": 1.0, "emissions-b": 2.0,
                         "sites": frozenset({"m-site-a", "m-site-b"}), "device-health": frozenset({A, B}),
                         "overview-a": 1.0, "export-a": 1},
    "technician": SCOPED | {"health": "details", "me": "technician", "devices": ALL_DEVICES,
                            "gateways": ALL_GATEWAYS, "live": ALL_DEVICES, "series-a": 1, "series-b": 1,
                            "emissions-a": 403, "emissions-b": 403, "sites": ALL_SITES, "device-health": ALL_DEVICES,
                            "overview-a": 403, "export-a": 1, "benchmarks": 403},
    "admin": {"health": "details", "me": "admin", "devices": ALL_DEVICES, "gateways": ALL_GATEWAYS,
              "live": ALL_DEVICES, "series-a": 1, "series-b": 1, "emissions-a": 1.0, "emissions-b": 2.0,
              "audit": True, "users": True, "create-user": "created", "assign-scope": "admin",
              "create-token": "created", "sites": ALL_SITES, "device-health": ALL_DEVICES, "overview-a": 1.0,
              "export-a": 1, "benchmarks": True, "set-benchmark": 1.8, "live-ticket": "cfst_",
              "sso-links": True, "cert-identities": True},
}


def _parquet(r: httpx.Response) -> list[dict[str, Any]]:
    return pq.read_table(io.BytesIO(r.content)).to_pylist()  # type: ignore[no-any-return]


# auditor exports and period comparisons (api/telemetry/routers/export.py, export_scope.py; api/emissions/routers/compare.py)
ENDPOINTS.update({
    "export-parquet-a": ("GET", "/api/v1/export/series.parquet", lambda: {"device": A, "point": "power_kw", **WINDOW},
                         lambda r: len(_parquet(r))),
    "export-hourly-a": ("GET", "/api/v1/export/hourly.parquet", lambda: {"site": "m-site-a", **WINDOW},
                        lambda r: sum(row["tco2"] or 0 for row in _parquet(r))),
    "export-manifest-a": ("GET", "/api/v1/export/hourly/manifest", lambda: {"site": "m-site-a", **WINDOW},
                          lambda r: tuple(p["device"] for p in r.json()["points"])),
    "compare-a": ("GET", "/api/v1/emissions/compare", lambda: {"site": "m-site-a", "period": "2026-03"},
                  lambda r: r.json()["total_tco2"]["current"]),
})
_SEES_A = {"export-parquet-a": 1, "export-hourly-a": 1.0, "export-manifest-a": (A,), "compare-a": 1.0}
for _role, _row in {"anonymous": dict.fromkeys(_SEES_A, 401), "government": _SEES_A,
                    "enterprise": dict.fromkeys(_SEES_A, 404), "auditor": _SEES_A,
                    "technician": {**dict.fromkeys(_SEES_A, 403), "export-parquet-a": 1}, "admin": _SEES_A}.items():
    EXPECTED[_role].update(_row)

# a point's measurement range (api/registry/routers/point_ranges.py): read with 'devices', set and reset with 'point_ranges'
_RANGE = "/api/v1/devices/{}/points/power_kw/range"
ENDPOINTS.update({
    "point-range-a": ("GET", _RANGE.format(A), dict, lambda r: r.json()["unit"]),
    "set-point-range-a": ("PUT", _RANGE.format(A), lambda: {"low": 0, "high": 1000}, lambda r: r.json()["source"]),
    "reset-point-range-c": ("DELETE", _RANGE.format(C), dict, lambda r: r.json()["source"]),
})
_SETS_RANGES = {"point-range-a": "kW", "set-point-range-a": "manual", "reset-point-range-c": None}
_READS_A = {"point-range-a": "kW", "set-point-range-a": 403, "reset-point-range-c": 403}
for _role, _row in {"anonymous": dict.fromkeys(_SETS_RANGES, 401), "government": _READS_A,
                    "enterprise": {**_READS_A, "point-range-a": 404}, "auditor": _READS_A,
                    "technician": _SETS_RANGES, "admin": _SETS_RANGES}.items():
    EXPECTED[_role].update(_row)

CASES = [(role, endpoint, expected) for role, row in EXPECTED.items() for endpoint, expected in row.items()]


def test_matrix_covers_every_role_and_endpoint() -> None:
    assert {role: set(row) for role, row in EXPECTED.items()} == {role: set(ENDPOINTS) for role in EXPECTED}


def _observe(client: TestClient, headers: dict[str, str], endpoint: str) -> Any:
    method, path, args, reduce = ENDPOINTS[endpoint]
    payload = {"params": args()} if method == "GET" else {"json": args()}
    r = client.request(method, path, headers=headers, **payload)
    if r.status_code >= 400:
        assert r.json()["detail"], f"{r.status_code} without a message"
        return r.status_code
    return reduce(r)


@pytest.mark.parametrize(("role", "endpoint", "expected"), CASES, ids=[f"{r}-{e}" for r, e, _ in CASES])
def test_role_sees_what_its_scope_allows(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], role: str, endpoint: str, expected: Any
) -> None:
    assert _observe(api_app_client, role_headers[role], endpoint) == expected


@pytest.mark.parametrize(
    ("role", "status", "message"),
    [("anonymous", 401, "authentication required"), ("technician", 403, "may not use this endpoint"),
     ("enterprise", 404, "no site")],
)
def test_refusals_say_why(api_app_client: TestClient, role_headers: dict[str, dict[str, str]], role: str,
                          status: int, message: str) -> None:
    r = api_app_client.get("/api/v1/emissions", headers=role_headers[role], params={"site": "m-site-a", **WINDOW})
    assert (r.status_code, message in r.json()["detail"]) == (status, True)


def test_unauthenticated_answer_asks_for_a_bearer_token(api_app_client: TestClient) -> None:
    r = api_app_client.get("/api/v1/devices")
    assert (r.status_code, r.headers.get("www-authenticate")) == (401, "Bearer")


def test_unknown_and_hidden_sites_get_the_same_answer(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]]
) -> None:
    hidden = api_app_client.get("/api/v1/emissions", headers=role_headers["enterprise"],
                                params={"site": "m-site-a", **WINDOW})
    unknown = api_app_client.get("/api/v1/emissions", headers=role_headers["enterprise"],
                                 params={"site": "no-such-site", **WINDOW})
    assert (hidden.status_code, unknown.status_code) == (404, 404)


def test_reassigned_scope_changes_what_an_auditor_sees(
    api_app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    from tests.api.conftest import make_user

    name, _, headers = make_user(api_app_client, admin_headers, "auditor", enterprises=["m-ent-a"])
    before = _observe(api_app_client, headers, "devices")
    r = api_app_client.put(f"/api/v1/users/{name}/scope", headers=admin_headers, json={"enterprises": ["m-ent-c"]})
    assert r.status_code == 200, r.text
    assert (before, _observe(api_app_client, headers, "devices")) == (frozenset({A}), frozenset({C}))
