"""Every generated PDF carries its font: a viewer without any Chinese font draws it as printed."""

import io
from datetime import date

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from engine import fonts
from engine.documents import entrustment_template_pdf
from engine.review_form import review_form_pdf
from tests.unit.test_documents import UNIT, full_form

RARE = "龘靐"  # in Noto Sans CJK SC, in no everyday subset


def font_descriptors(pdf: bytes) -> dict[str, DictionaryObject | None]:
    """Every font the PDF's pages and form XObjects use: BaseFont -> its FontDescriptor."""
    found: dict[str, DictionaryObject | None] = {}

    def walk(resources: DictionaryObject | None, seen: set[int]) -> None:
        if not resources:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            holder = descendants[0].get_object() if descendants else font
            descriptor = holder.get("/FontDescriptor")
            found[str(font["/BaseFont"])] = descriptor.get_object() if descriptor else None
        for xobject in (resources.get("/XObject") or {}).values():
            if id(xobject.get_object()) not in seen and xobject.get("/Subtype") == "/Form":
                seen.add(id(xobject.get_object()))
                walk(xobject.get_object().get("/Resources"), seen)

    for page in PdfReader(io.BytesIO(pdf)).pages:
        walk(page.get("/Resources"), set())
    return found


def assert_all_fonts_embedded(pdf: bytes) -> None:
    found = font_descriptors(pdf)
    assert found, "the PDF uses no font at all"
    for name, descriptor in found.items():
        assert descriptor is not None, f"{name} has no font descriptor (a standard font)"
        embedded = [k for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor]
        assert embedded, f"{name} is not embedded"
        assert "NotoSansCJKsc" in name, name


@pytest.mark.parametrize("public_version", [False, True], ids=["full", "public"])
def test_review_form_embeds_every_font(public_version):
    pdf = review_form_pdf(
        full_form(),
        verification_code="ABCDEFGHJKLM",
        verify_url="https://zhiping.example.cn/verify/ABCDEFGHJKLM",
        public_version=public_version,
    )
    assert_all_fonts_embedded(pdf)


def test_entrustment_template_embeds_every_font():
    assert_all_fonts_embedded(entrustment_template_pdf(UNIT, today=date(2025, 3, 1)))


def test_rare_characters_are_embedded_and_read_back():
    form = full_form()
    form["applicant"]["name"] = f"张{RARE}"
    pdf = review_form_pdf(form, verification_code="ABCDEFGHJKLM", verify_url="https://x/verify")

    assert_all_fonts_embedded(pdf)
    first = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert f"张{RARE}" in "".join(first.split())


def test_embedded_subsets_hold_only_what_the_pdf_shows():
    # The whole face is ~16 MB; a one-page letter's subset is a few dozen kilobytes.
    pdf = entrustment_template_pdf(UNIT, today=date(2025, 3, 1))
    assert len(pdf) < 400_000


def test_missing_font_names_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv(fonts.ENV_VAR, str(tmp_path / "none.ttc"))
    with pytest.raises(fonts.FontMissingError, match="fonts-noto-cjk"):
        fonts.font_file()


def test_font_file_found_where_the_set_up_installs_it():
    path, index = fonts.font_file()
    assert path.is_file()
    assert index >= 0
