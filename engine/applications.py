"""Title applications: filing (behind the dossier gate), visibility, detail and timeline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import eligibility, forms, policy, statuses
from engine.application_views import committee_summary, paper_state, payment_state
from engine.ballots import holds_seat
from engine.certificate_issue import certificate_of
from engine.clock import Clock
from engine.committees import Committee
from engine.cycle_rules import china_today, cycle_for_filing
from engine.designer_files import DesignerFiles
from engine.dtos import ApplicationDetail, ApplicationSummary, Party, TimelineEntry
from engine.errors import ConflictError, ForbiddenError, InvalidDataError, NotFoundError
from engine.handoff_state import handoff_note, holder_of, is_copied, with_handoffs
from engine.ids import parse_id
from engine.policy import may_act
from engine.process_runtime import ProcessRuntime
from engine.queries import last_return_marks, summary_of
from engine.views import Actor, iso
from storage import (
    Application,
    AuditEvent,
    Dossier,
    HumanTask,
    Org,
    ProcessInstance,
    ReviewCycle,
    Timer,
    UnitOfWorkFactory,
    User,
    lock_row,
)


def visible_application(
    session: Session, application_id: int | str, actor: Actor, *, copies: bool = False
) -> Application:
    """The application with this id if the actor may see it (404 unknown, 403 not yours);
    ``copies``: also when it was copied to the actor (抄送, for reading only)."""
    key = parse_id(application_id)
    app = session.get(Application, key) if key is not None else None
    if app is None:
        raise NotFoundError("申报不存在")
    copied = (lambda: is_copied(session, app.id, actor.id)) if copies else None
    seated = lambda: holds_seat(session, app.id, actor.id)  # noqa: E731
    if not policy.may_see_application(actor, app, copied=copied, seated=seated):
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


def _timeline_entry(e: AuditEvent) -> TimelineEntry:
    detail = e.detail or {}
    return TimelineEntry(
        at=iso(e.at),
        actor=e.actor_name,
        org=e.org_id,
        action=e.action,
        task=e.task_name,
        opinion=e.opinion,
        reason=e.reason or detail.get("return_reason") or detail.get("reject_reason"),
        status_after=e.after_status,
        marks=tuple(m for m in detail.get("marks") or [] if isinstance(m, dict)),
        checks={k: detail[k] for k in eligibility.REVIEW_CHECKS if k in detail} or None,
        note=handoff_note(e.action, detail),
    )


def _cycle_summary(cycle: ReviewCycle | None) -> dict[str, Any] | None:
    if cycle is None:
        return None
    return {
        "id": str(cycle.id),
        "year": cycle.year,
        "opens_on": cycle.opens_on.isoformat(),
        "closes_on": cycle.closes_on.isoformat(),
    }


class Applications:
    """Filing and reading title applications."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        runtime: ProcessRuntime,
        files: DesignerFiles,
        *,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.files = files
        self.clock = clock

    def create(self, body: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        """File an application; its first task is the applicant's submit_application."""
        if not policy.may_file(actor):
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
        with self._uow() as uow:
            session = uow.session
            files = self.runtime.files_version(session)
            committee = self.files.committees(files).check(series, level, specialty)
            dossier = session.scalars(select(Dossier).where(Dossier.user_id == actor.id)).first()
            if dossier is None or dossier.status != "approved":
                raise ConflictError(
                    "业绩档案未审核通过，不能申报",
                    code="dossier_not_approved",
                )
            # Two filings of one applicant at once (a double click): the second waits here
            # for the first to commit, then finds its application open.
            lock_row(session, User, actor.id)
            open_app = session.scalars(
                select(Application.id).where(
                    Application.applicant_id == actor.id, statuses.open_applications()
                )
            ).first()
            if open_app is not None:
                raise ConflictError(
                    f"已有进行中的申报（编号 {open_app}）",
                    code="application_open",
                )
            user = session.get_one(User, actor.id)
            if committee.office_org_id not in _ancestors(session, user.org_id):
                raise InvalidDataError(
                    "所在单位不在该评委会的受理范围内",
                    fields={
                        "specialty": f"{committee.name}不受理本单位所属主管部门的申报"
                        " (the unit's departments do not lead to this committee)"
                    },
                )
            now = self.clock()
            # The cycle taking applications today; its pinned version runs the application.
            cycle = cycle_for_filing(session, committee, china_today(now))
            files = self.runtime.deployed_spec(session, cycle.version_id)
            app = Application(
                applicant_id=actor.id,
                unit_org_id=user.org_id,
                series=series,
                level=level,
                specialty=specialty,
                status="draft",
                created_at=now,
                updated_at=now,
                cycle_id=cycle.id,
            )
            session.add(app)
            session.flush()
            inst_id = self.runtime.start(
                session,
                "title_application",
                actor=actor,
                application_id=app.id,
                business_key=f"application-{app.id}",
                version_id=cycle.version_id,
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
                    **self._form_start(app, dossier.data or {}, files),
                },
            )
            app.instance_id = inst_id
            uow.commit()
            return {
                "application_id": str(app.id),
                "instance_id": str(inst_id),
                "status": app.status,
            }

    def _form_start(
        self, app: Application, dossier: Mapping[str, Any], files: Any
    ) -> dict[str, Any]:
        """Values the application form starts with: the title the level leads to (rules file)
        and the dossier's work summary and staffing flag; the applicant can change them."""
        rules = self.files.eligibility_rules(files)
        titles = (rules.get("titles") or {}).get(app.series) or {}
        out: dict[str, Any] = {
            "is_public_institution_staff": bool(dossier.get("is_public_institution_staff")),
            "attachments": [],
        }
        if titles.get(app.level):
            out["title_applied"] = titles[app.level]
        if isinstance(dossier.get("summary"), str) and dossier["summary"].strip():
            out["work_summary"] = dossier["summary"]
        return out

    def get(self, application_id: int | str, actor: Actor) -> ApplicationDetail:
        """One application with its current tasks, chain and timeline."""
        with self._uow() as uow:
            session = uow.session
            app = visible_application(session, application_id, actor, copies=True)
            routed = policy.may_see_application(actor, app)  # not only copied to the actor
            tasks = session.scalars(
                select(HumanTask)
                .where(HumanTask.application_id == app.id)
                .order_by(HumanTask.created_at)
            ).all()
            # The instance is read once: the form values and the payment/paper state come from it.
            data = self._data(session, app)
            submitted = self._submitted(session, app, data)
            files = self.runtime.files_version(session, app.instance_id)
            committee = self.committee_of(app, data, files)
            release = session.scalars(
                select(Timer.due_at).where(
                    Timer.instance_id == app.instance_id, Timer.status == "pending"
                )
            ).first()
            return ApplicationDetail(
                summary=self._row(session, app),
                current_tasks=tuple(with_handoffs(session, [summary_of(t) for t in tasks], actor)),
                timeline=self.timeline(session, app.id),
                return_marks=tuple(last_return_marks(session, application_id=app.id)),
                submitted=submitted,
                committee=committee_summary(committee) if committee else None,
                payment=payment_state(data, app.status, tasks),
                paper=paper_state(data),
                exceptional_conditions=tuple(
                    eligibility.exceptional_conditions(
                        self.files.eligibility_rules(files), submitted
                    )
                    if app.exceptional
                    else ()
                ),
                publicity_release_at=iso(release),
                can_export_review_form=app.status in statuses.EXPORTABLE_STATUSES,
                cycle=_cycle_summary(
                    session.get(ReviewCycle, app.cycle_id) if app.cycle_id else None
                ),
                certificate=certificate_of(session, app.id, actor),
                can_urge=routed
                and any(not may_act(actor, t, holder_id=holder_of(session, t.id)) for t in tasks),
            )

    def committee_of(
        self, app: Application, data: Mapping[str, Any], files: Any
    ) -> Committee | None:
        """The committee reviewing an application: the one it was filed with, else the
        catalogue's committee for its series / level / specialty."""
        catalogue = self.files.committees(files)
        return catalogue.get(data.get("committee_id")) or catalogue.find(
            app.series, app.level, app.specialty
        )

    def _data(self, session: Session, app: Application) -> dict[str, Any]:
        inst = session.get(ProcessInstance, app.instance_id) if app.instance_id else None
        return self.runtime.instance_data(session, inst.id) if inst is not None else {}

    def _submitted(
        self, session: Session, app: Application, data: dict[str, Any]
    ) -> dict[str, Any]:
        """The applicant's current application form values (what reviewers review), from the
        instance's data."""
        inst = session.get(ProcessInstance, app.instance_id) if app.instance_id else None
        if inst is None:
            return {}
        deployed = self.runtime.deployed_spec(session, inst.process_version_id)
        meta = deployed.loaded.user_tasks.get("submit_application")
        schema = deployed.forms.get(meta.form or "", {}) if meta else {}
        return forms.prefill(schema, data)

    def _row(self, session: Session, app: Application) -> ApplicationSummary:
        applicant = session.get(User, app.applicant_id)
        unit = session.get(Org, app.unit_org_id)
        return ApplicationSummary(
            id=str(app.id),
            status=app.status,
            stage=app.stage,
            series=app.series,
            level=app.level,
            specialty=app.specialty,
            applicant=Party(str(app.applicant_id), applicant.name if applicant else None),
            unit=Party(app.unit_org_id, unit.name if unit else None),
            chain=tuple(app.chain or ()),
            instance_id=str(app.instance_id),
            publicity_end=app.publicity_end.isoformat() if app.publicity_end else None,
            review_form=app.review_form,
            exceptional=bool(app.exceptional),
            created_at=iso(app.created_at),
            updated_at=iso(app.updated_at),
        )

    @staticmethod
    def timeline(session: Session, app_id: int) -> tuple[TimelineEntry, ...]:
        """Every recorded decision on an application, oldest first."""
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.application_id == app_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        ).all()
        return tuple(_timeline_entry(e) for e in events)

    def list(
        self, actor: Actor, *, status: str | None, org: str | None, limit: int, offset: int
    ) -> tuple[list[ApplicationSummary], int]:
        """Applications visible to the caller, newest first."""
        if status and status not in statuses.APPLICATION_STATUSES:
            raise InvalidDataError(
                "未知的申报状态",
                fields={"status": f"应为以下之一：{'、'.join(statuses.APPLICATION_STATUSES)}"},
            )
        with self._uow() as uow:
            session = uow.session
            query = select(Application).where(policy.application_filter(actor))
            if status:
                query = query.where(Application.status == status)
            if org:
                query = query.where(policy.routed_through(org))
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(
                query.order_by(Application.id.desc()).limit(limit).offset(offset)
            ).all()
            return [self._row(session, a) for a in rows], int(total or 0)
