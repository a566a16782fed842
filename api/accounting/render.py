"""The enterprise GHG report in Chinese, as PDF (reportlab) and XLSX (openpyxl), from an inventory document.

Both formats render the same `report_sections` (the structure of GB/T 32150-2015 reports:
基本信息, 核算边界, 按排放源和工序的排放量, 活动数据和排放因子及来源, 数据质量说明), and both are
deterministic: the only date in them is the document's `data_as_of` (the newest datum), PDF
creation dates and XLSX properties are fixed to it, and zip entries carry a fixed time, so the same
document gives the same bytes. A submission stores the sha256 of those bytes and can be re-rendered
later to prove what was submitted.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carbon_domain.reports.errors import ReportInputError

__all__ = ["Section", "Table", "render_pdf", "render_xlsx", "report_sections", "report_title"]

FONT = "STSong-Light"  # reportlab's built-in CID font for Simplified Chinese: nothing to embed or ship
_EPOCH = datetime(2000, 1, 1)

SOURCE_LABELS = {
    "combustion": "化石燃料燃烧排放",
    "process": "工业生产过程排放",
    "electricity": "净购入电力隐含的排放",
    "heat": "净购入热力隐含的排放",
    "fixed_carbon": "固碳产品隐含的排放（扣减）",
    "production": "产品产量（不计排放）",
}
PROCESS_LABELS = {
    "sintering": "烧结",
    "pelletising": "球团",
    "coking": "炼焦",
    "ironmaking": "炼铁",
    "steelmaking_bof": "转炉炼钢",
    "steelmaking_eaf": "电炉炼钢",
    "rolling": "轧钢",
    "auxiliary": "辅助生产",
    "unassigned": "未分配工序",
    "enterprise": "全厂",
}
ITEM_LABELS = {
    "natural_gas": "天然气", "coke": "焦炭", "anthracite": "无烟煤", "bituminous_coal": "烟煤", "lignite": "褐煤",
    "washed_coal": "洗精煤", "crude_oil": "原油", "fuel_oil": "燃料油", "diesel": "柴油", "gasoline": "汽油",
    "lpg": "液化石油气", "coke_oven_gas": "焦炉煤气", "blast_furnace_gas": "高炉煤气", "converter_gas": "转炉煤气",
    "limestone": "石灰石", "dolomite": "白云石", "electrode": "电极", "pig_iron": "生铁", "dri": "直接还原铁",
    "ferronickel": "镍铁合金", "ferrochrome": "铬铁合金", "ferromolybdenum": "钼铁合金", "crude_steel": "粗钢",
    "methanol": "甲醇", "grid": "电网电力", "heat": "热力", "sinter": "烧结矿", "pellet": "球团矿",
    "hot_rolled_steel": "热轧钢材",
}
_DIRECTIONS = {"in": "消耗/购入", "out": "输出/产出"}
_SOURCES = {"entered": "填报", "metered": "计量"}
_QUALITIES = {"measured": "实测", "calculated": "计算", "estimated": "估算", "good": "正常", "flagged": "有异常时段"}
_FINDINGS = {
    "month_on_month_jump": "月度环比突变", "missing_month": "月份缺失", "negative_net": "净购入为负",
    "metered_vs_entered": "计量与填报差异", "metered_quality": "计量数据质量", "estimated_data": "估算数据",
}


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] | None = None  # relative column widths (PDF)


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[str | Table, ...] = field(default_factory=tuple)


def _label(table: Mapping[str, str], code: str | None) -> str:
    if code is None:
        return "—"
    return table.get(code, code)


def _tonnes(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _amount(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def _as_of(document: Mapping[str, Any]) -> str:
    stamp = document.get("data_as_of")
    return "—" if not stamp else stamp[:10]


def report_title(document: Mapping[str, Any]) -> str:
    period = document["period_label"]
    when = f"{period[:4]}年{int(period[5:])}月" if document.get("month") else f"{period}年度"
    return f"{document['enterprise']['name']}{when}温室气体排放报告"


def report_sections(document: Mapping[str, Any]) -> list[Section]:
    """The report's sections, in the order of GB/T 32150-2015 reports; raises ReportInputError for a
    document that lacks a part."""
    try:
        return [_basics(document), _boundary(document), _emissions(document), _activity(document),
                _quality(document)]
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportInputError(f"not an inventory document ({document.get('schema', 'no schema')}): {exc!r}") from exc


def _basics(d: Mapping[str, Any]) -> Section:
    e = d["enterprise"]
    series = d["series"]
    rows = (
        ("企业名称", e["name"]),
        ("企业编号", e["enterprise_id"]),
        ("所属地区", e["region"]),
        ("所属行业", e.get("industry") or "钢铁生产"),
        ("报告期", d["period_label"]),
        ("核算依据", "；".join(d["standards"])),
        ("排放因子系列", f"燃料 {series['fuel']}；过程与固碳 {series['process']}；电力 {series['grid']}；热力 {series['heat']}"),
        ("数据基准", f"计量与填报并存时采用{_SOURCES[d['basis']]}数据"),
        ("编制日期（数据截至）", _as_of(d)),
    )
    return Section("一、基本信息", (Table(("项目", "内容"), rows, (1, 3)),))


def _boundary(d: Mapping[str, Any]) -> Section:
    sites = tuple((s["site_id"], s["name"], s.get("province") or "—") for s in d["enterprise"]["sites"])
    names = sorted({line["process"] for line in d["lines"]}, key=lambda p: (list(PROCESS_LABELS).index(p)
                                                                            if p in PROCESS_LABELS else 99, p))
    processes = "、".join(_label(PROCESS_LABELS, p) for p in names) or "无"
    sources = tuple(
        (SOURCE_LABELS[s["source_type"]], "是" if any(
            line["source_type"] == s["source_type"] for line in d["lines"]) else "否")
        for s in d["by_source"]
    )
    return Section("二、核算边界", (
        ("核算边界为企业法人边界内的主要生产系统、辅助生产系统以及直接为生产服务的附属生产系统；"
         "生物质燃料燃烧产生的二氧化碳单独报告，不计入排放总量。"),
        Table(("场所编号", "场所名称", "省份"), sites or (("—", "—", "—"),), (1, 2, 1)),
        f"纳入核算的工序：{processes}。",
        Table(("排放源类别", "本期是否涉及"), sources, (3, 1)),
    ))


def _emissions(d: Mapping[str, Any]) -> Section:
    by_source = tuple((SOURCE_LABELS[s["source_type"]], _tonnes(s["tco2"])) for s in d["by_source"])
    by_source += (("排放总量", _tonnes(d["total_tco2"])),)
    by_process = tuple((_label(PROCESS_LABELS, p["process"]), _tonnes(p["tco2"])) for p in d["by_process"])
    cross = tuple(
        (_label(PROCESS_LABELS, r["process"]), SOURCE_LABELS[r["source_type"]], _tonnes(r["tco2"]))
        for r in d["by_process_source"]
    )
    by_month = tuple((m["period"], _tonnes(m["tco2"])) for m in d["by_month"])
    intensity = d["intensity_tco2_per_t_crude_steel"]
    blocks: list[str | Table] = [
        "排放总量 = 化石燃料燃烧排放 + 工业生产过程排放 + 净购入电力和热力隐含的排放 − 固碳产品隐含的排放。",
        f"排放总量：{_tonnes(d['total_tco2'])} tCO2。",
        Table(("排放源", "排放量（tCO2）"), by_source, (3, 1)),
        Table(("工序", "排放量（tCO2）"), by_process or (("—", "—"),), (3, 1)),
        Table(("工序", "排放源", "排放量（tCO2）"), cross or (("—", "—", "—"),), (2, 3, 1.5)),
        Table(("月份", "排放量（tCO2）"), by_month or (("—", "—"),), (3, 1)),
    ]
    if intensity is None:
        blocks.append("本期无粗钢产量数据，未计算吨粗钢排放强度。")
    else:
        blocks.append(f"粗钢产量 {_amount(d['crude_steel_t'])} t，吨粗钢二氧化碳排放强度 {intensity:.4f} tCO2/t。")
    return Section("三、按排放源和工序的排放量", tuple(blocks))


def _activity(d: Mapping[str, Any]) -> Section:
    lines = tuple(
        (str(line["line"]), line["period"], _label(PROCESS_LABELS, line["process"]),
         SOURCE_LABELS[line["source_type"]], _label(ITEM_LABELS, line["item"]), _DIRECTIONS[line["direction"]],
         _amount(line["quantity"]), line["unit"], _tonnes(line["tco2"]), _SOURCES[line["data_source"]],
         "、".join(line["factor_ids"]) or "—")
        for line in d["lines"]
    )
    factors = tuple(
        (f["factor_id"], f"{f['value']:g}", f["unit"], f["series"], f"{f['valid_from']}至{f['valid_to'] or '今'}",
         f["source"])
        for f in d["factors"]
    )
    return Section("四、活动数据和排放因子及来源", (
        ("活动数据按核算单位列示（气体燃料为万标准立方米，电力为兆瓦时，热力为吉焦）；排放因子取自平台排放因子库，"
         "按各行所属期间首日（北京时间）有效的版本确定。"),
        Table(("序号", "期间", "工序", "排放源", "品种", "方向", "活动数据", "单位", "排放量（tCO2）", "来源", "排放因子编号"),
              lines or (("—",) * 11,), (0.75, 1.1, 1, 1.6, 1, 1, 1.2, 0.9, 1.2, 0.75, 2.5)),
        Table(("排放因子编号", "数值", "单位", "系列", "有效期", "来源"), factors or (("—",) * 6,),
              (2.4, 0.8, 1, 1.3, 1.5, 2.6)),
    ))


def _quality(d: Mapping[str, Any]) -> Section:
    q = d["data_quality"]
    versions = "、".join(f"第{v['version']}版（{v['submitted_at'][:10]}，{v['lines_used']}行）" for v in q["versions"])
    blocks: list[str | Table] = [
        (f"本期核算共 {len(d['lines'])} 行活动数据：计量 {q['metered_lines']} 行（{q['metered_intervals']} 个计量时段，"
         f"其中异常时段 {q['flagged_intervals']} 个），填报 {q['entered_lines']} 行（估算 {q['estimated_lines']} 行）。"),
        f"采用的填报数据版本：{versions or '无'}；被新版本替代的填报行 {q['superseded_lines']} 行（保留备查）。",
        "计量数据为在线计量仪表小时增量的月度合计；填报数据按版本保存，不覆盖原数据。",
    ]
    recon = tuple(
        (r["period"], _label(PROCESS_LABELS, r["process"]), _label(ITEM_LABELS, r["item"]),
         _amount(r["metered"]), "—" if r["entered"] is None else _amount(r["entered"]), r["unit"],
         "—" if r["relative"] is None else f"{r['relative']:+.1%}", "是" if r["exceeds_tolerance"] else "否")
        for r in d["reconciliation"]
    )
    if recon:
        blocks.append(f"计量与填报数据比对（差异超过 {d['tolerance']:.0%} 列为核查发现）：")
        blocks.append(Table(("期间", "工序", "品种", "计量", "填报", "单位", "差异", "超限"), recon,
                            (1, 1, 1, 1.2, 1.2, 0.8, 0.8, 0.6)))
    findings = tuple((_label(_FINDINGS, f["code"]), f.get("period") or "—", f["message"]) for f in d["findings"])
    blocks.append("核查发现：" if findings else "核查发现：无。")
    if findings:
        blocks.append(Table(("类别", "期间", "说明"), findings, (1.2, 0.8, 5)))
    return Section("五、数据质量说明", tuple(blocks))


def _fixed_time(document: Mapping[str, Any]) -> datetime:
    stamp = document.get("data_as_of")
    if not stamp:
        return _EPOCH
    return datetime.fromisoformat(stamp).replace(tzinfo=None, microsecond=0)


# --- PDF ----------------------------------------------------------------------------------------


def render_pdf(document: Mapping[str, Any]) -> bytes:
    """The report as PDF bytes (A4, STSong-Light); identical bytes for identical documents."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    sections = report_sections(document)
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    title = report_title(document)
    stamp = _fixed_time(document)
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=14, wordWrap="CJK", spaceAfter=4)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5, wordWrap="CJK")
    heading = ParagraphStyle("heading", fontName=FONT, fontSize=13, leading=18, spaceBefore=10, spaceAfter=6)
    title_style = ParagraphStyle("title", fontName=FONT, fontSize=17, leading=24, alignment=1, spaceAfter=8)
    width = A4[0] - 36 * mm

    def table(t: Table) -> PdfTable:
        weights = t.widths or (1.0,) * len(t.header)
        widths = [width * w / sum(weights) for w in weights]
        data = [[Paragraph(_escape(text), cell) for text in row] for row in (t.header, *t.rows)]
        flowable = PdfTable(data, colWidths=widths, repeatRows=1)
        flowable.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        return flowable

    story: list[Any] = [Paragraph(_escape(title), title_style),
                        Paragraph(_escape(f"报告期：{document['period_label']}　数据截至：{_as_of(document)}"), body)]
    for section in sections:
        story.append(Paragraph(_escape(section.title), heading))
        for block in section.blocks:
            story.append(table(block) if isinstance(block, Table) else Paragraph(_escape(block), body))
            story.append(Spacer(1, 3))

    def page(canvas: Any, doc: Any) -> None:
        canvas.setDateFormatter(lambda *_: stamp.strftime("D:%Y%m%d%H%M%S+08'00'"))
        canvas.setFont(FONT, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{title}　第 {doc.page} 页")

    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=title, author="carbonflow", creator="carbonflow",
                            subject=f"GB/T 32150-2015 {document['period_label']}", invariant=1)
    pdf.build(story, onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- XLSX ---------------------------------------------------------------------------------------


def render_xlsx(document: Mapping[str, Any]) -> bytes:
    """The report as an XLSX workbook, one sheet per section; identical bytes for identical documents."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.writer.excel import ExcelWriter

    sections = report_sections(document)
    stamp = _fixed_time(document)
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = "carbonflow"
    workbook.properties.title = report_title(document)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF4")
    for section in sections:
        sheet = workbook.create_sheet(_sheet_name(section.title))
        sheet.append([report_title(document)])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([section.title])
        sheet["A2"].font = bold
        widths: dict[int, int] = {}
        for block in section.blocks:
            sheet.append([])
            if isinstance(block, str):
                sheet.append([block])
                continue
            sheet.append(list(block.header))
            for c in sheet[sheet.max_row]:
                c.font, c.fill = bold, fill
            for row in block.rows:
                sheet.append(list(row))
                for c in sheet[sheet.max_row]:
                    if isinstance(c.value, str) and c.value.startswith("="):
                        c.data_type = "s"  # text from the data (a factor source...) is never run as a formula
            for index, text in enumerate(block.header):
                longest = max([len(text), *(len(r[index]) for r in block.rows)]) * 2
                widths[index] = min(60, max(widths.get(index, 8), longest))
        for index, chars in widths.items():
            sheet.column_dimensions[chr(ord("A") + index)].width = chars
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()  # not save_workbook(): it stamps `modified` with the clock
    return _fixed_zip(raw.getvalue(), stamp)


def _sheet_name(title: str) -> str:
    name = title.split("、", 1)[-1]
    return name[:31]


def _fixed_zip(data: bytes, stamp: datetime) -> bytes:
    """The same archive with every entry dated `stamp` (zip entries otherwise carry the clock's time)."""
    moment = max(stamp, _EPOCH).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=moment)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
