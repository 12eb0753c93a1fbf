"""Map engine errors and HTTP errors to API.md's error body (API) or a page (web)."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from engine import (
    AccountLockedError,
    ConflictError,
    DeliveryError,
    DeployError,
    EngineError,
    FileRejectedError,
    FileTooLargeError,
    FileTypeError,
    ForbiddenError,
    InvalidDataError,
    NotFoundError,
)

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "file_too_large",
    415: "unsupported_media_type",
    422: "invalid_data",
    429: "rate_limited",
}


# Werkzeug's own descriptions are English; a user reads these instead.
HTTP_MESSAGES = {
    400: "请求格式不正确",
    401: "需要登录或有效的访问令牌",
    403: "无权执行此操作",
    404: "请求的资源不存在",
    405: "不支持该请求方法",
    409: "该内容已存在，或刚被他人同时提交，本次操作未保存，请刷新后查看",
    413: "请求内容过大",
    415: "不支持的内容类型",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误，请稍后再试",
    503: "数据库连接中断，本次操作未保存，请重试",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


# Each engine error class answers with one HTTP status; a subclass not named here answers as
# its nearest named base (most specific first).
ERROR_STATUS: tuple[tuple[type[EngineError], int], ...] = (
    (NotFoundError, 404),
    (ForbiddenError, 403),
    (ConflictError, 409),
    (FileTooLargeError, 413),
    (FileTypeError, 415),
    (FileRejectedError, 422),
    (DeployError, 422),
    (InvalidDataError, 422),
    (AccountLockedError, 429),
    (DeliveryError, 502),
)


def http_status(exc: EngineError) -> int:
    """The HTTP status an engine error answers with (400 for a bare EngineError)."""
    for cls, status in ERROR_STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def _message(exc: HTTPException, status: int) -> str:
    """The exception's own Chinese description, else a Chinese one for its status: Werkzeug's
    defaults and Flask-Limiter's descriptions ('10 per 1 minute') are English."""
    own = exc.description or ""
    if own != type(exc).description and CJK.search(own):
        return own
    return HTTP_MESSAGES.get(status, "请求未能完成")


def error_body(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    """The API error shape: {"error": {"code", "message", "fields"?}}."""
    err: dict = {"code": code, "message": message}
    if fields is not None or status == 422:
        err["fields"] = fields or {}
    response = jsonify({"error": err})
    response.status_code = status
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(EngineError)
    def _engine_error(exc: EngineError) -> tuple[Response | str, int] | Response:
        status = http_status(exc)
        if _wants_json():
            response = error_body(status, exc.code, exc.message, exc.fields or None)
            if isinstance(exc, DeployError):
                response = jsonify(
                    {
                        "error": {
                            "code": exc.code,
                            "message": exc.message,
                            "fields": {},
                            "problems": exc.problems,
                        },
                        "ok": False,
                        "problems": exc.problems,
                    }
                )
                response.status_code = status
            return response
        return render_template("error.html", status=status, message=exc.message), status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[Response | str, int] | Response:
        if _wants_json():
            return error_body(400, "csrf_failed", exc.description)
        return render_template(
            "error.html", status=400, message="表单已过期，请返回刷新后重试"
        ), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response | str, int] | Response:
        status = exc.code or 500
        message = _message(exc, status)
        if _wants_json():
            return error_body(status, HTTP_CODES.get(status, "http_error"), message)
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError) -> tuple[Response | str, int] | Response:
        if isinstance(exc, IntegrityError):
            # The same thing submitted twice at once (a double click on 注册): a unique
            # constraint kept the second out, and its transaction rolled back whole.
            log.warning("integrity conflict on %s %s: %s", request.method, request.path, exc.orig)
            if _wants_json():
                return error_body(409, "conflict", HTTP_MESSAGES[409])
            return render_template("error.html", status=409, message=HTTP_MESSAGES[409]), 409
        if not exc.connection_invalidated:
            return _unexpected(exc)
        # The server dropped the connection (a restart): this transaction rolled back whole.
        log.warning("database connection lost on %s %s: %s", request.method, request.path, exc)
        if _wants_json():
            return error_body(503, "database_unavailable", HTTP_MESSAGES[503])
        return render_template("error.html", status=503, message=HTTP_MESSAGES[503]), 503

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response | str, int] | Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return error_body(500, "internal_error", HTTP_MESSAGES[500])
        return render_template("error.html", status=500, message=HTTP_MESSAGES[500]), 500
