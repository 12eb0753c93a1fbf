"""The OpenAPI 3 description of the JSON API; a test keeps it equal to the routes."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}
OBJ = {"type": "object"}

# (method, path, summary, tag, public, request schema or None, response schema)
Operation = tuple[str, str, str, str, bool, dict | None, dict]

CORE: list[Operation] = [
    (
        "post",
        "/auth/token",
        "Exchange username/password for a bearer token",
        "accounts",
        True,
        {
            "type": "object",
            "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
        },
        OBJ,
    ),
    ("get", "/me", "The caller", "accounts", False, None, OBJ),
    ("get", "/health", "Database and scheduler state", "operations", True, None, OBJ),
    ("get", "/openapi.json", "This document", "operations", True, None, OBJ),
]


def operations() -> list[Operation]:
    """Every documented operation: the core ones plus each API blueprint's DOCS."""
    from web.blueprints import api

    ops = list(CORE)
    for module in api.DOC_MODULES:
        ops.extend(module.DOCS)
    return ops


STATUS_TEXT = {
    "400": "Malformed request",
    "401": "No or bad token",
    "403": "Not yours",
    "404": "Unknown id",
    "409": "State conflict",
    "413": "Too large",
    "415": "Wrong file type",
    "422": "Fails the form schema or a business rule",
    "429": "Rate limited",
}


def _operation(
    method: str, path: str, summary: str, tag: str, public: bool, body: dict | None, result: dict
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": result}}}
        },
    }
    for code, text in STATUS_TEXT.items():
        op["responses"][code] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    params = [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in params
        ]
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if public:
        op["security"] = []
    return op


def openapi_document() -> dict[str, Any]:
    """The whole API as an OpenAPI 3.1 document."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path, *rest in operations():
        paths.setdefault(path, {})[method] = _operation(method, path, *rest)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Zhiping (职评) API",
            "version": "1.0.0",
            "description": "Online review of professional-title applications.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
