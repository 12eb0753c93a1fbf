"""Browser sessions kept on the server: the cookie is a random id, the rest is a table row.

Signing out, an idle spell or the end of the absolute lifetime ends the row, and with it every
copy of the cookie. Signing in always starts a new row (the id rotates), so an id planted or
seen before sign-in never becomes a signed-in session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from engine.accounts import Accounts, actor_of, aware, token_digest
from engine.audit import audit_event
from engine.views import Actor
from storage import User, WebSession

# last_seen is written at most this often, so a busy page does not write on every request.
TOUCH_EVERY = timedelta(seconds=60)
# Ended rows are kept this long after their last use (to tell "timed out" from "unknown").
KEEP_ENDED = timedelta(days=1)


@dataclass(frozen=True)
class SessionPolicy:
    """Idle timeout and absolute lifetime of a browser session."""

    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class LiveSession:
    """A session that may be used for this request."""

    token: str
    user_id: int | None
    data: str


@dataclass(frozen=True)
class EndedSession:
    """A signed-in session that has just timed out (reason ``idle`` or ``expired``)."""

    reason: str


def new_token() -> str:
    """A fresh 256-bit session id, URL-safe."""
    return secrets.token_urlsafe(32)


class WebSessions:
    """Session verbs for the web layer's session interface; each is one unit of work."""

    def __init__(self, accounts: Accounts, policy: SessionPolicy | None = None) -> None:
        self.accounts = accounts
        self._uow = accounts._uow
        self.clock = accounts.clock
        self.policy = policy or SessionPolicy()

    def load(self, token: str) -> LiveSession | EndedSession | None:
        """The live session of a cookie; EndedSession when a signed-in one just timed out."""
        now = self.clock()
        with self._uow() as uow:
            row = uow.session.get(WebSession, token_digest(token))
            if row is None or row.revoked_at is not None:
                return None
            reason = None
            if aware(row.expires_at, now) <= now:
                reason = "expired"
            elif now - aware(row.last_seen_at, now) > self.policy.idle:
                reason = "idle"
            if reason is not None:
                row.revoked_at, row.end_reason = now, reason
                if row.user_id is not None:
                    user = uow.session.get(User, row.user_id)
                    who = actor_of(uow.session, user) if user else None
                    uow.session.add(
                        audit_event(now, who, "session_expired", detail={"why": reason})
                    )
                uow.commit()
                return EndedSession(reason) if row.user_id is not None else None
            live = LiveSession(token, row.user_id, row.data)
            if now - aware(row.last_seen_at, now) >= TOUCH_EVERY:
                row.last_seen_at = now
                uow.commit()
            return live

    def create(self, data: str) -> str:
        """A new session before sign-in (it holds the CSRF token of the login form)."""
        token = new_token()
        with self._uow() as uow:
            self._sweep(uow.session)
            uow.session.add(self._row(token, None, data))
            uow.commit()
        return token

    def _sweep(self, session: Session) -> None:
        # Rows of ended sessions go after a day; unused pre-login rows once they are idle.
        now = self.clock()
        session.execute(
            delete(WebSession).where(
                or_(
                    WebSession.last_seen_at < now - self.policy.idle - KEEP_ENDED,
                    (WebSession.user_id.is_(None))
                    & (WebSession.last_seen_at < now - self.policy.idle),
                )
            ),
            execution_options={"synchronize_session": False},
        )

    def save(self, token: str, data: str) -> bool:
        """Store a live session's data; False when the session has ended meanwhile."""
        now = self.clock()
        with self._uow() as uow:
            row = uow.session.get(WebSession, token_digest(token))
            if row is None or row.revoked_at is not None:
                return False
            row.data, row.last_seen_at = data, now
            uow.commit()
            return True

    def sign_in(
        self,
        username: str,
        password: str,
        *,
        address: str = "",
        previous: str | None = None,
    ) -> tuple[str, Actor] | None:
        """A new signed-in session for valid credentials, ending the pre-login one.

        None for bad credentials; AccountLockedError when the account is locked.
        """
        with self._uow() as uow:
            user = self.accounts.checked_user(uow, username, password, address=address, via="page")
            if user is None:
                return None
            now = self.clock()
            session = uow.session
            self._sweep(session)
            if previous:
                old = session.get(WebSession, token_digest(previous))
                if old is not None and old.revoked_at is None:
                    old.revoked_at, old.end_reason = now, "rotated"
            token = new_token()
            session.add(self._row(token, user.id, ""))
            actor = actor_of(session, user)
            session.add(
                audit_event(now, actor, "login", detail={"via": "page", "address": address})
            )
            uow.commit()
            return token, actor

    def sign_out(self, token: str, *, address: str = "") -> None:
        """End a session at once; every copy of its cookie stops working."""
        now = self.clock()
        with self._uow() as uow:
            row = uow.session.get(WebSession, token_digest(token))
            if row is None or row.revoked_at is not None:
                return
            row.revoked_at, row.end_reason = now, "logout"
            if row.user_id is not None:
                user = uow.session.get(User, row.user_id)
                who = actor_of(uow.session, user) if user else None
                uow.session.add(audit_event(now, who, "logout", detail={"address": address}))
            uow.commit()

    def _row(self, token: str, user_id: int | None, data: str) -> Any:
        now = self.clock()
        return WebSession(
            id=token_digest(token),
            user_id=user_id,
            data=data,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.policy.lifetime,
        )
