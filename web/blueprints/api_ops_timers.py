"""Operators and timers: list the durable timers, fire an overdue one by hand."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from web.api_schemas import page, ref
from web.blueprints._common import actor, json_body, listing, paging, timers

bp = Blueprint("ops_timers", __name__, url_prefix="/ops/timers")

DOCS = [
    (
        "get",
        "/ops/timers",
        "Durable timers by due time (status: pending, fired, cancelled, overdue); operators",
        "operations",
        False,
        None,
        page("Timer"),
    ),
    (
        "post",
        "/ops/timers/{timer_id}/fire",
        "Fire an overdue timer now (admin); `reason` required (422 without), kept in the "
        "audit trail; 409 timer_not_due before its due time",
        "operations",
        False,
        {
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1}},
        },
        ref("Timer"),
    ),
]


@bp.get("")
def list_timers() -> Any:
    limit, offset = paging()
    items, total = timers().list_timers(
        request.args.get("status") or None, actor=actor(), limit=limit, offset=offset
    )
    return jsonify(listing([t.as_dict() for t in items], total))


@bp.post("/<id:timer_id>/fire")
def fire(timer_id: int) -> Any:
    body = json_body() if request.data else {}
    view = timers().fire_timer(timer_id, actor=actor(), reason=body.get("reason"))
    return jsonify(view.as_dict())
