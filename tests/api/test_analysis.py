"""Analysis over HTTP (api/analysis/): decoupling, LMDI and the Kaya view from the monitoring figures, forecasts
under saved scenarios, targets set, issued and tracked, with roles, scope and audit.

The module writes its own units in Jinhua (330700), a city no other test uses, so the region's totals are its
own; expected values are computed from the stored figures with the domain functions, not typed in.
"""

from __future__ import annotations

import math
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from carbon_domain.analysis import Sector, lmdi, tapio
from tests.api.conftest import make_user
from tests.api.test_monitoring import credit_code, csv_file, upload

REGION = "330700"
ENTERPRISE = "an-ent-jh"
A = "/api/v1/analysis"


def _lines(code: str, name: str, industry: str, months: list[str], items: dict[str, tuple[float, float, str]]
           ) -> list[str]:
    """items: item -> (2023 monthly quantity, annual growth, unit)."""
    out = []
    for month in months:
        years = int(month[:4]) - 2023
        out += [f"{code},{name},{REGION},{industry},{month},{item},{q * (1 + g) ** years:.6f},{unit}"
                for item, (q, g, unit) in items.items()]
    return out


@pytest.fixture(scope="module")
def client(api_app_client: TestClient) -> TestClient:
    return api_app_client


@pytest.fixture(scope="module")
def jinhua(client: TestClient, admin_headers: dict[str, str], database_url: str) -> dict[str, int]:
    """Three units (steel, chemicals, paper) with 2023-2025 and 2026 Q1 figures; paper belongs to ENTERPRISE."""
    months = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)] + ["2026-01", "2026-02", "2026-03"]
    codes = {"steel": credit_code(REGION), "chem": credit_code(REGION), "paper": credit_code(REGION)}
    lines = (_lines(codes["steel"], "JH Steel", "313", months,
                    {"coal": (100, 0.05, "t"), "value_added": (1000, 0.10, "万元")})
             + _lines(codes["chem"], "JH Chem", "261", months,
                      {"coal": (50, -0.05, "t"), "natural_gas": (2, 0.1, "1e4Nm3"), "value_added": (500, 0.08, "万元")})
             + _lines(codes["paper"], "JH Paper", "222", months,
                      {"electricity": (200, 0.0, "MWh"), "value_added": (300, 0.2, "万元")}))
    r = upload(client, admin_headers, csv_file(*lines))
    assert r.status_code == 200, r.text
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'JH Paper', 'CN-ZJ')"
                     " ON CONFLICT DO NOTHING", (ENTERPRISE,))
        conn.execute("UPDATE monitoring_units SET enterprise_id = %s WHERE credit_code = %s",
                     (ENTERPRISE, codes["paper"]))
        ids = dict(conn.execute("SELECT credit_code, unit_id FROM monitoring_units WHERE credit_code = ANY(%s)",
                                (list(codes.values()),)).fetchall())
    return {name: ids[code] for name, code in codes.items()}


@pytest.fixture(scope="module")
def gov(client: TestClient, admin_headers: dict[str, str]) -> dict[str, str]:
    return make_user(client, admin_headers, "government", region=REGION)[2]


@pytest.fixture(scope="module")
def outsider(client: TestClient, admin_headers: dict[str, str]) -> dict[str, str]:
    return make_user(client, admin_headers, "government", region="330800")[2]


@pytest.fixture(scope="module")
def paper_user(client: TestClient, admin_headers: dict[str, str], jinhua: dict[str, int]) -> dict[str, str]:
    return make_user(client, admin_headers, "enterprise", enterprise_id=ENTERPRISE)[2]


