"""The enterprise GHG report in Chinese (or English), as PDF (reportlab) and XLSX (openpyxl), from an inventory
document.

Both formats render the same `report_cover` and `report_sections` (the structure of GB/T 32150-2015
reports: 封面, 基本信息, 核算边界, 按排放源和工序的排放量, 活动数据和排放因子及来源, 数据质量说明,
声明与签署), worded by `labels` in the chosen language. Figures follow one sign convention (a figure
is what it adds to the total: fixed carbon and exports are negative) and stay numbers in the XLSX.
The PDF embeds a subset of its CJK font (`fonts`), so it reads the same without Chinese fonts. Both are
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

from api.accounting.fonts import register_font
from carbon_domain.reports.errors import ReportInputError
from carbon_domain.reports.labels import Labels, Language, labels_for

__all__ = ["Num", "Section", "Table", "render_pdf", "render_xlsx", "report_cover", "report_sections", "report_title"]

_EPOCH = datetime(2000, 1, 1)
_TONNES, _AMOUNT, _PERCENT, _FACTOR = "#,##0.0", "#,##0.###", "+0.0%;-0.0%;0.0%", "General"


@dataclass(frozen=True)
class Num:
    """A number cell: a number in the XLSX (with `excel_format`), `text` in the PDF."""

    value: float
    text: str
    excel_format: str


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str | Num, ...], ...]
    widths: tuple[float, ...] | None = None  # relative column widths (PDF)


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[str | Table, ...] = field(default_factory=tuple)


def _tonnes(value: float | None) -> str | Num:
    # one sign convention: a figure is what it adds to the total, subtractions negative ("-516.0")
    return "—" if value is None else Num(value, f"{value:,.1f}", _TONNES)


def _amount_text(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def _amount(value: float | None) -> str | Num:
    return "—" if value is None else Num(value, _amount_text(value), _AMOUNT)


def _as_of(document: Mapping[str, Any]) -> str:
    stamp = document.get("data_as_of")
    return "—" if not stamp else stamp[:10]


def report_title(document: Mapping[str, Any], language: Language = "zh") -> str:
    words = labels_for(language)
    period = document["period_label"]
    name = document["enterprise"]["name"]
    if document.get("month"):
        return words.text["title.month"].format(name=name, year=int(period[:4]), month=int(period[5:]))
    return words.text["title.year"].format(name=name, year=period)


def report_cover(document: Mapping[str, Any], language: Language = "zh") -> tuple[tuple[str, str], ...]:
    """The cover's rows: entity, credit code, period, preparer and dates (a draft until submitted)."""
    t = labels_for(language).text
    submission = document.get("submission") or {}
    return (
        (t["cover.enterprise"], document["enterprise"]["name"]),
        (t["cover.credit_code"], document["enterprise"].get("credit_code") or t["cover.not_registered"]),
        (t["cover.period"], document["period_label"]),
        (t["cover.preparer"], submission.get("prepared_by") or t["cover.draft"]),
        (t["cover.data_as_of"], _as_of(document)),
        (t["cover.submitted"], (submission.get("submitted_at") or "")[:10] or t["cover.draft"]),
    )


def report_sections(document: Mapping[str, Any], language: Language = "zh") -> list[Section]:
    """The report's sections, in the order of GB/T 32150-2015 reports, in `language` ("zh" or "en");
    raises ReportInputError for a document that lacks a part."""
    words = labels_for(language)
    try:
        return [_basics(document, words), _boundary(document, words), _emissions(document, words),
                _activity(document, words), _quality(document, words), _declaration(words)]
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportInputError(f"not an inventory document ({document.get('schema', 'no schema')}): {exc!r}") from exc


