"""A works' reduction potential per process over HTTP (GET /api/v1/analysis/reduction-potential/{enterprise}):
gap and t CO2 against the benchmark and limit values of the process benchmark library, a process without a
sourced indicator named as such, and the enterprise scope. Expected values come from the inventory's own
figures with the domain formula."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from carbon_domain.reduction_potential import potential

ENTERPRISE = "acc-potential"
LINES = [  # an EAF works: grid electricity and fluxes in the furnace, natural gas in the auxiliary boilers (no indicator there)
    {"period": "2025-05", "process": "steelmaking_eaf", "source_type": "electricity", "item": "grid",
     "quantity": 4_000, "unit": "MWh", "direction": "in"},
    {"period": "2025-05", "process": "steelmaking_eaf", "source_type": "process", "item": "limestone",
     "quantity": 800, "unit": "t", "direction": "in"},
    {"period": "2025-05", "process": "steelmaking_eaf", "source_type": "production", "item": "crude_steel",
     "quantity": 5_000, "unit": "t", "direction": "out"},
    {"period": "2025-05", "process": "auxiliary", "source_type": "combustion", "item": "natural_gas",
     "quantity": 100_000, "unit": "Nm3", "direction": "in"},
]
A = "/api/v1/analysis/reduction-potential"


@pytest.fixture(scope="module")
def works(client: TestClient, headers: dict[str, dict[str, str]], database_url: str) -> dict[str, Any]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region, industry) VALUES (%s, 'Potential steel',"
                     " 'CN-ZJ-NB', 'steel') ON CONFLICT DO NOTHING", (ENTERPRISE,))
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name, province) VALUES (%s, %s, 'Potential steel 1',"
                     " 'zhejiang') ON CONFLICT DO NOTHING", (f"{ENTERPRISE}-s1", ENTERPRISE))
    r = client.post(f"/api/v1/inventory/{ENTERPRISE}/activity", headers=headers["admin"],
                    json={"lines": LINES, "note": "reduction potential test"})
    assert r.status_code == 201, r.text
    # illustrative test values, not published benchmarks
    r = client.put("/api/v1/process-benchmarks/steelmaking_eaf/eaf/crude_steel", headers=headers["admin"],
                   json={"benchmark_tco2_per_t": 0.1, "limit_tco2_per_t": 0.2, "source": "test values"})
    assert r.status_code == 200, r.text
    inventory = client.get(f"/api/v1/inventory/{ENTERPRISE}", headers=headers["admin"], params={"year": 2025})
    assert inventory.status_code == 200, inventory.text
    return {row["process"]: row["tco2"] for row in inventory.json()["by_process"]}


def test_each_process_gets_its_potential_against_the_benchmark_and_the_limit(
        client: TestClient, headers: dict[str, dict[str, str]], works: dict[str, float]) -> None:
    r = client.get(f"{A}/{ENTERPRISE}", headers=headers["gov"], params={"year": 2025})
    body = r.json()
    rows = {row["process"]: row for row in body["processes"]}
    eaf = rows["steelmaking_eaf"]
    intensity = works["steelmaking_eaf"] / 5_000
    assert (r.status_code, body["route"], eaf["status"], round(eaf["intensity"], 9),
            round(eaf["to_benchmark_tco2"], 6), round(eaf["to_limit_tco2"], 6), eaf["source"]) == (
        200, "eaf", "compared", round(intensity, 9), round(potential(intensity, 0.1, 5_000), 6),
        round(potential(intensity, 0.2, 5_000), 6), "test values")


def test_a_process_without_a_sourced_benchmark_says_so_instead_of_a_number(
        client: TestClient, headers: dict[str, dict[str, str]], works: dict[str, float]) -> None:
    body = client.get(f"{A}/{ENTERPRISE}", headers=headers["admin"], params={"year": 2025}).json()
    auxiliary = next(row for row in body["processes"] if row["process"] == "auxiliary")
    assert (auxiliary["status"], auxiliary["to_benchmark_tco2"], auxiliary["benchmark"], round(auxiliary["tco2"], 6),
            "auxiliary" in body["without_benchmark"]) == ("no_benchmark", None, None, round(works["auxiliary"], 6), True)


@pytest.mark.parametrize(("who", "params", "status"), [
    ("ent", {"year": 2025}, 404),  # another enterprise's user
    ("gov_gd", {"year": 2025}, 404),  # a government outside the region
    ("gov", {}, 422),  # no year
    ("gov", {"year": 2025, "route": "BF BOF"}, 422),
])
def test_reduction_potential_refuses_outsiders_and_bad_queries(
        client: TestClient, headers: dict[str, dict[str, str]], works: dict[str, float], who: str,
        params: dict[str, Any], status: int) -> None:
    r = client.get(f"{A}/{ENTERPRISE}", headers=headers[who], params=params)
    assert (r.status_code, bool(r.json()["detail"])) == (status, True)
