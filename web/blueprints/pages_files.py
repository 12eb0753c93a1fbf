"""Uploaded files for signed-in people (the API has its own bearer-token route)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_login import login_required

from web.blueprints._page_common import documents, me
from web.downloads import pdf_download

bp = Blueprint("file_pages", __name__, url_prefix="/files")


@bp.get("/<file_id>")
@login_required
def show(file_id: str) -> Any:
    data, filename = documents().download(file_id, me())
    return pdf_download(data, filename, f"file-{file_id}.pdf")
