"""职称证书 for people: the public lookup by number and name (the certificate's QR code opens
it, without the name in the address), the electronic certificate's download and the HRSS
department's 撤销证书 form on the application page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine import Certificates, ConflictError, InvalidDataError, NotFoundError
from web.blueprints._page_common import me
from web.blueprints.api_certificates import holder_name
from web.downloads import pdf_download
from web.security import lookup_limit

bp = Blueprint("certificate_pages", __name__)
MAX_NUMBER = 40


def certificates() -> Certificates:
    return current_app.extensions["certificates"]


@bp.get("/certificates")
def lookup_form() -> Any:
    return render_template("certificates/lookup.html", number="", result=None, error=None)


@bp.get("/certificates/<number>")
def lookup_number(number: str) -> Any:
    """Where the QR code leads: the number filled in, the name still to be typed."""
    return render_template(
        "certificates/lookup.html", number=number[:MAX_NUMBER], result=None, error=None
    )


@bp.post("/certificates")
@lookup_limit
def lookup() -> Any:
    number = request.form.get("number", "").strip()[:MAX_NUMBER]
    try:
        if not number:
            raise InvalidDataError("请填写证书编号", fields={"number": "必填"})
        result = certificates().lookup(number, holder_name(request.form.get("name")))
    except InvalidDataError as exc:
        error = "；".join(exc.fields.values()) or exc.message
        page = render_template("certificates/lookup.html", number=number, result=None, error=error)
        return page, 422
    except NotFoundError as exc:
        page = render_template(
            "certificates/lookup.html", number=number, result=None, error=exc.message
        )
        return page, 404
    return render_template("certificates/lookup.html", number=number, result=result, error=None)


@bp.get("/applications/<id:app_id>/certificate.pdf")
@login_required
def certificate_pdf(app_id: int) -> Any:
    data = certificates().pdf(me(), app_id)
    name = certificates().download_name(me(), app_id)
    return pdf_download(data, name, f"certificate-{app_id}.pdf")


@bp.post("/applications/<id:app_id>/certificate/revoke")
@login_required
def revoke(app_id: int) -> Any:
    cert = certificates().for_application(me(), app_id)
    if cert is None:
        flash("该申报尚未取得职称证书", "warning")
        return redirect(url_for("application_pages.show", app_id=app_id))
    try:
        certificates().revoke(me(), cert["number"], {"reason": request.form.get("reason", "")})
    except (ConflictError, InvalidDataError) as exc:
        message = (exc.fields or {}).get("reason") if isinstance(exc, InvalidDataError) else None
        flash(f"未能撤销：{message or exc.message}", "warning")
    else:
        flash(f"证书 {cert['number']} 已撤销，已通知持证人", "success")
    return redirect(url_for("application_pages.show", app_id=app_id))
