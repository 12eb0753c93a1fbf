"""In-app messages (站内消息) to the signed-in user or to the user's organisation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import login_required

from engine import policy
from web.blueprints._page_common import inbox, me

bp = Blueprint("message_pages", __name__, url_prefix="/messages")


@bp.get("")
@login_required
def index() -> Any:
    items = inbox().notifications(me().id, policy.message_org(me()))
    return render_template("messages/index.html", items=items)
