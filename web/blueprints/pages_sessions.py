"""评审会: a committee office forms review sessions for a cycle, records attendance, reads the
tallies (never a vote), and records objections during the results publicity."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from engine import ConflictError, EngineError, InvalidDataError, policy
from engine.ballot_close import ResultObjections
from engine.review_sessions import ReviewSessions
from web.blueprints._page_common import allowed_by, me, whole_number
from web.errors import http_status

bp = Blueprint("session_pages", __name__, url_prefix="/review-sessions")


def sessions() -> ReviewSessions:
    return current_app.extensions["review_sessions"]


def _cycle_page(
    cycle_id: int, form: dict[str, Any] | None = None, error: EngineError | None = None
) -> Any:
    cycle = current_app.extensions["cycles"].get_cycle(cycle_id, me())
    rows = sessions().list_sessions(cycle_id, me())
    overview = sessions().overview(cycle_id, me())
    status = http_status(error) if error else 200
    blank = {"date": "", "how": "draw", "size": "7", "specialty": "", "experts": ""}
    return render_template(
        "sessions/cycle.html",
        cycle=cycle,
        rows=rows,
        overview=overview,
        form=form or blank,
        error=error,
    ), status


@bp.get("/cycle/<id:cycle_id>")
@allowed_by(policy.keeps_cycles)
def cycle(cycle_id: int) -> Any:
    return _cycle_page(cycle_id)


@bp.post("/cycle/<id:cycle_id>")
@allowed_by(policy.keeps_cycles)
def form_session(cycle_id: int) -> Any:
    form = {k: request.form.get(k, "") for k in ("date", "how", "size", "specialty", "experts")}
    body: dict[str, Any] = {"date": form["date"].strip()}
    if form["how"] == "pick":
        names = form["experts"].replace("，", ",").replace("\n", ",").split(",")
        body["experts"] = [n.strip() for n in names if n.strip()]
    else:
        body["draw"] = {"size": whole_number(form["size"])}
        if form["specialty"].strip():
            body["draw"]["specialty"] = form["specialty"].strip()
    try:
        view = sessions().form_session(cycle_id, body, me())
    except (InvalidDataError, ConflictError) as exc:
        return _cycle_page(cycle_id, form, exc)
    flash(
        f"评审会已组建：专家 {len(view.experts)} 人，待评审申报 {len(view.applications)} 项",
        "success",
    )
    return redirect(url_for("session_pages.show", session_id=view.id))


def _show(session_id: int, error: EngineError | None = None) -> Any:
    view = sessions().get_session(session_id, me())
    status = http_status(error) if error else 200
    return render_template("sessions/show.html", s=view, error=error), status


@bp.get("/<id:session_id>")
@allowed_by(policy.keeps_cycles)
def show(session_id: int) -> Any:
    return _show(session_id)


@bp.post("/<id:session_id>/attendance")
@allowed_by(policy.keeps_cycles)
def attendance(session_id: int) -> Any:
    try:
        view = sessions().record_attendance(
            session_id, {"present": request.form.getlist("present")}, me()
        )
    except (InvalidDataError, ConflictError) as exc:
        return _show(session_id, exc)
    flash(f"出席情况已登记，投票已开始：共 {view.progress['expected']} 张选票", "success")
    return redirect(url_for("session_pages.show", session_id=session_id))


@bp.route("/objection/<id:application_id>", methods=["GET", "POST"])
@allowed_by(policy.keeps_cycles)
def objection(application_id: int) -> Any:
    error = None
    if request.method == "POST":
        objections: ResultObjections = current_app.extensions["result_objections"]
        try:
            objections.record(
                application_id, {"objection": request.form.get("objection", "")}, me()
            )
        except (InvalidDataError, ConflictError) as exc:
            error = exc
        else:
            flash("异议已登记，已转评委会办公室核查（待办：异议核查）", "success")
            return redirect(url_for("application_pages.show", app_id=application_id))
    status = http_status(error) if error else 200
    return render_template(
        "sessions/objection.html", application_id=application_id, error=error
    ), status
