"""PDF checks for uploads and the stamping of generated PDFs: bytes in, bytes out.

Generated text uses reportlab's built-in CID font STSong-Light: it needs no font file, and
pypdf's extract_text() reads it back. It is not embedded, so a viewer draws it with its own
Song/Ming face (Adobe Reader, Chrome/Edge and Chinese Windows all have one).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

import segno
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, NullObject, StreamObject
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from engine.errors import FileRejectedError

PLATFORM_NAME = "浙江省专业技术任职资格申报与评审管理平台"
FONT = "STSong-Light"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_PAGES = 200

# pypdf raises far more than PyPdfError on hostile input (a bad xref gives KeyError or
# ValueError, a broken stream zlib.error); all of them mean "unreadable", never a 500.
_PARSE_ERRORS = (PyPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError)
_PARSE_ERRORS += (AssertionError, OSError, RecursionError, zlib.error)
_EOF_WINDOW = 1024
_MAX_TREE_DEPTH = 32
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*]')


@dataclass(frozen=True)
class PdfInfo:
    sha256: str
    size: int
    pages: int


@dataclass(frozen=True)
class Footer:
    """The verification line and QR code printed at the foot of every page."""

    verification_code: str
    verify_url: str


def inspect_pdf(
    data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES, max_pages: int = MAX_UPLOAD_PAGES
) -> PdfInfo:
    """Check that an upload is a readable, unencrypted PDF within limits; describe it.

    :raises FileRejectedError: with status 413, 415 or 422 and a specific code.
    """
    _check_bytes(data, max_bytes)
    pages = _count_readable_pages(data, max_pages)
    return PdfInfo(sha256=hashlib.sha256(data).hexdigest(), size=len(data), pages=pages)


def _check_bytes(data: bytes, max_bytes: int) -> None:
    if not data:
        raise FileRejectedError("文件为空（the file is empty）", code="empty_file")
    if len(data) > max_bytes:
        limit = _size_label(max_bytes)
        raise FileRejectedError(
            f"文件超过 {limit} 的大小限制（the file is larger than {limit}）",
            status=413,
            code="file_too_large",
        )
    if not data.startswith(b"%PDF-"):
        raise FileRejectedError(
            "文件不是 PDF 格式，请上传 PDF 文件（the file is not a PDF）",
            status=415,
            code="not_pdf",
        )
    # pypdf in lenient mode rebuilds a cut-off file from what is left, so check the end.
    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        raise _unreadable()


def _size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:g} MB"
    return f"{size / 1024:g} KB" if size >= 1024 else f"{size} B"


def _count_readable_pages(data: bytes, max_pages: int) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise FileRejectedError(
                    "PDF 文件已加密，请去除密码保护后重新上传（the PDF is encrypted）",
                    code="pdf_encrypted",
                )
            count = len(reader.pages)
            _check_page_count(count, max_pages)
            _check_page_tree(reader.root_object["/Pages"])
            for page in reader.pages:
                _read_page(page)
        except _PARSE_ERRORS as exc:
            raise _unreadable() from exc
    return count


def _check_page_count(count: int, max_pages: int) -> None:
    if count == 0:
        raise FileRejectedError("PDF 文件没有页面（the PDF has no pages）", code="pdf_no_pages")
    if count > max_pages:
        raise FileRejectedError(
            f"PDF 共 {count} 页，超过 {max_pages} 页的上限"
            f"（the PDF has {count} pages, more than {max_pages}）",
            code="too_many_pages",
        )


def _check_page_tree(node: DictionaryObject, depth: int = 0) -> None:
    """Fail on a page-tree entry that points nowhere; lenient pypdf skips such pages."""
    if depth > _MAX_TREE_DEPTH:
        raise _unreadable()
    for kid in _resolve(node.get("/Kids")) or []:
        child = _resolve(kid)
        if not isinstance(child, DictionaryObject):
            raise _unreadable()
        if "/Kids" in child:
            _check_page_tree(child, depth + 1)


def _read_page(page: PageObject) -> None:
    """Decode the page's content streams; a missing stream means a damaged file."""
    _ = page.mediabox.width
    if "/Contents" not in page:
        return  # a blank page
    contents = _resolve(page.get("/Contents"))
    for item in contents if isinstance(contents, ArrayObject) else [contents]:
        stream = _resolve(item)
        if not isinstance(stream, StreamObject):
            raise _unreadable()
        stream.get_data()


def _resolve(obj: Any) -> Any:
    """Follow an indirect reference; a dangling one comes back as None."""
    if obj is None:
        return None
    obj = obj.get_object()
    return None if isinstance(obj, NullObject) else obj


def _unreadable() -> FileRejectedError:
    return FileRejectedError(
        "PDF 文件已损坏或不完整，无法读取（the PDF is damaged or incomplete）",
        code="pdf_unreadable",
    )


def safe_filename(name: str, *, max_length: int = 120) -> str:
    """Return a display name for an uploaded file; never use it as a path."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    # Cc are control characters; Cf includes U+202E, which flips "fdp.exe" into "exe.pdf".
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = _UNSAFE_NAME_CHARS.sub("", name).replace("..", "")
    name = " ".join(name.split()).strip(" .")
    if len(name) > max_length:
        _, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = name[: max_length - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name or "未命名文件"


@cache
def register_font() -> str:
    """Register the CJK font with reportlab once; return its name."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


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
    canvas = Canvas(buf, invariant=True)
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
    canvas = Canvas(buf, pagesize=A4, invariant=True)
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
