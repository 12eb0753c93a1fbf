"""The OpenAPI 3 description of the JSON API; a test keeps it equal to the routes."""

from __future__ import annotations

from typing import Any

from engine import APPLICATION_STATUSES, INSTANCE_STATUSES
from web.api_schemas import SCHEMAS, Reply, ref
from web.input_guard import MAX_OFFSET

OBJ = {"type": "object"}

# (method, path, summary, tag, public, request schema or None, answer): the answer is a 200
# JSON schema, or a Reply with another status or media type (Reply("204", None): no content).
Operation = tuple[str, str, str, str, bool, dict | None, dict | Reply]

CORE: list[Operation] = [
    (
        "post",
        "/auth/token",
        "Exchange username/password for a bearer token (401 bad credentials; 429 with code"
        " account_locked and Retry-After after 5 wrong passwords in a row, for 15 minutes;"
        " 429 rate_limited after too many failures from one address)",
        "accounts",
        True,
        {
            "type": "object",
            "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
            "examples": [{"username": "yz_water_1", "password": "<password>"}],
        },
        ref("Token"),
    ),
    (
        "delete",
        "/auth/token",
        "Revoke the calling token (204); it answers 401 from then on",
        "accounts",
        False,
        None,
        Reply("204", None),
    ),
    ("get", "/me", "The caller", "accounts", False, None, ref("User")),
    ("get", "/health", "Database and scheduler state", "operations", True, None, ref("Health")),
    ("get", "/openapi.json", "This document", "operations", True, None, OBJ),
]


def operations() -> list[Operation]:
    """Every documented operation: the core ones plus each API blueprint's DOCS."""
    from web.blueprints import api

    ops = list(CORE)
    for module in api.DOC_MODULES:
        ops.extend(module.DOCS)
    return ops


STRING = {"type": "string"}
# Numeric ids: ASCII digits within PostgreSQL's INTEGER (web/input_guard.IdConverter).
ID = {"type": "string", "pattern": "^[0-9]{1,10}$"}
PATH_PARAMS = {
    name: ID
    for name in ("application_id", "instance_id", "timer_id", "message_id", "version", "session_id")
}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


PAGING = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
    _query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}),
]
# Query parameters of the list endpoints; unknown filter values answer 422.
QUERY: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("get", "/tasks"): [
        *PAGING,
        _query("name", STRING),
        _query("process", STRING),
        _query("application", ID),
    ],
    ("get", "/applications"): [
        *PAGING,
        _query("status", {"type": "string", "enum": list(APPLICATION_STATUSES)}),
        _query("org", STRING),
    ],
    ("get", "/ops/instances"): [
        *PAGING,
        _query("status", {"type": "string", "enum": list(INSTANCE_STATUSES)}),
        _query("stuck", {"type": "boolean"}),
        _query("process", STRING),
    ],
    ("get", "/dashboard"): [
        _query("committee", STRING),
        _query("year", {"type": "integer", "minimum": 2000, "maximum": 2100}),
        _query("org", STRING),
    ],
    ("get", "/certificates/{number}"): [
        {
            "name": "name",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 100},
        }
    ],
    ("get", "/ops/timers"): [
        *PAGING,
        _query("status", {"type": "string", "enum": ["pending", "fired", "cancelled", "overdue"]}),
    ],
}
QUERY[("get", "/committees")] = PAGING
QUERY[("get", "/committees/{committee_id}/cycles")] = PAGING
PATH_PARAMS["cycle_id"] = ID
QUERY[("get", "/dashboard")].append(_query("cycle", ID))


def _has_binary(schema: dict[str, Any]) -> bool:
    """Whether a request body carries a file (then it is multipart/form-data)."""
    for prop in (schema.get("properties") or {}).values():
        if prop.get("format") == "binary" or (prop.get("items") or {}).get("format") == "binary":
            return True
    return False


SUCCESS_TEXT = {"200": "OK", "201": "Created", "202": "Accepted", "204": "No content"}
STATUS_TEXT = {
    "400": "Malformed request",
    "401": "No or bad token",
    "403": "Not yours",
    "404": "Unknown id",
    "409": "State conflict; code conflict when the same thing was submitted twice at once",
    "413": "Too large",
    "415": "Wrong file type",
    "422": "Fails the form schema or a business rule",
    "429": "Rate limited (rate_limited) or account locked (account_locked), with Retry-After",
}


def _operation(
    method: str,
    path: str,
    summary: str,
    tag: str,
    public: bool,
    body: dict | None,
    result: dict | Reply,
) -> dict[str, Any]:
    reply = result if isinstance(result, Reply) else Reply("200", result)
    answer: dict[str, Any] = {"description": SUCCESS_TEXT[reply.status]}
    if reply.schema is not None:
        answer["content"] = {reply.media: {"schema": reply.schema}}
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": {}}
    for status in (reply.status, *reply.also):
        op["responses"][status] = {**answer, "description": SUCCESS_TEXT[status]}
    for code, text in STATUS_TEXT.items():
        op["responses"][code] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    params = [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]
    op["parameters"] = [
        {"name": p, "in": "path", "required": True, "schema": PATH_PARAMS.get(p, STRING)}
        for p in params
    ] + QUERY.get((method, path), [])
    if not op["parameters"]:
        del op["parameters"]
    if body is not None:
        media = "multipart/form-data" if _has_binary(body) else "application/json"
        op["requestBody"] = {"required": True, "content": {media: {"schema": body}}}
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
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
