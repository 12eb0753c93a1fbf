"""Hand-offs (转办 / 委派 / 抄送): transfer a task, name a stand-in, copy an application."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from engine import Handoffs
from web.api_schemas import array, page, ref
from web.blueprints._common import actor, json_body, listing, paging

bp = Blueprint("handoffs", __name__)

STR = {"type": "string"}
DATE = {"type": "string", "format": "date"}
DOCS = [
    (
        "post",
        "/tasks/{task_id}/transfer",
        "转办: hand an org task to a colleague of the same org who may act on it; from then on"
        " only that colleague (and their stand-in) sees and completes it. 422 on `to` for anyone"
        " else; 403 for personal tasks (applicant's, expert's)",
        "tasks",
        False,
        {
            "type": "object",
            "required": ["to", "reason"],
            "properties": {"to": STR, "reason": STR},
            "examples": [{"to": "yz_water_2", "reason": "本人出差，请张四审核"}],
        },
        ref("TransferResult"),
    ),
    (
        "get",
        "/tasks/{task_id}/transfer",
        "The colleagues the caller may transfer this task to (empty when it may not)",
        "tasks",
        False,
        None,
        array(ref("Colleague")),
    ),
    (
        "get",
        "/me/stand-in",
        "委派: the caller's stand-in and the colleagues it stands in for now or later",
        "accounts",
        False,
        None,
        ref("StandIn"),
    ),
    (
        "put",
        "/me/stand-in",
        "委派: a colleague of the same org and role acts for the caller from `from` to `until`"
        " (China dates; until ≥ from and not before today). Not to someone away then, nor"
        " while the caller stands in for someone then (409 stand_in_chain)",
        "accounts",
        False,
        {
            "type": "object",
            "required": ["to", "from", "until"],
            "properties": {"to": STR, "from": DATE, "until": DATE},
            "examples": [{"to": "yz_water_2", "from": "2026-12-01", "until": "2026-12-10"}],
        },
        ref("StandIn"),
    ),
    (
        "delete",
        "/me/stand-in",
        "End the caller's 委派 now (404 when none is set)",
        "accounts",
        False,
        None,
        ref("StandIn"),
    ),
    (
        "post",
        "/applications/{application_id}/cc",
        "抄送: copy an application to accounts of the caller's org, the unit or an org of the"
        " review chain; each gets an in-app message and may read the application (no task"
        " powers). 422 on `to` naming who may not receive it",
        "applications",
        False,
        {
            "type": "object",
            "required": ["to"],
            "properties": {"to": {"type": "array", "items": STR}, "note": STR},
            "examples": [{"to": ["nb_water_1"], "note": "请知悉"}],
        },
        ref("CopyResult"),
    ),
    (
        "get",
        "/applications/{application_id}/cc",
        "Whom the caller may copy this application to (empty when it may not copy it)",
        "applications",
        False,
        None,
        array(ref("Colleague")),
    ),
    (
        "get",
        "/me/cc",
        "抄送我的: applications copied to the caller, newest first",
        "applications",
        False,
        None,
        page("CopyToMe"),
    ),
]


def handoffs() -> Handoffs:
    """转办, 委派 and 抄送."""
    return current_app.extensions["handoffs"]


@bp.post("/tasks/<task_id>/transfer")
def transfer(task_id: str) -> Any:
    return jsonify(handoffs().transfer(task_id, json_body(), actor()))


@bp.get("/tasks/<task_id>/transfer")
def transfer_candidates(task_id: str) -> Any:
    return jsonify(handoffs().transfer_candidates(task_id, actor()))


@bp.get("/me/stand-in")
def stand_in() -> Any:
    return jsonify(handoffs().stand_in(actor()))


@bp.put("/me/stand-in")
def set_stand_in() -> Any:
    return jsonify(handoffs().set_stand_in(json_body(), actor()))


@bp.delete("/me/stand-in")
def end_stand_in() -> Any:
    return jsonify(handoffs().end_stand_in(actor()))


@bp.post("/applications/<id:application_id>/cc")
def copy(application_id: int) -> Any:
    return jsonify(handoffs().copy(application_id, json_body(), actor()))


@bp.get("/applications/<id:application_id>/cc")
def copy_candidates(application_id: int) -> Any:
    return jsonify(handoffs().copy_candidates(application_id, actor()))


@bp.get("/me/cc")
def copies_to_me() -> Any:
    limit, offset = paging()
    items, total = handoffs().copies_to_me(actor(), limit=limit, offset=offset)
    return jsonify(listing(items, total))