def _basics(d: Mapping[str, Any], w: Labels) -> Section:
    e, t = d["enterprise"], w.text
    series = d["series"]
    rows = (
        (t["basics.name"], e["name"]),
        (t["basics.id"], e["enterprise_id"]),
        (t["basics.region"], w.place(e["region"])),
        (t["basics.industry"], w.code(w.industries, e.get("industry")) if e.get("industry")
         else t["basics.default_industry"]),
        (t["basics.period"], d["period_label"]),
        (t["basics.standards"], w.list_separator.join(d["standards"])),
        (t["basics.series"], t["basics.series_value"].format(**{
            k: w.grid_series_name(v) if k == "grid" else w.series_name(v) for k, v in series.items()})),
        (t["basics.basis"], t["basics.basis_value"].format(basis=w.code(w.data_sources, d["basis"]))),
        (t["basics.as_of"], _as_of(d)),
    )
    return Section(t["basics.title"], (Table((t["basics.item"], t["basics.content"]), rows, (1, 3)),))


def _boundary(d: Mapping[str, Any], w: Labels) -> Section:
    t = w.text
    sites = tuple((s["site_id"], s["name"], w.place(s.get("province"))) for s in d["enterprise"]["sites"])
    order = list(w.processes)
    names = sorted({line["process"] for line in d["lines"]}, key=lambda p: (order.index(p) if p in order else 99, p))
    processes = w.list_separator.join(w.code(w.processes, p) for p in names) or t["boundary.none"]
    sources = tuple(
        (w.code(w.sources, s["source_type"]), t["yes"] if any(
            line["source_type"] == s["source_type"] for line in d["lines"]) else t["no"])
        for s in d["by_source"]
    )
    return Section(t["boundary.title"], (
        t["boundary.text"],
        Table((t["boundary.site_id"], t["boundary.site"], t["boundary.province"]), sites or (("—", "—", "—"),),
              (1, 2, 1)),
        t["boundary.processes"].format(processes=processes),
        Table((t["boundary.source"], t["boundary.involved"]), sources, (3, 1)),
    ))


def _emissions(d: Mapping[str, Any], w: Labels) -> Section:
    t = w.text
    by_source: tuple[tuple[str | Num, ...], ...] = tuple(
        (w.code(w.sources, s["source_type"]), _tonnes(s["tco2"])) for s in d["by_source"])
    by_source += ((t["emissions.total_row"], _tonnes(d["total_tco2"])),)
    by_process = tuple((w.code(w.processes, p["process"]), _tonnes(p["tco2"])) for p in d["by_process"])
    cross = tuple(
        (w.code(w.processes, r["process"]), w.code(w.sources, r["source_type"]), _tonnes(r["tco2"]))
        for r in d["by_process_source"]
    )
    by_month = tuple((m["period"], _tonnes(m["tco2"])) for m in d["by_month"])
    intensity = d["intensity_tco2_per_t_crude_steel"]
    tco2 = t["emissions.tco2"]
    blocks: list[str | Table] = [
        t["emissions.formula"],
        t["emissions.total"].format(total=f"{d['total_tco2']:,.1f}"),
        Table((t["emissions.source"], tco2), by_source, (3, 1)),
        Table((t["emissions.process"], tco2), by_process or (("—", "—"),), (3, 1)),
        Table((t["emissions.process"], t["emissions.source"], tco2), cross or (("—", "—", "—"),), (2, 3, 1.5)),
        Table((t["emissions.month"], tco2), by_month or (("—", "—"),), (3, 1)),
    ]
    if intensity is None:
        blocks.append(t["emissions.no_steel"])
    else:
        blocks.append(t["emissions.intensity"].format(steel=_amount_text(d["crude_steel_t"]),
                                                      intensity=f"{intensity:.4f}"))
    return Section(t["emissions.title"], tuple(blocks))


