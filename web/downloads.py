"""PDF downloads: always an attachment, with a UTF-8 name and a meaningful ASCII fallback."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response


def pdf_download(data: bytes, name: str, ascii_name: str) -> Response:
    """A PDF to save, never to render in our origin (nosniff is on every response).

    ``name`` may be Chinese (sent as RFC 5987 ``filename*``); ``ascii_name`` is what clients
    without RFC 5987 support save, e.g. ``review-form-12.pdf`` rather than ``-12.pdf``.
    """
    fallback = "".join(c for c in ascii_name if c.isascii() and (c.isalnum() or c in "-_."))
    disposition = f'attachment; filename="{fallback or "download.pdf"}"'
    if name != fallback:
        disposition += f"; filename*=UTF-8''{quote(name, safe='')}"
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = disposition
    response.headers["Cache-Control"] = "private, no-store"
    return response
