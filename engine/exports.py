"""The exported review form (评审表): assembled from the application, dossier and decisions,
stored once on first export so its sha256 keeps matching the printout; public verification."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import eligibility, roles, statuses
from engine.applications import visible_application
from engine.audit import audit_event
from engine.clock import CHINA_TZ, Clock
from engine.committees import UNPUBLISHED, Committee
from engine.designer_files import DesignerFiles
from engine.errors import ConflictError, NotFoundError
from engine.file_names import safe_filename
from engine.files import FileStore
from engine.identity import id_number_birth_date, id_number_gender
from engine.process_runtime import ProcessRuntime
from engine.views import Actor, iso
from storage import Application, AuditEvent, Org, StoredFile, UnitOfWorkFactory, User

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LEVEL_NAMES = {
    "unit": "用人单位",
    "dept": "主管部门",
    "hrss": "人力社保部门",
    "office": "评委会办公室",
}
DECISIONS = {"approve": "通过", "return": "退回", "reject": "不通过"}


# The eligibility checks each approval records, as the review form names them.
CHECK_LABELS = {
    "seniority_ok": "资历",
    "appraisal_ok": "年度考核",
    "continuing_education_ok": "继续教育",
    "post_quota_ok": "评聘结合",
    "exceptional_ok": "破格条件审查",
}


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


class Exports:
    """Review-form export (applicant, unit, reviewers) and public verification."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        runtime: ProcessRuntime,
        files: DesignerFiles,
        store: FileStore,
        base_url: str,
        *,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.files = files
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.clock = clock

    def verify_url(self, code: str) -> str:
        """The public verify page the review form's QR code opens (web: /verify/<code>)."""
        return f"{self.base_url}/verify/{code}"

    def review_form(self, application_id: int | str, actor: Actor) -> bytes:
        """The watermarked form; 409 until the last level approved and payment is confirmed."""
        from engine.review_form import review_form_pdf  # reportlab: loaded when first drawn

        with self._uow() as uow:
            session = uow.session
            app = visible_application(session, application_id, actor)
            if app.status not in statuses.EXPORTABLE_STATUSES:
                raise ConflictError(
                    "终审通过并确认缴费后才能导出评审表",
                    code="review_form_not_ready",
                )
            if app.review_form and app.review_form.get("file_id"):
                row = session.get(StoredFile, app.review_form["file_id"])
                if row is not None:
                    return self.store.read(row)
            code = self._new_code(session)
            pdf = review_form_pdf(
                self.form_data(session, app),
                verification_code=code,
                verify_url=self.verify_url(code),
            )
            owner = Actor(app.applicant_id, "", "", roles.APPLICANT, app.unit_org_id)
            row = self.store.save(session, pdf, f"评审表-{app.id}.pdf", owner, self.clock())
            app.verification_code = code
            app.review_form = {
                "verification_code": code,
                "sha256": row.sha256,
                "exported_at": iso(self.clock()),
                "file_id": row.id,
            }
            session.add(
                audit_event(
                    self.clock(),
                    actor,
                    "export_review_form",
                    application_id=app.id,
                    instance_id=app.instance_id,
                    detail={"sha256": row.sha256},
                )
            )
            uow.commit()
            return pdf

    def public_version(self, application_id: int | str, actor: Actor) -> bytes:
        """The 公示版 without ID number and phone, for the unit's publicity notice."""
        from engine.review_form import review_form_pdf

        with self._uow() as uow:
            app = visible_application(uow.session, application_id, actor)
            if not statuses.has_public_version(app.status):
                raise ConflictError("单位审查前没有公示版", code="not_submitted")
            return review_form_pdf(
                self.form_data(uow.session, app),
                verification_code="公示版",
                verify_url=f"{self.base_url}/",
                public_version=True,
            )

    def download_name(
        self, application_id: int | str, actor: Actor, *, public: bool = False
    ) -> str:
        """What a saved review form is called: the applicant's name and the document's."""
        with self._uow() as uow:
            app = visible_application(uow.session, application_id, actor)
            applicant = uow.session.get(User, app.applicant_id)
            name = safe_filename(applicant.name if applicant else "", max_length=40)
        document = "评审表（公示版）" if public else "评审表"
        return f"{name}-{document}.pdf"

    def verify(self, code: str) -> dict[str, Any]:
        """Whether a verification code belongs to a real exported form (name masked)."""
        with self._uow() as uow:
            return self._verified(uow.session, code)[1]

    def verify_details(self, code: str) -> dict[str, Any]:
        """verify() plus what the public verify page shows: document type and committee."""
        from engine.review_form import TITLE as REVIEW_FORM_TITLE

        with self._uow() as uow:
            app, record = self._verified(uow.session, code)
            data = self.runtime.instance_data(uow.session, app.instance_id)
            catalogue = self.files.committees(
                self.runtime.files_version(uow.session, app.instance_id)
            )
            committee = catalogue.get(data.get("committee_id")) or catalogue.find(
                app.series, app.level, app.specialty
            )
            orgs = {o.id: o for o in uow.session.scalars(select(Org))}
            return {
                **record,
                "document": REVIEW_FORM_TITLE,
                "committee": committee.name if committee else _committee(app, orgs),
            }

    def _verified(self, session: Session, code: str) -> tuple[Application, dict[str, Any]]:
        app = (
            session.scalars(
                select(Application).where(Application.verification_code == code.strip().upper())
            ).first()
            if code
            else None
        )
        if app is None or not app.review_form:
            raise NotFoundError("验证码无效：未找到对应的评审表")
        applicant = session.get(User, app.applicant_id)
        return app, {
            "valid": True,
            "verification_code": app.verification_code,
            "applicant": mask_name(applicant.name if applicant else ""),
            "series": app.series,
            "level": app.level,
            "specialty": app.specialty,
            "status": app.status,
            "sha256": app.review_form["sha256"],
            "exported_at": app.review_form["exported_at"],
        }

    @staticmethod
    def _new_code(session: Session) -> str:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
            if (
                session.scalars(
                    select(Application.id).where(Application.verification_code == code)
                ).first()
                is None
            ):
                return code

    def form_data(self, session: Session, app: Application) -> dict[str, Any]:
        """Everything the review form shows, from the stored records."""
        user = session.get_one(User, app.applicant_id)
        unit = session.get(Org, app.unit_org_id)
        data = self.runtime.instance_data(session, app.instance_id)
        dossier = data.get("dossier") or {}
        orgs = {o.id: o for o in session.scalars(select(Org))}
        files = self.runtime.files_version(session, app.instance_id)
        catalogue = self.files.committees(files)
        return {
            "applicant": {
                "name": user.name,
                "id_number": user.id_number,
                "phone": user.phone,
                "gender": dossier.get("gender") or _gender(user.id_number),
                "birth_date": dossier.get("birth_date") or _birth(user.id_number),
                "unit_name": unit.name if unit else "",
                "department_post": dossier.get("department_post"),
                "work_start_date": dossier.get("work_start_date"),
                "political_status": dossier.get("political_status"),
            },
            "application": {
                "series": app.series,
                "level": app.level,
                "specialty": app.specialty,
                **_committee_facts(
                    catalogue.get(data.get("committee_id"))
                    or catalogue.find(app.series, app.level, app.specialty),
                    _committee(app, orgs),
                ),
                "filed_at": app.created_at.astimezone(CHINA_TZ).date().isoformat(),
                "exceptional": bool(app.exceptional),
                "exceptional_conditions": eligibility.exceptional_conditions(
                    self.files.eligibility_rules(files), data
                )
                if app.exceptional
                else [],
            },
            "education": dossier.get("education") or [],
            "current_title": dossier.get("current_title") or {},
            "work_history": [_period(w) for w in dossier.get("work_history") or []],
            "appraisals": dossier.get("appraisals") or [],
            "continuing_education": dossier.get("continuing_education") or [],
            "achievements": dossier.get("achievements") or [],
            "papers": dossier.get("papers") or [],
            "summary": data.get("work_summary") or dossier.get("summary"),
            "publicity": {
                "start": data.get("publicity_start"),
                "end": data.get("publicity_end"),
                "place": data.get("publicity_place"),
                "objections": data.get("publicity_objections") or "无",
            },
            "opinions": self._opinions(session, app, orgs),
            "chain": [orgs[o].name if o in orgs else o for o in app.chain or []],
        }

    @staticmethod
    def _opinions(session: Session, app: Application, orgs: dict[str, Org]) -> list[dict]:
        events = session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.application_id == app.id,
                AuditEvent.task_name.in_(("unit_review", "publicity_result", "level_review")),
                AuditEvent.action == "approve",
            )
            .order_by(AuditEvent.at, AuditEvent.id)
        ).all()
        latest: dict[str, AuditEvent] = {}
        for e in events:  # after a return the climb restarts: keep each org's last decision
            latest[e.org_id or ""] = e
        out = []
        for e in sorted(latest.values(), key=lambda e: (e.at, e.id)):
            org = orgs.get(e.org_id or "")
            out.append(
                {
                    "level": LEVEL_NAMES.get(org.kind if org else "", "审核部门"),
                    "org": org.name if org else e.org_id,
                    "decision": DECISIONS["approve"],
                    "opinion": e.opinion,
                    "by": e.actor_name,
                    "at": e.at.astimezone(CHINA_TZ).date().isoformat(),
                    "checks": {
                        CHECK_LABELS[k]: v for k, v in (e.detail or {}).items() if k in CHECK_LABELS
                    },
                }
            )
        return out


def _committee(app: Application, orgs: dict[str, Org]) -> str:
    office = next(
        (orgs[o] for o in app.chain or [] if o in orgs and orgs[o].kind == roles.OFFICE), None
    )
    return office.name if office else ""


def _committee_facts(committee: Committee | None, fallback: str) -> dict[str, Any]:
    """The committee's name, the office's address (where the paper copies go) and contacts."""
    if committee is None:
        return {"committee": fallback}
    contacts = "；".join(
        f"{c['role']}：{c.get('name') or UNPUBLISHED}"
        + (f" {c['phone']}" if c.get("phone") else "")
        for c in committee.contacts
    )
    return {
        "committee": committee.name,
        "committee_address": committee.address,
        "committee_phone": committee.phone or UNPUBLISHED,
        "committee_contacts": contacts,
    }


def _period(item: dict[str, Any]) -> dict[str, Any]:
    out = dict(item)
    out.setdefault("period", f"{item.get('start', '')} 至 {item.get('end', '')}")
    return out


def _gender(id_number: str | None) -> str | None:
    return id_number_gender(id_number) if id_number else None


def _birth(id_number: str | None) -> str | None:
    return id_number_birth_date(id_number).isoformat() if id_number else None
