"""Units, applicants, dossiers and fee settings: everything before an application."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import forms
from engine.accounts import find_user, hash_password
from engine.audit import audit_event
from engine.clock import CHINA_TZ
from engine.documents import entrustment_template_pdf
from engine.errors import ConflictError, ForbiddenError, InvalidDataError, NotFoundError
from engine.fees import affected_by_switch
from engine.files import FileStore, check_file_refs
from engine.identity import credit_code_problem, id_number_problem, phone_problem
from engine.names import NameRefused, clean_name, clean_username
from engine.passwords import password_problem
from engine.service import WorkflowEngine
from engine.views import Actor
from storage import Dossier, Org, ProcessInstance, User

REVIEW_KINDS = {"dept", "hrss", "office"}


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


class Onboarding:
    """Registration, entrustment, dossier and fee-setting verbs (one transaction each)."""

    def __init__(self, engine: WorkflowEngine, files: FileStore) -> None:
        self.engine = engine
        self.files = files
        self._uow = engine._uow
        self.clock = engine.clock

    # ----- units --------------------------------------------------------------------
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
            if dept is None or dept.kind not in REVIEW_KINDS:
                fields["dept_org_id"] = "未知的主管部门"
            if fields:
                raise InvalidDataError("注册信息有误", fields=fields)
            org_id = f"unit-{code.lower()}"
            if session.get(Org, org_id) is not None:
                raise ConflictError("该统一社会信用代码已注册", code="unit_exists")
            now = self.clock()
            session.add(
                Org(
                    id=org_id,
                    name=name,
                    kind="unit",
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
                    password_hash=hash_password(password),
                    role="unit",
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
        if org is None or org.kind != "unit":
            raise NotFoundError("单位不存在")
        if actor.org_id != unit_id and not actor.is_admin:
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
                    ProcessInstance.status.in_(("running", "waiting", "error", "suspended")),
                )
            ).first()
            if running is not None:
                raise ConflictError("委托证明正在审核中", code="under_review")
            row = self.files.save(session, data, filename, actor, self.clock())
            session.flush()
            inst_id = self.engine.start(
                "unit_registration",
                actor=actor,
                session=session,
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

    # ----- applicants -----------------------------------------------------------------
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
            if unit is None or unit.kind != "unit":
                fields["unit_id"] = "未知的用人单位"
            elif unit.status != "active":
                fields["unit_id"] = "该单位尚未通过委托证明审核，暂不能注册"
            if fields:
                raise InvalidDataError("注册信息有误", fields=fields)
            if session.scalars(select(User.id).where(User.id_number == id_number)).first():
                raise ConflictError("该身份证号已注册", code="applicant_exists")
            user = User(
                username=username,
                password_hash=hash_password(password),
                role="applicant",
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

    # ----- dossier --------------------------------------------------------------------
    def dossier_schema(self) -> dict[str, Any]:
        """The dossier's JSON Schema (owned by designers, bpmn/forms/dossier.schema.json)."""
        path = Path(self.engine.bpmn_dir) / "forms" / "dossier.schema.json"
        return json.loads(path.read_text(encoding="utf-8"))

    def _dossier(self, session: Session, actor: Actor) -> Dossier:
        if actor.role != "applicant":
            raise ForbiddenError("只有申报人有业绩档案")
        row = session.scalars(select(Dossier).where(Dossier.user_id == actor.id)).first()
        if row is None:
            row = Dossier(user_id=actor.id, status="draft", data={}, updated_at=self.clock())
            session.add(row)
            session.flush()
        return row

    def get_dossier(self, actor: Actor) -> dict[str, Any]:
        """The caller's dossier with its status and form."""
        with self._uow() as uow:
            row = self._dossier(uow.session, actor)
            out = {
                "status": row.status,
                "data": row.data or {},
                "form": self.dossier_schema(),
                "updated_at": row.updated_at.isoformat() if row.updated_at else None,
                "can_edit": row.status != "submitted",
                "can_submit": row.status in ("draft", "returned"),
            }
            uow.commit()
            return out

    def put_dossier(self, data: Any, actor: Actor) -> dict[str, Any]:
        """Replace the dossier's data; an approved dossier needs review again."""
        schema = self.dossier_schema()
        forms.check(schema, data)
        with self._uow() as uow:
            row = self._dossier(uow.session, actor)
            if row.status == "submitted":
                raise ConflictError("业绩档案审核中，暂不能修改", code="dossier_under_review")
            check_file_refs(uow.session, schema, data, actor)
            row.data = dict(data)
            row.status = "draft"
            row.updated_at = self.clock()
            uow.commit()
            return {"status": row.status, "data": row.data}

    def submit_dossier(self, actor: Actor) -> dict[str, Any]:
        """Send the dossier to the unit for review (starts dossier_review)."""
        schema = self.dossier_schema()
        with self._uow() as uow:
            session = uow.session
            row = self._dossier(session, actor)
            if row.status == "submitted":
                raise ConflictError("业绩档案已在审核中", code="dossier_under_review")
            if row.status == "approved":
                raise ConflictError("业绩档案已审核通过", code="dossier_approved")
            forms.check(schema, row.data or {})
            unit = session.get(Org, actor.org_id)
            if unit is None or unit.status != "active":
                raise ConflictError("所在单位尚未激活，暂不能提交", code="unit_not_active")
            user = session.get(User, actor.id)
            inst_id = self.engine.start(
                "dossier_review",
                actor=actor,
                session=session,
                business_key=f"dossier-{row.id}",
                data={
                    "applicant_user_id": actor.id,
                    "applicant_name": user.name,
                    "unit_org_id": unit.id,
                    "dossier_id": row.id,
                    "dossier": row.data,
                },
            )
            row.status = "submitted"
            row.instance_id = inst_id
            row.updated_at = self.clock()
            uow.commit()
            return {"status": "submitted", "instance_id": str(inst_id)}

    # ----- fee setting ----------------------------------------------------------------
    def _fee_org(self, session: Session, org_id: str, actor: Actor, *, write: bool) -> Org:
        org = session.get(Org, org_id)
        if org is None or org.kind not in REVIEW_KINDS:
            raise NotFoundError("部门不存在")
        own = actor.org_id == org_id and actor.role in REVIEW_KINDS
        if not (own or actor.is_admin or (not write and actor.role == "platform")):
            raise ForbiddenError("只能设置本部门的收费")
        return org

    def get_fee(self, org_id: str, actor: Actor) -> dict[str, Any]:
        """A department's fee switch (default: charge) and the applications in flight whose
        fee would change if it were switched (``affected``)."""
        with self._uow() as uow:
            session = uow.session
            org = self._fee_org(session, org_id, actor, write=False)
            affected = affected_by_switch(
                session, self.engine.committees(), org.id, not bool(org.charge)
            )
            return {"org_id": org.id, "charge": bool(org.charge), "affected": affected}

    def set_fee(self, org_id: str, charge: Any, actor: Actor) -> dict[str, Any]:
        """Switch a department's fee on or off (收费 / 不收费)."""
        if not isinstance(charge, bool):
            raise InvalidDataError(
                "charge 必须是 true 或 false", fields={"charge": "应为 true 或 false"}
            )
        with self._uow() as uow:
            session = uow.session
            org = self._fee_org(session, org_id, actor, write=True)
            affected = affected_by_switch(session, self.engine.committees(), org.id, charge)
            before = org.charge
            org.charge = charge
            session.add(
                audit_event(
                    self.clock(),
                    actor,
                    "fee_setting",
                    org_id=org.id,
                    detail={
                        "before": before,
                        "after": charge,
                        "affected": [a["id"] for a in affected],
                    },
                )
            )
            uow.commit()
            return {"org_id": org.id, "charge": charge, "affected": affected}
