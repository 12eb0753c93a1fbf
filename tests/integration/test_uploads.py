"""Uploads through the API: each bad file refused with the right status, nothing stored."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest
from pypdf import PdfWriter
from sqlalchemy import func, select

from storage import StoredFile, db
from tests.flows import pdf_bytes, register_applicant, register_unit
from tests.pdf_samples import ACTIVE, MB, bomb_pdf, declared_pages_pdf, many_objects_pdf


def _encrypted() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


BAD = [
    ("renamed.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, 415, "not_pdf"),
    ("notes.pdf", "这不是PDF，只是文字".encode(), 415, "not_pdf"),
    ("empty.pdf", b"", 422, "empty_file"),
    ("locked.pdf", None, 422, "pdf_encrypted"),
    ("cut.pdf", "truncated", 422, "pdf_unreadable"),
]


def _stored(app, files_dir: Path) -> tuple[int, int]:
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(StoredFile))
    blobs = sum(1 for p in files_dir.rglob("*") if p.is_file()) if files_dir.exists() else 0
    return rows, blobs


@pytest.mark.parametrize(("name", "content", "status", "code"), BAD)
def test_bad_upload_is_refused_and_nothing_is_stored(app, api, name, content, status, code):
    unit = register_unit(api)
    before = _stored(app, Path(app.config["FILES_DIR"]))
    if content is None:
        content = _encrypted()
    elif content == "truncated":
        whole = pdf_bytes(3)
        content = whole[: len(whole) // 2]
    r = api.post(
        "/files",
        unit["username"],
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert r.status == status, r
    assert r.json["error"]["code"] == code and r.json["error"]["message"]
    assert _stored(app, Path(app.config["FILES_DIR"])) == before


def test_oversize_upload_is_413(app, api):
    unit = register_unit(api)
    person = register_applicant(api, unit, approve_dossier=False)
    before = _stored(app, Path(app.config["FILES_DIR"]))
    app.extensions["documents"].store.max_bytes = 500
    r = api.post(
        "/files",
        person["username"],
        data={"file": (io.BytesIO(pdf_bytes(5)), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status == 413 and r.json["error"]["code"] == "file_too_large"
    assert _stored(app, Path(app.config["FILES_DIR"])) == before


def test_user_file_names_never_become_paths(app, api):
    unit = register_unit(api)
    r = api.post(
        "/files",
        unit["username"],
        data={"file": (io.BytesIO(pdf_bytes()), "../../etc/passwd.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status == 201
    assert "/" not in r.json["filename"] and ".." not in r.json["filename"]
    files_dir = Path(app.config["FILES_DIR"])
    stored = [p for p in files_dir.rglob("*") if p.is_file()]
    assert r.json["sha256"] in [p.name for p in stored]
    assert all(p.resolve().is_relative_to(files_dir.resolve()) for p in stored)
    assert not (files_dir.parent / "etc").exists()
    again = api.post(
        "/files",
        unit["username"],
        data={"file": (io.BytesIO(pdf_bytes()), "b.pdf")},
        content_type="multipart/form-data",
    )
    assert again.json["sha256"] == r.json["sha256"] and again.json["file_id"] != r.json["file_id"]
    assert len([p for p in files_dir.rglob("*") if p.is_file()]) == len(stored)
    got = api.get(f"/files/{r.json['file_id']}", unit["username"])
    assert got.status == 200 and got.json == pdf_bytes()


def test_upload_needs_a_file_field(api):
    unit = register_unit(api)
    r = api.post(
        "/files", unit["username"], data={"other": "x"}, content_type="multipart/form-data"
    )
    assert r.status == 400


HOSTILE = [
    pytest.param(lambda: bomb_pdf(pages=4, decoded_per_page=60 * MB), "pdf_too_complex", id="bomb"),
    pytest.param(lambda: declared_pages_pdf(100_000), "too_many_pages", id="100000-pages"),
    # Over the configured object limit (1000 here) and small enough for the test client,
    # which leaves its temporary file for bodies over 500 KB open.
    pytest.param(lambda: many_objects_pdf(2000), "pdf_too_complex", id="2000-objects"),
    *(pytest.param(lambda s=s: s[0], s[1], id=name) for name, s in ACTIVE.items()),
]


@pytest.mark.parametrize(("build", "code"), HOSTILE)
def test_hostile_pdf_is_refused_in_bounded_memory_and_nothing_is_stored(app, api, build, code):
    unit = register_unit(api)
    data = build()
    app.extensions["documents"].store.max_objects = 1000
    before = _stored(app, Path(app.config["FILES_DIR"]))
    tracemalloc.start()
    try:
        r = api.post(
            "/files",
            unit["username"],
            data={"file": (io.BytesIO(data), "x.pdf")},
            content_type="multipart/form-data",
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.status == 422 and r.json["error"]["code"] == code, r
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json["error"]["message"])
    assert peak < 100 * MB, f"peak {peak / MB:.0f} MB"
    assert _stored(app, Path(app.config["FILES_DIR"])) == before


def test_entrustment_with_javascript_is_refused_and_the_unit_stays_pending(app, api):
    unit = register_unit(api, activate=False)
    before = _stored(app, Path(app.config["FILES_DIR"]))
    r = api.post(
        f"/units/{unit['unit_id']}/entrustment",
        unit["username"],
        data={"file": (io.BytesIO(ACTIVE["open-action-js"][0]), "委托证明.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status == 422 and r.json["error"]["code"] == "pdf_javascript", r
    assert _stored(app, Path(app.config["FILES_DIR"])) == before
    assert api.tasks("platform_1", name="review_entrustment") == []


def test_stored_file_is_served_as_an_attachment_that_is_never_sniffed(app, api):
    unit = register_unit(api)
    r = api.post(
        "/files",
        unit["username"],
        data={"file": (io.BytesIO(pdf_bytes()), "学历证书.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status == 201
    token = api.login(unit["username"])
    got = api.client.get(
        f"/api/v1/files/{r.json['file_id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    disposition = got.headers["Content-Disposition"]
    # Clients without RFC 5987 support save a meaningful ASCII name, not ".pdf".
    assert disposition == (
        f'attachment; filename="file-{r.json["file_id"]}.pdf"; '
        "filename*=UTF-8''%E5%AD%A6%E5%8E%86%E8%AF%81%E4%B9%A6.pdf"
    )
    error = api.client.get("/api/v1/files/nope", headers={"Authorization": f"Bearer {token}"})
    assert error.status_code == 404 and error.headers["X-Content-Type-Options"] == "nosniff"
