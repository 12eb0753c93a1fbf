"""Pages of the hand-offs: 转办 from a task page, 我的委派, 抄送 from an application page,
抄送我的."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine import Handoffs, InvalidDataError
from web.blueprints._page_common import me

bp = Blueprint("handoff_pages", __name__)


def handoffs() -> Handoffs:
    return current_app.extensions["handoffs"]


def _problem(exc: InvalidDataError) -> str:
    details = "；".join(exc.fields.values())
    return f"{exc.message}：{details}" if details else exc.message


@bp.post("/tasks/<task_id>/transfer")
@login_required
def transfer(task_id: str) -> Any:
    body = {"to": request.form.get("to", ""), "reason": request.form.get("reason", "")}
    try:
        result = handoffs().transfer(task_id, body, me())
    except InvalidDataError as exc:
        flash(_problem(exc), "error")
        return redirect(url_for("pages.task", task_id=task_id, reason=body["reason"]))
    flash(f"已转办给{result['to']['name']}", "success")
    return redirect(url_for("pages.worklist"))


def _stand_in_page(
    form: dict[str, str] | None = None, errors: Any = None, status: int = 200
) -> Any:
    state = handoffs().stand_in(me())
    current = state["stand_in"]
    if form is None and current:  # the form starts from the current setting
        form = {"to": current["username"], "from": current["from"], "until": current["until"]}
    return render_template(
        "handoffs/stand_in.html",
        state=state,
        colleagues=handoffs().stand_in_candidates(me()),
        form=form or {},
        errors=errors or {},
    ), status


@bp.get("/me/stand-in")
@login_required
def stand_in() -> Any:
    return _stand_in_page()


@bp.post("/me/stand-in")
@login_required
def set_stand_in() -> Any:
    form = {k: request.form.get(k, "") for k in ("to", "from", "until")}
    try:
        handoffs().set_stand_in(form, me())
    except InvalidDataError as exc:
        return _stand_in_page(form, exc.fields, 422)
    flash("委派已设置", "success")
    return redirect(url_for("handoff_pages.stand_in"))


@bp.post("/me/stand-in/end")
@login_required
def end_stand_in() -> Any:
    handoffs().end_stand_in(me())
    flash("委派已结束", "success")
    return redirect(url_for("handoff_pages.stand_in"))


@bp.post("/applications/<id:app_id>/cc")
@login_required
def copy(app_id: int) -> Any:
    body = {"to": request.form.getlist("to"), "note": request.form.get("note", "")}
    try:
        result = handoffs().copy(app_id, body, me())
    except InvalidDataError as exc:
        flash(_problem(exc), "error")  # the note typed comes back in the form
        return redirect(url_for("application_pages.show", app_id=app_id, note=body["note"]))
    flash(f"已抄送 {len(result['to'])} 人", "success")
    return redirect(url_for("application_pages.show", app_id=app_id, _anchor="cc"))


@bp.get("/cc")
@login_required
def copies() -> Any:
    items, total = handoffs().copies_to_me(me(), limit=500)
    return render_template("handoffs/copies.html", items=items, total=total)
