"""The organisation file: the org tree and allocated accounts, checked and loaded idempotently."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import roles
from engine.errors import InvalidDataError
from engine.identity import credit_code_problem, id_number_problem
from engine.names import NameRefused, clean_name, clean_username
from engine.passwords import PasswordHasher, password_problem
from engine.users import end_all_sign_ins, find_user
from storage import ExpertProfile, Org, User


def _check_tree(orgs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    problems: dict[str, str] = {}
    ids = [o.get("id") for o in orgs]
    known = set(ids)
    for i, org in enumerate(orgs):
        where = f"orgs[{i}]"
        if not org.get("id") or not isinstance(org.get("id"), str):
            problems[where] = "id is required"
        elif ids.count(org["id"]) > 1:
            problems[where] = f"duplicate id {org['id']!r}"
        if org.get("kind") not in roles.TREE_ORG_KINDS:
            problems[f"{where}.kind"] = f"kind must be one of {sorted(roles.TREE_ORG_KINDS)}"
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


def _check_users(
    users: Sequence[Mapping[str, Any]], org_kinds: Mapping[Any, Any]
) -> dict[str, str]:
    problems: dict[str, str] = {}
    for i, user in enumerate(users):
        where = f"users[{i}]"
        if not user.get("username") or not user.get("password"):
            problems[where] = "username and password are required"
        org_kind = org_kinds.get(user.get("org", ""))
        if org_kind is None:
            problems[f"{where}.org"] = f"unknown org {user.get('org')!r}"
        elif (role := roles.ROLES.get(user.get("role") or "")) is None:
            problems[f"{where}.role"] = f"role must be one of {sorted(roles.ROLES)}"
        elif role.org_kind != org_kind:
            problems[f"{where}.role"] = (
                f"role {user['role']} belongs to an org of kind {role.org_kind}, not {org_kind}"
            )
    return problems


EXPERT_KEYS = ("specialty", "unit_credit_code", "relations")


def _check_experts(users: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """An expert's specialty, employer's credit code and declared relations (ID numbers)."""
    problems: dict[str, str] = {}
    for i, user in enumerate(users):
        where = f"users[{i}]"
        if user.get("role") != roles.EXPERT:
            for key in EXPERT_KEYS:
                if user.get(key) is not None:
                    problems[f"{where}.{key}"] = "只有评审专家（role expert）可以填写"
            continue
        specialty = user.get("specialty")
        if specialty is not None and (not isinstance(specialty, str) or len(specialty) > 100):
            problems[f"{where}.specialty"] = "应为不超过 100 字的专业名称"
        code = user.get("unit_credit_code")
        if code is not None and (not isinstance(code, str) or credit_code_problem(code)):
            problems[f"{where}.unit_credit_code"] = "统一社会信用代码无效"
        relations = user.get("relations")
        if relations is not None and (
            not isinstance(relations, list)
            or len(relations) > 200
            or not all(isinstance(r, str) and not id_number_problem(r) for r in relations)
        ):
            problems[f"{where}.relations"] = "应为申报人身份证号码的列表"
    return problems


def _load_expert_profiles(session: Session, users: Sequence[Mapping[str, Any]]) -> None:
    for user in users:
        if user.get("role") != roles.EXPERT:
            continue
        row = find_user(session, user["username"])
        if row is None:
            continue
        values = {
            "office_org_id": user["org"],
            "specialty": user.get("specialty"),
            "unit_credit_code": (user.get("unit_credit_code") or "").upper() or None,
            "relations": sorted({r.upper() for r in user.get("relations") or []}),
        }
        profile = session.get(ExpertProfile, row.id)
        if profile is None:
            session.add(ExpertProfile(user_id=row.id, **values))
        else:
            for key, value in values.items():
                setattr(profile, key, value)


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


def _parents_first(orgs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    parents = {o["id"]: o.get("parent") for o in orgs}

    def depth(org_id: str | None) -> int:
        n = 0
        while org_id is not None and org_id in parents:
            org_id, n = parents[org_id], n + 1
        return n

    return sorted(orgs, key=lambda o: depth(o["id"]))


def load_orgs(
    session: Session, doc: Mapping[str, Any], now: datetime, hasher: PasswordHasher
) -> dict[str, int]:
    """Create or update the org tree and allocated accounts; idempotent."""
    orgs, users, problems = _clean_doc(list(doc.get("orgs") or []), list(doc.get("users") or []))
    kinds = {o.get("id"): o.get("kind") for o in orgs}
    for known in session.scalars(select(Org)):
        kinds.setdefault(known.id, known.kind)
    problems = problems or _check_tree(orgs) or _check_users(users, kinds) or _check_experts(users)
    if problems:
        raise InvalidDataError("组织机构文件有误", fields=problems)
    counts = {"orgs_created": 0, "orgs_updated": 0, "users_created": 0, "users_updated": 0}
    for org in _parents_first(orgs):
        org_row = session.get(Org, org["id"])
        if org_row is None:
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
        elif (org_row.name, org_row.kind, org_row.parent_id) != (
            org["name"],
            org["kind"],
            org.get("parent"),
        ):
            org_row.name, org_row.kind = org["name"], org["kind"]
            org_row.parent_id = org.get("parent")
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
                    password_hash=hasher.hash(user["password"]),
                    active=True,
                    created_at=now,
                    **fields,
                )
            )
            counts["users_created"] += 1
        elif any(getattr(row, k) != v for k, v in fields.items()) or not hasher.check(
            row.password_hash, user["password"]
        ):
            for k, v in fields.items():
                setattr(row, k, v)
            if not hasher.check(row.password_hash, user["password"]):
                row.password_hash = hasher.hash(user["password"])
                # A new password ends every sign-in made with the old one.
                end_all_sign_ins(session, row.id, now, "password_changed")
            counts["users_updated"] += 1
    session.flush()
    _load_expert_profiles(session, users)
    return counts
