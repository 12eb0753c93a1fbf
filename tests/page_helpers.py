"""Helpers that use the pages as a person would: sign in, open pages, post forms."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import PASSWORDS


def signed_in(app: Flask, username: str, password: str | None = None) -> FlaskClient:
    """A test client signed in through the login form."""
    client = app.test_client()
    r = client.post(
        "/login", data={"username": username, "password": password or PASSWORDS[username]}
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def text(response: TestResponse) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def task_links(html: str) -> list[str]:
    """Task ids linked from a page (worklist, application detail)."""
    return re.findall(r'href="/tasks/([0-9a-f-]{36})"', html)


def field_error(html: str, name: str) -> str | None:
    """The error message rendered next to a field, or None."""
    match = re.search(rf'id="{re.escape(name)}-error">([^<]*)<', html)
    return match.group(1) if match else None


def pdf_upload(data: bytes, name: str = "材料.pdf") -> tuple[io.BytesIO, str]:
    """A file for a multipart form post."""
    return io.BytesIO(data), name


def only_task_id(client: FlaskClient, **params: Any) -> str:
    """The one task in the signed-in person's worklist matching a name (by the task page)."""
    html = text(client.get("/tasks", query_string=params))
    ids = list(dict.fromkeys(task_links(html)))
    assert len(ids) == 1, ids
    return ids[0]
