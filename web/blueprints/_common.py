"""Helpers shared by the API blueprints: the caller, JSON bodies, paging."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, request
from werkzeug.exceptions import BadRequest

from engine import (
    Actor,
    AuditLog,
    CalendarAdmin,
    Dashboard,
    Deployments,
    DesignerFiles,
    InvalidDataError,
    Notices,
    Operations,
    Tasks,
    Timers,
)
from web.auth import bearer_actor
from web.input_guard import MAX_OFFSET, query_int, request_json


def tasks() -> Tasks:
    """Worklists, task forms, completing tasks."""
    return current_app.extensions["tasks"]


def operations() -> Operations:
    """Operators' instance views and actions."""
    return current_app.extensions["operations"]


def timers() -> Timers:
    """Durable timers: list and fire."""
    return current_app.extensions["timers"]


def deployments() -> Deployments:
    """Process versions: validate, deploy, promote, diagrams."""
    return current_app.extensions["deployments"]


def notices() -> Notices:
    """The outbox: reminders, 催办, SMS delivery."""
    return current_app.extensions["notices"]


def calendar_admin() -> CalendarAdmin:
    """The working-day calendar's administration."""
    return current_app.extensions["calendar"]


def audit_log() -> AuditLog:
    """Audit chain verification and the database check."""
    return current_app.extensions["audit_log"]


def designer_files() -> DesignerFiles:
    """Rules, committee catalogue and forms beside the diagrams."""
    return current_app.extensions["designer_files"]


def dashboard() -> Dashboard:
    """The app's dashboard service (统计看板)."""
    return current_app.extensions["dashboard"]


def actor() -> Actor:
    """The authenticated caller (the API hook has already refused anonymous calls)."""
    who = bearer_actor()
    if who is None:
        abort(401)
    return who


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 when it is malformed, odd or not an object."""
    if not request.get_data(cache=True):
        raise BadRequest("请求体为空，需要 JSON 对象")
    body = request_json()
    if not isinstance(body, dict):
        raise BadRequest("请求体必须是 JSON 对象")
    return body


def paging() -> tuple[int, int]:
    """limit (default 50, 1..500) and offset (0..MAX_OFFSET) from the query string; 400 else."""
    return query_int("limit", 50, 1, 500), query_int("offset", 0, 0, MAX_OFFSET)


def require_text(body: dict[str, Any], *names: str) -> None:
    """422 unless each named field is a non-empty string."""
    fields = {n: "必填" for n in names if not str(body.get(n) or "").strip()}
    if fields:
        raise InvalidDataError("缺少必填字段", fields=fields)


def listing(items: list[Any], total: int) -> dict[str, Any]:
    """The list envelope of API.md."""
    return {"items": items, "total": total}
