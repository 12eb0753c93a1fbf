"""The applicant's achievement dossier (业绩档案): edit every section, save, submit."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import ConflictError, InvalidDataError, policy
from web.blueprints._page_common import (
    allowed_by,
    designer_forms,
    directory,
    dossiers,
    me,
    merge_uploads,
    profiles,
)
from web.formrender import build_fields, file_ids, mark_notes, parse_form, unplaced_errors

bp = Blueprint("dossier_pages", __name__, url_prefix="/me/dossier")

# The engine refuses edits while the unit reviews the dossier (409); the page says so up front.


def _page(dossier: dict[str, Any], data: dict, errors: dict, message: str | None = None) -> Any:
    _schema, ui = designer_forms().form("dossier")
    feedback = profiles().dossier_feedback(me().id)
    marks = list(feedback["marks"]) if feedback and dossier["status"] == "returned" else []
    marks += profiles().returned_application_marks(me().id)
    errors = {**mark_notes(marks, dossier["form"], "dossier"), **errors}
    fields = build_fields(dossier["form"], ui, data, errors)
    return render_template(
        "dossier/edit.html",
        dossier=dossier,
        fields=fields,
        marks=marks,
        locked=not dossier["can_edit"],
        feedback=feedback,
        message=message,
        other_errors=unplaced_errors(fields, errors) if message else {},
        files=directory().files(file_ids(dossier["form"], data)),
    ), (422 if message else 200)


@bp.get("")
@allowed_by(policy.may_file)
def edit() -> Any:
    dossier = dossiers().get_dossier(me())
    return _page(dossier, dossier["data"], {})


@bp.post("")
@allowed_by(policy.may_file)
def save() -> Any:
    dossier = dossiers().get_dossier(me())
    posted, upload_errors = merge_uploads(request.form, request.files, me())
    data = parse_form(dossier["form"], posted)
    if upload_errors:
        return _page(dossier, data, upload_errors, "附件上传失败")
    try:
        dossiers().put_dossier(data, me())
        if request.form.get("action") == "submit":
            dossiers().submit_dossier(me())
    except (InvalidDataError, ConflictError) as exc:
        return _page(dossiers().get_dossier(me()) | {"data": data}, data, exc.fields, exc.message)
    submitted = request.form.get("action") == "submit"
    flash("业绩档案已提交单位审核" if submitted else "业绩档案已保存", "success")
    return redirect(url_for("dossier_pages.edit"))