def _activity(d: Mapping[str, Any], w: Labels) -> Section:
    t = w.text
    lines = tuple(
        (Num(line["line"], str(line["line"]), "0"), line["period"], w.code(w.processes, line["process"]),
         w.code(w.sources, line["source_type"]), w.code(w.items, line["item"]),
         w.code(w.directions, line["direction"]), _amount(line["quantity"]), w.unit(line["unit"]),
         _tonnes(line["tco2"]), w.code(w.data_sources, line["data_source"]),
         w.list_separator.join(line["factor_ids"]) or "—")
        for line in d["lines"]
    )
    factors = tuple(
        (f["factor_id"], Num(f["value"], f"{f['value']:g}", _FACTOR), w.unit(f["unit"]), f["series"],
         t["factor.valid_range"].format(start=f["valid_from"], end=f["valid_to"] or t["factor.open"]),
         w.factor_source(f["source"]))
        for f in d["factors"]
    )
    blocks: list[str | Table] = [
        t["activity.text"],
        Table(tuple(t[f"activity.{k}"] for k in ("no", "period", "process", "source", "item", "direction",
                                                 "quantity", "unit", "tco2", "origin", "factor_ids")),
              lines or (("—",) * 11,), (0.8, 1.1, 1.0, 1.5, 0.9, 0.9, 1.2, 1.1, 1.2, 0.85, 2.2)),
        Table(tuple(t[f"factor.{k}"] for k in ("id", "value", "unit", "series", "valid", "source")),
              factors or (("—",) * 6,), (2.4, 0.8, 1, 1.3, 1.5, 2.6)),
    ]
    if d.get("grid_factors"):
        blocks += _grid_factors(d, w)
    return Section(t["activity.title"], tuple(blocks))


def _grid_factors(d: Mapping[str, Any], w: Labels) -> list[str | Table]:
    """Which electricity factor row each site used, by which step of the precedence, and why (issue 15)."""
    t = w.text
    series = d["series"]["grid"]
    names = {s["site_id"]: s["name"] for s in d["enterprise"]["sites"]}
    rows = tuple(
        (f"{names.get(g['site_id'], g['site_id'])}（{g['site_id']}）" if w.language == "zh" and g["site_id"] else
         f"{names.get(g['site_id'], g['site_id'])} ({g['site_id']})" if g["site_id"] else t["grid.works"],
         g["factor_id"], Num(g["value"], f"{g['value']:g}", _FACTOR), w.unit(g["unit"]),
         w.grid_step(g["step"], g.get("province"), g.get("region")), w.grid_reason(g, series),
         w.list_separator.join(g["periods"]))
        for g in d["grid_factors"]
    )
    return [t["grid.title"].format(series=w.grid_series_name(series)),
            Table(tuple(t[k] for k in ("grid.site", "factor.id", "factor.value", "factor.unit", "grid.step",
                                       "grid.why", "grid.periods")), rows, (1.4, 1.6, 0.7, 0.9, 1.4, 3.2, 1.1))]


def _quality(d: Mapping[str, Any], w: Labels) -> Section:
    t = w.text
    q = d["data_quality"]
    versions = w.list_separator.join(
        t["quality.version"].format(version=v["version"], date=v["submitted_at"][:10], lines=v["lines_used"])
        for v in q["versions"])
    blocks: list[str | Table] = [
        t["quality.lines"].format(lines=len(d["lines"]), metered=q["metered_lines"], intervals=q["metered_intervals"],
                                  flagged=q["flagged_intervals"], entered=q["entered_lines"],
                                  estimated=q["estimated_lines"]),
        t["quality.versions"].format(versions=versions or t["boundary.none"], superseded=q["superseded_lines"]),
        t["quality.method"],
    ]
    recon = tuple(
        (r["period"], w.code(w.processes, r["process"]), w.code(w.items, r["item"]), _amount(r["metered"]),
         _amount(r["entered"]), w.unit(r["unit"]),
         "—" if r["relative"] is None else Num(r["relative"], f"{r['relative']:+.1%}", _PERCENT),
         t["yes"] if r["exceeds_tolerance"] else t["no"])
        for r in d["reconciliation"]
    )
    if recon:
        blocks.append(t["quality.recon"].format(tolerance=f"{d['tolerance']:.0%}"))
        blocks.append(Table((t["activity.period"], t["activity.process"], t["activity.item"], t["quality.metered"],
                             t["quality.entered"], t["activity.unit"], t["quality.difference"], t["quality.exceeds"]),
                            recon, (1, 1, 1, 1.2, 1.2, 0.8, 0.8, 0.6)))
    blocks += _cross_check(d, w)
    findings = tuple((w.code(w.findings, f["code"]), f.get("period") or "—", w.finding(f, _amount_text))
                     for f in d["findings"])
    blocks.append(t["quality.findings"] if findings else t["quality.no_findings"])
    if findings:
        blocks.append(Table((t["quality.category"], t["activity.period"], t["quality.message"]), findings,
                            (1.2, 0.8, 5)))
    return Section(t["quality.title"], tuple(blocks))


