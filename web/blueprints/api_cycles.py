"""Annual cycles (申报年度): a committee's office opens, lists and closes filing windows."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from engine import Cycles
from web.api_schemas import Reply, page, ref
from web.api_schemas_cycles import CLOSE_CYCLE_BODY, OPEN_CYCLE_BODY
from web.blueprints._common import actor, json_body, listing, paging

bp = Blueprint("cycles", __name__)

DOCS = [
    (
        "post",
        "/committees/{committee_id}/cycles",
        "Open an annual cycle (申报年度) of a committee: filing window, optional quota, the"
        " title_application version it runs on (default: the current one), pinned for the"
        " whole cycle. The committee's office or an operator; 409 cycle_overlap when an open"
        " cycle's window of the committee overlaps",
        "cycles",
        False,
        OPEN_CYCLE_BODY,
        Reply("201", ref("Cycle")),
    ),
    (
        "get",
        "/committees/{committee_id}/cycles",
        "A committee's cycles, newest window first (any signed-in user; the application count"
        " only for its office and the platform)",
        "cycles",
        False,
        None,
        page("Cycle"),
    ),
    ("get", "/cycles/{cycle_id}", "One cycle", "cycles", False, None, ref("Cycle")),
    (
        "post",
        "/cycles/{cycle_id}/close",
        "Close a cycle: it takes no more applications, those filed go on (409 cycle_closed when"
        " already closed)",
        "cycles",
        False,
        CLOSE_CYCLE_BODY,
        ref("Cycle"),
    ),
]


def cycles() -> Cycles:
    return current_app.extensions["cycles"]


@bp.post("/committees/<committee_id>/cycles")
def open_cycle(committee_id: str) -> Any:
    view = cycles().open_cycle(committee_id, json_body(), actor())
    return jsonify(view.as_dict()), 201


@bp.get("/committees/<committee_id>/cycles")
def index(committee_id: str) -> Any:
    limit, offset = paging()
    items, total = cycles().list_cycles(committee_id, actor(), limit=limit, offset=offset)
    return jsonify(listing([c.as_dict() for c in items], total))


@bp.get("/cycles/<id:cycle_id>")
def show(cycle_id: int) -> Any:
    return jsonify(cycles().get_cycle(cycle_id, actor()).as_dict())


@bp.post("/cycles/<id:cycle_id>/close")
def close(cycle_id: int) -> Any:
    # The reason is optional: an empty body closes without one.
    body = json_body() if request.get_data(cache=True) else {}
    return jsonify(cycles().close_cycle(cycle_id, body, actor()).as_dict())
