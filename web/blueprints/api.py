"""The JSON API root: authentication hook, tokens, me, health, OpenAPI."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from engine import AccountLockedError, policy
from web.auth import accounts, bearer_actor, bearer_token, client_address
from web.blueprints import (
    api_accounts,
    api_applications,
    api_certificates,
    api_cycles,
    api_dashboard,
    api_handoffs,
    api_ops,
    api_ops_timers,
    api_sessions,
    api_specs,
    api_tasks,
)
from web.blueprints._common import actor, audit_log, json_body, require_text
from web.errors import error_body
from web.openapi import openapi_document
from web.security import csrf, login_limit, note_failed_sign_in

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Each API module defines ``bp`` and ``DOCS`` (its OpenAPI operations).
DOC_MODULES = (
    api_tasks,
    api_accounts,
    api_applications,
    api_specs,
    api_ops,
    api_ops_timers,
    api_dashboard,
    api_cycles,
    api_sessions,
    api_certificates,
    api_handoffs,
)
for module in DOC_MODULES:
    bp.register_blueprint(module.bp)
    csrf.exempt(module.bp)
csrf.exempt(bp)

PUBLIC = {
    "api.token",
    "api.openapi",
    "api.health",
    "api.accounts.units_register",
    "api.accounts.applicants_register",
    "api.applications.verify",
    "api.certificates.lookup",
}


# What a unit may do before its entrustment certificate is approved.
PENDING_UNIT = {
    "api.me",
    "api.accounts.entrustment_template",
    "api.accounts.entrustment",
}


@bp.before_request
def _authenticate() -> Any:
    if request.endpoint in PUBLIC or request.endpoint is None:
        return None
    who = bearer_actor()
    if who is None:
        return error_body(401, "unauthorized", "缺少或无效的访问令牌")
    if policy.awaiting_activation(who) and request.endpoint not in PENDING_UNIT:
        return error_body(
            403,
            "unit_not_active",
            "单位尚未激活：请先下载、盖章并上传用人单位委托证明，待平台审核通过",
        )
    return None


@bp.post("/auth/token")
@login_limit
def token() -> Any:
    body = json_body()
    require_text(body, "username", "password")
    try:
        issued = accounts().create_token(
            str(body["username"]), str(body["password"]), address=client_address()
        )
    except AccountLockedError as exc:
        note_failed_sign_in()
        response = error_body(429, exc.code, exc.message)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if issued is None:
        note_failed_sign_in()
        return error_body(401, "bad_credentials", "用户名或密码错误")
    return jsonify(
        {
            "token": issued.token,
            "expires_at": issued.expires_at.isoformat(),
            "user": _user(issued.actor),
        }
    )


@bp.delete("/auth/token")
def token_revoke() -> Response:
    accounts().revoke_token(bearer_token(), actor(), address=client_address())
    return Response(status=204)


def _user(who: Any) -> dict[str, Any]:
    return {
        "id": str(who.id),
        "username": who.username,
        "name": who.name,
        "role": who.role,
        "org_id": who.org_id,
        "org_status": who.org_status,
    }


@bp.get("/me")
def me() -> Any:
    return jsonify(_user(actor()))


@bp.get("/health")
def health() -> Any:
    db_state = "ok" if audit_log().database_ok() else "unavailable"
    scheduler = current_app.extensions.get("scheduler_state", lambda: "not running")()
    status = 200 if db_state == "ok" else 503
    return jsonify({"ok": db_state == "ok", "db": db_state, "scheduler": scheduler}), status


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document())
