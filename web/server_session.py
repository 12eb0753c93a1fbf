"""Flask's session kept on the server: the cookie carries only a random id.

Everything Flask, Flask-Login and Flask-WTF keep in ``session`` (the signed-in user, the CSRF
token, flashed messages) lives in the ``web_session`` row that engine.sessions manages; a
copied cookie is worth nothing once that row has ended (sign-out, idle timeout, lifetime).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from engine.sessions import EndedSession, LiveSession, WebSessions

# A session id is token_urlsafe(32): 43 characters. Anything much longer is not ours.
_MAX_COOKIE = 64


class ServerSession(CallbackDict, SessionMixin):  # type: ignore[misc]
    """The request's session data plus the id (``token``) of its server-side row."""

    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        user_id: int | None = None,
        ended: str | None = None,
        stale_cookie: bool = False,
    ) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True
            self.accessed = True

        super().__init__(initial, on_update)
        self.token = token
        self.user_id = user_id
        # "idle" or "expired" when the request came with a signed-in session that just ended.
        self.ended = ended
        # The request's cookie names no live session: clear it unless a new one is made.
        self.stale_cookie = stale_cookie
        self.modified = False
        self.accessed = False

    def start(self, token: str, user_id: int) -> None:
        """Switch to a new signed-in session row (the id rotates; old data is dropped)."""
        self.clear()
        self.token, self.user_id = token, user_id
        self.modified = True

    def close(self) -> None:
        """Forget the (already ended) session row; the cookie is cleared on the response."""
        self.clear()
        self.token, self.user_id = None, None
        self.stale_cookie = True
        self.modified = False


class ServerSessionInterface(SessionInterface):
    """Load the session row named by the cookie; write it back when its data changed."""

    serializer = TaggedJSONSerializer()

    def _store(self, app: Flask) -> WebSessions:
        return app.extensions["web_sessions"]

    def _skip(self, app: Flask, request: Request) -> bool:
        # API calls authenticate with bearer tokens; static files need no session.
        static = (app.static_url_path or "/static") + "/"
        return request.path.startswith(("/api/", static))

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or self._skip(app, request):
            return ServerSession()
        if len(token) > _MAX_COOKIE:
            return ServerSession(stale_cookie=True)
        found = self._store(app).load(token)
        if isinstance(found, LiveSession):
            data = self.serializer.loads(found.data) if found.data else {}
            return ServerSession(data, token=token, user_id=found.user_id)
        ended = found.reason if isinstance(found, EndedSession) else None
        return ServerSession(ended=ended, stale_cookie=True)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        if session.accessed:
            response.vary.add("Cookie")
        if session.modified and (session.token or len(session)):
            data = self.serializer.dumps(dict(session))
            store = self._store(app)
            if session.token is None:
                session.token = store.create(data)
            elif not store.save(session.token, data):
                session.close()
            if session.token:
                response.set_cookie(
                    name,
                    session.token,
                    domain=self.get_cookie_domain(app),
                    path=self.get_cookie_path(app),
                    secure=self.get_cookie_secure(app),
                    httponly=self.get_cookie_httponly(app),
                    samesite=self.get_cookie_samesite(app),
                )
                return
        if session.stale_cookie and session.token is None:
            response.delete_cookie(
                name,
                domain=self.get_cookie_domain(app),
                path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app),
                httponly=self.get_cookie_httponly(app),
                samesite=self.get_cookie_samesite(app),
            )