def _sectors(db: psycopg.Connection, year: int, key: str = "left(u.industry_code, 2)",
             month: int | None = None) -> list[Sector]:
    """The region's (value added, tce, tCO2) per group, read from the stored figures."""
    period = "AND extract(month FROM f.month) = %(m)s" if month else ""
    rows = db.execute(
        f"SELECT {key}, coalesce(sum(f.quantity) FILTER (WHERE f.item = 'value_added'), 0),"
        " coalesce(sum(f.tce) FILTER (WHERE f.item <> 'value_added'), 0), coalesce(sum(f.tco2), 0)"
        " FROM monitoring_figures f JOIN monitoring_units u USING (unit_id) WHERE u.region_code = %(r)s"
        f" AND extract(year FROM f.month) = %(y)s {period} GROUP BY 1 ORDER BY 1",
        {"r": REGION, "y": year, "m": month}).fetchall()
    return [Sector(str(k), a, e, c) for k, a, e, c in rows]


def _total(sectors: list[Sector]) -> tuple[float, float]:
    return math.fsum(s.co2 for s in sectors), math.fsum(s.activity for s in sectors)


def _audited(db: psycopg.Connection, action: str, target: str) -> int:
    row = db.execute("SELECT count(*) FROM audit_log WHERE action = %s AND target = %s", (action, target)).fetchone()
    return int(row[0]) if row else 0


# --- decoupling, LMDI, Kaya --------------------------------------------------------------------------------------


def test_region_decoupling_is_a_year_by_year_tapio_table_of_the_monitoring_figures(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int], db: psycopg.Connection) -> None:
    r = client.get(f"{A}/decoupling", headers=gov, params={"region": REGION, "start": 2023, "end": 2025})
    totals = {y: _total(_sectors(db, y)) for y in (2023, 2024, 2025)}
    expected = [tapio(totals[y][0], totals[y + 1][0], totals[y][1], totals[y + 1][1]) for y in (2023, 2024)]
    steps = r.json()["steps"]
    assert (r.status_code, [(s["start"], s["end"]) for s in steps], [round(s["elasticity"], 9) for s in steps],
            [s["state"] for s in steps]) == (200, [(2023, 2024), (2024, 2025)],
                                             [round(e.elasticity or 0, 9) for e in expected],
                                             [e.state for e in expected])


def test_industry_decoupling_reads_only_that_class_with_the_hand_computed_tapio_elasticity(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int]) -> None:
    # class 313 is JH Steel alone: coal (so CO2) +5 %/yr, value added +10 %/yr -> e = 0.05 / 0.10 = 0.5 each year,
    # weak decoupling (CO2 and GDP both grow, 0 <= e < 0.8); the region's total mixes in chemicals and paper
    r = client.get(f"{A}/decoupling", headers=gov,
                   params={"region": REGION, "industry": "313", "start": 2023, "end": 2025})
    assert r.status_code == 200, r.text
    body = r.json()
    steps = body["steps"]
    years = {y["year"]: (y["co2"], y["gdp"]) for y in body["years"]}
    assert (body["subject"]["industry"], [(s["start"], s["end"]) for s in steps]) == (
        "313", [(2023, 2024), (2024, 2025)])
    assert [s["elasticity"] for s in steps] == [pytest.approx(0.5, rel=1e-6)] * 2
    assert [s["state"] for s in steps] == ["weak_decoupling", "weak_decoupling"]
    assert years[2023][1] == pytest.approx(12 * 1000, rel=1e-9)  # value added 1000/month in 2023
    assert (years[2024][0] / years[2023][0], years[2025][1] / years[2024][1]) == (
        pytest.approx(1.05, rel=1e-6), pytest.approx(1.10, rel=1e-6))
    assert body["overall"]["elasticity"] == pytest.approx((1.05 ** 2 - 1) / (1.10 ** 2 - 1), rel=1e-6)
    total = client.get(f"{A}/decoupling", headers=gov, params={"region": REGION, "start": 2023, "end": 2025})
    assert total.json()["steps"][0]["elasticity"] != pytest.approx(0.5, rel=1e-3)
    other = client.get(f"{A}/decoupling", headers=gov,
                       params={"region": REGION, "industry": "999", "start": 2023, "end": 2025})
    assert other.status_code == 422  # no unit of that class: no two years to compare


