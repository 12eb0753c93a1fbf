"""The unit's entrustment certificate: download the template, upload the stamped scan."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import ConflictError, FileRejectedError, policy
from engine.file_names import safe_filename
from web.blueprints._page_common import allowed_by, me, profiles, units
from web.downloads import pdf_download
from web.errors import http_status

bp = Blueprint("unit_pages", __name__, url_prefix="/unit")


def _page(error: str | None = None, status: int = 200) -> Any:
    profile = profiles().unit_profile(me().org_id or "")
    return render_template("unit/entrustment.html", unit=profile, error=error), status


@bp.get("/entrustment")
@allowed_by(policy.is_unit_account)
def entrustment() -> Any:
    return _page()


@bp.get("/entrustment/template.pdf")
@allowed_by(policy.is_unit_account)
def template() -> Any:
    pdf = units().entrustment_template(me().org_id or "", me())
    unit = profiles().unit_profile(me().org_id or "")
    name, code = (unit["name"], unit["credit_code"] or "") if unit else ("", "")
    return pdf_download(
        pdf, f"{safe_filename(name, max_length=60)}-用人单位委托证明.pdf", f"entrustment-{code}.pdf"
    )


@bp.post("/entrustment")
@allowed_by(policy.is_unit_account)
def upload() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page("请选择盖章后的委托证明 PDF 文件", 422)
    try:
        units().upload_entrustment(me().org_id or "", upload.read(), upload.filename, me())
    except (FileRejectedError, ConflictError) as exc:
        return _page(exc.message, http_status(exc))
    flash("委托证明已上传，等待平台审核", "success")
    return redirect(url_for("unit_pages.entrustment"))
