"""The report's font: WenQuanYi Micro Hei, a TrueType CJK font that reportlab embeds as a subset.

A report must read the same on a reviewer's machine that has no Chinese fonts, so the font is
embedded, never referenced (reportlab's built-in STSong-Light is a reference only). reportlab can
subset TrueType outlines only (not the CFF outlines of Noto/Source Han OTF files), and WenQuanYi
Micro Hei (Apache-2.0) is TrueType and covers every glyph the report uses: CJK, Latin, ³, ₂ and the
minus sign U+2212. It comes from the PyPI package `paperang-p2-fonts-cjk` (a dependency, so
`pip install` is enough), or from Debian's `fonts-wqy-microhei` where that is installed instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from carbon_domain.reports.errors import FontMissing

__all__ = ["FONT", "font_path", "register_font"]

FONT = "WenQuanYiMicroHei"
_PACKAGE, _PACKAGED_FILE = "paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc"
_DEBIAN_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def font_path() -> Path:
    """The installed wqy-microhei.ttc; raises FontMissing saying how to install it."""
    try:
        packaged = Path(str(resources.files(_PACKAGE).joinpath(_PACKAGED_FILE)))
    except ModuleNotFoundError:
        packaged = None
    for candidate in (packaged, _DEBIAN_FILE):
        if candidate is not None and candidate.is_file():
            return candidate
    raise FontMissing("the report font WenQuanYi Micro Hei is not installed: `pip install paperang-p2-fonts-cjk` "
                      "(a carbonflow dependency) or `apt-get install fonts-wqy-microhei`")


def register_font() -> str:
    """Register the font with reportlab once; return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(font_path()), subfontIndex=0))
    return FONT
