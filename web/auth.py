"""Who is calling: bearer tokens for the API, server-side sessions for pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from engine import Accounts, Actor
from engine.sessions import WebSessions
from web.server_session import ServerSession, ServerSessionInterface

login_manager = LoginManager()
login_manager.login_view = "pages.login"
login_manager.login_message = "请先登录"


class SessionUser(UserMixin):
    """Flask-Login wrapper around an engine Actor."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def get_id(self) -> str:
        return str(self.actor.id)


@login_manager.user_loader
def _load_user(user_id: str) -> SessionUser | None:
    # Only the server-side session row says who is signed in; nothing else may claim a user.
    if not user_id.isdigit() or getattr(session, "user_id", None) != int(user_id):
        return None
    actor = accounts().actor_by_id(int(user_id))
    return SessionUser(actor) if actor else None


def accounts() -> Accounts:
    """The account service of this app."""
    return current_app.extensions["accounts"]


def web_sessions() -> WebSessions:
    """The browser-session service of this app."""
    return current_app.extensions["web_sessions"]


def client_address() -> str:
    """The caller's address, for audit and rate limits."""
    return request.remote_addr or ""


def bearer_token() -> str:
    """The request's bearer token, or ""."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def bearer_actor() -> Actor | None:
    """The actor of the request's bearer token, cached on g."""
    if "actor" not in g:
        token = bearer_token()
        g.actor = accounts().actor_for_token(token) if token else None
    return g.actor


def page_actor() -> Actor | None:
    """The actor of the signed-in web session."""
    return current_user.actor if current_user.is_authenticated else None


def sign_in(username: str, password: str) -> Actor | None:
    """Check the credentials and start a new session (new id); None when they are wrong.

    AccountLockedError when the account is locked.
    """
    current = session.token if isinstance(session, ServerSession) else None
    signed = web_sessions().sign_in(username, password, address=client_address(), previous=current)
    if signed is None:
        return None
    token, actor = signed
    assert isinstance(session, ServerSession)
    session.start(token, actor.id)
    login_user(SessionUser(actor))
    return actor


def sign_out() -> None:
    """End the session on the server: every copy of its cookie stops working."""
    token = session.token if isinstance(session, ServerSession) else None
    logout_user()
    if token:
        web_sessions().sign_out(token, address=client_address())
    if isinstance(session, ServerSession):
        session.close()


ENDED_MESSAGES = {
    "idle": "您已超过 {minutes} 分钟未操作，登录已失效，请重新登录",
    "expired": "登录已超过 {hours} 小时，请重新登录",
}


def _session_ended() -> Any:
    """Send a page user whose session just timed out to the login page, saying why."""
    reason = getattr(session, "ended", None)
    if reason is None or request.path.startswith("/api/"):
        return None
    session.ended = None
    policy = web_sessions().policy
    flash(
        ENDED_MESSAGES[reason].format(
            minutes=int(policy.idle.total_seconds() // 60),
            hours=int(policy.lifetime.total_seconds() // 3600),
        ),
        "warning",
    )
    if request.endpoint == "pages.login":
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("pages.login", next=target))


def init_app(app: Flask) -> None:
    """Keep sessions on the server and register the login manager."""
    # The session service itself ("web_sessions") is wired with the others (wire_services).
    app.session_interface = ServerSessionInterface()
    login_manager.init_app(app)
    app.before_request(_session_ended)
