"""In-app messages (站内消息) to the signed-in user or to the user's organisation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import login_required

from engine import policy
from web.blueprints._page_common import inbox, me

bp = Blueprint("message_pages", __name__, url_prefix="/messages")


def _messages() -> list[dict[str, Any]]:
    return inbox().notifications(me().id, policy.message_org(me()))


@bp.get("")
@login_required
def index() -> Any:
    items = _messages()
    unread = sum(1 for m in items if not m["read"])
    return render_template("messages/index.html", items=items, unread=unread)


@bp.post("/<id:message_id>/read")
@login_required
def mark_read(message_id: int) -> Any:
    current_app.extensions["accounts"].mark_message_read(message_id, me())
    return redirect(url_for("message_pages.index"))


@bp.post("/read-all")
@login_required
def mark_all_read() -> Any:
    accounts = current_app.extensions["accounts"]
    for message in _messages():
        if not message["read"]:
            accounts.mark_message_read(message["id"], me())
    return redirect(url_for("message_pages.index"))


@bp.get("/<id:message_id>/open")
@login_required
def open_application(message_id: int) -> Any:
    """Follow a message to its application; reading it there marks it read."""
    message = next((m for m in _messages() if m["id"] == message_id), None)
    if message is None or not message["application_id"]:
        return redirect(url_for("message_pages.index", _anchor=f"message-{message_id}"))
    current_app.extensions["accounts"].mark_message_read(message_id, me())
    return redirect(url_for("application_pages.show", app_id=message["application_id"]))
