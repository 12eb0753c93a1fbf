"""Users, passwords, API tokens and the organisation tree."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ForbiddenError, InvalidDataError, NotFoundError
from engine.ids import parse_id
from engine.views import Actor
from storage import ApiToken, Notification, Org, User

ORG_KINDS = {"platform", "hrss", "office", "dept"}
ROLES = {"admin", "platform", "hrss", "office", "dept", "unit", "applicant"}
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


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    user = session.scalars(select(User).where(User.username == username)).first()
    # Hash even for unknown users so response time does not reveal which names exist.
    ok = check_password(user.password_hash if user else hash_password("x"), password)
    return user if ok and user is not None and user.active else None


def actor_of(session: Session, user: User) -> Actor:
    """The Actor view of a user (with its org's activation status)."""
    org = session.get(Org, user.org_id) if user.org_id else None
    return Actor(
        user.id, user.username, user.name, user.role, user.org_id, org.status if org else "active"
    )


def issue_token(session: Session, user: User, now: datetime, ttl: timedelta) -> str:
    """A new bearer token; only its sha256 is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            user_id=user.id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


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
        elif user.get("role") not in (org_kind, "admin") or (
            user.get("role") == "admin" and org_kind != "platform"
        ):
            problems[f"{where}.role"] = f"role must equal the org's kind ({org_kind}) or admin"
    return problems


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
    orgs = list(doc.get("orgs") or [])
    users = list(doc.get("users") or [])
    kinds = {o.get("id"): o.get("kind") for o in orgs}
    for org in session.scalars(select(Org)):
        kinds.setdefault(org.id, org.kind)
    problems = _check_tree(orgs) or _check_users(users, kinds)
    if problems:
        raise InvalidDataError("组织机构文件有误 (invalid org file)", fields=problems)
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
        row = session.scalars(select(User).where(User.username == user["username"])).first()
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
            counts["users_updated"] += 1
    return counts


class Accounts:
    """Account verbs for the web layer; each opens its own unit of work."""

    def __init__(self, uow_factory: Any, clock: Any, token_ttl: timedelta) -> None:
        self._uow = uow_factory
        self.clock = clock
        self.token_ttl = token_ttl

    def login(self, username: str, password: str) -> Actor | None:
        """The actor for valid credentials, else None."""
        with self._uow() as uow:
            user = authenticate(uow.session, username, password)
            return actor_of(uow.session, user) if user else None

    def create_token(self, username: str, password: str) -> tuple[str, Actor] | None:
        """A bearer token for valid credentials, else None."""
        with self._uow() as uow:
            user = authenticate(uow.session, username, password)
            if user is None:
                return None
            token = issue_token(uow.session, user, self.clock(), self.token_ttl)
            actor = actor_of(uow.session, user)
            uow.commit()
            return token, actor

    def actor_for_token(self, token: str) -> Actor | None:
        """The actor a bearer token belongs to, if it is valid (one query: every API call)."""
        digest = hashlib.sha256(token.encode()).hexdigest()
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
            .where(ApiToken.token_hash == digest, User.active.is_(True))
        )
        with self._uow() as uow:
            row = uow.session.execute(query).first()
        if row is None:
            return None
        now = self.clock()
        expires = (
            row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=now.tzinfo)
        )
        if expires < now:
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
                raise NotFoundError("消息不存在 (unknown message)")
            org_message = row.user_id is None and row.org_id and row.org_id == actor.org_id
            if row.user_id != actor.id and not (org_message and actor.role != "applicant"):
                raise ForbiddenError("不是您的消息 (not your message)")
            if row.read_at is None:
                row.read_at = self.clock()
            uow.commit()
            return {"id": row.id, "read": True}
