"""Users, passwords, API tokens and the organisation tree."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session

from engine import policy
from engine.audit import audit_event
from engine.clock import CHINA_TZ
from engine.errors import AccountLockedError, ForbiddenError, NotFoundError
from engine.handoff_state import stands_in_for
from engine.ids import parse_id
from engine.names import (
    canonical_username,
    invisible_characters,
)
from engine.org_file import load_orgs
from engine.passwords import PasswordHasher
from engine.users import find_user
from engine.views import Actor
from storage import ApiToken, Notification, Org, User, read_first


@cache
def _token_actor() -> Select[int, str, str, str, str | None, str | None, datetime]:
    """The account of a valid token (``digest``), built once: every API call runs it."""
    holder = (
        select(ApiToken.user_id).where(ApiToken.token_hash == bindparam("digest")).scalar_subquery()
    )
    return (
        select(
            User.id,
            User.username,
            User.name,
            User.role,
            User.org_id,
            Org.status,
            ApiToken.expires_at,
        )
        .join(ApiToken, ApiToken.user_id == User.id)
        .outerjoin(Org, Org.id == User.org_id)
        .where(
            User.id == holder,
            ApiToken.token_hash == bindparam("digest"),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    )


@dataclass(frozen=True)
class LoginPolicy:
    """Account lockout: this many wrong passwords in a row lock the account for a while."""

    max_failures: int = 5
    lock_minutes: int = 15


@dataclass
class LoginOutcome:
    """What a sign-in attempt found: the user, or why not (the caller commits, then acts)."""

    user: User | None = None
    locked_seconds: int = 0


def aware(value: datetime, now: datetime) -> datetime:
    """A stored timestamp with a time zone (SQLite hands them back naive, in UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=now.tzinfo)


def check_login(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    policy: LoginPolicy,
    hasher: PasswordHasher,
    address: str = "",
    via: str = "api",
) -> LoginOutcome:
    """Check credentials, counting wrong passwords per account and locking after too many.

    Writes the failure count, the lock and the audit events into ``session``; the caller
    commits whatever the outcome. A locked account is refused without checking the password.
    """
    user = find_user(session, username)
    typed = canonical_username(username)[:64]
    if invisible_characters(typed):
        typed = ascii(typed)[1:-1][:64]
    detail = {"username": typed, "address": address, "via": via}
    if user is None:
        hasher.dummy_check(password)
        session.add(audit_event(now, None, "login_failed", detail={**detail, "why": "unknown"}))
        return LoginOutcome()
    who = actor_of(session, user)
    locked_until = aware(user.locked_until, now) if user.locked_until else None
    if locked_until is not None and locked_until > now:
        session.add(audit_event(now, who, "login_failed", detail={**detail, "why": "locked"}))
        return LoginOutcome(locked_seconds=int((locked_until - now).total_seconds()) or 1)
    if not hasher.check(user.password_hash, password):
        _count_failure(session, user, who, now, policy, detail)
        locked = user.locked_until is not None and aware(user.locked_until, now) > now
        return LoginOutcome(locked_seconds=policy.lock_minutes * 60 if locked else 0)
    if not user.active:
        session.add(audit_event(now, who, "login_failed", detail={**detail, "why": "inactive"}))
        return LoginOutcome()
    if user.failed_logins or user.locked_until is not None:
        user.failed_logins, user.locked_until = 0, None
    return LoginOutcome(user=user)


def _count_failure(
    session: Session,
    user: User,
    who: Actor,
    now: datetime,
    policy: LoginPolicy,
    detail: dict[str, Any],
) -> None:
    # One atomic increment, so concurrent wrong guesses on several workers all count.
    count = session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    session.add(audit_event(now, who, "login_failed", detail={**detail, "why": "password"}))
    if count >= policy.max_failures:
        user.failed_logins = 0
        user.locked_until = now + timedelta(minutes=policy.lock_minutes)
        session.add(
            audit_event(
                now,
                who,
                "account_locked",
                detail={**detail, "failures": count, "minutes": policy.lock_minutes},
            )
        )
    else:
        user.failed_logins = count


def actor_of(session: Session, user: User) -> Actor:
    """The Actor view of a user (with its org's activation status)."""
    org = session.get(Org, user.org_id) if user.org_id else None
    return Actor(
        user.id, user.username, user.name, user.role, user.org_id, org.status if org else "active"
    )


def issue_token(
    session: Session, user: User, now: datetime, ttl: timedelta
) -> tuple[str, datetime]:
    """A new bearer token and its expiry; only the token's sha256 is stored."""
    token = secrets.token_urlsafe(32)
    expires = now + ttl
    session.add(
        ApiToken(
            token_hash=token_digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=expires,
        )
    )
    return token, expires


