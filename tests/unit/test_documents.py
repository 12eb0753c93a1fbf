import hashlib
import io
import logging
import re
from datetime import date

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen.canvas import Canvas

from engine.documents import (
    PLATFORM_NAME,
    PdfInfo,
    entrustment_template_pdf,
    inspect_pdf,
    safe_filename,
)
from engine.errors import FileRejectedError
from engine.review_form import HIDDEN, review_form_pdf
from web.errors import http_status

ID_NUMBER = "33010619880512123X"
PHONE = "13912345678"
CODE = "ZP-2025-7K3M-9QXA"
URL = f"https://zhiping.example.cn/api/v1/verify/{CODE}"
UNIT = {
    "name": "浙江省水利水电勘测设计院有限责任公司",
    "credit_code": "91330000470002345X",
    "contact": "赵六",
    "phone": "0571-87654321",
}


@pytest.fixture(autouse=True)
def _quiet_pypdf(caplog):
    # Lenient pypdf logs what it repairs; bad files are the point here.
    caplog.set_level(logging.CRITICAL, logger="pypdf")


def make_pdf(pages: int = 3) -> bytes:
    buf = io.BytesIO()
    canvas = Canvas(buf, invariant=True)
    for number in range(pages):
        canvas.drawString(72, 720, f"page {number} " * 10)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def write(writer: PdfWriter) -> bytes:
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(1))))
    writer.encrypt("secret")
    return write(writer)


def blank_pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    return write(writer)


