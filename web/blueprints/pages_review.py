"""Reviewers' pages: batch recommend (审核推荐), batch approval at the last level (批量审核)
and the department's fee switch (收费设定, with the applications a change would affect)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import InvalidDataError, eligibility, policy
from engine.dtos import Failure, ItemOutcome
from web import labels
from web.answers import task_results_json
from web.blueprints._common import tasks as task_service
from web.blueprints._page_common import (
    PAGE,
    allowed_by,
    directory,
    fee_settings,
    me,
    page_offset,
    worklists,
)

bp = Blueprint("review_pages", __name__, url_prefix="/review")
# The four checks an approval confirms, as the batch page asks for them (资历 … 评聘结合).
APPROVAL_CHECKS = [(name, labels.CHECKS[name]) for name in eligibility.APPROVAL_CHECKS]


# The guide's tabs under 申报业务管理 → 职称评审资格审查, and the decision each lists.
TABS = {"pending": "待审查", "approve": "审查通过", "return": "退回", "reject": "评审不通过"}


@bp.get("/qualification")
@allowed_by(policy.reviews_levels)
def qualification() -> Any:
    """职称评审资格审查: 待审查 (this org's 本级审查 tasks), then the applications it decided
    审查通过 (with 审核推荐 of those ready) / 退回 / 评审不通过, each tab with its count."""
    tab = request.args.get("tab", "pending")
    if tab not in TABS:
        raise InvalidDataError(
            "没有这个标签页", fields={"tab": "应为 待审查、审查通过、退回 或 评审不通过"}
        )
    offset = page_offset()  # of the tab's list, 待审查's tasks or a decision's applications
    pending, pending_total = task_service().list_tasks(
        me(),
        name="level_review",
        limit=PAGE if tab == "pending" else 1,  # else only its count, for the tab
        offset=offset if tab == "pending" else 0,
    )
    decided_counts, decided = worklists().level_decision_tab(
        me().org_id or "", tab, offset=offset, limit=PAGE
    )
    ready, subjects = _ready() if tab == "approve" else ([], {})
    counts = {"pending": pending_total, **decided_counts}
    return render_template(
        "review/qualification.html",
        tabs=TABS,
        tab=tab,
        counts=counts,
        offset=offset,
        page=PAGE,
        pending=pending,
        pending_subjects=worklists().task_subjects(pending) if tab == "pending" else {},
        decided=decided,
        tasks=ready,
        subjects=subjects,
    )


def _ready() -> tuple[list, dict[str, dict[str, Any]]]:
    tasks, _total = task_service().list_tasks(me(), name="recommend", limit=500)
    return tasks, worklists().task_subjects(tasks)


@bp.get("/recommend")
@allowed_by(policy.reviews_levels)
def recommend() -> Any:
    tasks, subjects = _ready()
    return render_template("review/recommend.html", tasks=tasks, subjects=subjects, error=None)


@bp.post("/recommend")
@allowed_by(policy.reviews_levels)
def recommend_selected() -> Any:
    tasks, subjects = _ready()
    ids = request.form.getlist("task_ids")
    if not ids:
        error = "请至少选择一项申报"
        return render_template(
            "review/recommend.html", tasks=tasks, subjects=subjects, error=error
        ), 422
    note = request.form.get("note", "").strip()
    results = task_results_json(
        task_service().complete_many(ids, {"note": note} if note else {}, actor=me())
    )
    by_id = {t.id: t for t in tasks}
    return render_template(
        "review/recommend_result.html", results=results, tasks=by_id, subjects=subjects
    )


def _last_level() -> tuple[list, dict[str, dict[str, Any]]]:
    """This department's 本级审查 tasks where it is the top of the chain."""
    tasks, _total = task_service().list_tasks(me(), name="level_review", limit=500)
    return worklists().last_level_reviews(tasks)


@bp.get("/approve")
@allowed_by(policy.reviews_levels)
def approve() -> Any:
    tasks, subjects = _last_level()
    return render_template(
        "review/approve.html", tasks=tasks, subjects=subjects, error=None, checks=APPROVAL_CHECKS
    )


@bp.post("/approve")
@allowed_by(policy.reviews_levels)
def approve_selected() -> Any:
    tasks, subjects = _last_level()
    ids = request.form.getlist("task_ids")
    opinion = request.form.get("opinion", "").strip()
    checks = {name: request.form.get(name) == "on" for name, _label in APPROVAL_CHECKS}
    error = None if ids else "请至少选择一项申报"
    error = error or (None if opinion else "请填写审查意见")
    unconfirmed = [label for name, label in APPROVAL_CHECKS if not checks[name]]
    error = error or ("审查通过须确认审查项：" + "、".join(unconfirmed) if unconfirmed else None)
    if error:
        return render_template(
            "review/approve.html",
            tasks=tasks,
            subjects=subjects,
            error=error,
            checks=APPROVAL_CHECKS,
        ), 422
    allowed = {t.id for t in tasks}
    outcomes = task_service().complete_many(
        [i for i in ids if i in allowed],
        {"decision": "approve", "opinion": opinion, **checks},
        actor=me(),
    )
    not_last = Failure("not_last_level", "不是本部门最后一级审查的申报", {})
    outcomes += [ItemOutcome(i, False, failure=not_last) for i in ids if i not in allowed]
    results = task_results_json(outcomes)
    return render_template(
        "review/recommend_result.html",
        results=results,
        tasks={t.id: t for t in tasks},
        subjects=subjects,
        title="批量审核",
    )


@bp.get("/fee")
@allowed_by(policy.reviews_levels)
def fee() -> Any:
    setting = fee_settings().get_fee(me().org_id or "", me())
    org_name = directory().org_names([me().org_id]).get(me().org_id or "")
    return render_template("review/fee.html", setting=setting, org_name=org_name, confirm=None)


@bp.post("/fee")
@allowed_by(policy.reviews_levels)
def set_fee() -> Any:
    choice = request.form.get("charge")
    if choice not in ("true", "false"):
        raise InvalidDataError("请选择收费或不收费", fields={"charge": "必填"})
    setting = fee_settings().get_fee(me().org_id or "", me())
    changes = (choice == "true") != setting["charge"]
    if changes and setting["affected"] and request.form.get("confirmed") != "yes":
        # a confirm step: show what the change would affect before saving it
        org_name = directory().org_names([me().org_id]).get(me().org_id or "")
        return render_template(
            "review/fee.html", setting=setting, org_name=org_name, confirm=choice
        )
    fee_settings().set_fee(me().org_id or "", choice == "true", me())
    flash("已设置为「收费」" if choice == "true" else "已设置为「不收费」", "success")
    return redirect(url_for("review_pages.fee"))
