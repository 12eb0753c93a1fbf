"""Title applications: filing (behind the dossier gate), visibility, detail and timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from engine import eligibility, forms
from engine.audit import audit_event
from engine.clock import CHINA_TZ
from engine.committees import Committee
from engine.errors import ConflictError, ForbiddenError, InvalidDataError, NotFoundError
from engine.ids import parse_id
from engine.notices import phone_of, queue_notice
from engine.policy import may_act
from engine.queries import last_return_marks, summary_of
from engine.service import WorkflowEngine
from engine.views import Actor, iso
from storage import (
    Application,
    AuditEvent,
    Dossier,
    HumanTask,
    Notification,
    Org,
    ProcessInstance,
    Timer,
    User,
)

OPEN_STATUSES = (
    "draft",
    "unit_review",
    "publicity",
    "in_review",
    "returned",
    "awaiting_payment",
    "awaiting_paper",
)
# Every status an application can have (API.md), for validating list filters.
APPLICATION_STATUSES = (
    *OPEN_STATUSES,
    "rejected",
    "completed",
    "terminated",
    "withdrawn",
    "result_publicity",
    "certified",
    "not_passed",
)
REVIEWER_ROLES = {"dept", "hrss", "office"}
EXPORTABLE = ("awaiting_paper", "completed")
PAPER_COPIES = 3  # 纸质材料一式三份


def _chain_has(org_id: str | None) -> Any:
    escaped = (org_id or "").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(Application.chain, String).like(f'%"{escaped}"%', escape="\\")


def _visible(query: Any, actor: Actor) -> Any:
    if actor.role == "applicant":
        return query.where(Application.applicant_id == actor.id)
    if actor.role == "unit":
        return query.where(Application.unit_org_id == actor.org_id)
    if actor.role in REVIEWER_ROLES:
        return query.where(_chain_has(actor.org_id))
    if actor.role in ("admin", "platform"):
        return query
    return query.where(Application.id.is_(None))


def can_see(actor: Actor, app: Application) -> bool:
    """Whether an application is routed to (or owned by) the actor."""
    if actor.role in ("admin", "platform"):
        return True
    if actor.role == "applicant":
        return app.applicant_id == actor.id
    if actor.role == "unit":
        return app.unit_org_id == actor.org_id
    return actor.role in REVIEWER_ROLES and actor.org_id in (app.chain or [])


def visible_application(session: Session, application_id: int | str, actor: Actor) -> Application:
    """The application with this id if the actor may see it (404 unknown, 403 not yours)."""
    key = parse_id(application_id)
    app = session.get(Application, key) if key is not None else None
    if app is None:
        raise NotFoundError("申报不存在")
    if not can_see(actor, app):
        raise ForbiddenError("无权查看该申报")
    return app


def _ancestors(session: Session, org_id: str | None) -> list[str]:
    """The org ids above an org, nearest first."""
    out: list[str] = []
    org = session.get(Org, org_id) if org_id else None
    while org is not None and org.parent_id is not None and org.parent_id not in out:
        out.append(org.parent_id)
        org = session.get(Org, org.parent_id)
    return out


def committee_summary(committee: Committee) -> dict[str, Any]:
    """Who reviews an application and where its paper goes."""
    return {
        "id": committee.id,
        "name": committee.name,
        "office_org_id": committee.office_org_id,
        "address": committee.address,
        "phone": committee.phone,
        "contacts": [dict(c) for c in committee.contacts],
    }


def payment_state(
    data: Mapping[str, Any], status: str, tasks: Sequence[HumanTask]
) -> dict[str, Any] | None:
    """The fee decided when the review completed, and where its payment stands (None before)."""
    fee = data.get("fee")
    if not isinstance(fee, Mapping) or "payment_due" not in data:
        return None
    names = {t.name for t in tasks}
    if not data.get("payment_due"):
        state = "not_required"
    elif "confirm_payment" in names:
        state = "refused" if data.get("payment_refuse_reason") else "awaiting_reference"
    elif "verify_payment" in names:
        state = "awaiting_confirmation"
    elif status in ("awaiting_paper", "completed"):
        state = "confirmed"
    else:
        state = "closed"
    return {
        "due": bool(data.get("payment_due")),
        "state": state,
        "item": fee.get("item"),
        "amount": fee.get("amount"),
        "currency": fee.get("currency", "CNY"),
        "payee": dict(fee.get("payee") or {}),
        "method": fee.get("method"),
        "instructions": list(fee.get("instructions") or []),
        "remark": fee.get("remark"),
        "reference": data.get("payment_reference"),
        "paid_on": data.get("paid_on"),
        "refuse_reason": data.get("payment_refuse_reason"),
    }


def paper_state(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the office last recorded of the paper copies (None before any record)."""
    copies = data.get("copies")
    if not isinstance(copies, int) or isinstance(copies, bool):
        return None
    return {
        "copies": copies,
        "required": PAPER_COPIES,
        "missing": data.get("missing") if copies < PAPER_COPIES else None,
        "received_on": data.get("received_on"),
    }


