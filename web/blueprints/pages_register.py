"""Public self-registration pages for units and applicants."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine import ConflictError, InvalidDataError
from web.blueprints._page_common import applicants, directory, units
from web.security import register_limit

bp = Blueprint("register", __name__, url_prefix="/register")

UNIT_FIELDS = ("name", "credit_code", "dept_org_id", "contact", "phone", "username", "password")
APPLICANT_FIELDS = ("name", "id_number", "phone", "unit_id", "username", "password")
# Which field a registration conflict is about, so the message sits next to it.
CONFLICT_FIELD = {
    "username_taken": "username",
    "unit_exists": "credit_code",
    "applicant_exists": "id_number",
}


def _posted(names: tuple[str, ...]) -> dict[str, str]:
    return {n: request.form.get(n, "").strip() for n in names}


def _register(kind: str, names: tuple[str, ...], verb: Any, choices: list) -> Any:
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    message, status = None, 200
    if request.method == "POST":
        values = _posted(names)
        try:
            verb({**values, "password": request.form.get("password", "")})
        except InvalidDataError as exc:
            message, errors, status = exc.message, exc.fields, 422
        except ConflictError as exc:
            field = CONFLICT_FIELD.get(exc.code, "_form")
            message, errors, status = exc.message, {field: exc.message}, 409
        else:
            flash("注册成功，请登录", "success")
            return redirect(url_for("pages.login", username=values["username"]))
    values.pop("password", None)
    return render_template(
        f"register/{kind}.html", values=values, errors=errors, message=message, choices=choices
    ), status


@bp.route("/unit", methods=["GET", "POST"])
@register_limit
def unit() -> Any:
    return _register("unit", UNIT_FIELDS, units().register_unit, directory().dept_orgs())


@bp.route("/applicant", methods=["GET", "POST"])
@register_limit
def applicant() -> Any:
    choices = directory().active_units()
    return _register("applicant", APPLICANT_FIELDS, applicants().register_applicant, choices)
