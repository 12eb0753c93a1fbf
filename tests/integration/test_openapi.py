"""The OpenAPI document describes exactly the API routes the app serves."""

from __future__ import annotations

import re

import pytest


def _routes(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((method.lower(), path))
    return out


def test_openapi_matches_routes(app, api):
    r = api.get("/openapi.json")
    assert r.status == 200 and r.json["openapi"].startswith("3.")
    documented = {(m, p) for p, ops in r.json["paths"].items() for m in ops}
    assert documented == _routes(app)


def test_health_reports_database(api):
    r = api.get("/health")
    assert r.status == 200 and r.json["ok"] is True and r.json["db"] == "ok"
    assert r.json["scheduler"] in ("running", "not running")


def test_openapi_document_is_valid_openapi_31(api):
    from openapi_spec_validator import validate

    doc = api.get("/openapi.json").json
    validate(doc)
    assert doc["openapi"] == "3.1.0"


def test_every_operation_documents_its_answer(api):
    doc = api.get("/openapi.json").json
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            success = [s for s in op["responses"] if s.startswith("2")]
            assert success, (method, path)
            for status in success:
                content = op["responses"][status].get("content")
                if status == "204":
                    assert content is None
                    continue
                media, body = next(iter(content.items()))
                schema = body["schema"]
                # A JSON answer names its shape: a component or a list of them, never bare object.
                if media == "application/json" and path != "/openapi.json":
                    assert schema != {"type": "object"}, (method, path)
    token = doc["paths"]["/auth/token"]["post"]["responses"]["200"]["content"]
    assert token["application/json"]["schema"] == {"$ref": "#/components/schemas/Token"}
    assert "expires_at" in doc["components"]["schemas"]["Token"]["required"]


def test_an_answer_that_breaks_the_document_fails_the_suite(app, api, monkeypatch):
    # The suite checks every API answer against the document (tests/openapi_check.py).
    from tests import openapi_check
    from web.api_schemas import SCHEMAS

    broken = {**SCHEMAS["Health"], "required": ["ok", "db", "scheduler", "uptime"]}
    monkeypatch.setitem(SCHEMAS, "Health", broken)
    openapi_check._document.cache_clear()
    openapi_check._validator.cache_clear()
    try:
        with pytest.raises(AssertionError, match="'uptime' is a required property"):
            app.test_client().get("/api/v1/health")
    finally:
        monkeypatch.undo()
        openapi_check._document.cache_clear()
        openapi_check._validator.cache_clear()
