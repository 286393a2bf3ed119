"""PDF basics: a Chinese font that is embedded when one is installed, else ReportLab's built-in CID font.

Set ``WUYE_PDF_FONT`` (a .ttf/.ttc path) to choose the font; by default Debian's WenQuanYi Micro Hei is used
when present. The CID fallback (STSong-Light) needs the reader to have the font, so embedding is preferred.
"""

from __future__ import annotations

import io
import os
from functools import cache
from pathlib import Path

from django.conf import settings
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import SimpleDocTemplate

CANDIDATE_FONTS = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
]
EMBEDDED_NAME = "WuyeCJK"
FALLBACK_NAME = "STSong-Light"


@cache
def cjk_font() -> str:
    """Registers and returns the name of the font to draw Chinese text with."""
    configured = getattr(settings, "WUYE_PDF_FONT", "") or os.environ.get("WUYE_PDF_FONT", "")
    for path in [configured, *CANDIDATE_FONTS]:
        if path and Path(path).is_file():
            try:
                pdfmetrics.registerFont(TTFont(EMBEDDED_NAME, path, subfontIndex=0))
                return EMBEDDED_NAME
            except Exception:  # noqa: S112 - a broken font file falls through to the next candidate
                continue
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_NAME))
    return FALLBACK_NAME


def font_is_embedded() -> bool:
    return cjk_font() == EMBEDDED_NAME


def render_a4(story: list, *, title: str, margin_mm: float = 15) -> bytes:
    """An A4 document with even margins, built from ``story`` (reportlab flowables)."""
    buffer = io.BytesIO()
    margin = margin_mm * mm
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
    ).build(story)
    return buffer.getvalue()