def token_digest(token: str) -> str:
    """How a bearer token or session id is stored: its sha256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new bearer token (shown once), whose it is and when it stops working."""

    token: str
    actor: Actor
    expires_at: datetime


class Accounts:
    """Account verbs for the web layer; each opens its own unit of work."""

    def __init__(
        self,
        uow_factory: Any,
        clock: Any,
        token_ttl: timedelta,
        policy: LoginPolicy | None = None,
        *,
        hasher: PasswordHasher,
    ) -> None:
        self._uow = uow_factory
        self.clock = clock
        self.token_ttl = token_ttl
        self.policy = policy or LoginPolicy()
        self.hasher = hasher

    def checked_user(
        self, uow: Any, username: str, password: str, *, address: str, via: str
    ) -> User | None:
        """The user for valid credentials inside ``uow``; a failure is counted and committed.

        Raises AccountLockedError (after committing) when the account is or becomes locked.
        """
        now = self.clock()
        outcome = check_login(
            uow.session,
            username,
            password,
            now=now,
            policy=self.policy,
            hasher=self.hasher,
            address=address,
            via=via,
        )
        if outcome.user is None:
            uow.commit()
            if outcome.locked_seconds:
                raise AccountLockedError(outcome.locked_seconds)
        return outcome.user

    def login(
        self, username: str, password: str, *, address: str = "", via: str = "internal"
    ) -> Actor | None:
        """The actor for valid credentials, else None; AccountLockedError when locked."""
        with self._uow() as uow:
            user = self.checked_user(uow, username, password, address=address, via=via)
            if user is None:
                return None
            actor = actor_of(uow.session, user)
            uow.commit()
            return actor

    def create_token(
        self, username: str, password: str, *, address: str = ""
    ) -> IssuedToken | None:
        """A bearer token for valid credentials, else None; AccountLockedError when locked."""
        with self._uow() as uow:
            user = self.checked_user(uow, username, password, address=address, via="api")
            if user is None:
                return None
            now = self.clock()
            token, expires = issue_token(uow.session, user, now, self.token_ttl)
            actor = actor_of(uow.session, user)
            uow.session.add(
                audit_event(now, actor, "login", detail={"via": "api", "address": address})
            )
            uow.commit()
            return IssuedToken(token, actor, expires)

    def revoke_token(self, token: str, actor: Actor, *, address: str = "") -> bool:
        """Withdraw a bearer token at once (audited); False when it was not live."""
        now = self.clock()
        with self._uow() as uow:
            done = uow.session.execute(
                update(ApiToken)
                .where(
                    ApiToken.token_hash == token_digest(token),
                    ApiToken.user_id == actor.id,
                    ApiToken.revoked_at.is_(None),
                )
                .values(revoked_at=now),
                execution_options={"synchronize_session": False},
            ).rowcount
            if done:
                uow.session.add(
                    audit_event(now, actor, "token_revoked", detail={"address": address})
                )
            uow.commit()
            return bool(done)

    def actor_for_token(self, token: str) -> Actor | None:
        """The actor a bearer token belongs to, if it is valid (one query: every API call).

        The account is looked up by its key from the token's row (``id = (SELECT …)``):
        joined on the token alone, PostgreSQL's planner may walk every account in key order
        to meet a token newer than its statistics (a merge join, 40 ms at 100,000 accounts).
        """
        with self._uow() as uow:
            row = read_first(uow.session, _token_actor(), {"digest": token_digest(token)})
        if row is None:
            return None
        now = self.clock()
        if aware(row.expires_at, now) < now:
            return None
        return Actor(row.id, row.username, row.name, row.role, row.org_id, row.status or "active")

    def actor_by_id(self, user_id: int) -> Actor | None:
        """The actor of an active user id (web sessions)."""
        with self._uow() as uow:
            user = uow.session.get(User, user_id)
            return actor_of(uow.session, user) if user and user.active else None

    def load_orgs(self, doc: Mapping[str, Any]) -> dict[str, int]:
        """Load an org tree file (see API.md); idempotent."""
        with self._uow() as uow:
            counts = load_orgs(uow.session, doc, self.clock(), self.hasher)
            uow.commit()
            return counts

    def mark_message_read(self, message_id: int | str, actor: Actor) -> dict[str, Any]:
        """Mark one in-app message to the caller (or the caller's org) as read."""
        key = parse_id(message_id)
        with self._uow() as uow:
            row = uow.session.get(Notification, key) if key is not None else None
            if row is None or row.channel != "inapp":
                raise NotFoundError("消息不存在")
            today = self.clock().astimezone(CHINA_TZ).date()
            absent = stands_in_for(uow.session, actor.id, today)
            if not policy.may_read_message(actor, row.user_id, row.org_id, absent):
                raise ForbiddenError("不是您的消息")
            if row.read_at is None:
                row.read_at = self.clock()
            uow.commit()
            return {"id": row.id, "read": True}