def _cross_check(d: Mapping[str, Any], w: Labels) -> list[str | Table]:
    """The entered energy figures beside the metered totals of the same period: entered, metered, difference."""
    t = w.text
    rows = tuple(
        (c["period"], w.energy(c), _amount(c["entered"]), _amount(c["metered"]),
         _signed(c["difference"]), w.unit(c["unit"]),
         "—" if c["relative"] is None else Num(c["relative"], f"{c['relative']:+.1%}", _PERCENT),
         t["yes"] if c["exceeds_tolerance"] else t["no"],
         t["cross.status.by_process"] if c["compared_by_process"] else
         t[f"cross.status.{c.get('status', 'compared')}"].format(months=len(c["metered_months"])))
        for c in d.get("cross_check") or ()
    )
    if not rows:
        return []
    return [t["cross.title"].format(tolerance=f"{d['tolerance']:.0%}"),
            Table((t["activity.period"], t["cross.energy"], t["cross.entered"], t["cross.metered"],
                   t["cross.difference"], t["activity.unit"], t["cross.relative"], t["quality.exceeds"],
                   t["cross.status"]), rows, (0.9, 1.8, 1.1, 1.1, 1.1, 0.7, 0.8, 0.5, 1.6))]


def _signed(value: float | None) -> str | Num:
    # a difference is metered − entered: "+" when the meters counted more
    if value is None:
        return "—"
    return Num(value, ("+" if value > 0 else "") + _amount_text(value), "+#,##0.###;-#,##0.###;0")


def _declaration(w: Labels) -> Section:
    t = w.text
    roles = ("declaration.legal_rep", "declaration.preparer", "declaration.reviewer", "declaration.seal")
    return Section(t["declaration.title"], (
        t["declaration.text"],
        Table((t["declaration.role"], t["declaration.signature"], t["declaration.when"]),
              tuple((t[role], "", "") for role in roles), (2, 3, 1.5)),
    ))


def _fixed_time(document: Mapping[str, Any]) -> datetime:
    stamp = document.get("data_as_of")
    if not stamp:
        return _EPOCH
    return datetime.fromisoformat(stamp).replace(tzinfo=None, microsecond=0)


def _text(cell: str | Num) -> str:
    return cell.text if isinstance(cell, Num) else cell


# --- PDF ----------------------------------------------------------------------------------------


