"""The rendered report without the database: embedded fonts a bare viewer can draw, Chinese or English wording
with no leaks, one sign convention in every format, numeric XLSX cells, cover and declaration pages."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from api.accounting.render import Num, Table, render_pdf, render_xlsx, report_cover, report_sections
from carbon_domain.factors import FactorLibrary
from carbon_domain.reports.document import EnteredLine, Enterprise, MeteredAggregate, Site, build_document
from carbon_domain.reports.labels import LANGUAGES, labels_for
from carbonflow import inventory_cli
from tests.accounting.report_fixture import AT, EXAMPLE, steel_document

SUBMISSION = {"prepared_by": "zhang.wei", "submitted_at": "2025-03-05T10:00:00+08:00"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return steel_document(submission=SUBMISSION)


@pytest.fixture(scope="module")
def pdf(document: dict[str, Any]) -> bytes:
    return render_pdf(document)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _fonts(pdf: bytes) -> list[Any]:
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get_object().get("/Font") or {}).values():
            fonts.append(font.get_object())
    return fonts


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} is not installed: `make install` installs poppler-utils when root "
                    "(apt-get install poppler-utils)")
    return found


# --- fonts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_font_of_the_pdf_is_embedded(document: dict[str, Any], language: str) -> None:
    fonts = _fonts(render_pdf(document, language))  # type: ignore[arg-type]
    assert fonts
    for font in fonts:
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font["/BaseFont"]


def test_pdffonts_lists_every_font_as_embedded(pdf: bytes, tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(pdf)
    listing = subprocess.run([_poppler("pdffonts"), str(tmp_path / "report.pdf")], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    assert listing
    assert all(line.split()[-5] == "yes" for line in listing), listing  # the `emb` column


def test_the_chinese_text_and_the_minus_sign_extract_from_the_pdf(pdf: bytes, document: dict[str, Any]) -> None:
    text = _text(pdf)
    assert "排放总量 = 化石燃料燃烧排放 + 工业生产过程排放 + 净购入电力和热力隐含的排放 − 固碳产品隐含的排放" in text
    assert f"排放总量：{document['total_tco2']:,.1f} tCO₂" in text


def _ink(pdf: bytes, tmp_path: Path, *, top_mm: float, height_mm: float) -> tuple[int, str]:
    """Dark pixels of a band of page 1 drawn by pdftoppm with no system font at all, and its complaints."""
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><dir>{empty}</dir>'
                      f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>")
    (tmp_path / "report.pdf").write_bytes(pdf)
    dpi = 50
    px = round(210 / 25.4 * dpi)
    run = subprocess.run(
        [_poppler("pdftoppm"), "-gray", "-r", str(dpi), "-f", "1", "-l", "1", "-x", "0",
         "-y", str(round(top_mm / 25.4 * dpi)), "-W", str(px), "-H", str(round(height_mm / 25.4 * dpi)),
         str(tmp_path / "report.pdf"), str(tmp_path / "page")],
        capture_output=True, text=True, env={**os.environ, "FONTCONFIG_FILE": str(config)}, check=True)
    image = next(tmp_path.glob("page*.pgm")).read_bytes()
    pixels = image.split(b"\n", 3)[3]  # P5, size, maximum value, then one byte per pixel
    return sum(1 for value in pixels if value < 128), run.stderr


def test_a_viewer_without_cjk_fonts_draws_the_chinese_title(pdf: bytes, tmp_path: Path) -> None:
    # the cover's title band holds only the Chinese title: blank if the viewer had to find the font itself
    ink, complaints = _ink(pdf, tmp_path, top_mm=68, height_mm=16)
    assert "font" not in complaints.lower(), complaints
    assert ink > 300


# --- language -----------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[\w.-]+@[\w.-]+|[a-z0-9]+(?:[-_.][a-z0-9]+)+|GB/T [\d.]+-\d{4}")
_UNITS = {"t", "tCO", "Nm", "MWh", "GJ", "TJ", "tC", "kWh", "zhang"}


def _words(document: dict[str, Any], language: str) -> list[str]:
    cells: list[str] = [v for row in report_cover(document, language) for v in row]  # type: ignore[arg-type]
    for section in report_sections(document, language):  # type: ignore[arg-type]
        cells.append(section.title)
        for block in section.blocks:
            if isinstance(block, Table):
                cells += [*block.header, *(c.text if isinstance(c, Num) else c for row in block.rows for c in row)]
            else:
                cells.append(block)
    return cells


def test_the_chinese_report_has_no_english_words(document: dict[str, Any]) -> None:
    leaks = {word for cell in _words(document, "zh") for word in re.findall(r"[A-Za-z]+", _IDENTIFIER.sub("", cell))}
    assert leaks <= _UNITS, sorted(leaks - _UNITS)


def test_the_chinese_report_names_place_industry_processes_and_sources_in_chinese(document: dict[str, Any]) -> None:
    cells = _words(document, "zh")
    for expected in ("河北省", "钢铁生产", "轧钢", "转炉炼钢", "〔待与指南附录核对〕", "万Nm³"):
        assert any(expected in cell for cell in cells), expected
    for leak in ("hebei", "steel", "rolling", "[check", "1e4Nm3"):
        assert not any(leak in _IDENTIFIER.sub("", cell) for cell in cells), leak


def test_the_english_report_is_in_english(document: dict[str, Any]) -> None:
    text = _text(render_pdf(document, "en"))
    assert "greenhouse gas emissions report 2025" in text
    assert "Emissions by source and process" in text and "Hebei" in text and "10⁴ Nm³" in text
    assert not re.search(r"[\u4e00-\u9fff]", text.replace(document["enterprise"]["name"], "").replace(
        document["enterprise"]["sites"][0]["name"], ""))


PLACES = [
    ("zh", "CN-ZJ", "浙江省"),
    ("zh", "hebei", "河北省"),
    ("zh", "north", "华北区域"),
    ("zh", "CN-ZJ-HZ", "浙江省（CN-ZJ-HZ）"),  # a city without wording keeps its code beside the province
    ("en", "CN-ZJ", "Zhejiang"),
    ("en", "hebei", "Hebei"),
]


@pytest.mark.parametrize(("language", "code", "expected"), PLACES)
def test_regions_and_provinces_are_worded_in_the_report_language(language: str, code: str, expected: str) -> None:
    assert labels_for(language).place(code) == expected


FINDINGS = [
    {"code": "negative_net", "period": "2025-01",
     "params": {"source_type": "heat", "net": -5.0, "bought": 1.0, "sold": 6.0, "unit": "GJ"}},
    {"code": "missing_month", "period": "2025-02", "params": {"first": "2025-01", "last": "2025-03"}},
    {"code": "missing_month", "period": "2025-02", "params": {
        "process": "rolling", "source_type": "combustion", "item": "natural_gas", "direction": "in",
        "first": "2025-01", "last": "2025-03"}},
    {"code": "month_on_month_jump", "period": "2025-02", "params": {
        "process": "rolling", "source_type": "combustion", "item": "natural_gas", "direction": "in",
        "previous": "2025-01", "change": None, "before": 0.0, "now": 5.0, "unit": "1e4Nm3", "threshold": 0.3}},
    {"code": "metered_vs_entered", "period": "2025-01", "params": {
        "process": "rolling", "source_type": "electricity", "item": "grid", "direction": "in", "metered": 5.0,
        "entered": None, "unit": "MWh", "relative": None, "basis": "entered"}},
    {"code": "metered_vs_entered", "period": "2025-01", "params": {
        "process": "rolling", "source_type": "electricity", "item": "grid", "direction": "in", "metered": 5.0,
        "entered": 0.0, "unit": "MWh", "relative": None, "basis": "metered"}},
    {"code": "metered_quality", "period": None, "params": {"intervals": 3}},
    *({"code": "cross_check", "period": "2025-01", "params": {
        "source_type": "electricity", "item": "grid", "direction": "in", "entered": entered, "metered": 5.0,
        "difference": difference, "relative": relative, "unit": "MWh", "status": status, "threshold": 0.05}}
      for entered, difference, relative, status in ((4.0, 1.0, 0.25, "compared"), (0.0, 5.0, None, "entered_zero"),
                                                    (None, None, None, "units"))),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("finding", FINDINGS, ids=lambda f: f["code"])
def test_every_finding_is_worded_in_the_report_language(finding: dict[str, Any], language: str) -> None:
    message = labels_for(language).finding({**finding, "message": "English message"}, lambda v: f"{v:,.1f}")
    assert message != "English message"
    assert bool(re.search(r"[\u4e00-\u9fff]", message)) is (language == "zh"), message


# --- signs --------------------------------------------------------------------------------------


def test_fixed_carbon_has_one_sign_in_json_cli_pdf_and_xlsx(document: dict[str, Any], pdf: bytes,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    fixed = next(s["tco2"] for s in document["by_source"] if s["source_type"] == "fixed_carbon")
    by_process = [r["tco2"] for r in document["by_process_source"] if r["source_type"] == "fixed_carbon"]
    assert fixed < 0 and all(v < 0 for v in by_process) and fixed == pytest.approx(sum(by_process))
    assert sum(s["tco2"] for s in document["by_source"]) == pytest.approx(document["total_tco2"], abs=1e-3)
    text = _text(pdf)
    for value in (fixed, *by_process):
        assert f"{value:,.1f}" in text  # "-7,700.0", never "7,700.0" in one table and "-6,776.0" in another
    sheet = load_workbook(io.BytesIO(render_xlsx(document)))["按排放源和工序的排放量"]
    figures = {(row[0], row[1]) if len(row) > 2 and row[2] is not None else row[0]: row[-1] if row[2] is not None
               else row[1] for row in sheet.iter_rows(values_only=True) if row[0] and len(row) > 1}
    assert figures["固碳产品隐含的排放（扣减）"] == fixed
    assert sorted(v for k, v in figures.items() if isinstance(k, tuple) and k[1] == "固碳产品隐含的排放（扣减）") \
        == sorted(by_process)
    assert inventory_cli.main(["compute", "--activity", str(EXAMPLE), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["fixed_carbon"] < 0
    assert sum(cli[s] for s in ("combustion", "process", "electricity", "heat", "fixed_carbon")) \
        == pytest.approx(cli["total_tco2"], abs=0.2)


# --- XLSX ---------------------------------------------------------------------------------------


def test_xlsx_figures_are_numbers_with_number_formats(document: dict[str, Any]) -> None:
    workbook = load_workbook(io.BytesIO(render_xlsx(document)))
    sheet = workbook["按排放源和工序的排放量"]
    total = next(row for row in sheet.iter_rows() if row[0].value == "排放总量")[1]
    assert (total.data_type, total.value, total.number_format) == ("n", document["total_tco2"], "#,##0.0")
    lines = workbook["活动数据和排放因子及来源"]
    quantities = [row[6] for row in lines.iter_rows() if isinstance(row[0].value, int)]
    assert quantities and all(c.data_type == "n" and c.number_format == "#,##0.###" for c in quantities)
    assert not [c.value for row in workbook.worksheets[3].iter_rows() for c in row
                if isinstance(c.value, str) and re.fullmatch(r"-?[\d,]+\.\d", c.value)]  # no figure left as text


# --- cover and declaration ----------------------------------------------------------------------


def test_the_cover_names_entity_credit_code_period_preparer_and_dates(document: dict[str, Any], pdf: bytes) -> None:
    cover = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in ("河北示范钢铁有限公司2025年度温室气体排放报告", "统一社会信用代码", "未登记", "报告期\n2025",
                     "编制人\nzhang.wei", "送审日期\n2025-03-05", f"数据截至\n{document['data_as_of'][:10]}"):
        assert expected in cover
    registered = report_cover({**document, "enterprise": {**document["enterprise"],
                                                          "credit_code": "91130200MA0XXXXXX1"}})
    assert ("统一社会信用代码", "91130200MA0XXXXXX1") in registered


def test_a_report_not_yet_submitted_says_it_is_a_draft(document: dict[str, Any]) -> None:
    draft = {k: v for k, v in document.items() if k != "submission"}
    assert ("编制人", "草稿（未送审）") in report_cover(draft)


def test_the_declaration_stands_on_the_last_page_with_signature_lines(pdf: bytes) -> None:
    last = PdfReader(io.BytesIO(pdf)).pages[-1].extract_text()
    for expected in ("六、声明与签署", "真实、准确、完整", "法定代表人（签字）", "编制人（签字）", "单位（盖章）"):
        assert expected in last
    assert "五、数据质量说明" not in last


def test_a_missing_font_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from api.accounting import fonts
    from carbon_domain.reports.errors import FontMissing

    monkeypatch.setattr(fonts, "_PACKAGE", "no_such_font_package")
    monkeypatch.setattr(fonts, "_DEBIAN_FILE", tmp_path / "wqy-microhei.ttc")
    with pytest.raises(FontMissing, match="pip install paperang-p2-fonts-cjk.*apt-get install fonts-wqy-microhei"):
        fonts.font_path()


# --- per-site electricity factor and cross-check (issue 15) -------------------------------------

ZHEJIANG = Enterprise("zj-works", "浙江示范制造有限公司", "zhejiang", "steel", (Site("zj-1", "杭州厂区", "zhejiang"),))


@pytest.fixture(scope="module")
def zhejiang() -> dict[str, Any]:
    """A Zhejiang works: a month of electricity entered for its site, and meters that counted half as much again."""
    entered = [EnteredLine(1, AT, 2, "2024-05", "rolling", "electricity", "grid", 1_000.0, "MWh", "in", "measured",
                           site="zj-1")]
    metered = [MeteredAggregate("2024-05", "auxiliary", "electricity", 1_500.0, "MWh", 744, 0, AT)]
    return build_document(enterprise=ZHEJIANG, year=2024, month=5, entered=entered, metered=metered,
                          library=FactorLibrary.default(), series="ndrc-steel-2013")


def _rows(document: dict[str, Any], language: str) -> list[tuple[str, ...]]:
    return [tuple(c.text if isinstance(c, Num) else c for c in row)
            for section in report_sections(document, language)  # type: ignore[arg-type]
            for block in section.blocks if isinstance(block, Table) for row in block.rows]


def test_the_chinese_report_shows_the_provincial_factor_row_and_its_reason_in_chinese(
        zhejiang: dict[str, Any]) -> None:
    row = next(r for r in _rows(zhejiang, "zh") if "grid.province.zhejiang@2023" in r and "杭州厂区（zj-1）" in r)
    assert "0.4974" in row and "浙江省电网平均排放因子" in row
    reason = row[5]
    assert reason.startswith("按企业专用因子优先（企业 → 省级 → 区域 → 全国）的顺序")
    assert "企业专用排放因子在该期间无有效值" in reason and reason.endswith("采用浙江省电网平均排放因子。")
    assert not re.findall(r"[A-Za-z]+", _IDENTIFIER.sub("", reason))
    leaks = {word for cell in _words(zhejiang, "zh") for word in re.findall(r"[A-Za-z]+", _IDENTIFIER.sub("", cell))}
    assert leaks <= _UNITS, sorted(leaks - _UNITS)
    text = _text(render_pdf(zhejiang))
    assert "grid.province.zhejiang@2023" in text and "采用浙江省电网平均排放因子" in text.replace("\n", "")


def test_the_english_report_says_which_factor_each_site_used_and_why(zhejiang: dict[str, Any]) -> None:
    row = next(r for r in _rows(zhejiang, "en") if "grid.province.zhejiang@2023" in r and "(zj-1)" in r[0])
    assert row[0] == "杭州厂区 (zj-1)" and row[4] == "Zhejiang provincial grid average"
    assert row[5].endswith("used the Zhejiang provincial grid average.")


@pytest.mark.parametrize(("language", "expected"), [
    ("zh", ("电网电力（净购入电力隐含的排放，消耗/购入）2024-05：填报 1,000 MWh，计量 1,500 MWh，差异 +500 MWh（+50.0%），"
            "超过 5% 的容差")),
    ("en", ("grid electricity (Net purchased electricity, consumed/purchased) in 2024-05: entered 1,000 MWh, metered "
            "1,500 MWh, difference +500 MWh (+50.0%), beyond the 5% tolerance")),
])
def test_the_cross_check_finding_is_worded_in_the_report_language(zhejiang: dict[str, Any], language: str,
                                                                  expected: str) -> None:
    assert [f["code"] for f in zhejiang["findings"]].count("cross_check") == 1
    category, period, _ = next(r for r in _rows(zhejiang, language) if len(r) == 3 and r[2].startswith(expected))
    assert period == "2024-05"
    assert category == {"zh": "与计量数据交叉核对", "en": "Cross-check with meters"}[language]


def test_the_pdf_and_xlsx_show_the_cross_check_entered_and_metered_side_by_side(zhejiang: dict[str, Any]) -> None:
    sheet = load_workbook(io.BytesIO(render_xlsx(zhejiang)))["数据质量说明"]
    header = next(row for row in sheet.iter_rows(values_only=True) if row[:5] == ("期间", "能源品种", "填报", "计量", "差异"))
    entry = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "2024-05" and row[2] == 1_000.0)
    assert header and entry[1:7] == ("电网电力（净购入电力隐含的排放，消耗/购入）", 1_000.0, 1_500.0, 500.0, "MWh", 0.5)
    text = _text(render_pdf(zhejiang, "en"))
    assert "Cross-check with the platform's metered data" in text and "+500" in text and "+50.0%" in text
