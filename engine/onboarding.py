"""Registration: units (register, entrustment) and applicants (register under a unit).

Dossiers (engine/dossiers.py) and fee settings (engine/fee_settings.py) are their own services.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import policy, roles, statuses
from engine.clock import CHINA_TZ, Clock
from engine.errors import ConflictError, ForbiddenError, InvalidDataError, NotFoundError
from engine.files import FileStore
from engine.identity import credit_code_problem, id_number_problem, phone_problem
from engine.names import NameRefused, clean_name, clean_username
from engine.passwords import PasswordHasher, password_problem
from engine.process_runtime import ProcessRuntime
from engine.users import find_user
from engine.views import Actor
from storage import Dossier, Org, ProcessInstance, UnitOfWorkFactory, User


def _text(body: Mapping[str, Any], name: str, fields: dict[str, str], max_len: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        fields[name] = "必填"
        return ""
    if len(value) > max_len:
        fields[name] = f"不能超过 {max_len} 个字符"
    return value.strip()


def _name(body: Mapping[str, Any], name: str, fields: dict[str, str], max_len: int = 200) -> str:
    """A person's or organisation's name in canonical form (trimmed, NFKC, nothing invisible)."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        fields[name] = "必填"
        return ""
    try:
        return clean_name(value, max_len=max_len)
    except NameRefused as exc:
        fields[name] = exc.message
        return ""


def _account_fields(
    session: Session, body: Mapping[str, Any], fields: dict[str, str]
) -> tuple[str, str, str]:
    """The new account's canonical username, its password and phone; 409 if the name is taken."""
    raw = body.get("username")
    username = ""
    if not isinstance(raw, str) or not raw.strip():
        fields["username"] = "必填"
    else:
        try:
            username = clean_username(raw)
        except NameRefused as exc:
            fields["username"] = exc.message
    password = body.get("password")
    problem = password_problem(password, username)
    if problem:
        fields["password"] = problem
    phone = _text(body, "phone", fields, 32)
    if phone and phone_problem(phone):
        fields["phone"] = phone_problem(phone) or ""
    # Canonical forms compared: a padded, full-width or re-cased name is the same account.
    if username and find_user(session, username) is not None:
        raise ConflictError("用户名已被使用", code="username_taken")
    return username, password if isinstance(password, str) else "", phone


