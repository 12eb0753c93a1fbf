"""Uploaded files for signed-in people (the API has its own bearer-token route)."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, send_file
from flask_login import login_required

from web.blueprints._page_common import documents, me

bp = Blueprint("file_pages", __name__, url_prefix="/files")


@bp.get("/<file_id>")
@login_required
def show(file_id: str) -> Any:
    data, filename = documents().download(file_id, me())
    response = send_file(
        io.BytesIO(data), mimetype="application/pdf", download_name=filename, as_attachment=True
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