def handmade_pdf(*objects: str) -> bytes:
    """A PDF with a correct xref from object bodies numbered 1.., catalog first."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    size = len(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Root 1 0 R /Size {size} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


CATALOG = "<< /Type /Catalog /Pages 2 0 R >>"
PAGE = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 9 0 R >>"


def test_inspect_pdf_returns_pages_size_and_sha256():
    data = make_pdf(3)

    info = inspect_pdf(data)

    assert info == PdfInfo(sha256=hashlib.sha256(data).hexdigest(), size=len(data), pages=3)


def test_inspect_pdf_accepts_blank_pages_without_contents():
    assert inspect_pdf(blank_pdf(2)).pages == 2


@pytest.mark.parametrize(
    ("data", "limits", "status", "code"),
    [
        pytest.param(b"", {}, 422, "empty_file", id="empty"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, {}, 415, "not_pdf", id="renamed-png"),
        pytest.param("申报说明\n".encode(), {}, 415, "not_pdf", id="text-file"),
        pytest.param(make_pdf(1), {"max_bytes": 100}, 413, "file_too_large", id="over-size"),
        pytest.param(encrypted_pdf(), {}, 422, "pdf_encrypted", id="encrypted"),
        pytest.param(blank_pdf(0), {}, 422, "pdf_no_pages", id="no-pages"),
        pytest.param(make_pdf(3), {"max_pages": 2}, 422, "too_many_pages", id="too-many"),
        pytest.param(
            make_pdf(3)[: len(make_pdf(3)) // 2], {}, 422, "pdf_unreadable", id="cut-in-half"
        ),
        pytest.param(
            make_pdf(3)[: len(make_pdf(3)) // 2] + b"\nstartxref\n0\n%%EOF\n",
            {},
            422,
            "pdf_unreadable",
            id="cut-in-half-with-fake-trailer",
        ),
        pytest.param(
            b"%PDF-1.7\n" + b"garbage " * 50 + b"\n%%EOF\n",
            {},
            422,
            "pdf_unreadable",
            id="garbage-body",
        ),
        pytest.param(
            handmade_pdf(CATALOG, "<< /Type /Pages /Kids [3 0 R 7 0 R] /Count 2 >>", PAGE),
            {},
            422,
            "pdf_unreadable",
            id="page-object-missing",
        ),
        pytest.param(
            handmade_pdf(CATALOG, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", PAGE),
            {},
            422,
            "pdf_unreadable",
            id="content-stream-missing",
        ),
    ],
)
def test_inspect_pdf_rejects_bad_upload(data, limits, status, code):
    with pytest.raises(FileRejectedError) as caught:
        inspect_pdf(data, **limits)

    assert (http_status(caught.value), caught.value.code) == (status, code)
    assert re.search(r"[\u4e00-\u9fff]", caught.value.message)
    assert not re.search(r"[A-Za-z]{3,} [a-z]{2,}", caught.value.message)  # no English text


def test_inspect_pdf_accepts_handmade_pdf_with_all_objects():
    stream = "<< /Length 11 >>\nstream\n0 0 m 9 9 l\nendstream"
    pages = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    page = PAGE.replace("9 0 R", "4 0 R")

    assert inspect_pdf(handmade_pdf(CATALOG, pages, page, stream)).pages == 1


def test_inspect_pdf_over_size_message_names_the_limit():
    with pytest.raises(FileRejectedError, match="2 KB"):
        inspect_pdf(make_pdf(1) * 3, max_bytes=2048)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\张三\\申报材料\\学历证书.pdf", "学历证书.pdf"),
        ("职称\x00评审\x1b表.pdf", "职称评审表.pdf"),
        ("report\u202efdp.exe", "reportfdp.exe"),
        ("..", "未命名文件"),
        ("", "未命名文件"),
        ("  论文  代表作 .pdf  ", "论文 代表作 .pdf"),
        ('a<b>:"c|?*.pdf', "abc.pdf"),
    ],
)
def test_safe_filename_keeps_only_a_display_name(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_shortens_long_names_but_keeps_the_extension():
    shortened = safe_filename("论" * 300 + ".pdf", max_length=50)

    assert len(shortened) == 50
    assert shortened.endswith(".pdf")


def full_form(**overrides):
    form = {
        "applicant": {
            "name": "张三",
            "gender": "男",
            "birth_date": "1988.05",
            "id_number": ID_NUMBER,
            "phone": PHONE,
            "unit_name": UNIT["name"],
            "department_post": "水工设计所设计岗",
            "work_start_date": "2010.07",
            "political_status": "中共党员",
        },
        "application": {
            "series": "工程",
            "level": "中级",
            "specialty": "水利工程",
            "committee": "浙江省水利工程专业中级评审委员会",
            "filed_at": "2025-03-01",
        },
        "education": [
            {
                "school": "河海大学",
                "major": "水利水电工程",
                "degree": "本科",
                "graduated": "2010.06",
            }
        ],
        "current_title": {"series": "工程", "name": "助理工程师", "obtained": "2015.12"},
        "work_history": [
            {"period": "2010.07-2015.06", "unit": "设计院", "post": "设计员", "work": "水库设计"}
        ],
        "appraisals": [{"year": 2024, "grade": "优秀"}],
        "continuing_education": [{"year": 2024, "public_hours": 30, "professional_hours": 60}],
        "achievements": [{"kind": "项目", "name": "海塘安澜工程", "level": "省级", "role": "第3"}],
        "papers": [{"title": "软土<地基>沉降 & 计算", "journal": "浙江水利科技", "rank": 1}],
        "summary": "本人长期从事水利工程设计。\n完成多项设计任务。",
        "publicity": {"start": "2025-03-03", "end": "2025-03-07", "working_days": 5},
        "opinions": [
            {"level": "用人单位", "org": "设计院", "decision": "同意", "opinion": "经公示无异议。"},
            {"level": "主管部门", "org": "水利厅", "decision": "同意", "opinion": "同意报送评审。"},
        ],
        "chain": ["设计院", "水利厅"],
    }
    form.update(overrides)
    return form


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def squeeze(text: str) -> str:
    """Drop the line breaks that wrapping puts inside long values."""
    return "".join(text.split())


def render(form, **options) -> bytes:
    return review_form_pdf(form, verification_code=CODE, verify_url=URL, **options)


def test_review_form_has_watermark_and_verification_code_on_every_page():
    long_history = [{"period": f"{y}", "unit": "设计院", "work": "设计" * 80} for y in range(30)]

    pages = pages_text(render(full_form(work_history=long_history)))

    assert len(pages) >= 2
    for text in pages:
        assert PLATFORM_NAME in text
        assert CODE in text


def test_review_form_uses_the_given_watermark():
    pages = pages_text(render(full_form(), watermark="仅供公示使用"))

    assert all("仅供公示使用" in text for text in pages)


def test_review_form_prints_name_opinions_and_literal_markup():
    text = squeeze("".join(pages_text(render(full_form()))))

    assert "张三" in text
    assert "经公示无异议。" in text
    assert "同意报送评审。" in text
    assert "软土<地基>沉降&计算" in text


def test_review_form_sets_metadata():
    meta = PdfReader(io.BytesIO(render(full_form()))).metadata

    assert meta.title == "专业技术职务任职资格评审表"
    assert meta.author == PLATFORM_NAME
    assert CODE in meta.subject


def test_public_version_hides_id_number_and_phone():
    pdf = render(full_form(), public_version=True)
    text = squeeze("".join(pages_text(pdf)))

    assert ID_NUMBER not in text
    assert PHONE not in text
    assert HIDDEN in text
    assert "（公示版）" in PdfReader(io.BytesIO(pdf)).metadata.title


def test_full_version_shows_id_number_and_phone():
    text = squeeze("".join(pages_text(render(full_form()))))

    assert ID_NUMBER in text
    assert PHONE in text


def test_review_form_of_empty_form_prints_none_marks():
    text = "".join(pages_text(render({})))

    assert "无" in text
    assert "十、审核（评审）意见" in text


def test_long_work_history_flows_onto_the_next_page():
    history = [{"period": f"第{n}段", "unit": "设计院", "work": "设计" * 40} for n in range(40)]

    pages = pages_text(render(full_form(work_history=history)))

    assert "第0段" in pages[0]
    assert "第39段" not in pages[0]
    assert any("第39段" in text for text in pages[1:])


def test_cell_longer_than_a_page_is_split_not_lost():
    opinion = "审核意见正文。" * 600 + "意见结束"
    work = "技术工作" * 800 + "工作结束"
    form = full_form(
        opinions=[{"level": "用人单位", "opinion": opinion}],
        work_history=[{"period": "2010", "work": work}],
    )

    text = squeeze("".join(pages_text(render(form))))

    assert "意见结束" in text
    assert "工作结束" in text


def test_review_form_is_deterministic():
    assert render(full_form()) == render(full_form())


def test_entrustment_template_names_the_unit_and_carries_the_watermark():
    pdf = entrustment_template_pdf(UNIT, today=date(2025, 3, 1))
    (text,) = pages_text(pdf)

    assert UNIT["name"] in squeeze(text)
    assert UNIT["credit_code"] in text
    assert "（单位公章）" in text
    assert "2025 年 3 月 1 日" in text
    assert text.count(PLATFORM_NAME) > 3  # the addressee line plus the repeated watermark
    assert PdfReader(io.BytesIO(pdf)).metadata.author == PLATFORM_NAME


def test_entrustment_template_with_missing_fields_still_renders():
    (text,) = pages_text(entrustment_template_pdf({}, today=date(2025, 3, 1)))

    assert "用人单位委托证明" in text
    assert "联系电话：无" in text