def render_pdf(document: Mapping[str, Any], language: Language = "zh") -> bytes:
    """The report as PDF bytes (A4, cover page, sections, declaration; the CJK font embedded as a subset);
    identical bytes for identical documents."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    sections = report_sections(document, language)
    words = labels_for(language)
    font = register_font()
    title = report_title(document, language)
    stamp = _fixed_time(document)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK", spaceAfter=4)
    cell = ParagraphStyle("cell", fontName=font, fontSize=7.5, leading=9.5, wordWrap="CJK")
    number = ParagraphStyle("number", parent=cell, alignment=2)
    heading = ParagraphStyle("heading", fontName=font, fontSize=13, leading=18, spaceBefore=10, spaceAfter=6)
    title_style = ParagraphStyle("title", fontName=font, fontSize=20, leading=30, alignment=1, spaceAfter=8)
    subtitle = ParagraphStyle("subtitle", parent=body, alignment=1, fontSize=10.5)
    cover_cell = ParagraphStyle("cover", fontName=font, fontSize=11, leading=16, wordWrap="CJK")
    width = A4[0] - 36 * mm

    def table(t: Table, style: ParagraphStyle = cell, heights: float | None = None) -> PdfTable:
        weights = t.widths or (1.0,) * len(t.header)
        widths = [width * w / sum(weights) for w in weights]
        data = [[Paragraph(_escape(text), style) for text in t.header]]
        data += [[Paragraph(_escape(_text(c)), number if isinstance(c, Num) else style) for c in row]
                 for row in t.rows]
        flowable = PdfTable(data, colWidths=widths, repeatRows=1,
                            rowHeights=None if heights is None else [None] + [heights] * len(t.rows))
        flowable.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), font),  # else the table names Helvetica, a font nobody embeds
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
            ("VALIGN", (0, 0), (-1, -1), "TOP" if heights is None else "MIDDLE"),
        ]))
        return flowable

    cover = PdfTable([[Paragraph(_escape(k), cover_cell), Paragraph(_escape(v), cover_cell)]
                      for k, v in report_cover(document, language)],
                     colWidths=[width * 0.35, width * 0.5], rowHeights=11 * mm)
    cover.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("LINEBELOW", (1, 0), (1, -1), 0.6, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    story: list[Any] = [Spacer(1, 55 * mm), Paragraph(_escape(title), title_style),
                        Paragraph(_escape(words.text["cover.subtitle"]), subtitle), Spacer(1, 45 * mm), cover,
                        PageBreak()]
    for section in sections:
        last = section is sections[-1]
        if last:
            story.append(PageBreak())  # the declaration stands on a page of its own, to be signed and sealed
        story.append(Paragraph(_escape(section.title), heading))
        for block in section.blocks:
            if isinstance(block, Table):
                story.append(table(block, body if last else cell, 16 * mm if last else None))
            else:
                story.append(Paragraph(_escape(block), body))
            story.append(Spacer(1, 3))

    def page(canvas: Any, doc: Any) -> None:
        canvas.setDateFormatter(lambda *_: stamp.strftime("D:%Y%m%d%H%M%S+08'00'"))
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, words.text["footer.page"].format(title=title, page=doc.page))

    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=title, author="carbonflow", creator="carbonflow",
                            subject=f"GB/T 32150-2015 {document['period_label']}", invariant=1,
                            initialFontName=font, lang="zh-CN" if language == "zh" else "en")
    pdf.build(story, onFirstPage=lambda canvas, doc: canvas.setDateFormatter(
        lambda *_: stamp.strftime("D:%Y%m%d%H%M%S+08'00'")), onLaterPages=page)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- XLSX ---------------------------------------------------------------------------------------


def render_xlsx(document: Mapping[str, Any], language: Language = "zh") -> bytes:
    """The report as an XLSX workbook: a cover sheet, then one sheet per section, figures as numbers with
    number formats (auditors use formulas on them); identical bytes for identical documents."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    sections = report_sections(document, language)
    title = report_title(document, language)
    stamp = _fixed_time(document)
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = "carbonflow"
    workbook.properties.title = title
    workbook.properties.language = "zh-CN" if language == "zh" else "en"
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF4")
    cover_rows = report_cover(document, language)
    cover = workbook.create_sheet(labels_for(language).text["cover.sheet"])
    cover.append([title])
    cover["A1"].font = Font(bold=True, size=13)
    cover.append([labels_for(language).text["cover.subtitle"]])
    cover.append([])
    for pair in cover_rows:
        cover.append(list(pair))
    cover.column_dimensions["A"].width = 30
    cover.column_dimensions["B"].width = 50
    for section in sections:
        sheet = workbook.create_sheet(_sheet_name(section.title))
        sheet.append([title])
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
                sheet.append([c.value if isinstance(c, Num) else c for c in row])
                for c, source in zip(sheet[sheet.max_row], row, strict=False):  # the sheet row may be wider
                    if isinstance(source, Num):
                        c.number_format = source.excel_format
                        c.alignment = Alignment(horizontal="right")
                    elif isinstance(c.value, str) and c.value.startswith("="):
                        c.data_type = "s"  # text from the data (a factor source...) is never run as a formula
            for index, text in enumerate(block.header):
                longest = max([len(text), *(len(_text(r[index])) for r in block.rows)]) * 2
                widths[index] = min(60, max(widths.get(index, 8), longest))
        for index, chars in widths.items():
            sheet.column_dimensions[get_column_letter(index + 1)].width = chars
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()  # not save_workbook(): it stamps `modified` with the clock
    return _fixed_zip(raw.getvalue(), stamp)


def _sheet_name(title: str) -> str:
    name = title.split("、", 1)[-1]
    if name == title and ". " in title[:4]:  # "3. Emissions by source" -> "Emissions by source"
        name = title.split(". ", 1)[1]
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
