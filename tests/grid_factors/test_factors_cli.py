"""`carbonflow factors fit | simulate | verify` on data imported into a real PostgreSQL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict

from carbonflow.cli import main


@pytest.fixture
def imported(client: TestClient, headers: dict[str, dict[str, str]], database_url: str,
             monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str]:
    """A unit with four months (E = 1 + 2.1 Q fits them) and its verified figures, plus a cement region."""
    info = conninfo_to_dict(database_url)  # the CLI takes a URL, the session database is a conninfo string
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{info['user']}@{info['host']}:{info['port']}/{info['dbname']}")
    tag = uuid.uuid4().hex[:6]
    unit, industry, region = f"cli-{tag}", f"cli-ind-{tag}", f"CN-ZJ-C{tag}"
    rows = [{"unit_id": unit, "industry": industry, "region": region, "period": f"2025-{m:02d}",
             "electricity_mwh": q} for m, q in enumerate([1, 2, 3, 4], start=1)]
    rows += [{"unit_id": f"full-{tag}-{i}", "industry": industry, "region": region, "period": "2025-01",
              "electricity_mwh": q, "coal_tco2": c, "oil_tco2": 0, "gas_tco2": 0}
             for i, (q, c) in enumerate([(100, 60), (200, 126)])]
    assert client.post("/api/v1/grid-factors/units/energy", headers=headers["admin"],
                       json={"rows": rows}).status_code == 201
    verified = [{"unit_id": unit, "period": f"2025-{m:02d}", "verified_tco2": e}
                for m, e in enumerate([3, 5, 8, 9], start=1)]
    assert client.post("/api/v1/grid-factors/verified", headers=headers["admin"],
                       json={"rows": verified}).status_code == 201
    return unit, industry, region


def test_fit_stores_new_versions_with_a_progress_bar_and_audits_the_operator(
        imported: tuple[str, str, str], db: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    unit, _, _ = imported
    assert main(["factors", "fit", "--by", "unit", "--fuel"]) == 0
    out, err = capsys.readouterr()
    assert "fitting unit factors [" in err and "stored as new versions" in out
    row = db.execute("SELECT coefficients, fitted_by FROM grid_enterprise_factors WHERE factor_id = %s",
                     (f"unit:{unit}@v1",)).fetchone()
    assert row is not None and row[0] == pytest.approx([1.0, 2.1])
    assert db.execute("SELECT actor_kind FROM audit_log WHERE action = 'grid_factors.fit' AND actor LIKE 'cli:%'"
                      " LIMIT 1").fetchone() == ("system",)


def test_a_dry_run_fit_stores_nothing(imported: tuple[str, str, str], db: psycopg.Connection,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    unit, _, _ = imported
    assert main(["factors", "fit", "--dry-run"]) == 0
    assert "dry run: nothing stored" in capsys.readouterr().out
    assert db.execute("SELECT count(*) FROM grid_enterprise_factors WHERE scope_id = %s", (unit,)).fetchone() == (0,)


def test_verify_imports_a_verifier_file_and_reports_the_error_per_industry(
        imported: tuple[str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unit, industry, _ = imported
    assert main(["factors", "fit"]) == 0
    # the verifier revises March from 8.0 to 7.3: the fit's estimate for March is now exact
    path = tmp_path / "verified.csv"
    path.write_text(f"unit_id,period,verified_tco2,verifier\n{unit},2025-03,7.3,CQC\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["factors", "verify", "--import", str(path), "--holdout", "none", "--json"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{"):])
    (ours,) = [g for g in report["by_industry"] if g["key"] == industry]
    relative = [(3.1 - 3) / 3, (5.2 - 5) / 5, 0.0, (9.4 - 9) / 9]
    assert ours["mape"] == pytest.approx(sum(abs(r) for r in relative) / 4)


def test_verify_refuses_a_bad_file_naming_its_lines(imported: tuple[str, str, str], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "verified.csv"
    path.write_text("unit_id,period,verified_tco2,verifier\nu1,2025-01,many,CQC\n", encoding="utf-8")
    assert main(["factors", "verify", "--import", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2: verified_tco2 'many' is not a number" in err and "nothing imported" in err


def test_simulate_prints_the_simulated_share_of_the_region(imported: tuple[str, str, str],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    _, _, region = imported
    assert main(["factors", "fit", "--fuel", "--dry-run"]) == 0  # a dry run stores no fuel model either
    assert main(["factors", "fit", "--fuel"]) == 0
    capsys.readouterr()
    assert main(["factors", "simulate", "--region", region, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # full units: 186 t measured on 300 MWh (ratio 0.62); electricity-only: 1+2+3+4 MWh -> 6.2 t simulated
    assert (result["measured_t"], result["simulated_t"]) == (pytest.approx(186.0), pytest.approx(6.2))
    assert result["simulated_share"] == pytest.approx(6.2 / 192.2)
