"""`carbonflow inventory`: CSV and XLSX activity files, bad-row reports, JSON and table output, templates."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from carbonflow.activity_file import COLUMNS
from carbonflow.inventory_cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "steelworks-2025-activity.csv"
HEADER = ",".join(COLUMNS)

# METHODS section 1 worked example: one month of natural gas, purchased electricity and heat.
WORKED_EXAMPLE_ROWS = [
    ["2024-05", "auxiliary", "combustion", "natural_gas", 500_000, "Nm3", "in"],
    ["2024-05", "auxiliary", "electricity", "grid", 2_000, "MWh", "in"],
    ["2024-05", "auxiliary", "heat", "heat", 1_000, "GJ", "in"],
]


def _csv(tmp_path: Path, lines: list[str], name: str = "activity.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _xlsx(tmp_path: Path, rows: list[list[Any]], name: str = "activity.xlsx") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def _rows_as_csv(rows: list[list[Any]]) -> list[str]:
    return [",".join(str(cell) for cell in row) for row in rows]


def _json(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> dict[str, Any]:
    assert main(["compute", "--activity", str(path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


# --- worked example through --json ---------------------------------------------------------------

WORKED_FIGURES = [
    ("combustion", 1_081.1),
    ("process", 0.0),
    ("electricity", 1_061.2),
    ("heat", 110.0),
    ("fixed_carbon", 0.0),
    ("total_tco2", 2_252.3),
]


@pytest.mark.parametrize(("key", "expected"), WORKED_FIGURES)
def test_csv_json_reproduces_methods_section_1_worked_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, expected: float
) -> None:
    path = _csv(tmp_path, [HEADER, *_rows_as_csv(WORKED_EXAMPLE_ROWS)])
    assert _json(capsys, path)[key] == expected


@pytest.mark.parametrize(("key", "expected"), WORKED_FIGURES)
def test_xlsx_json_reproduces_methods_section_1_worked_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, expected: float
) -> None:
    path = _xlsx(tmp_path, [list(COLUMNS), *WORKED_EXAMPLE_ROWS])
    assert _json(capsys, path)[key] == expected


def test_json_has_exactly_the_documented_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, [HEADER, *_rows_as_csv(WORKED_EXAMPLE_ROWS)])
    assert set(_json(capsys, path)) == {
        "combustion",
        "process",
        "electricity",
        "heat",
        "fixed_carbon",
        "total_tco2",
        "grid_series",
        "by_process",
        "by_period",
        "lines",
        "findings",
    }


def test_json_lines_carry_file_line_numbers_factor_ids_and_formula(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _csv(tmp_path, ["# METHODS section 1", HEADER, *_rows_as_csv(WORKED_EXAMPLE_ROWS)])
    first = _json(capsys, path)["lines"][0]
    assert {key: first[key] for key in ("line", "quantity", "unit", "tco2", "factor_ids", "formula")} == {
        "line": 3,
        "quantity": 50.0,
        "unit": "1e4Nm3",
        "tco2": 1_081.1,
        "factor_ids": [
            "fuel.natural_gas.ncv@ndrc-steel-2013",
            "fuel.natural_gas.cc@ndrc-steel-2013",
            "fuel.natural_gas.of@ndrc-steel-2013",
        ],
        "formula": "combustion/gbt32150-2015@2025.1",
    }


def test_json_breaks_the_total_down_by_process_and_period(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, [HEADER, *_rows_as_csv(WORKED_EXAMPLE_ROWS)])
    document = _json(capsys, path)
    assert (document["by_process"], document["by_period"]) == ({"auxiliary": 2_252.3}, {"2024-05": 2_252.3})


# --- steel: the shipped example file ---------------------------------------------------------------


def test_example_steelworks_file_computes_without_findings(capsys: pytest.CaptureFixture[str]) -> None:
    document = _json(capsys, EXAMPLE)
    assert (len(document["lines"]), document["findings"]) == (24, [])


def test_example_steelworks_total_follows_the_steel_formula(capsys: pytest.CaptureFixture[str]) -> None:
    d = _json(capsys, EXAMPLE)
    expected = d["combustion"] + d["process"] + d["electricity"] + d["heat"] + d["fixed_carbon"]
    assert d["total_tco2"] == pytest.approx(expected, abs=0.2)


# crude steel 250,000 t × 0.0154; limestone 33,000 t × 0.440 + dolomite 19,000 t × 0.471 + electrode 60 t × 3.663
# electricity (9,000 + 12,500 + 18,000 + 6,000 − 4,000) MWh × 0.5306; heat (20,000 − 5,000) GJ × 0.11
EXAMPLE_FIGURES = [
    ("fixed_carbon", -3_850.0),
    ("process", 23_688.8),
    ("electricity", 22_019.9),
    ("heat", 1_650.0),
]


@pytest.mark.parametrize(("key", "expected"), EXAMPLE_FIGURES)
def test_example_steelworks_hand_computed_sources(
    capsys: pytest.CaptureFixture[str], key: str, expected: float
) -> None:
    assert _json(capsys, EXAMPLE)[key] == expected


STEEL_ROWS = [
    (["2025-01", "sintering", "process", "limestone", 1_000, "t", "in"], "process", 440.0),
    (["2025-01", "steelmaking_bof", "fixed_carbon", "crude_steel", 10_000, "t", "out"], "fixed_carbon", -154.0),
    (["2025-01", "auxiliary", "electricity", "grid", 500, "MWh", "out"], "electricity", -265.3),
    (["2025-01", "auxiliary", "heat", "heat", 5_000_000, "MJ", "out"], "heat", -550.0),
]


@pytest.mark.parametrize(("row", "key", "expected"), STEEL_ROWS)
def test_steel_rows_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: list[Any], key: str, expected: float
) -> None:
    path = _csv(tmp_path, [HEADER, *_rows_as_csv([row])])
    assert _json(capsys, path)[key] == expected


def test_series_option_chooses_the_fuel_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, [HEADER, "2025-01,rolling,combustion,natural_gas,50,1e4Nm3,in"])
    assert main(["compute", "--activity", str(path), "--series", "general-industry"]) == 1
    assert "unknown fuel 'natural_gas' in series 'general-industry'" in capsys.readouterr().err


# 2,000 MWh of 2024-05 (METHODS section 1) under each grid series, for a works in Zhejiang
GRID_SERIES_CASES = [
    ([], 2_000 * 0.5306, "grid.cn.national_average@2023"),  # no location given: the precedence ends at national
    (["--province", "zhejiang"], 2_000 * 0.4974, "grid.province.zhejiang@2023"),
    (["--province", "zhejiang", "--grid-series", "province"], 2_000 * 0.4974, "grid.province.zhejiang@2023"),
    (["--province", "inner_mongolia", "--grid-region", "northeast"], 2_000 * 0.5122, "grid.region.northeast@2023"),
    (["--province", "zhejiang", "--grid-series", "national"], 2_000 * 0.5306, "grid.cn.national_average@2023"),
    (["--province", "zhejiang", "--grid-series", "carbon-market"], 2_000 * 0.5703, "grid.cn.carbon_market@2022"),
]


@pytest.mark.parametrize(("options", "expected", "factor_id"), GRID_SERIES_CASES)
def test_grid_series_and_province_options_choose_the_electricity_factor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], expected: float, factor_id: str
) -> None:
    path = _csv(tmp_path, [HEADER, *_rows_as_csv(WORKED_EXAMPLE_ROWS)])
    document = _json(capsys, path, *options)
    assert document["electricity"] == round(expected, 1)
    grid = next(line for line in document["lines"] if line["source_type"] == "electricity")
    assert grid["factor_ids"] == [factor_id] and factor_id in grid["factor_reason"]
    assert document["grid_series"] == (options[options.index("--grid-series") + 1] if "--grid-series" in options
                                       else "enterprise")


def test_the_table_says_which_electricity_factor_was_used_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _csv(tmp_path, [HEADER, *_rows_as_csv(WORKED_EXAMPLE_ROWS)])
    assert main(["compute", "--activity", str(path), "--province", "zhejiang"]) == 0
    assert ("Electricity factor\n  grid.province.zhejiang@2023: series enterprise; no enterprise named; the works in "
            "province zhejiang: provincial average: grid.province.zhejiang@2023 = 0.4974 tCO2/MWh"
            ) in capsys.readouterr().out


def test_findings_appear_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(
        tmp_path,
        [HEADER, "2025-01,rolling,electricity,grid,100,MWh,in", "2025-01,auxiliary,electricity,grid,150,MWh,out"],
    )
    findings = _json(capsys, path)["findings"]
    assert [(f["code"], f["period"], f["lines"]) for f in findings] == [("negative_net", "2025-01", [2, 3])]


# --- bad rows: all listed with their line numbers, nothing computed ------------------------------

BAD_CSV_ROWS = [
    ("2025-01,rolling,combustion,cokes,10,t,in", "unknown fuel 'cokes'"),
    ("2025-01,rolling,combustion,natural_gas,10,m3,in", "cannot convert m3 to 1e4Nm3"),
    ("2025-01,rolling,combustion,natural_gas,10,Nm3,sideways", "direction: Input should be 'in' or 'out'"),
    ("2025-01,rolling,combustion,natural_gas,ten,Nm3,in", "quantity: Input should be a valid number"),
    ("2025-01,rolling,combustion,natural_gas,,Nm3,in", "quantity: Input should be a valid number"),
    ("Jan 2025,rolling,combustion,natural_gas,10,Nm3,in", "period: must be YYYY-MM or YYYY"),
    ("2025-01,rolling,combustion,natural_gas,10,Nm3", "6 fields, header has 7"),
    ("2025-01,rolling,combustion,natural_gas,10,Nm3,in,extra", "8 fields, header has 7"),
    ('2025-01,rolling,combustion,natural_gas,"1,000",Nm3,in', "quantity: Input should be a valid number"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_CSV_ROWS)
def test_csv_bad_row_is_reported_with_its_line_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str, reason: str
) -> None:
    path = _csv(tmp_path, [HEADER, "2025-01,rolling,combustion,natural_gas,10,Nm3,in", row])
    assert main(["compute", "--activity", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    bad_lines = [line for line in captured.err.splitlines() if " line " in line and "nothing computed" not in line]
    assert (captured.out, len(bad_lines), f"{path} line 3: " in bad_lines[0], reason in bad_lines[0]) == (
        "",
        1,
        True,
        True,
    )


def test_csv_lists_every_bad_row_before_giving_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(
        tmp_path,
        [
            HEADER,
            "2025-01,rolling,combustion,cokes,10,t,in",
            "2025-01,rolling,combustion,natural_gas,10,Nm3,in",
            "2025-01,rolling,combustion,natural_gas,10,Nm3,in,extra",
            "",
            "2025-01,rolling,heat,heat,10,kg,in",
        ],
    )
    assert main(["compute", "--activity", str(path)]) == 1
    err = capsys.readouterr().err
    assert [f"line {n}:" in err for n in (2, 3, 4, 6)] + ["3 bad rows" in err] == [True, False, True, True, True]


def test_xlsx_lists_every_bad_row_with_its_line_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _xlsx(
        tmp_path,
        [
            list(COLUMNS),
            ["2025-01", "rolling", "combustion", "natural_gas", 10, "Nm3", "in"],
            ["2025-01", "rolling", "combustion", "natural_gas", "lots", "Nm3", "in"],
            ["2025-01", "rolling", "process", "limestone", 10, "t", "out"],
            [None] * 7,
            ["2025-01", "rolling", "electricity", "grid", 10, "GJ/h", "in"],
        ],
    )
    assert main(["compute", "--activity", str(path)]) == 1
    err = capsys.readouterr().err
    assert [f"{path} line {n}:" in err for n in (2, 3, 4, 6)] == [False, True, True, True]


BAD_HEADERS = [
    ("period,process,source_type,item,quantity,unit", "missing columns: direction"),
    (HEADER + ",comment", "unknown columns: comment"),
    ("period,period,source_type,item,quantity,unit,direction", "repeated columns: period"),
]


@pytest.mark.parametrize(("header", "reason"), BAD_HEADERS)
def test_bad_header_is_reported_on_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str, reason: str
) -> None:
    path = _csv(tmp_path, [header, "2025-01,rolling,combustion,natural_gas,10,Nm3,in"])
    assert main(["compute", "--activity", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path} line 1: bad header" in err and reason in err


def test_header_columns_may_come_in_any_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, ["direction,unit,quantity,item,source_type,process,period", "in,GJ,1000,heat,heat,auxiliary,2024-05"])
    assert _json(capsys, path)["heat"] == 110.0


def test_xlsx_month_typed_as_excel_date_is_read_as_that_month(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _xlsx(tmp_path, [list(COLUMNS), [datetime(2024, 5, 1), "auxiliary", "heat", "heat", 1_000, "GJ", "in"]])
    assert _json(capsys, path)["by_period"] == {"2024-05": 110.0}


FILE_PROBLEMS = [
    ("activity.txt", "an activity file is .csv or .xlsx"),
    ("missing.csv", "no such file"),
]


@pytest.mark.parametrize(("name", "reason"), FILE_PROBLEMS)
def test_unreadable_activity_file_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, reason: str
) -> None:
    if name.endswith(".txt"):
        (tmp_path / name).write_text(HEADER + "\n", encoding="utf-8")
    assert main(["compute", "--activity", str(tmp_path / name)]) == 1
    assert reason in capsys.readouterr().err


def test_corrupt_xlsx_is_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip file")
    assert main(["compute", "--activity", str(path)]) == 1
    assert "cannot read as XLSX" in capsys.readouterr().err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compute"]) == 2
    assert "--activity" in capsys.readouterr().err


# --- table output -------------------------------------------------------------------------------

TABLE_ROWS = [
    "  combustion    1,081.1",
    "  electricity   1,061.2",
    "  heat            110.0",
    "  fixed_carbon      0.0",
    "  total_tco2    2,252.3",
]


@pytest.mark.parametrize("row", TABLE_ROWS)
def test_table_output_aligns_labels_and_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: str
) -> None:
    path = _csv(tmp_path, [HEADER, *_rows_as_csv(WORKED_EXAMPLE_ROWS)])
    assert main(["compute", "--activity", str(path)]) == 0
    assert row in capsys.readouterr().out.splitlines()


# --- template -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["template.csv", "template.xlsx"])
def test_template_round_trips_through_compute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = tmp_path / name
    assert main(["template", "--out", str(path)]) == 0
    capsys.readouterr()
    assert _json(capsys, path)["lines"][0]["line"] == 2


def test_xlsx_template_has_the_header_on_its_first_sheet(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    assert main(["template", "--out", str(path)]) == 0
    workbook = load_workbook(path, read_only=True)
    try:
        header = next(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    assert header == COLUMNS


def test_template_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, ["keep me"], name="mine.csv")
    assert (main(["template", "--out", str(path)]), path.read_text(encoding="utf-8")) == (1, "keep me\n")
    assert "--force" in capsys.readouterr().err


def test_template_rejects_other_suffixes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template", "--out", str(tmp_path / "template.ods")]) == 1
    assert ".xlsx or .csv" in capsys.readouterr().err


# --- report --------------------------------------------------------------------------------------


def _report(tmp_path: Path, name: str, *extra: str) -> tuple[int, Path]:
    out = tmp_path / name
    return main(["report", "--activity", str(EXAMPLE), "--out", str(out), "--name", "河北示范钢铁有限公司",
                 "--region", "CN-HE", *extra]), out


def test_report_writes_the_english_pdf_when_asked_with_lang(tmp_path: Path) -> None:
    from pypdf import PdfReader

    code, out = _report(tmp_path, "report.pdf", "--lang", "en")
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert code == 0
    assert "greenhouse gas emissions report 2025" in text and "Total emissions: 513,775.7 tCO₂" in text
    assert "Hebei" in text and "排放总量" not in text


def test_report_xlsx_states_the_figures_of_compute_json_with_the_same_signs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    computed = _json(capsys, EXAMPLE)
    code, out = _report(tmp_path, "report.xlsx")
    assert code == 0
    rows = {row[0]: row[1] for row in load_workbook(out)["按排放源和工序的排放量"].iter_rows(values_only=True)
            if row and row[0] and len(row) > 1 and isinstance(row[1], int | float)}
    assert round(rows["固碳产品隐含的排放（扣减）"], 1) == computed["fixed_carbon"] == -3_850.0
    assert round(rows["净购入电力隐含的排放"], 1) == computed["electricity"]
    assert round(rows["排放总量"], 1) == computed["total_tco2"]


def test_report_refuses_a_file_of_two_years_and_a_wrong_suffix(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    two_years = tmp_path / "two.csv"
    two_years.write_text(EXAMPLE.read_text(encoding="utf-8") + "2026-01,rolling,electricity,grid,1,MWh,in\n",
                         encoding="utf-8")
    assert main(["report", "--activity", str(two_years), "--out", str(tmp_path / "r.pdf"), "--name", "x"]) == 1
    assert "one calendar year" in capsys.readouterr().err and not (tmp_path / "r.pdf").exists()
    assert _report(tmp_path, "report.txt")[0] == 1
    assert "must end in .pdf or .xlsx" in capsys.readouterr().err
