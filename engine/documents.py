"""Uploaded file names and the stamping of generated PDFs: bytes in, bytes out.

The checks of uploaded PDFs live in engine/pdf_checks.py (re-exported here).

Generated text is set in Noto Sans CJK SC, embedded as a subset of the glyphs each PDF shows
(engine/fonts.py), so the PDF looks the same on a machine without any Chinese font; pypdf's
extract_text() reads it back through the subsets' ToUnicode maps.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

import segno
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate

from engine.file_names import safe_filename
from engine.fonts import FONT, register_font
from engine.pdf_checks import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_PAGES,
    PdfInfo,
    PdfLimits,
    inspect_pdf,
)

__all__ = [
    "FONT",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_PAGES",
    "Footer",
    "PdfInfo",
    "PdfLimits",
    "entrustment_template_pdf",
    "inspect_pdf",
    "register_font",
    "safe_filename",
    "stamp_pdf",
]

PLATFORM_NAME = "浙江省专业技术任职资格申报与评审管理平台"


@dataclass(frozen=True)
class Footer:
    """The verification line and QR code printed at the foot of every page."""

    verification_code: str
    verify_url: str


def stamp_pdf(
    pdf: bytes,
    *,
    title: str,
    subject: str,
    watermark: str = PLATFORM_NAME,
    footer: Footer | None = None,
) -> bytes:
    """Merge the watermark (and footer) onto every page of pdf and set its metadata."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
        sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in writer.pages]
        overlay = PdfReader(io.BytesIO(_overlay_pdf(sizes, watermark, footer)))
        for page, stamp in zip(writer.pages, overlay.pages, strict=True):
            page.merge_page(stamp)
        # Replace reportlab's info (its invariant mode dates everything 2000-01-01).
        writer.metadata = {
            "/Title": title,
            "/Author": PLATFORM_NAME,
            "/Subject": subject,
            "/Creator": PLATFORM_NAME,
        }
        out = io.BytesIO()
        writer.write(out)
    return out.getvalue()


def _overlay_pdf(sizes: list[tuple[float, float]], watermark: str, footer: Footer | None) -> bytes:
    """One overlay page per page size; the repeated parts are form XObjects.

    merge_page parses the overlay's content stream, so keeping it to a few `Do`
    operators (instead of ~100 strings and ~300 QR rectangles) keeps stamping fast.
    """
    register_font()
    buf = io.BytesIO()
    canvas = Canvas(buf, invariant=True, initialFontName=FONT)
    forms: set[str] = set()
    for number, (width, height) in enumerate(sizes, start=1):
        canvas.setPageSize((width, height))
        name = f"ZpWatermark{int(width)}x{int(height)}"
        if name not in forms:
            canvas.beginForm(name, 0, 0, width, height)
            _draw_watermark(canvas, watermark, width, height)
            canvas.endForm()
            forms.add(name)
        canvas.saveState()
        # Alpha is set outside the form: reportlab gives forms no /ExtGState resources.
        canvas.setFillAlpha(0.18)
        canvas.doForm(name)
        canvas.restoreState()
        if footer is not None:
            _draw_footer(canvas, footer, width, f"第 {number} 页 / 共 {len(sizes)} 页", forms)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def _draw_watermark(canvas: Canvas, text: str, width: float, height: float) -> None:
    size = 15
    step_x = pdfmetrics.stringWidth(text, FONT, size) + 60
    canvas.saveState()
    canvas.setFont(FONT, size)
    canvas.setFillColorRGB(0.55, 0.55, 0.55)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(35)
    reach = int((width + height) / 2) + 100
    for row, y in enumerate(range(-reach, reach, 110)):
        offset = (row % 2) * step_x / 2
        x = -reach - offset
        while x < reach:
            canvas.drawString(x, y, text)
            x += step_x
    canvas.restoreState()


def _draw_footer(
    canvas: Canvas, footer: Footer, width: float, page_label: str, forms: set[str]
) -> None:
    qr_size = 17 * mm
    margin = 18 * mm  # the body's side margin
    bottom = 7 * mm
    if "ZpQr" not in forms:
        canvas.beginForm("ZpQr", 0, 0, qr_size, qr_size)
        _draw_qr(canvas, footer.verify_url, qr_size)
        canvas.endForm()
        forms.add("ZpQr")
    canvas.saveState()
    canvas.translate(width - margin - qr_size, bottom)
    canvas.doForm("ZpQr")
    canvas.restoreState()
    text_right = width - margin - qr_size - 4 * mm
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(FONT, 8)
    canvas.drawString(margin, bottom + 10 * mm, f"验证码：{footer.verification_code}")
    url_line = f"扫描右侧二维码或访问 {footer.verify_url} 核验真伪"
    canvas.setFont(FONT, _fit_size(url_line, text_right - margin, 7))
    canvas.drawString(margin, bottom + 5.5 * mm, url_line)
    canvas.setFont(FONT, 7)
    canvas.drawString(margin, bottom + 1 * mm, page_label)


