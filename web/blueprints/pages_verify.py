"""The public verify page the review form's QR code opens: is this printout real?

Browsers get a page; `Accept: application/json` gets the same JSON as /api/v1/verify/<code>.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request

from engine import NotFoundError
from web.errors import error_body, http_status

bp = Blueprint("verify_pages", __name__)


def wants_json() -> bool:
    """The client prefers JSON to HTML (a browser asks for text/html; */* gets the page)."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


@bp.get("/verify/<code>")
def verify(code: str) -> Any:
    exports = current_app.extensions["exports"]
    if wants_json():
        try:
            return jsonify(exports.verify(code))
        except NotFoundError as exc:
            return error_body(http_status(exc), exc.code, exc.message)
    try:
        record = exports.verify_details(code)
    except NotFoundError:
        return render_template("verify.html", record=None, code=code), 404
    return render_template("verify.html", record=record, code=code)
