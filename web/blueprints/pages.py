"""Pages for people: sign-in, worklist, and a generic task page rendered from its form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user

from engine import InvalidDataError
from web.auth import SessionUser, accounts, page_actor
from web.blueprints._common import engine
from web.formrender import build_fields, parse_form
from web.security import limiter

bp = Blueprint("pages", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.get("/")
def index() -> Any:
    if page_actor() is None:
        return redirect(url_for("pages.login"))
    return redirect(url_for("pages.worklist"))


def _safe_next(target: str | None) -> str:
    if (
        target
        and not urlsplit(target).netloc
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    return url_for("pages.worklist")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        who = accounts().login(request.form.get("username", ""), request.form.get("password", ""))
        if who is not None:
            login_user(SessionUser(who))
            return redirect(_safe_next(request.args.get("next")))
        error = "用户名或密码错误"
    status = 401 if error else 200
    return render_template("pages/login.html", error=error), status


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for("pages.login"))


@bp.get("/tasks")
@login_required
def worklist() -> Any:
    items, total = engine().list_tasks(
        page_actor(), name=request.args.get("name") or None, limit=500
    )
    return render_template("pages/worklist.html", tasks=items, total=total)


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id: str) -> Any:
    detail = engine().get_task(task_id, page_actor())
    fields = build_fields(detail.form, detail.ui_schema, detail.data, {})
    return render_template("pages/task.html", task=detail, fields=fields)


@bp.post("/tasks/<task_id>")
@login_required
def submit_task(task_id: str) -> Any:
    detail = engine().get_task(task_id, page_actor())
    data = parse_form(detail.form, request.form)
    try:
        result = engine().complete(task_id, data, actor=page_actor())
    except InvalidDataError as exc:
        fields = build_fields(detail.form, detail.ui_schema, data, exc.fields)
        return render_template(
            "pages/task.html", task=detail, fields=fields, error=exc.message, form_errors=exc.fields
        ), 422
    if result.status == "error":
        flash(f"已提交，但后续步骤出错，运维人员会处理：{result.problem}", "warning")
    else:
        flash(f"「{detail.summary.title}」已提交", "success")
    return redirect(url_for("pages.worklist"))
