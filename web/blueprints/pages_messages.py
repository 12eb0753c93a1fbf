"""In-app messages (站内消息) to the signed-in user or to the user's organisation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import login_required

from web.blueprints._page_common import inbox, me

bp = Blueprint("message_pages", __name__, url_prefix="/messages")


@bp.get("")
@login_required
def index() -> Any:
    # An applicant's org is its unit: messages to the unit (about other people) are not its.
    org_id = None if me().role == "applicant" else me().org_id
    items = inbox().notifications(me().id, org_id)
    return render_template("messages/index.html", items=items)
