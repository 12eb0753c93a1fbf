"""Session-level helpers on user rows: find an account by its typed name, end its sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.names import canonical_username, invisible_characters
from storage import ApiToken, User, WebSession


def find_user(session: Session, username: str) -> User | None:
    """The account of a typed username (canonical form; older mixed-case names match too)."""
    name = canonical_username(username)
    if not name or invisible_characters(name):
        return None  # no account has such a name (and NUL or surrogates never reach SQL)
    user = session.scalars(select(User).where(User.username == name)).first()
    if user is None:
        query = select(User).where(func.lower(User.username) == name).order_by(User.id)
        user = session.scalars(query).first()
    return user


def end_all_sign_ins(session: Session, user_id: int, now: datetime, reason: str) -> None:
    """Revoke every live web session and API token of a user (password changed, ...)."""
    session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now, end_reason=reason),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now),
        execution_options={"synchronize_session": False},
    )