def _fit_size(text: str, room: float, size: float, smallest: float = 4.5) -> float:
    while size > smallest and pdfmetrics.stringWidth(text, FONT, size) > room:
        size -= 0.5
    return size


def _draw_qr(canvas: Canvas, data: str, size: float) -> None:
    """Draw data as a QR code of side size at the origin, as runs of filled rectangles."""
    matrix = [list(row) for row in segno.make_qr(data, error="m").matrix]
    quiet = 2
    module = size / (len(matrix) + 2 * quiet)
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        top = size - (r + quiet + 1) * module
        for start, length in _dark_runs(row):
            left = (start + quiet) * module
            canvas.rect(left, top, length * module, module, stroke=0, fill=1)


def _dark_runs(row: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    start = None
    for i, dark in enumerate([*row, 0]):
        if dark and start is None:
            start = i
        elif not dark and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


def entrustment_template_pdf(unit: Mapping[str, str], *, today: date) -> bytes:
    """Render the 用人单位委托证明 for unit (name, credit_code, contact, phone)."""
    register_font()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, invariant=True, initialFontName=FONT)
    _draw_entrustment(canvas, unit, today)
    canvas.showPage()
    canvas.save()
    name = unit.get("name") or ""
    return stamp_pdf(
        buf.getvalue(),
        title=f"用人单位委托证明 {name}".strip(),
        subject=f"用人单位委托证明 统一社会信用代码 {unit.get('credit_code') or '无'}",
    )


def _entrustment_paragraphs(unit: Mapping[str, str]) -> list[str]:
    name = unit.get("name") or "＿＿＿＿＿＿＿＿"
    code = unit.get("credit_code") or "＿＿＿＿＿＿＿＿"
    return [
        f"{name}（统一社会信用代码：{code}）系依法登记的用人单位。现委托{PLATFORM_NAME}"
        "及我单位主管部门，为我单位专业技术人员办理专业技术职务任职资格的申报、审核、"
        "推荐及评审相关事宜。",
        "我单位承诺：严格按照有关政策规定审核本单位申报人员的申报材料，如实履行公示和推荐"
        "程序，对所出具的意见及所提交材料的真实性、准确性负责；如有弄虚作假，愿承担相应责任。",
        "特此证明。",
    ]


def _draw_entrustment(canvas: Canvas, unit: Mapping[str, str], today: date) -> None:
    width, height = A4
    left, right = 25 * mm, width - 25 * mm
    canvas.setFont(FONT, 20)
    canvas.drawCentredString(width / 2, height - 40 * mm, "用人单位委托证明")
    y = _draw_paragraph(canvas, f"{PLATFORM_NAME}：", left, height - 55 * mm, right - left, 0)
    for paragraph in _entrustment_paragraphs(unit):
        y = _draw_paragraph(canvas, paragraph, left, y - 8, right - left, 24)
    y -= 24
    rows = [
        ("单位名称", unit.get("name")),
        ("统一社会信用代码", unit.get("credit_code")),
        ("联系人", unit.get("contact")),
        ("联系电话", unit.get("phone")),
    ]
    for label, value in rows:
        y = _draw_paragraph(canvas, f"{label}：{value or '无'}", left, y, right - left, 0)
    canvas.setFont(FONT, 12)
    _draw_seal_box(canvas, right - 60 * mm, y - 55 * mm, 60 * mm)
    canvas.drawRightString(right, y - 65 * mm, f"{today.year} 年 {today.month} 月 {today.day} 日")


def _draw_paragraph(
    canvas: Canvas, text: str, x: float, top: float, width: float, indent: float
) -> float:
    """Draw text wrapped Chinese-style below top; return the y of its bottom edge."""
    style = ParagraphStyle(
        "letter", fontName=FONT, fontSize=12, leading=22, firstLineIndent=indent, wordWrap="CJK"
    )
    paragraph = Paragraph(escape(text), style)
    _, height = paragraph.wrap(width, 1000)
    paragraph.drawOn(canvas, x, top - height)
    return top - height


def _draw_seal_box(canvas: Canvas, x: float, y: float, side: float) -> None:
    canvas.saveState()
    canvas.setDash(4, 3)
    canvas.setStrokeColorRGB(0.4, 0.4, 0.4)
    canvas.rect(x, y, side, side * 0.75, stroke=1, fill=0)
    canvas.setFillColorRGB(0.4, 0.4, 0.4)
    canvas.drawCentredString(x + side / 2, y + side * 0.375 - 4, "（单位公章）")
    canvas.restoreState()


def layout_pdf(
    story: list[Flowable],
    *,
    title: str,
    pagesize: tuple[float, float] = A4,
    side_margin: float = 18 * mm,
    top_margin: float = 16 * mm,
) -> bytes:
    """Lay a story out on pages in the embedded font, leaving room at the bottom for the
    stamped footer and QR code (``stamp_pdf``)."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=side_margin,
        rightMargin=side_margin,
        topMargin=top_margin,
        bottomMargin=30 * mm,
        title=title,
        invariant=True,
        initialFontName=FONT,  # else reportlab names Helvetica, which is never embedded
    )
    doc.build(story)
    return buf.getvalue()
