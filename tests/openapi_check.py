"""Every JSON answer the suite receives from /api/v1 must match the OpenAPI document.

Installed on each test app (tests/conftest.py) as an after-request hook: an answer whose
status the operation does not document, or whose body does not match the documented schema,
fails the test that caused it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask import Flask, Response, request
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from web.openapi import openapi_document

PREFIX = "/api/v1"


@cache
def _document() -> dict[str, Any]:
    return openapi_document()


@cache
def _validator(pointer: str) -> Draft202012Validator:
    doc = _document()
    resource = Resource.from_contents(doc, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:openapi", resource)
    return Draft202012Validator({"$ref": f"urn:openapi#{pointer}"}, registry=registry)


def _template(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.removeprefix(PREFIX))


def check(response: Response) -> Response:
    """Fail loudly when an API answer is not what the document says."""
    if request.url_rule is None or not request.path.startswith(PREFIX):
        return response
    path, method = _template(request.url_rule.rule), request.method.lower()
    if method in ("head", "options"):
        return response
    status = str(response.status_code)
    documented = _document()["paths"].get(path, {}).get(method)
    assert documented is not None, f"{method} {path} is not documented"
    if status not in documented["responses"]:
        if response.status_code >= 500 or status == "405":
            return response  # server errors are caught by the tests themselves
        raise AssertionError(f"{method} {path} answered {status}, which is not documented")
    content = documented["responses"][status].get("content")
    if content is None:
        assert not response.data, f"{method} {path} {status} should have no body"
        return response
    media = next(iter(content))
    if media != "application/json":
        assert response.mimetype == media, f"{method} {path}: {response.mimetype} != {media}"
        return response
    assert response.is_json, f"{method} {path} {status}: not JSON"
    pointer = "/paths/" + path.replace("~", "~0").replace("/", "~1")
    pointer += f"/{method}/responses/{status}/content/application~1json/schema"
    errors = sorted(_validator(pointer).iter_errors(response.get_json()), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path)
        raise AssertionError(f"{method} {path} {status} at {where!r}: {errors[0].message}")
    return response


def install(app: Flask) -> None:
    """Check every API answer of this app against the document."""
    app.after_request(check)
