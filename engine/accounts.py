"""Users, passwords, API tokens and the organisation tree."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.audit import audit_event
from engine.errors import AccountLockedError, ForbiddenError, InvalidDataError, NotFoundError
from engine.ids import parse_id
from engine.names import (
    NameRefused,
    canonical_username,
    clean_name,
    clean_username,
    invisible_characters,
)
from engine.passwords import password_problem
from engine.views import Actor
from storage import ApiToken, Notification, Org, User, WebSession

ORG_KINDS = {"platform", "hrss", "office", "dept"}
ROLES = {"admin", "designer", "platform", "hrss", "office", "dept", "unit", "applicant"}
# Roles that are not an org kind; their accounts belong to the platform org.
PLATFORM_STAFF_ROLES = {"admin", "designer"}
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def set_password_cost(n: int) -> None:
    """scrypt work factor for new hashes (a power of two; tests use a small one)."""
    if n < 2 or n & (n - 1):
        raise ValueError("scrypt N must be a power of two")
    _SCRYPT["n"] = n


def hash_password(password: str) -> str:
    """scrypt with a random salt, self-describing."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    """Constant-time comparison against a stored scrypt hash."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest) // 2,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


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


_DUMMY_HASHES: dict[int, str] = {}


def _dummy_hash() -> str:
    # Unknown users cost one scrypt check too, so timing does not reveal which names exist.
    n = _SCRYPT["n"]
    if n not in _DUMMY_HASHES:
        _DUMMY_HASHES[n] = hash_password(secrets.token_hex(8))
    return _DUMMY_HASHES[n]