def test_unit_decoupling_for_its_enterprise_user_and_not_for_another_unit(
        client: TestClient, paper_user: dict[str, str], jinhua: dict[str, int]) -> None:
    own = client.get(f"{A}/decoupling", headers=paper_user,
                     params={"unit_id": jinhua["paper"], "start": 2023, "end": 2025})
    other = client.get(f"{A}/decoupling", headers=paper_user,
                       params={"unit_id": jinhua["steel"], "start": 2023, "end": 2025})
    region = client.get(f"{A}/decoupling", headers=paper_user, params={"region": REGION, "start": 2023, "end": 2025})
    # paper: flat electricity, value added +20 %/yr -> CO2 flat -> e = 0, weak decoupling
    assert (own.status_code, [s["state"] for s in own.json()["steps"]], other.status_code, region.status_code) == (
        200, ["weak_decoupling", "weak_decoupling"], 404, 404)


def test_decoupling_without_two_years_of_figures_is_refused_naming_the_years(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int]) -> None:
    r = client.get(f"{A}/decoupling", headers=gov, params={"region": REGION, "start": 2018, "end": 2020})
    assert (r.status_code, "[2018, 2019, 2020]" in r.json()["detail"]) == (422, True)


def test_region_lmdi_effects_sum_exactly_to_the_change_in_the_monitoring_figures(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int], db: psycopg.Connection) -> None:
    r = client.get(f"{A}/lmdi", headers=gov, params={"region": REGION, "base": 2023, "target": 2025})
    body = r.json()
    expected = lmdi(_sectors(db, 2023), _sectors(db, 2025))
    assert r.status_code == 200, r.text
    assert ({k: round(v, 6) for k, v in body["effects"].items()}, round(body["change"], 6),
            abs(body["residual"]) < 1e-6, sorted(s["key"] for s in body["sectors"])) == (
        {k: round(v, 6) for k, v in expected.effects().items()}, round(expected.change, 6), True, ["22", "26", "31"])


def test_lmdi_with_a_year_without_figures_names_the_year(client: TestClient, gov: dict[str, str],
                                                         jinhua: dict[str, int]) -> None:
    r = client.get(f"{A}/lmdi", headers=gov, params={"region": REGION, "base": 2019, "target": 2025})
    assert (r.status_code, r.json()["detail"]) == (422, f"region {REGION} has no monitoring figures in [2019]")


def test_kaya_view_multiplies_back_to_the_emissions(client: TestClient, gov: dict[str, str],
                                                    jinhua: dict[str, int]) -> None:
    r = client.get(f"{A}/kaya", headers=gov, params={"region": REGION, "start": 2024, "end": 2025,
                                                     "population": ["2025:50"]})
    rows = r.json()["years"]
    last = rows[-1]
    product = last["population"] * last["gdp_per_capita"] * last["energy_per_gdp"] * last["co2_per_energy"]
    assert ([row["year"] for row in rows], rows[0]["gdp_per_capita"], round(product, 6)) == (
        [2024, 2025], None, round(last["co2"], 6))


# --- forecast and scenarios --------------------------------------------------------------------------------------


def test_forecast_starts_from_the_base_year_and_peaks_at_the_maximum_of_its_path(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int], db: psycopg.Connection) -> None:
    r = client.post(f"{A}/forecast", headers=gov, params={"region": REGION, "base_year": 2025},
                    json={"kind": "baseline", "end_year": 2035})
    body = r.json()
    path = [y["co2"] for y in body["years"]]
    assert r.status_code == 200, r.text
    assert (len(path), round(path[0], 6), body["peak"]["co2"], body["fit"]["available"],
            bool(body["suggestions"])) == (11, round(_total(_sectors(db, 2025))[0], 6), max(path), False, True)


