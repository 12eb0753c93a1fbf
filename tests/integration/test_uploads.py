"""Uploads through the API: each bad file refused with the right status, nothing stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfWriter
from sqlalchemy import func, select

from storage import StoredFile, db
from tests.flows import pdf_bytes, register_applicant, register_unit


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
