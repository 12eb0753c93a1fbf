"""Pages for people: sign-in, worklist, and a generic task page rendered from its form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine import AccountLockedError, ConflictError, InvalidDataError, TaskDetail, policy, roles
from web import labels
from web.auth import page_actor, sign_in, sign_out
from web.blueprints._common import tasks
from web.blueprints._page_common import PAGE, merge_uploads, page_offset, profiles, worklists
from web.errors import http_status
from web.formrender import build_fields, mark_notes, parse_form, unplaced_errors
from web.security import login_limit, note_failed_sign_in
from web.task_context import task_context

bp = Blueprint("pages", __name__)
bp.app_context_processor(labels.template_context)
bp.app_template_filter("short_time")(labels.short_time)
bp.app_template_filter("mark_value")(labels.mark_value)


@bp.get("/")
def index() -> Any:
    who = page_actor()
    if who is None:
        return redirect(url_for("pages.login"))
    if policy.awaiting_activation(who):
        return redirect(url_for("unit_pages.entrustment"))
    if not policy.has_worklist(who) and policy.may_deploy(who):
        return redirect(url_for("designer_pages.index"))
    return redirect(url_for("pages.worklist"))


def _safe_next(target: str | None) -> str:
    if (
        target
        and not urlsplit(target).netloc
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    return url_for("pages.index")


@bp.route("/login", methods=["GET", "POST"])
@login_limit
def login() -> Any:
    if request.method == "GET":
        return render_template("pages/login.html", error=None)
    try:
        who = sign_in(request.form.get("username", ""), request.form.get("password", ""))
    except AccountLockedError as exc:
        note_failed_sign_in()
        page = render_template("pages/login.html", error=exc.message)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    if who is None:
        note_failed_sign_in()
        return render_template("pages/login.html", error="用户名或密码错误"), 401
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout() -> Any:
    sign_out()
    return redirect(url_for("pages.login"))


# A unit's worklist by process, under the guide's names for it.
WORKLIST_TITLES = {"dossier_review": "业绩档案审核", "title_application": "职称申报资格审查"}


@bp.get("/tasks")
@login_required
def worklist() -> Any:
    process, name = request.args.get("process") or None, request.args.get("name") or None
    offset = page_offset()
    items, total = tasks().list_tasks(
        page_actor(), name=name, process=process, limit=PAGE, offset=offset
    )
    subjects = worklists().task_subjects(items)
    title = WORKLIST_TITLES.get(process or "", "待办事项")
    who = page_actor()
    next_step = None
    if who is not None and policy.may_file(who) and not items:
        next_step = profiles().applicant_next_step(who.id)
    return render_template(
        "pages/worklist.html",
        tasks=items,
        total=total,
        offset=offset,
        page=PAGE,
        query={"process": process, "name": name},
        subjects=subjects,
        title=title,
        next_step=next_step,
    )


def _task_page(
    detail: TaskDetail,
    data: dict[str, Any],
    errors: dict[str, str],
    error: str | None = None,
    status: int = 422,
) -> Any:
    if detail.summary.lane == roles.APPLICANT_LANE:
        marks = detail.context.get("return_marks") or []
        errors = {**mark_notes(marks, detail.form, "submitted"), **errors}
    fields = build_fields(detail.form, detail.ui_schema, data, errors)
    return render_template(
        "pages/task.html",
        task=detail,
        fields=fields,
        error=error,
        other_errors=unplaced_errors(fields, errors),
        ctx=task_context(detail, page_actor()),
        transfer_to=current_app.extensions["handoffs"].transfer_candidates(
            detail.summary.id, page_actor()
        ),
    ), (status if error else 200)


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Any:
    detail = tasks().get_task(task_id, page_actor())
    return _task_page(detail, detail.data, {})


@bp.post("/tasks/<task_id>")
@login_required
def submit_task(task_id: str) -> Any:
    detail = tasks().get_task(task_id, page_actor())
    posted, upload_errors = merge_uploads(request.form, request.files, page_actor())
    data = parse_form(detail.form, posted)
    if upload_errors:
        return _task_page(detail, data, upload_errors, "附件上传失败，请重新选择文件")
    try:
        result = tasks().complete(task_id, data, actor=page_actor())
    except InvalidDataError as exc:
        return _task_page(detail, data, exc.fields, exc.message)
    except ConflictError as exc:
        return _task_page(detail, data, {}, exc.message, http_status(exc))
    if result.status == "error":
        flash(f"已提交，但后续步骤出错，运维人员会处理：{result.problem}", "warning")
    else:
        flash(f"「{detail.summary.title}」已提交", "success")
    return redirect(_after_task(detail))


def _after_task(detail: TaskDetail) -> str:
    """Applicants go on to their application; reviewers back to their worklist."""
    app_id = detail.summary.application_id
    if detail.summary.lane == roles.APPLICANT_LANE and app_id:
        return url_for("application_pages.show", app_id=app_id)
    return url_for("pages.worklist")
