"""Layout of the 专业技术职务任职资格评审表 (DOMAIN.md §2, sections A-K) as a PDF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, Spacer, Table

from engine.documents import FONT, PLATFORM_NAME, Footer, layout_pdf, register_font, stamp_pdf

TITLE = "专业技术职务任职资格评审表"
HIDDEN = "（公示版不显示）"
NONE = "无"
_WIDTH = A4[0] - 36 * mm
_LABEL_W = 27 * mm
# A table row taller than a page cannot be laid out (reportlab's splitInRow drops rows
# when it meets repeatRows), so long cell text is cut into rows of at most this many lines.
_MAX_ROW_LINES = 36

_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")
_LABEL = ParagraphStyle("label", parent=_CELL, alignment=1)
_RIGHT = ParagraphStyle("right", parent=_CELL, alignment=2)
_BODY = ParagraphStyle("body", parent=_CELL, fontSize=10.5, leading=17, firstLineIndent=21)
_HEADING = ParagraphStyle("heading", fontName=FONT, fontSize=12, leading=16, spaceBefore=9)
_TITLE = ParagraphStyle("title", fontName=FONT, fontSize=18, leading=24, alignment=1)
_SHADE = "#EEEEEE"
_GRID = [
    ("FONTNAME", (0, 0), (-1, -1), FONT),  # blank cells too: Helvetica is never embedded
    ("GRID", (0, 0), (-1, -1), 0.5, "#333333"),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ("TOPPADDING", (0, 0), (-1, -1), 3),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
]


def review_form_pdf(
    form: Mapping,
    *,
    verification_code: str,
    verify_url: str,
    public_version: bool = False,
    watermark: str = PLATFORM_NAME,
) -> bytes:
    """Render the review form of one application, watermarked and with a verification footer."""
    register_font()  # before any Paragraph is built
    title = TITLE + ("（公示版）" if public_version else "")
    return stamp_pdf(
        layout_pdf(_story(form, title, public_version), title=title),
        title=title,
        subject=f"验证码 {verification_code}",
        watermark=watermark,
        footer=Footer(verification_code, verify_url),
    )


def _story(form: Mapping, title: str, public_version: bool) -> list[Flowable]:
    sections = [
        _cover(form, title),
        _basic_info(_map(form, "applicant"), public_version),
        _education(_list(form, "education")),
        _current_title(_map(form, "current_title")),
        _work_history(_list(form, "work_history")),
        _appraisals(_list(form, "appraisals")),
        _continuing_education(_list(form, "continuing_education")),
        _achievements(_list(form, "achievements")),
        _papers(_list(form, "papers")),
        _summary(form.get("summary")),
        _opinions(form),
    ]
    return [flowable for section in sections for flowable in section]


def _map(form: Mapping, key: str) -> Mapping:
    value = form.get(key)
    return value if isinstance(value, Mapping) else {}


def _list(form: Mapping, key: str) -> list[Mapping]:
    value = form.get(key)
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _text(value: Any) -> str:
    """Format one field value for print; missing or empty is 无."""
    if value is None or value == "" or value == [] or value == ():
        return NONE
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "；".join(_text(item) for item in value)
    return str(value)


def _para(value: str, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(escape(value).replace("\n", "<br/>"), style)


def _p(value: Any, style: ParagraphStyle = _CELL) -> Paragraph:
    return _para(_text(value), style)


def _heading(label: str) -> list[Flowable]:
    # Start a new page rather than leave a heading alone at the foot of one.
    return [CondPageBreak(30 * mm), _para(label, _HEADING)]


def _chunks(value: Any, width: float) -> list[str]:
    """Cut text into pieces of at most _MAX_ROW_LINES lines of a cell width wide."""
    per_line = max(1, int((width - 6) // _CELL.fontSize))  # a Chinese character is 1 em
    lines: list[str] = []
    for paragraph in _text(value).split("\n"):
        lines += [paragraph[i : i + per_line] for i in range(0, len(paragraph), per_line)] or [""]
        lines[-1] += "\n"
    pieces = ["".join(lines[i : i + _MAX_ROW_LINES]) for i in range(0, len(lines), _MAX_ROW_LINES)]
    return [piece.rstrip("\n") for piece in pieces]


def _rows(values: Sequence[Any], widths: Sequence[float]) -> list[list[str | None]]:
    """Split one logical row into table rows; None marks a continuation cell."""
    pieces = [_chunks(v, w) for v, w in zip(values, widths, strict=True)]
    height = max(len(p) for p in pieces)
    return [[p[i] if i < len(p) else None for p in pieces] for i in range(height)]


def _cells(row: Sequence[str | None], styles: Sequence[ParagraphStyle]) -> list[Any]:
    return ["" if v is None else _para(v, s) for v, s in zip(row, styles, strict=True)]


def _pairs(pairs: Sequence[tuple[str, Any]], per_row: int = 2) -> Table:
    """Lay label/value pairs out per_row to a row, labels shaded."""
    widths = [_LABEL_W, _WIDTH / per_row - _LABEL_W] * per_row
    styles = [_LABEL, _CELL] * per_row
    data = []
    for i in range(0, len(pairs), per_row):
        values = [v for pair in pairs[i : i + per_row] for v in pair]
        n = len(values)
        blank = [""] * (2 * per_row - n)
        data += [_cells(row, styles[:n]) + blank for row in _rows(values, widths[:n])]
    shade = [("BACKGROUND", (c, 0), (c, -1), _SHADE) for c in range(0, 2 * per_row, 2)]
    return Table(data, colWidths=widths, style=[*_GRID, *shade])


def _grid(header: Sequence[str], weights: Sequence[float], rows: Sequence[Sequence[Any]]) -> Table:
    """A table with a repeated header row; an empty list prints one 无 row."""
    widths = [_WIDTH * w / sum(weights) for w in weights]
    data: list[list[Any]] = [[_para(h, _LABEL) for h in header]]
    for row in rows:
        data += [_cells(r, [_CELL] * len(widths)) for r in _rows(row, widths)]
    style = [*_GRID, ("BACKGROUND", (0, 0), (-1, 0), _SHADE)]
    if not rows:
        data.append([_p(NONE)] + [""] * (len(header) - 1))
        style.append(("SPAN", (0, 1), (-1, 1)))
    return Table(data, colWidths=widths, style=style, repeatRows=1)


def _cover(form: Mapping, title: str) -> list[Flowable]:
    app, who = _map(form, "application"), _map(form, "applicant")
    pairs = [
        ("姓　　名", who.get("name")),
        ("工作单位", who.get("unit_name")),
        ("申报系列", app.get("series")),
        ("申报专业", app.get("specialty")),
        ("申报级别", app.get("level")),
        ("评审委员会", app.get("committee")),
        ("填表日期", app.get("filed_at")),
    ]
    if app.get("committee_address"):
        pairs += [
            ("评委会办公室地址", app.get("committee_address")),
            ("办公室电话", app.get("committee_phone")),
            ("咨询联系人", app.get("committee_contacts")),
        ]
    if app.get("exceptional"):
        conditions = "；".join(str(c) for c in app.get("exceptional_conditions") or [])
        pairs.append(("申报类型", f"破格申报（{conditions or '破格条件见附件'}）"))
    return [_para(title, _TITLE), Spacer(1, 5 * mm), _pairs(pairs)]


def _clip(value: Any, limit: int = 80) -> str:
    # For short fields in rows that are never split (beside the photo, in an opinion's
    # header); the form schema bounds them far below this, so clipping only guards layout.
    s = _text(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _basic_info(who: Mapping, public_version: bool) -> list[Flowable]:
    def field(key: str, private: bool = False) -> str:
        return HIDDEN if private and public_version else _clip(who.get(key))

    rows = [
        ("姓名", field("name"), "性别", field("gender")),
        ("出生年月", field("birth_date"), "政治面貌", field("political_status")),
        ("身份证号", field("id_number", True), "联系电话", field("phone", True)),
        ("参加工作时间", field("work_start_date"), "部门及岗位", field("department_post")),
    ]
    data = [[_para(a, _LABEL), _para(b), _para(c, _LABEL), _para(d), ""] for a, b, c, d in rows]
    data[0][4] = _para("（照片）", _LABEL)
    data.append([_para("工作单位", _LABEL), _para(field("unit_name", False)), "", "", ""])
    style = [
        *_GRID,
        ("SPAN", (4, 0), (4, 3)),
        ("SPAN", (1, 4), (4, 4)),
        ("BACKGROUND", (0, 0), (0, -1), _SHADE),
        ("BACKGROUND", (2, 0), (2, 3), _SHADE),
    ]
    value_w = (_WIDTH - 2 * _LABEL_W - 30 * mm) / 2
    widths = [_LABEL_W, value_w, _LABEL_W, value_w, 30 * mm]
    return [*_heading("一、基本情况"), Table(data, colWidths=widths, style=style)]


def _education(items: list[Mapping]) -> list[Flowable]:
    rows = [(e.get("school"), e.get("major"), e.get("degree"), e.get("graduated")) for e in items]
    table = _grid(["毕业院校", "所学专业", "学历（学位）", "毕业时间"], [4, 3, 2, 2], rows)
    return [*_heading("二、学历（学位）"), table]


def _current_title(cur: Mapping) -> list[Flowable]:
    pairs = [
        ("资格系列", cur.get("series")),
        ("资格名称", cur.get("name")),
        ("取得时间", cur.get("obtained")),
        ("专业工作年限", cur.get("work_years")),
        ("现聘职务", cur.get("appointed_post")),
        ("聘任时间", cur.get("appointed_since")),
    ]
    return [*_heading("三、现专业技术资格及聘任情况"), _pairs(pairs)]


def _work_history(items: list[Mapping]) -> list[Flowable]:
    rows = [(w.get("period"), w.get("unit"), w.get("post"), w.get("work")) for w in items]
    table = _grid(["起止时间", "工作单位", "岗位", "主要专业技术工作"], [2.2, 3, 1.8, 5], rows)
    return [*_heading("四、工作经历"), table]


def _appraisals(items: list[Mapping]) -> list[Flowable]:
    rows = [(a.get("year"), a.get("grade")) for a in items]
    return [*_heading("五、任现职以来年度考核结果"), _grid(["年度", "考核结果"], [1, 2], rows)]


def _continuing_education(items: list[Mapping]) -> list[Flowable]:
    rows = [
        (c.get("year"), c.get("public_hours"), c.get("professional_hours"), _total(c))
        for c in items
    ]
    header = ["年度", "公需科目（学时）", "专业科目（学时）", "合计（学时）"]
    return [*_heading("六、继续教育情况"), _grid(header, [1, 1, 1, 1], rows)]


def _total(item: Mapping) -> Any:
    hours = [item.get("public_hours"), item.get("professional_hours")]
    if all(isinstance(h, int | float) and not isinstance(h, bool) for h in hours):
        return sum(hours)
    return None


def _achievements(items: list[Mapping]) -> list[Flowable]:
    keys = ("kind", "name", "level", "role", "period", "result")
    rows = [tuple(a.get(k) for k in keys) for a in items]
    header = ["类别", "名称", "级别", "本人作用（位次）", "起止时间", "结果（验收、获奖）"]
    table = _grid(header, [1.3, 3.5, 1.3, 1.6, 1.8, 2.2], rows)
    return [*_heading("七、专业技术业绩（项目、获奖、专利、标准）"), table]


def _papers(items: list[Mapping]) -> list[Flowable]:
    keys = ("title", "journal", "issn", "issue", "rank")
    rows = [(*(p.get(k) for k in keys), "★" if p.get("representative") else "") for p in items]
    header = ["题目", "刊物（出版社）", "刊号（CN/ISSN）", "期次", "作者位次", "代表作"]
    table = _grid(header, [3.6, 2.4, 2, 1.3, 1.1, 1], rows)
    return [*_heading("八、论文著作（★为代表作）"), table]


def _summary(summary: Any) -> list[Flowable]:
    # Plain paragraphs, not a table cell, so a summary longer than a page flows on.
    lines = [line.strip() for line in _text(summary).splitlines() if line.strip()]
    return [*_heading("九、专业技术工作总结"), *(_para(line, _BODY) for line in lines)]


def _opinions(form: Mapping) -> list[Flowable]:
    chain = form.get("chain") or []
    route = " → ".join(str(org) for org in chain) if isinstance(chain, list | tuple) else chain
    flow: list[Flowable] = [*_heading("十、审核（评审）意见"), _pairs([("报送路径", route)], 1)]
    flow += [Spacer(1, 3 * mm), _publicity(_map(form, "publicity")), Spacer(1, 3 * mm)]
    opinions = _list(form, "opinions")
    if not opinions:
        flow.append(_pairs([("审核意见", NONE)], per_row=1))
    for opinion in opinions:
        flow += [_opinion(opinion), Spacer(1, 3 * mm)]
    return flow


def _publicity(pub: Mapping) -> Table:
    period = NONE
    if pub.get("start") or pub.get("end"):
        period = f"{_text(pub.get('start'))} 至 {_text(pub.get('end'))}"
        if pub.get("working_days"):
            period += f"（{pub['working_days']} 个工作日）"
    pairs = [
        ("公示时间", period),
        ("公示地点", pub.get("place")),
        ("异议情况", pub.get("objections")),
    ]
    return _pairs(pairs, per_row=1)


def _opinion(op: Mapping) -> Table:
    """One opinion: heading, org, decision and date, text, signer and seal."""
    level = _text(op.get("level") or "审核单位")
    heading = level if level.endswith("意见") else f"{level}意见"
    data: list[list[Any]] = [[_para(heading, _LABEL), "", "", ""]]
    style = [*_GRID, ("SPAN", (0, 0), (-1, 0)), ("BACKGROUND", (0, 0), (-1, 0), _SHADE)]
    _add_wide(data, style, "审核单位", op.get("org"))
    _add_four(data, style, ("审核结论", op.get("decision"), "日　　期", op.get("at")))
    checks = op.get("checks")
    if isinstance(checks, Mapping) and checks:
        ticks = "；".join(f"{k}：{'符合' if v else '未确认'}" for k, v in checks.items())
        _add_wide(data, style, "审查项目", ticks)
    _add_wide(data, style, "意　　见", op.get("opinion"))
    last = len(data)
    data.append(
        [_para("签　　名", _LABEL), _para(_clip(op.get("by"))), _para("（盖章）", _RIGHT), ""]
    )
    style += [("SPAN", (2, last), (-1, last)), ("BACKGROUND", (0, last), (0, last), _SHADE)]
    value_w = _WIDTH / 2 - _LABEL_W
    return Table(data, colWidths=[_LABEL_W, value_w, _LABEL_W, value_w], style=style)


def _add_wide(data: list[list[Any]], style: list[tuple], label: str, value: Any) -> None:
    """Append label + value spanning the other three columns, split if very long."""
    for row in _rows([label, value], (_LABEL_W, _WIDTH - _LABEL_W)):
        r = len(data)
        data.append([*_cells(row, [_LABEL, _CELL]), "", ""])
        style += [("SPAN", (1, r), (-1, r)), ("BACKGROUND", (0, r), (0, r), _SHADE)]


def _add_four(data: list[list[Any]], style: list[tuple], cells: tuple[str, Any, str, Any]) -> None:
    label_a, value_a, label_b, value_b = cells
    r = len(data)
    values = [label_a, _clip(value_a), label_b, _clip(value_b)]
    data.append(_cells(values, [_LABEL, _CELL, _LABEL, _CELL]))
    style += [("BACKGROUND", (0, r), (0, r), _SHADE), ("BACKGROUND", (2, r), (2, r), _SHADE)]
