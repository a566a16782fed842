"""POST /api/v1/calculations/cems reproduces METHODS section 5's worked example."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

SECTION_5 = {"q_s_m3_h": 2_000_000, "t_s_c": 120, "p_s_pa": -500, "b_a_pa": 101_325, "x_sw": 0.12,
             "c_wet_pct": 11.0}


def test_methods_section_5_cems_worked_example(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    """METHODS §5: Q_sn 1,216,562 Nm3/h; C_dry 12.5 %; 245,536 mg/m3; G_h 298.7 t/h."""
    r = client.post("/api/v1/calculations/cems", headers=headers["ent"], json=SECTION_5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (round(body["q_sn_nm3_h"]), round(body["c_dry_pct"], 1), round(body["c_dry_mg_m3"]),
            round(body["mass_t_h"], 1)) == (1_216_562, 12.5, 245_536, 298.7)
    assert [s["formula"] for s in body["steps"]] == ["cems/standard-dry-flow", "cems/dry-concentration",
                                                     "cems/co2-percent-to-mg-m3", "cems/hourly-mass"]


@pytest.mark.parametrize(("change", "message"), [
    ({"x_sw": 12}, "less than 1"),
    ({"c_wet_pct": 120}, "less than or equal to 100"),
    ({"t_s_c": -300}, "above -273"),
    ({"p_s_pa": -200_000}, "must be positive"),
    ({"q_s_m3_h": "lots"}, "valid number"),
    ({"stack": "A"}, "stack"),
])
def test_bad_cems_inputs_get_a_422(client: TestClient, headers: dict[str, dict[str, str]],
                                   change: dict[str, Any], message: str) -> None:
    r = client.post("/api/v1/calculations/cems", headers=headers["admin"], json={**SECTION_5, **change})
    assert r.status_code == 422, r.text
    assert message in r.text


def test_cems_needs_a_signed_in_caller(client: TestClient) -> None:
    assert client.post("/api/v1/calculations/cems", json=SECTION_5).status_code == 401
