"""Layout of the electronic 职称证书 as a PDF: one landscape A4 page, stamped like the review
form (engine/documents.py: watermark, verification line, QR code to the public lookup)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from engine.documents import FONT, PLATFORM_NAME, Footer, layout_pdf, register_font, stamp_pdf

TITLE = "专业技术职务任职资格证书"
REVOKED_MARK = "本证书已撤销"
_PAGE = landscape(A4)
_WIDTH = _PAGE[0] - 60 * mm

_TITLE = ParagraphStyle("cert-title", fontName=FONT, fontSize=26, leading=34, alignment=1)
_SUBTITLE = ParagraphStyle("cert-sub", fontName=FONT, fontSize=12, leading=18, alignment=1)
_BODY = ParagraphStyle(
    "cert-body", fontName=FONT, fontSize=14, leading=26, firstLineIndent=28, wordWrap="CJK"
)
_CELL = ParagraphStyle("cert-cell", fontName=FONT, fontSize=11, leading=16, wordWrap="CJK")
_LABEL = ParagraphStyle("cert-label", parent=_CELL, alignment=1)
_RIGHT = ParagraphStyle("cert-right", parent=_CELL, fontSize=12, leading=20, alignment=2)


def certificate_pdf(facts: Mapping[str, Any], *, verify_url: str) -> bytes:
    """Render one certificate; ``facts`` holds the fields of ``_story`` (strings)."""
    register_font()
    revoked = bool(facts.get("revoked"))
    watermark = f"{REVOKED_MARK}　{PLATFORM_NAME}" if revoked else PLATFORM_NAME
    return stamp_pdf(
        layout_pdf(
            _story(facts, revoked),
            title=TITLE,
            pagesize=_PAGE,
            side_margin=30 * mm,
            top_margin=18 * mm,
        ),
        title=TITLE,
        subject=f"证书编号 {facts['number']} 验证码 {facts['verification_code']}",
        watermark=watermark,
        footer=Footer(str(facts["verification_code"]), verify_url),
    )


def _para(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text if text not in (None, "") else "无")), style)


def _story(facts: Mapping[str, Any], revoked: bool) -> list[Flowable]:
    statement = (
        f"{facts['holder_name']}同志经{facts['committee']}评审通过，"
        f"具备{facts['title']}专业技术职务任职资格，特发此证。"
    )
    rows = [
        ("姓　　名", facts["holder_name"], "身份证号", facts.get("id_number")),
        ("资格名称", facts["title"], "证书编号", facts["number"]),
        ("评审委员会", facts["committee"], "发证日期", facts["issued_on"]),
        ("工作单位", facts.get("unit_name"), "验证码", facts["verification_code"]),
    ]
    data = [
        [_para(a, _LABEL), _para(b, _CELL), _para(c, _LABEL), _para(d, _CELL)]
        for a, b, c, d in rows
    ]
    label_w = 28 * mm
    value_w = _WIDTH / 2 - label_w
    table = Table(
        data,
        colWidths=[label_w, value_w, label_w, value_w],
        style=[
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("GRID", (0, 0), (-1, -1), 0.5, "#333333"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BACKGROUND", (0, 0), (0, -1), "#EEEEEE"),
            ("BACKGROUND", (2, 0), (2, -1), "#EEEEEE"),
        ],
    )
    story: list[Flowable] = [
        _para(TITLE, _TITLE),
        _para("（电子证书）", _SUBTITLE),
        Spacer(1, 8 * mm),
        _para(statement, _BODY),
        Spacer(1, 6 * mm),
        table,
        Spacer(1, 8 * mm),
        _para(f"发证机关：{facts.get('issuer') or facts['committee']}", _RIGHT),
        _para(f"{facts['issued_on']}", _RIGHT),
    ]
    if revoked:
        note = f"{REVOKED_MARK}（{facts.get('revoked_on')}）：{facts.get('revoke_reason') or ''}"
        story += [Spacer(1, 4 * mm), _para(note, _SUBTITLE)]
    return story
