"""申报年度: a committee office's page of its annual cycles (open, list with counts, close)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from engine import ConflictError, Cycles, EngineError, InvalidDataError, policy
from web.blueprints._page_common import allowed_by, me, whole_number
from web.errors import http_status

bp = Blueprint("cycle_pages", __name__, url_prefix="/cycles")

FIELDS = ("committee_id", "year", "opens_on", "closes_on", "quota", "version")


def cycles() -> Cycles:
    return current_app.extensions["cycles"]


def _index(form: dict[str, str] | None = None, error: EngineError | None = None) -> Any:
    keeps = cycles().office_cycles(me())
    status = http_status(error) if error else 200
    blank = {name: "" for name in FIELDS}
    if keeps:
        blank["committee_id"] = keeps[0][0].id
    return render_template(
        "cycles/index.html", keeps=keeps, form=form or blank, error=error
    ), status


@bp.get("")
@allowed_by(policy.keeps_cycles)
def index() -> Any:
    return _index()


@bp.post("")
@allowed_by(policy.keeps_cycles)
def open_cycle() -> Any:
    form = {name: request.form.get(name, "") for name in FIELDS}
    body = {
        "year": whole_number(form["year"]),
        "opens_on": form["opens_on"].strip(),
        "closes_on": form["closes_on"].strip(),
        "quota": whole_number(form["quota"]),
        "version": whole_number(form["version"]),
    }
    try:
        view = cycles().open_cycle(form["committee_id"], body, me())
    except (InvalidDataError, ConflictError) as exc:
        return _index(form, exc)
    flash(f"{view.year} 年度申报已开放：{view.opens_on} 至 {view.closes_on}", "success")
    return redirect(url_for("cycle_pages.index"))


@bp.get("/<id:cycle_id>/close")
@allowed_by(policy.keeps_cycles)
def confirm_close(cycle_id: int) -> Any:
    return render_template("cycles/close.html", cycle=cycles().get_cycle(cycle_id, me()))


@bp.post("/<id:cycle_id>/close")
@allowed_by(policy.keeps_cycles)
def close(cycle_id: int) -> Any:
    try:
        view = cycles().close_cycle(cycle_id, {"reason": request.form.get("reason", "")}, me())
    except (ConflictError, InvalidDataError) as exc:
        flash(f"未能关闭：{exc.message}", "warning")
        return redirect(url_for("cycle_pages.index"))
    flash(f"{view.year} 年度申报已关闭，不再受理新的申报", "success")
    return redirect(url_for("cycle_pages.index"))
