"""Who is calling: bearer tokens for the API, session login for pages."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_login import LoginManager, UserMixin, current_user

from engine import Accounts, Actor

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
    if not user_id.isdigit():
        return None
    actor = accounts().actor_by_id(int(user_id))
    return SessionUser(actor) if actor else None


def accounts() -> Accounts:
    """The account service of this app."""
    return current_app.extensions["accounts"]


def bearer_actor() -> Actor | None:
    """The actor of the request's bearer token, cached on g."""
    if "actor" not in g:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        g.actor = accounts().actor_for_token(token) if token else None
    return g.actor


def page_actor() -> Actor | None:
    """The actor of the signed-in web session."""
    return current_user.actor if current_user.is_authenticated else None


def init_app(app: Flask) -> None:
    """Register the login manager."""
    login_manager.init_app(app)
