"""Helpers shared by the API blueprints: the caller, JSON bodies, paging."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request
from werkzeug.exceptions import BadRequest

from engine import Actor, InvalidDataError, WorkflowEngine
from web.auth import bearer_actor


def engine() -> WorkflowEngine:
    """The app's workflow engine."""
    return current_app.extensions["engine"]


def actor() -> Actor:
    """The authenticated caller (the API hook has already refused anonymous calls)."""
    who = bearer_actor()
    if who is None:
        abort(401)
    return who


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 when it is malformed or not an object."""
    if not request.data:
        raise BadRequest("请求体为空，需要 JSON 对象 (empty body)")
    try:
        body = request.get_json(force=True)
    except BadRequest as exc:
        raise BadRequest("请求体不是合法的 JSON (malformed JSON)") from exc
    if not isinstance(body, dict):
        raise BadRequest("请求体必须是 JSON 对象 (expected a JSON object)")
    return body


def paging() -> tuple[int, int]:
    """limit (default 50, max 500) and offset from the query string."""
    try:
        limit = int(request.args.get("limit", 50))
        offset = int(request.args.get("offset", 0))
    except ValueError as exc:
        raise BadRequest("limit 和 offset 必须是整数") from exc
    if not 1 <= limit <= 500 or offset < 0:
        raise BadRequest("limit 取 1..500，offset 不能为负")
    return limit, offset


def require_text(body: dict[str, Any], *names: str) -> None:
    """422 unless each named field is a non-empty string."""
    fields = {n: "必填 (required)" for n in names if not str(body.get(n) or "").strip()}
    if fields:
        raise InvalidDataError("缺少必填字段 (missing fields)", fields=fields)


def listing(items: list[Any], total: int) -> dict[str, Any]:
    """The list envelope of API.md."""
    return {"items": items, "total": total}
