"""Reviewers' pages: batch recommend (审核推荐) and the department's fee switch (收费设定)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import InvalidDataError
from web.blueprints._common import engine
from web.blueprints._page_common import me, onboarding, read_models, roles_required

bp = Blueprint("review_pages", __name__, url_prefix="/review")
REVIEWERS = ("dept", "hrss", "office")


def _ready() -> tuple[list, dict[str, dict[str, Any]]]:
    tasks, _total = engine().list_tasks(me(), name="recommend", limit=500)
    return tasks, read_models().task_subjects(tasks)


@bp.get("/recommend")
@roles_required(*REVIEWERS)
def recommend() -> Any:
    tasks, subjects = _ready()
    return render_template("review/recommend.html", tasks=tasks, subjects=subjects, error=None)


@bp.post("/recommend")
@roles_required(*REVIEWERS)
def recommend_selected() -> Any:
    tasks, subjects = _ready()
    ids = request.form.getlist("task_ids")
    if not ids:
        error = "请至少选择一项申报"
        return render_template(
            "review/recommend.html", tasks=tasks, subjects=subjects, error=error
        ), 422
    note = request.form.get("note", "").strip()
    results = engine().complete_many(ids, {"note": note} if note else {}, actor=me())
    by_id = {t.id: t for t in tasks}
    return render_template(
        "review/recommend_result.html", results=results, tasks=by_id, subjects=subjects
    )


@bp.get("/fee")
@roles_required(*REVIEWERS)
def fee() -> Any:
    setting = onboarding().get_fee(me().org_id or "", me())
    org_name = read_models().org_names([me().org_id]).get(me().org_id or "")
    return render_template("review/fee.html", setting=setting, org_name=org_name)


@bp.post("/fee")
@roles_required(*REVIEWERS)
def set_fee() -> Any:
    choice = request.form.get("charge")
    if choice not in ("true", "false"):
        raise InvalidDataError("请选择收费或不收费", fields={"charge": "必填 (required)"})
    onboarding().set_fee(me().org_id or "", choice == "true", me())
    flash("已设置为「收费」" if choice == "true" else "已设置为「不收费」", "success")
    return redirect(url_for("review_pages.fee"))