class Units:
    """A unit registers, prints its entrustment certificate and uploads it stamped."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        runtime: ProcessRuntime,
        files: FileStore,
        *,
        clock: Clock,
        hasher: PasswordHasher,
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.files = files
        self.clock = clock
        self.hasher = hasher

    def register_unit(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A unit registers itself; it stays pending until its entrustment is approved."""
        fields: dict[str, str] = {}
        name = _name(body, "name", fields)
        code = _text(body, "credit_code", fields, 18).upper()
        contact = _name(body, "contact", fields, 100)
        if code and credit_code_problem(code):
            fields["credit_code"] = credit_code_problem(code) or ""
        with self._uow() as uow:
            session = uow.session
            username, password, phone = _account_fields(session, body, fields)
            dept = session.get(Org, str(body.get("dept_org_id") or ""))
            if dept is None or dept.kind not in roles.REVIEW_ORG_KINDS:
                fields["dept_org_id"] = "未知的主管部门"
            if fields or dept is None:
                raise InvalidDataError("注册信息有误", fields=fields)
            org_id = f"unit-{code.lower()}"
            if session.get(Org, org_id) is not None:
                raise ConflictError("该统一社会信用代码已注册", code="unit_exists")
            now = self.clock()
            session.add(
                Org(
                    id=org_id,
                    name=name,
                    kind=roles.UNIT,
                    parent_id=dept.id,
                    status="pending_entrustment",
                    charge=False,
                    credit_code=code,
                    contact=contact,
                    phone=phone,
                    created_at=now,
                )
            )
            session.flush()
            session.add(
                User(
                    username=username,
                    password_hash=self.hasher.hash(password),
                    role=roles.UNIT,
                    org_id=org_id,
                    name=contact,
                    phone=phone,
                    active=True,
                    created_at=now,
                )
            )
            uow.commit()
        return {"unit_id": org_id, "org_id": org_id, "status": "pending_entrustment"}

    def _own_unit(self, session: Session, unit_id: str, actor: Actor) -> Org:
        org = session.get(Org, unit_id)
        if org is None or org.kind != roles.UNIT:
            raise NotFoundError("单位不存在")
        if not policy.may_manage_unit(actor, unit_id):
            raise ForbiddenError("只能处理本单位的事项")
        return org

    def entrustment_template(self, unit_id: str, actor: Actor) -> bytes:
        """The entrustment certificate the unit prints, stamps and uploads."""
        with self._uow() as uow:
            org = self._own_unit(uow.session, unit_id, actor)
            parent = uow.session.get(Org, org.parent_id) if org.parent_id else None
            unit = {
                "name": org.name,
                "credit_code": org.credit_code or "",
                "contact": org.contact or "",
                "phone": org.phone or "",
                "dept_name": parent.name if parent else "",
            }
        from engine.documents import entrustment_template_pdf  # reportlab: loaded when first drawn

        return entrustment_template_pdf(unit, today=self.clock().astimezone(CHINA_TZ).date())

    def upload_entrustment(
        self, unit_id: str, data: bytes, filename: str, actor: Actor
    ) -> dict[str, Any]:
        """Store the stamped certificate and start the platform's review."""
        with self._uow() as uow:
            session = uow.session
            org = self._own_unit(session, unit_id, actor)
            if org.status == "active":
                raise ConflictError("单位已激活，无需再次上传", code="unit_active")
            running = session.scalars(
                select(ProcessInstance.id).where(
                    ProcessInstance.process_id == "unit_registration",
                    ProcessInstance.business_key == unit_id,
                    statuses.live_instances(),
                )
            ).first()
            if running is not None:
                raise ConflictError("委托证明正在审核中", code="under_review")
            row = self.files.save(session, data, filename, actor, self.clock())
            session.flush()
            inst_id = self.runtime.start(
                session,
                "unit_registration",
                actor=actor,
                business_key=unit_id,
                data={
                    "unit_org_id": unit_id,
                    "unit_name": org.name,
                    "platform_org": "platform",
                    "entrustment_file_id": row.id,
                },
            )
            org.status = "entrustment_review"
            uow.commit()
        return {
            "unit_id": unit_id,
            "status": "entrustment_review",
            "file_id": row.id,
            "instance_id": str(inst_id),
        }


class Applicants:
    """An applicant registers under an active unit (one transaction)."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, *, clock: Clock, hasher: PasswordHasher
    ) -> None:
        self._uow = uow_factory
        self.clock = clock
        self.hasher = hasher

    def register_applicant(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """An applicant registers under a unit with a checked resident ID number."""
        fields: dict[str, str] = {}
        name = _name(body, "name", fields, 100)
        id_number = _text(body, "id_number", fields, 18).upper()
        if id_number and id_number_problem(id_number, today=self.clock().date()):
            fields["id_number"] = id_number_problem(id_number, today=self.clock().date()) or ""
        with self._uow() as uow:
            session = uow.session
            username, password, phone = _account_fields(session, body, fields)
            unit = session.get(Org, str(body.get("unit_id") or ""))
            if unit is None or unit.kind != roles.UNIT:
                fields["unit_id"] = "未知的用人单位"
            elif unit.status != "active":
                fields["unit_id"] = "该单位尚未通过委托证明审核，暂不能注册"
            if fields or unit is None:
                raise InvalidDataError("注册信息有误", fields=fields)
            if session.scalars(select(User.id).where(User.id_number == id_number)).first():
                raise ConflictError("该身份证号已注册", code="applicant_exists")
            user = User(
                username=username,
                password_hash=self.hasher.hash(password),
                role=roles.APPLICANT,
                org_id=unit.id,
                name=name,
                phone=phone,
                id_number=id_number,
                active=True,
                created_at=self.clock(),
            )
            session.add(user)
            session.flush()
            session.add(Dossier(user_id=user.id, status="draft", data={}, updated_at=self.clock()))
            uow.commit()
            return {"applicant_id": str(user.id)}