def test_stirpat_forecast_needs_enough_history_and_then_gives_intervals(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int]) -> None:
    short = client.post(f"{A}/forecast", headers=gov, params={"region": REGION, "base_year": 2025},
                        json={"model": "stirpat", "end_year": 2030})
    history = [{"year": 2018 + i, "co2": 3000 * 1.04 ** i, "gdp": 15000 * 1.07 ** i * (1 + 0.01 * (i % 2)),
                "energy": 1500 * 1.02 ** i} for i in range(5)]
    fitted = client.post(f"{A}/forecast", headers=gov, params={"region": REGION, "base_year": 2025},
                         json={"model": "stirpat", "end_year": 2030, "history": history})
    years = fitted.json()["years"]
    assert (short.status_code, "needs at least 4 years" in short.json()["detail"], fitted.status_code,
            all(y["low"] < y["co2"] < y["high"] for y in years)) == (422, True, 200, True)


def test_forecast_refuses_an_unusable_growth_path_naming_the_driver(client: TestClient, gov: dict[str, str]) -> None:
    r = client.post(f"{A}/forecast", headers=gov, params={"region": REGION, "base_year": 2025},
                    json={"paths": {"gdp": [[2026, 5.0], [2027, 50]]}})
    assert (r.status_code, "gdp: growth rate 50" in r.text) == (422, True)


def test_scenarios_are_saved_audited_compared_and_exported(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int], db: psycopg.Connection) -> None:
    base = client.post(f"{A}/scenarios", headers=gov, params={"region": REGION},
                       json={"name": "jh baseline", "kind": "baseline", "end_year": 2030})
    enhanced = client.post(f"{A}/scenarios", headers=gov, params={"region": REGION},
                           json={"name": "jh enhanced", "kind": "enhanced", "end_year": 2030,
                                 "paths": {"gdp": [[2026, 0.04]]}})
    twice = client.post(f"{A}/scenarios", headers=gov, params={"region": REGION},
                        json={"name": "jh baseline", "end_year": 2030})
    ids = [base.json()["scenario_id"], enhanced.json()["scenario_id"]]
    compared = client.get(f"{A}/scenarios/compare", headers=gov, params={"ids": ids, "base_year": 2025}).json()
    exported = client.get(f"{A}/scenarios/{ids[1]}/export.csv", headers=gov, params={"base_year": 2025})
    row_2030 = compared["years"][-1]
    assert (base.status_code, twice.status_code, _audited(db, "analysis.scenario.create",
                                                          f"analysis_scenario:{ids[0]}"),
            row_2030["year"], row_2030[str(ids[1])] < row_2030[str(ids[0])],
            exported.text.splitlines()[0].split(",")[:3], len(exported.text.splitlines())) == (
        201, 409, 1, 2030, True, ["scenario", "model", "year"], 7)


def test_scenario_change_is_audited_with_before_and_after(client: TestClient, gov: dict[str, str],
                                                          jinhua: dict[str, int], db: psycopg.Connection) -> None:
    sid = client.post(f"{A}/scenarios", headers=gov, params={"region": REGION},
                      json={"name": "jh to change", "end_year": 2030}).json()["scenario_id"]
    r = client.put(f"{A}/scenarios/{sid}", headers=gov, json={"name": "jh to change", "end_year": 2032})
    audit = db.execute("SELECT before->>'end_year', after->>'end_year' FROM audit_log"
                       " WHERE action = 'analysis.scenario.change' AND target = %s", (f"analysis_scenario:{sid}",)
                       ).fetchall()
    assert (r.status_code, r.json()["end_year"], audit) == (200, 2032, [("2030", "2032")])


