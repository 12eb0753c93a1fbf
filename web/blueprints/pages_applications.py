"""Title applications for people: file one, list what one may see, follow one's progress."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from engine import ConflictError, InvalidDataError, policy, statuses
from web.answers import application_detail_json, application_json
from web.auth import page_actor
from web.blueprints._common import notices, tasks
from web.blueprints._page_common import (
    PAGE,
    allowed_by,
    applications,
    designer_forms,
    me,
    org_names_of,
    page_offset,
)
from web.downloads import pdf_download
from web.errors import http_status

bp = Blueprint("application_pages", __name__, url_prefix="/applications")


@bp.app_context_processor
def _public_version() -> dict[str, Any]:
    """Whether the signed-in unit may download an application's 公示版 (task pages too)."""

    def offers_public_version(detail: dict[str, Any]) -> bool:
        who = page_actor()
        return bool(
            who and policy.is_unit_account(who) and statuses.has_public_version(detail["status"])
        )

    return {"offers_public_version": offers_public_version}


def _index(form: dict[str, str] | None = None, error: Any = None, status: int = 200) -> Any:
    offset = page_offset()
    wanted = request.args.get("status") or None
    items, total = applications().list(me(), status=wanted, org=None, limit=PAGE, offset=offset)
    return render_template(
        "applications/index.html",
        items=[application_json(a) for a in items],
        total=total,
        offset=offset,
        page=PAGE,
        wanted=wanted,
        form=form or {"series": "", "level": "", "specialty": ""},
        error=error,
        options=designer_forms().current_committees().options(),
        can_file=policy.may_file(me()),
        windows=current_app.extensions["cycles"].filing_windows(me())
        if policy.may_file(me())
        else [],
    ), status


@bp.get("")
@login_required
def index() -> Any:
    return _index()


@bp.post("")
@allowed_by(policy.may_file)
def create() -> Any:
    body = {k: request.form.get(k, "").strip() for k in ("series", "level", "specialty")}
    try:
        created = applications().create(body, me())
    except (InvalidDataError, ConflictError) as exc:
        return _index(body, exc, http_status(exc))
    app_id = created["application_id"]
    first, _total = tasks().list_tasks(me(), application=app_id, name="submit_application")
    flash(f"申报（编号 {app_id}）已创建，请填写申报表并提交", "success")
    if first:
        return redirect(url_for("pages.task", task_id=first[0].id))
    return redirect(url_for("application_pages.show", app_id=app_id))


@bp.get("/<id:app_id>")
@login_required
def show(app_id: int) -> Any:
    detail = application_detail_json(applications().get(app_id, me()))
    mine, _total = tasks().list_tasks(me(), application=app_id)
    return render_template(
        "applications/show.html",
        app=detail,
        my_tasks={t.id for t in mine},
        orgs=org_names_of(detail),
        can_export=detail["can_export_review_form"],
        withdraw_as=current_app.extensions["withdrawals"].available(app_id, me()),
        may_record_objection=policy.keeps_cycles(me()) and detail["status"] == "result_publicity",
        cc_to=current_app.extensions["handoffs"].copy_candidates(app_id, me()),
    )


@bp.post("/<id:app_id>/withdraw")
@login_required
def withdraw(app_id: int) -> Any:
    body = {"reason": request.form.get("reason", "")}
    try:
        result = current_app.extensions["withdrawals"].withdraw(app_id, body, me())
    except (ConflictError, InvalidDataError) as exc:
        message = (exc.fields or {}).get("reason") if isinstance(exc, InvalidDataError) else None
        flash(f"未能撤回：{message or exc.message}", "warning")
    else:
        done = "已撤回推荐，申报回到单位审查" if result["withdrawn_by"] == "unit" else "申报已撤回"
        flash(done, "success")
    return redirect(url_for("application_pages.show", app_id=app_id))


@bp.post("/<id:app_id>/urge")
@login_required
def urge(app_id: int) -> Any:
    try:
        result = notices().urge(app_id, me())
    except ConflictError as exc:
        flash(exc.message, "warning")
    else:
        flash(f"已催办 {result['urged']} 个事项", "success")
    return redirect(url_for("application_pages.show", app_id=app_id))


@bp.get("/<id:app_id>/review-form.pdf")
@login_required
def review_form(app_id: int) -> Any:
    exports = current_app.extensions["exports"]
    pdf = exports.review_form(app_id, me())
    name = exports.download_name(app_id, me())
    return pdf_download(pdf, name, f"review-form-{app_id}.pdf")


@bp.get("/<id:app_id>/review-form-public.pdf")
@login_required
def review_form_public(app_id: int) -> Any:
    """The 公示版 (no ID number or phone) the unit prints for its publicity notice."""
    exports = current_app.extensions["exports"]
    pdf = exports.public_version(app_id, me())
    name = exports.download_name(app_id, me(), public=True)
    return pdf_download(pdf, name, f"review-form-public-{app_id}.pdf")