def check_login(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    policy: LoginPolicy,
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
        check_password(_dummy_hash(), password)
        session.add(audit_event(now, None, "login_failed", detail={**detail, "why": "unknown"}))
        return LoginOutcome()
    who = actor_of(session, user)
    locked_until = aware(user.locked_until, now) if user.locked_until else None
    if locked_until is not None and locked_until > now:
        session.add(audit_event(now, who, "login_failed", detail={**detail, "why": "locked"}))
        return LoginOutcome(locked_seconds=int((locked_until - now).total_seconds()) or 1)
    if not check_password(user.password_hash, password):
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


def _check_tree(orgs: list[Mapping[str, Any]]) -> dict[str, str]:
    problems: dict[str, str] = {}
    ids = [o.get("id") for o in orgs]
    known = set(ids)
    for i, org in enumerate(orgs):
        where = f"orgs[{i}]"
        if not org.get("id") or not isinstance(org.get("id"), str):
            problems[where] = "id is required"
        elif ids.count(org["id"]) > 1:
            problems[where] = f"duplicate id {org['id']!r}"
        if org.get("kind") not in ORG_KINDS:
            problems[f"{where}.kind"] = f"kind must be one of {sorted(ORG_KINDS)}"
        if not org.get("name"):
            problems[f"{where}.name"] = "name is required"
        parent = org.get("parent")
        if parent is not None and parent not in known:
            problems[f"{where}.parent"] = f"unknown parent {parent!r}"
    parents = {o.get("id"): o.get("parent") for o in orgs}
    for start in parents:
        seen, node = set(), start
        while node is not None and node not in seen:
            seen.add(node)
            node = parents.get(node)
        if node is not None:
            problems[f"orgs.{start}"] = "the parent links form a cycle"
            break
    return problems


def _check_users(users: list[Mapping[str, Any]], org_kinds: Mapping[str, str]) -> dict[str, str]:
    problems: dict[str, str] = {}
    for i, user in enumerate(users):
        where = f"users[{i}]"
        if not user.get("username") or not user.get("password"):
            problems[where] = "username and password are required"
        org_kind = org_kinds.get(user.get("org", ""))
        if org_kind is None:
            problems[f"{where}.org"] = f"unknown org {user.get('org')!r}"
        elif user.get("role") in PLATFORM_STAFF_ROLES:
            if org_kind != "platform":
                problems[f"{where}.role"] = f"role {user['role']} belongs to a platform org"
        elif user.get("role") != org_kind:
            problems[f"{where}.role"] = (
                f"role must equal the org's kind ({org_kind}), or be admin or designer"
            )
    return problems


def _clean_doc(
    orgs: list[Mapping[str, Any]], users: list[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """Copies with names and usernames in canonical form, and what the policies refuse."""
    problems: dict[str, str] = {}

    def cleaned(value: Any, where: str, clean: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            return value
        try:
            return clean(value)
        except NameRefused as exc:
            problems[where] = exc.message
            return value

    out_orgs = [
        {**org, "name": cleaned(org.get("name"), f"orgs[{i}].name", clean_name)}
        for i, org in enumerate(orgs)
    ]
    out_users: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, user in enumerate(users):
        where = f"users[{i}]"
        username = cleaned(user.get("username"), f"{where}.username", clean_username)
        if isinstance(username, str) and username in seen:
            problems[f"{where}.username"] = f"用户名重复：{username}"
        seen.add(username if isinstance(username, str) else "")
        name = cleaned(user.get("name"), f"{where}.name", lambda v: clean_name(v, max_len=100))
        for key in ("username", "password", "name"):
            if user.get(key) is not None and not isinstance(user[key], str):
                problems[f"{where}.{key}"] = "应为文字"
        if isinstance(user.get("password"), str) and isinstance(username, str):
            problem = password_problem(user["password"], username)
            if problem:
                problems[f"{where}.password"] = problem
        out_users.append({**user, "username": username, "name": name})
    return out_orgs, out_users, problems


def _parents_first(orgs: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    parents = {o["id"]: o.get("parent") for o in orgs}

    def depth(org_id: str | None) -> int:
        n = 0
        while org_id is not None and org_id in parents:
            org_id, n = parents[org_id], n + 1
        return n

    return sorted(orgs, key=lambda o: depth(o["id"]))


def load_orgs(session: Session, doc: Mapping[str, Any], now: datetime) -> dict[str, int]:
    """Create or update the org tree and allocated accounts; idempotent."""
    orgs, users, problems = _clean_doc(list(doc.get("orgs") or []), list(doc.get("users") or []))
    kinds = {o.get("id"): o.get("kind") for o in orgs}
    for org in session.scalars(select(Org)):
        kinds.setdefault(org.id, org.kind)
    problems = problems or _check_tree(orgs) or _check_users(users, kinds)
    if problems:
        raise InvalidDataError("组织机构文件有误", fields=problems)
    counts = {"orgs_created": 0, "orgs_updated": 0, "users_created": 0, "users_updated": 0}
    for org in _parents_first(orgs):
        row = session.get(Org, org["id"])
        if row is None:
            session.add(
                Org(
                    id=org["id"],
                    name=org["name"],
                    kind=org["kind"],
                    parent_id=org.get("parent"),
                    status="active",
                    charge=True,
                    created_at=now,
                )
            )
            counts["orgs_created"] += 1
        elif (row.name, row.kind, row.parent_id) != (org["name"], org["kind"], org.get("parent")):
            row.name, row.kind, row.parent_id = org["name"], org["kind"], org.get("parent")
            counts["orgs_updated"] += 1
    session.flush()
    for user in users:
        row = find_user(session, user["username"])
        fields = {
            "role": user["role"],
            "org_id": user["org"],
            "name": user.get("name") or user["username"],
            "phone": user.get("phone"),
        }
        if row is None:
            session.add(
                User(
                    username=user["username"],
                    password_hash=hash_password(user["password"]),
                    active=True,
                    created_at=now,
                    **fields,
                )
            )
            counts["users_created"] += 1
        elif any(getattr(row, k) != v for k, v in fields.items()) or not check_password(
            row.password_hash, user["password"]
        ):
            for k, v in fields.items():
                setattr(row, k, v)
            if not check_password(row.password_hash, user["password"]):
                row.password_hash = hash_password(user["password"])
                # A new password ends every sign-in made with the old one.
                end_all_sign_ins(session, row.id, now, "password_changed")
            counts["users_updated"] += 1
    return counts


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
    ) -> None:
        self._uow = uow_factory
        self.clock = clock
        self.token_ttl = token_ttl
        self.policy = policy or LoginPolicy()

    def checked_user(
        self, uow: Any, username: str, password: str, *, address: str, via: str
    ) -> User | None:
        """The user for valid credentials inside ``uow``; a failure is counted and committed.

        Raises AccountLockedError (after committing) when the account is or becomes locked.
        """
        now = self.clock()
        outcome = check_login(
            uow.session, username, password, now=now, policy=self.policy, address=address, via=via
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
        """The actor a bearer token belongs to, if it is valid (one query: every API call)."""
        query = (
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
                ApiToken.token_hash == token_digest(token),
                ApiToken.revoked_at.is_(None),
                User.active.is_(True),
            )
        )
        with self._uow() as uow:
            row = uow.session.execute(query).first()
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
            counts = load_orgs(uow.session, doc, self.clock())
            uow.commit()
            return counts

    def mark_message_read(self, message_id: int | str, actor: Actor) -> dict[str, Any]:
        """Mark one in-app message to the caller (or the caller's org) as read."""
        key = parse_id(message_id)
        with self._uow() as uow:
            row = uow.session.get(Notification, key) if key is not None else None
            if row is None or row.channel != "inapp":
                raise NotFoundError("消息不存在")
            org_message = row.user_id is None and row.org_id and row.org_id == actor.org_id
            if row.user_id != actor.id and not (org_message and actor.role != "applicant"):
                raise ForbiddenError("不是您的消息")
            if row.read_at is None:
                row.read_at = self.clock()
            uow.commit()
            return {"id": row.id, "read": True}
