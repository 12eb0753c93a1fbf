"""CSRF, rate limits and security headers."""

from __future__ import annotations

from flask import Flask, Response, current_app, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def note_failed_sign_in() -> None:
    """Count this request against the address's sign-in failure limit."""
    g.sign_in_failed = True


def _sign_in_failed(_response: Response) -> bool:
    return bool(g.get("sign_in_failed"))


# Per client address, shared by the login page and POST /api/v1/auth/token. Only failures
# count, so an office behind one address signs in freely while guessing is slowed down.
login_limit = limiter.shared_limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    scope="login",
    methods=["POST"],
    deduct_when=_sign_in_failed,
    error_message="登录失败次数过多，请稍后再试",
)
# Per client address, shared by the unit and applicant registration pages and API calls.
register_limit = limiter.shared_limit(
    lambda: current_app.config["REGISTER_RATE_LIMIT"],
    scope="register",
    methods=["POST"],
    error_message="注册过于频繁，请稍后再试",
)

# Per client address, shared by the public certificate lookup page and API call: looking
# numbers up by guessing names is slowed down.
lookup_limit = limiter.shared_limit(
    lambda: current_app.config["CERTIFICATE_LOOKUP_RATE_LIMIT"],
    scope="certificate_lookup",
    error_message="查询过于频繁，请稍后再试",
)

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    """Protect forms with CSRF tokens, limit logins, add security headers."""
    csrf.init_app(app)
    limiter.init_app(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response
