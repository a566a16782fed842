"""`carbonflow seed region`: the synthetic prefecture's shape, its determinism, idempotent seeding, and the
anomaly rules finding exactly the anomalies the generator planted."""

from __future__ import annotations

import asyncio

import psycopg
from fastapi.testclient import TestClient

from carbon_domain.monitoring import HIGH_ENERGY_INDUSTRIES, IndustryTable
from carbonflow.demo.region_seed import COUNTIES, ELECTRICITY_ONLY_INDUSTRIES, FUELS, generate, seed_region


def test_prefecture_has_three_counties_400_units_20_classes_with_the_eight_and_three_years() -> None:
    prefecture = generate()
    table = IndustryTable.default()
    classes = {u.industry_code for u in prefecture.units}
    flags = {table.get(code).high_energy for code in classes} - {None}  # type: ignore[union-attr]
    months = {line.month for line in prefecture.lines}
    assert (sorted({u.region_code for u in prefecture.units}), len(prefecture.units) >= 400, len(classes) >= 20,
            sorted(flags), len(months), any(u.kind == "public_institution" and u.public for u in prefecture.units),
            [u.enterprise_id for u in prefecture.units if u.enterprise_id]) == (
        sorted(COUNTIES), True, True, sorted(HIGH_ENERGY_INDUSTRIES), 36, True, ["demo-steel"])


def test_same_seed_gives_the_same_prefecture_and_another_seed_another() -> None:
    assert (generate(7).lines == generate(7).lines, generate(7).lines == generate(8).lines) == (True, False)


def test_some_electricity_heavy_enterprises_report_electricity_only_the_same_ones_for_the_same_seed() -> None:
    prefecture = generate()
    units = {u.credit_code: u for u in prefecture.units}
    reported: dict[str, set[str]] = {}
    for line in prefecture.lines:
        reported.setdefault(line.credit_code, set()).add(line.item)
    planted = {code for codes in prefecture.anomalies.values() for code in codes}
    chosen = prefecture.electricity_only
    assert chosen == generate().electricity_only and chosen != generate(7).electricity_only
    assert {units[c].industry_code for c in chosen} == set(ELECTRICITY_ONLY_INDUSTRIES)
    assert all(units[c].kind == "enterprise" and c not in planted for c in chosen)
    assert all({"electricity", "value_added"} <= reported[c] and not reported[c] & set(FUELS) for c in chosen)
    # the others of those industries report their fuels, which the fuel models are fitted on
    peers = [c for c, u in units.items() if u.industry_code in ELECTRICITY_ONLY_INDUSTRIES and c not in chosen]
    assert all(reported[c] & set(FUELS) for c in peers) and len(chosen) < len(peers) / 4


def test_seeding_twice_stores_nothing_new_and_every_unit_is_marked_synthetic(database_url: str,
                                                                             db: psycopg.Connection) -> None:
    first = asyncio.run(seed_region(database_url))
    second = asyncio.run(seed_region(database_url))
    synthetic = db.execute("SELECT count(*) FILTER (WHERE synthetic), count(*) FROM monitoring_units"
                           " WHERE credit_code = ANY(%s)", ([u.credit_code for u in generate().units],)).fetchone()
    # other tests of the session may have seeded the prefecture (or part of it) already
    assert (0 <= first["stored"] <= first["figures"], second["stored"], synthetic) == (
        True, 0, (first["units"], first["units"]))


def test_anomaly_scan_finds_exactly_the_planted_anomalies(database_url: str, api_app_client: TestClient,
                                                          admin_headers: dict[str, str],
                                                          db: psycopg.Connection) -> None:
    asyncio.run(seed_region(database_url))
    prefecture = generate()
    r = api_app_client.post("/api/v1/monitoring/anomalies/scan", headers=admin_headers,
                            params={"region": "330521", "through": "2025-12"})
    found = db.execute(
        "SELECT a.rule, array_agg(DISTINCT u.credit_code) FROM monitoring_anomalies a JOIN monitoring_units u"
        " USING (unit_id) WHERE u.synthetic AND u.region_code = '330521' GROUP BY a.rule").fetchall()
    planted = {rule: sorted(c for c in codes if c in {u.credit_code for u in prefecture.units
                                                      if u.region_code == "330521"})
               for rule, codes in prefecture.anomalies.items()}
    assert (r.status_code, {rule: sorted(codes) for rule, codes in found}) == (
        200, {rule: codes for rule, codes in planted.items() if codes})