class Applications:
    """Filing and reading title applications."""

    def __init__(self, engine: WorkflowEngine) -> None:
        self.engine = engine
        self._uow = engine._uow
        self.clock = engine.clock

    def create(self, body: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        """File an application; its first task is the applicant's submit_application."""
        if actor.role != "applicant":
            raise ForbiddenError("只有申报人可以申报")
        fields = {
            k: "必填"
            for k in ("series", "level", "specialty")
            if not isinstance(body.get(k), str) or not body[k].strip()
        }
        for k, most in (("series", 64), ("level", 32), ("specialty", 100)):
            if k not in fields and len(body[k].strip()) > most:
                fields[k] = f"不能超过 {most} 个字符"
        if fields:
            raise InvalidDataError("申报信息不完整", fields=fields)
        series, level, specialty = (body[k].strip() for k in ("series", "level", "specialty"))
        committee = self.engine.committees().check(series, level, specialty)
        with self._uow() as uow:
            session = uow.session
            dossier = session.scalars(select(Dossier).where(Dossier.user_id == actor.id)).first()
            if dossier is None or dossier.status != "approved":
                raise ConflictError(
                    "业绩档案未审核通过，不能申报",
                    code="dossier_not_approved",
                )
            open_app = session.scalars(
                select(Application.id).where(
                    Application.applicant_id == actor.id, Application.status.in_(OPEN_STATUSES)
                )
            ).first()
            if open_app is not None:
                raise ConflictError(
                    f"已有进行中的申报（编号 {open_app}）",
                    code="application_open",
                )
            user = session.get(User, actor.id)
            if committee.office_org_id not in _ancestors(session, user.org_id):
                raise InvalidDataError(
                    "所在单位不在该评委会的受理范围内",
                    fields={"specialty": f"{committee.name}不受理本单位所属主管部门的申报"},
                )
            now = self.clock()
            app = Application(
                applicant_id=actor.id,
                unit_org_id=user.org_id,
                series=series,
                level=level,
                specialty=specialty,
                status="draft",
                created_at=now,
                updated_at=now,
            )
            session.add(app)
            session.flush()
            inst_id = self.engine.start(
                "title_application",
                actor=actor,
                session=session,
                application_id=app.id,
                business_key=f"application-{app.id}",
                data={
                    "application_id": app.id,
                    "applicant_user_id": actor.id,
                    "applicant_name": user.name,
                    "unit_org_id": user.org_id,
                    "series": app.series,
                    "level": app.level,
                    "specialty": app.specialty,
                    "committee_id": committee.id,
                    "committee_name": committee.name,
                    "committee_address": committee.address,
                    "dossier": dossier.data or {},
                    **self._form_start(app, dossier.data or {}),
                },
            )
            app.instance_id = inst_id
            uow.commit()
            return {
                "application_id": str(app.id),
                "instance_id": str(inst_id),
                "status": app.status,
            }

    def _form_start(self, app: Application, dossier: Mapping[str, Any]) -> dict[str, Any]:
        """Values the application form starts with: the title the level leads to (rules file)
        and the dossier's work summary and staffing flag; the applicant can change them."""
        titles = (self.engine.eligibility_rules().get("titles") or {}).get(app.series) or {}
        out: dict[str, Any] = {
            "is_public_institution_staff": bool(dossier.get("is_public_institution_staff")),
            "attachments": [],
        }
        if titles.get(app.level):
            out["title_applied"] = titles[app.level]
        if isinstance(dossier.get("summary"), str) and dossier["summary"].strip():
            out["work_summary"] = dossier["summary"]
        return out

    def get(self, application_id: int | str, actor: Actor) -> dict[str, Any]:
        """One application with its current tasks, chain and timeline."""
        with self._uow() as uow:
            session = uow.session
            app = visible_application(session, application_id, actor)
            tasks = session.scalars(
                select(HumanTask)
                .where(HumanTask.application_id == app.id)
                .order_by(HumanTask.created_at)
            ).all()
            out = self._row(session, app)
            out["current_tasks"] = [summary_of(t).as_dict() for t in tasks]
            out["timeline"] = self.timeline(session, app.id)
            out["return_marks"] = last_return_marks(session, application_id=app.id)
            # The instance is read once: the form values and the payment/paper state come from it.
            data = self._data(session, app)
            out["submitted"] = self._submitted(session, app, data)
            committee = self.committee_of(app, data)
            out["committee"] = committee_summary(committee) if committee else None
            out["payment"] = payment_state(data, app.status, tasks)
            out["paper"] = paper_state(data)
            out["exceptional_conditions"] = (
                eligibility.exceptional_conditions(
                    self.engine.eligibility_rules(), out["submitted"]
                )
                if app.exceptional
                else []
            )
            release = session.scalars(
                select(Timer.due_at).where(
                    Timer.instance_id == app.instance_id, Timer.status == "pending"
                )
            ).first()
            out["publicity_release_at"] = iso(release)
            out["can_export_review_form"] = app.status in EXPORTABLE
            out["can_urge"] = any(not may_act(actor, t) for t in tasks)
            return out

    def committee_of(self, app: Application, data: Mapping[str, Any]) -> Committee | None:
        """The committee reviewing an application: the one it was filed with, else the
        catalogue's committee for its series / level / specialty."""
        catalogue = self.engine.committees()
        return catalogue.get(data.get("committee_id")) or catalogue.find(
            app.series, app.level, app.specialty
        )

    def _data(self, session: Session, app: Application) -> dict[str, Any]:
        inst = session.get(ProcessInstance, app.instance_id) if app.instance_id else None
        return self.engine.instance_data(session, inst.id) if inst is not None else {}

    def _submitted(
        self, session: Session, app: Application, data: dict[str, Any]
    ) -> dict[str, Any]:
        """The applicant's current application form values (what reviewers review), from the
        instance's data."""
        inst = session.get(ProcessInstance, app.instance_id) if app.instance_id else None
        if inst is None:
            return {}
        version = self.engine.version(session, inst.process_version_id)
        meta = version.loaded.user_tasks.get("submit_application")
        schema = version.forms.get(meta.form or "", {}) if meta else {}
        return forms.prefill(schema, data)

    def _row(self, session: Session, app: Application) -> dict[str, Any]:
        applicant = session.get(User, app.applicant_id)
        unit = session.get(Org, app.unit_org_id)
        return {
            "id": str(app.id),
            "status": app.status,
            "stage": app.stage,
            "series": app.series,
            "level": app.level,
            "specialty": app.specialty,
            "applicant": {
                "id": str(app.applicant_id),
                "name": applicant.name if applicant else None,
            },
            "unit": {"id": app.unit_org_id, "name": unit.name if unit else None},
            "chain": list(app.chain or []),
            "instance_id": str(app.instance_id),
            "publicity_end": app.publicity_end.isoformat() if app.publicity_end else None,
            "review_form": app.review_form,
            "exceptional": bool(app.exceptional),
            "created_at": iso(app.created_at),
            "updated_at": iso(app.updated_at),
        }

    @staticmethod
    def timeline(session: Session, app_id: int) -> list[dict[str, Any]]:
        """Every recorded decision on an application, oldest first."""
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.application_id == app_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        ).all()
        out = []
        for e in events:
            detail = e.detail or {}
            out.append(
                {
                    "at": iso(e.at),
                    "actor": e.actor_name,
                    "org": e.org_id,
                    "action": e.action,
                    "task": e.task_name,
                    "opinion": e.opinion,
                    "reason": e.reason
                    or detail.get("return_reason")
                    or detail.get("reject_reason"),
                    "status_after": e.after_status,
                    "marks": [m for m in detail.get("marks") or [] if isinstance(m, dict)],
                    "checks": {k: detail[k] for k in eligibility.REVIEW_CHECKS if k in detail}
                    or None,
                }
            )
        return out

    def list(
        self, actor: Actor, *, status: str | None, org: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Applications visible to the caller, newest first."""
        if status and status not in APPLICATION_STATUSES:
            raise InvalidDataError(
                "未知的申报状态",
                fields={"status": f"one of {', '.join(APPLICATION_STATUSES)}"},
            )
        with self._uow() as uow:
            session = uow.session
            query = _visible(select(Application), actor)
            if status:
                query = query.where(Application.status == status)
            if org:
                query = query.where(or_(Application.unit_org_id == org, _chain_has(org)))
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(
                query.order_by(Application.id.desc()).limit(limit).offset(offset)
            ).all()
            return [self._row(session, a) for a in rows], int(total or 0)

    def urge(self, application_id: int | str, actor: Actor) -> dict[str, Any]:
        """催办: remind whoever holds the application's current tasks, once per task per day."""
        now = self.clock()
        today = now.astimezone(CHINA_TZ).date().isoformat()
        with self._uow() as uow:
            session = uow.session
            app = visible_application(session, application_id, actor)
            tasks = session.scalars(
                select(HumanTask).where(HumanTask.application_id == app.id)
            ).all()
            urged = skipped = 0
            for task in tasks:
                key = f"urge:{task.id}:{today}"
                if may_act(actor, task) or session.scalar(
                    select(Notification.id).where(Notification.dedup_key == key)
                ):
                    skipped += 1
                    continue
                text = (
                    f"催办：{actor.name}提醒您尽快办理「{task.title}」"
                    f"（申报编号 {app.id}，{app.series}{app.level} {app.specialty}）。"
                )
                queue_notice(
                    session,
                    now=now,
                    user_id=task.user_id,
                    org_id=None if task.user_id else task.org_id,
                    phone=phone_of(session, task.user_id, task.org_id),
                    kind="urge",
                    text=text,
                    instance_id=task.instance_id,
                    dedup_key=key,
                )
                urged += 1
            if urged:
                session.add(
                    audit_event(
                        now,
                        actor,
                        "urge",
                        application_id=app.id,
                        instance_id=app.instance_id,
                        detail={"tasks": urged},
                    )
                )
            uow.commit()
        if not urged:
            raise ConflictError("当前没有可催办的事项，或今天已催办过", code="already_urged")
        return {"urged": urged, "skipped": skipped}