def test_only_the_regions_government_saves_and_reads_its_scenarios(
        client: TestClient, gov: dict[str, str], outsider: dict[str, str], paper_user: dict[str, str],
        jinhua: dict[str, int]) -> None:
    sid = client.post(f"{A}/scenarios", headers=gov, params={"region": REGION},
                      json={"name": "jh private", "end_year": 2030}).json()["scenario_id"]
    by_enterprise = client.post(f"{A}/scenarios", headers=paper_user, params={"region": REGION},
                                json={"name": "mine", "end_year": 2030})
    by_outsider = client.post(f"{A}/scenarios", headers=outsider, params={"region": REGION},
                              json={"name": "theirs", "end_year": 2030})
    read_by_outsider = client.get(f"{A}/scenarios/{sid}", headers=outsider)
    assert (by_enterprise.status_code, by_outsider.status_code, read_by_outsider.status_code) == (403, 404, 404)


# --- targets -----------------------------------------------------------------------------------------------------


def _target(client: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    body = {"region": REGION, "name": "jh 2026", "kind": "total", "year": 2026, "base_year": 2025,
            "value": 0, "holder_level": "industry", "rule": "equal_rate", **changes}
    return client.post(f"{A}/targets", headers=headers, json=body)


def test_total_target_is_allocated_at_an_equal_rate_issued_once_and_audited(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int], db: psycopg.Connection) -> None:
    base = _total(_sectors(db, 2025))[0]
    r = _target(client, gov, value=0.9 * base)
    tid = r.json()["target_id"]
    issued = client.post(f"{A}/targets/{tid}/issue", headers=gov)
    again = client.post(f"{A}/targets/{tid}/issue", headers=gov)
    allocations = r.json()["allocations"]
    assert (r.status_code, round(math.fsum(a["target"] for a in allocations), 6),
            {round(a["reduction_rate"], 9) for a in allocations}, issued.json()["state"], again.status_code,
            _audited(db, "analysis.target.create", f"analysis_target:{tid}"),
            _audited(db, "analysis.target.issue", f"analysis_target:{tid}")) == (
        201, round(0.9 * base, 6), {0.1}, "issued", 409, 1, 1)


def test_issued_allocations_cannot_be_changed_in_the_database(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int], db: psycopg.Connection) -> None:
    tid = _target(client, gov, name="jh frozen", value=1000).json()["target_id"]
    client.post(f"{A}/targets/{tid}/issue", headers=gov)
    with pytest.raises(psycopg.errors.RaiseException, match="is issued"):
        db.execute("UPDATE analysis_target_allocations SET target = 0 WHERE target_id = %s", (tid,))


def test_tracking_compares_each_month_with_the_pro_rated_path_and_flags_off_track(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int], db: psycopg.Connection) -> None:
    steel_2025 = next(s.co2 for s in _sectors(db, 2025) if s.key == "31")
    # steel's 2026 is 5 % above 2025, so a 10 % cut is off track from January; the others get room
    tid = _target(client, gov, name="jh tracked", rule="by_share", shares={"31": 0.9 * steel_2025, "26": 1e9,
                                                                            "22": 1e9},
                  value=0.9 * steel_2025 + 2e9).json()["target_id"]
    r = client.get(f"{A}/targets/{tid}/tracking", headers=gov, params={"through": "2026-03"})
    body = r.json()
    steel = next(h for h in body["holders"] if h["holder"] == "31")
    jan = next(s.co2 for s in _sectors(db, 2026, month=1) if s.key == "31")
    assert (r.status_code, [p["month"] for p in steel["points"]], round(steel["points"][0]["actual"], 6),
            round(steel["points"][0]["allowed"], 6), body["off_track"]) == (
        200, ["2026-01", "2026-02", "2026-03"], round(jan, 6), round(0.9 * steel_2025 / 12, 6), ["31"])


def test_intensity_target_tracks_cumulative_intensity_per_holder(
        client: TestClient, gov: dict[str, str], jinhua: dict[str, int]) -> None:
    r = _target(client, gov, name="jh intensity", kind="intensity", value=0.04, holder_level="unit")
    tid = r.json()["target_id"]
    tracking = client.get(f"{A}/targets/{tid}/tracking", headers=gov, params={"through": "2026-02"}).json()
    assert (r.status_code, len(tracking["holders"]), {len(h["points"]) for h in tracking["holders"]},
            {round(a["reduction_rate"], 9) for a in r.json()["allocations"]}) == (201, 3, {2}, {0.04})


