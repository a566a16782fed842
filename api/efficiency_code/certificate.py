"""The 碳效码 certificate: a one-page PDF with the unit, period, code and grade, and a QR code (segno) leading to
the public verification page. It shows no figures (intensity, emissions, value added stay in the account)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import segno

from api.accounting.fonts import register_font

__all__ = ["render_certificate"]

_LEVELS = {"low": "低 low", "medium": "中 medium", "high": "高 high"}


def _qr(canvas: Any, url: str, x: float, y: float, size: float) -> None:
    """The QR code drawn as vector squares (no raster image), its quiet zone included in `size`."""
    qr = segno.make(url, error="m")
    rows = list(qr.matrix_iter(scale=1, border=4))
    cell = size / len(rows)
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * cell, y + size - (r + 1) * cell, cell, cell, stroke=0, fill=1)


def render_certificate(*, certificate: dict[str, Any], level: str | None, colour: str, verify_url: str) -> bytes:
    """The certificate's PDF bytes (A5 landscape)."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.pdfgen.canvas import Canvas

    font = register_font()
    out = io.BytesIO()
    width, height = landscape(A5)
    pdf = Canvas(out, pagesize=(width, height), invariant=True)
    pdf.setTitle(f"碳效码证书 {certificate['credit_code']} {certificate['period']}")
    pdf.setFillColor(HexColor(colour))
    pdf.rect(0, height - 18, width, 18, stroke=0, fill=1)
    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont(font, 20)
    pdf.drawString(40, height - 60, "碳效码证书 Carbon efficiency code certificate")
    issued: datetime = certificate["issued_at"]
    lines = [
        ("单位 Unit", certificate["unit_name"]),
        ("统一社会信用代码 Credit code", certificate["credit_code"]),
        ("期间 Period", certificate["period"]),
        ("碳效码 Code", certificate["code"]),
        ("碳效等级 Grade", str(certificate["grade"])),
        ("水平 Level", _LEVELS.get(level or "", "-")),
        ("签发日期 Issued", f"{issued:%Y-%m-%d}"),
        ("编号 Certificate", certificate["token"]),
    ]
    y = height - 100
    for label, value in lines:
        pdf.setFont(font, 9)
        pdf.drawString(40, y, label)
        pdf.setFont(font, 12)
        pdf.drawString(200, y, value)
        y -= 24
    pdf.setFillColor(HexColor(colour))
    pdf.roundRect(width - 190, height - 130, 150, 56, 8, stroke=0, fill=1)
    pdf.setFillColorRGB(1, 1, 1)
    pdf.setFont(font, 26)
    pdf.drawCentredString(width - 115, height - 112, certificate["code"])
    _qr(pdf, verify_url, width - 180, 60, 130)
    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont(font, 8)
    pdf.drawCentredString(width - 115, 48, "扫码核验 Scan to verify")
    if certificate["synthetic"]:
        pdf.setFillColorRGB(0.8, 0, 0)
        pdf.setFont(font, 10)
        pdf.drawString(40, 30, "演示数据（合成）Synthetic demo data: not a real enterprise")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