def test_enterprise_sees_only_its_own_allocation_of_an_issued_unit_target(
        client: TestClient, gov: dict[str, str], paper_user: dict[str, str], jinhua: dict[str, int],
        db: psycopg.Connection) -> None:
    tid = _target(client, gov, name="jh units", holder_level="unit",
                  value=_total(_sectors(db, 2025))[0]).json()["target_id"]
    before_issue = client.get(f"{A}/targets/{tid}", headers=paper_user)
    client.post(f"{A}/targets/{tid}/issue", headers=gov)
    seen = client.get(f"{A}/targets/{tid}", headers=paper_user).json()
    listed = client.get(f"{A}/targets", headers=paper_user).json()["targets"]
    tracking = client.get(f"{A}/targets/{tid}/tracking", headers=paper_user).json()
    assert (before_issue.status_code, [a["holder"] for a in seen["allocations"]], tid in [t["target_id"] for t in listed],
            [h["holder"] for h in tracking["holders"]], tracking["region"]) == (
        404, [str(jinhua["paper"])], True, [str(jinhua["paper"])], None)


@pytest.mark.parametrize(("changes", "message"), [
    ({"rule": "by_share"}, "holder '22' has no share"),
    ({"rule": "by_benchmark", "benchmarks": {"99": 1.0}}, "benchmarks names holders without base-year figures"),
    ({"kind": "intensity", "value": 0.1, "rule": "by_share"}, "intensity target is passed on by equal_rate only"),
    ({"base_year": 2026}, "base_year 2026 must be before the target year 2026"),
])
def test_bad_targets_are_refused_with_a_message(client: TestClient, gov: dict[str, str], jinhua: dict[str, int],
                                                changes: dict[str, Any], message: str) -> None:
    r = _target(client, gov, **{"value": 100, "name": "jh bad", **changes})
    assert (r.status_code, message in r.text) == (422, True)


def test_enterprise_users_cannot_set_targets(client: TestClient, paper_user: dict[str, str]) -> None:
    r = _target(client, paper_user, value=100)
    assert (r.status_code, "may not save scenarios or set targets" in r.text) == (403, True)


def test_region_level_target_goes_to_the_sub_regions_of_a_city(client: TestClient, gov: dict[str, str],
                                                               jinhua: dict[str, int], db: psycopg.Connection) -> None:
    # the module's units are registered on the city code itself, so the city's one sub-region key is 330700
    r = _target(client, gov, name="jh counties", holder_level="region", value=500)
    assert (r.status_code, [(a["holder"], round(a["target"], 6)) for a in r.json()["allocations"]]) == (
        201, [(REGION, 500.0)])


# last in the file: the school it adds stays in the region
def test_lmdi_leaves_out_and_lists_a_division_without_value_added(
        client: TestClient, gov: dict[str, str], admin_headers: dict[str, str], jinhua: dict[str, int],
        db: psycopg.Connection) -> None:
    school = credit_code(REGION)
    months = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]
    r = upload(client, admin_headers, csv_file(*_lines(school, "JH School", "834", months,
                                                       {"electricity": (30, 0.02, "MWh")})))
    assert r.status_code == 200, r.text
    body = client.get(f"{A}/lmdi", headers=gov, params={"region": REGION, "base": 2024, "target": 2025}).json()
    with_value_added = [s for s in (_sectors(db, 2024), _sectors(db, 2025))]
    expected = lmdi(*[[s for s in sectors if s.key != "83"] for sectors in with_value_added])
    (school_row,) = body["excluded"]
    assert (school_row["key"], round(school_row["target_co2"], 6)) == (
        "83", round(next(s.co2 for s in with_value_added[1] if s.key == "83"), 6))
    assert (round(body["change"], 6), sorted(s["key"] for s in body["sectors"])) == (
        round(expected.change, 6), ["22", "26", "31"])
