"""Small read-only queries for the pages, one class per concern: pick lists and names
(Directory), designers' forms (DesignerForms), where a unit or applicant stands (Profiles),
messages (Inbox), who a worklist's tasks are about (Worklists).

Every method returns plain dicts. None of them checks who is asking: callers pass ids the
actor is already entitled to (its own org or user, or ids taken from a task or an
application an engine verb has just authorised).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from engine import committees, roles, statuses
from engine.clock import CHINA_TZ, Clock, system_clock
from engine.designer_files import DesignerFiles
from engine.handoff_state import addressed_to
from engine.ids import parse_id
from engine.process_runtime import ProcessRuntime
from engine.queries import last_return_marks
from engine.read_helpers import (
    _application_subjects,
    _business_key_names,
    _entrustment_state,
    _last_decision,
)
from engine.views import TaskSummary, iso
from storage import (
    Application,
    AuditEvent,
    Dossier,
    Notification,
    Org,
    ProcessInstance,
    ProcessVersion,
    StoredFile,
    UnitOfWorkFactory,
)

LEVEL_DECISIONS = ("approve", "return", "reject")


class _Reader:
    def __init__(self, uow_factory: UnitOfWorkFactory, *, clock: Clock = system_clock) -> None:
        self._uow, self.clock = uow_factory, clock  # the clock: whose stand-in is on today


class Directory(_Reader):
    """Pick lists and names: departments, active units, org names, stored files."""

    def dept_orgs(self) -> list[dict[str, Any]]:
        """Competent departments a unit may name when it registers."""
        with self._uow() as uow:
            rows = uow.session.scalars(select(Org).where(Org.kind == roles.DEPT).order_by(Org.id))
            return [{"id": o.id, "name": o.name} for o in rows]

    def active_units(self) -> list[dict[str, Any]]:
        """Units whose entrustment is approved (applicants register under one)."""
        with self._uow() as uow:
            rows = uow.session.scalars(
                select(Org).where(Org.kind == roles.UNIT, Org.status == "active").order_by(Org.name)
            )
            return [{"id": o.id, "name": o.name} for o in rows]

    def org_names(self, org_ids: Iterable[str | None]) -> dict[str, str]:
        """Org id -> name for the given ids (unknown ids are left out)."""
        wanted = {i for i in org_ids if i}
        if not wanted:
            return {}
        with self._uow() as uow:
            rows = uow.session.execute(select(Org.id, Org.name).where(Org.id.in_(wanted)))
            return {row.id: row.name for row in rows}

    def files(self, file_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """File id -> name, pages and size, for links to attachments."""
        wanted = {i for i in file_ids if isinstance(i, str) and i}
        if not wanted:
            return {}
        with self._uow() as uow:
            rows = uow.session.scalars(select(StoredFile).where(StoredFile.id.in_(wanted)))
            return {
                f.id: {"id": f.id, "filename": f.filename, "pages": f.pages, "size": f.size}
                for f in rows
            }


class DesignerForms:
    """Designer files as pages need them: an instance's version's, else the current one's."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, runtime: ProcessRuntime, files: DesignerFiles
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.files = files

    def form(
        self, name: str, instance_id: int | str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A form's JSON Schema and UI schema (e.g. "dossier") as an instance's version has
        it, or as the current version has it outside any instance."""
        with self._uow() as uow:
            version = self.runtime.files_version(uow.session, parse_id(instance_id))
            return self.files.form(version, name)

    def current_committees(self) -> committees.Catalogue:
        """The committee catalogue new applications file under."""
        with self._uow() as uow:
            return self.files.committees(self.runtime.files_version(uow.session))

    def committees_listing(self) -> list[dict[str, Any]]:
        """GET /committees: every committee of the current catalogue."""
        return [c.public() for c in self.current_committees().committees]

    def status_titles(self) -> dict[str, str]:
        """Status -> the name of the user task that sets it, over every deployed version
        (newest first), for statuses that only a diagram names."""
        out: dict[str, str] = {}
        with self._uow() as uow:
            session = uow.session
            ids = session.scalars(select(ProcessVersion.id).order_by(ProcessVersion.id.desc()))
            for version_id in ids.all():
                tasks = self.runtime.deployed_spec(session, version_id).loaded.user_tasks
                for status, title in statuses.status_titles(tasks.values()).items():
                    out.setdefault(status, title)
        return out


class Profiles(_Reader):
    """Where a unit's registration and an applicant's dossier stand, with the last decision."""

    def unit_profile(self, unit_id: str) -> dict[str, Any] | None:
        """A unit's registration details with its entrustment state and last review."""
        with self._uow() as uow:
            session = uow.session
            org = session.get(Org, unit_id)
            if org is None or org.kind != roles.UNIT:
                return None
            dept = session.get(Org, org.parent_id) if org.parent_id else None
            open_review = session.scalars(
                select(ProcessInstance.id).where(
                    ProcessInstance.process_id == "unit_registration",
                    ProcessInstance.business_key == unit_id,
                    statuses.live_instances(),
                )
            ).first()
            last = _last_decision(session, "unit_registration", unit_id, "review_entrustment")
            return {
                "id": org.id,
                "name": org.name,
                "credit_code": org.credit_code,
                "contact": org.contact,
                "phone": org.phone,
                "dept_id": org.parent_id,
                "dept_name": dept.name if dept else None,
                "org_status": org.status,
                "state": _entrustment_state(org.status, open_review is not None, last),
                "last_review": last,
            }

    def dossier_feedback(self, user_id: int) -> dict[str, Any] | None:
        """The unit's latest decision on this applicant's dossier, if any."""
        with self._uow() as uow:
            dossier_id = uow.session.scalars(
                select(Dossier.id).where(Dossier.user_id == user_id)
            ).first()
            if dossier_id is None:
                return None
            return _last_decision(
                uow.session, "dossier_review", f"dossier-{dossier_id}", "review_dossier"
            )

    def applicant_next_step(self, user_id: int) -> str | None:
        """What an applicant with nothing to do should do next: `file` (dossier approved, no
        application under way), `dossier_draft` / `dossier_returned` (fill in or fix the
        dossier and submit it), `dossier_submitted` (wait for the unit), or None."""
        with self._uow() as uow:
            session = uow.session
            status = session.scalars(
                select(Dossier.status).where(Dossier.user_id == user_id)
            ).first()
            if status in (None, "draft", "returned", "submitted"):
                return f"dossier_{status or 'draft'}"
            under_way = session.scalars(
                select(Application.id).where(
                    Application.applicant_id == user_id, Application.status != "terminated"
                )
            ).first()
            return None if under_way is not None else "file"

    def returned_application_marks(self, user_id: int) -> list[dict[str, Any]]:
        """Marks on dossier items of the applicant's returned application (to fix there)."""
        with self._uow() as uow:
            app_id = uow.session.scalars(
                select(Application.id).where(
                    Application.applicant_id == user_id, Application.status == "returned"
                )
            ).first()
            if app_id is None:
                return []
            marks = last_return_marks(uow.session, application_id=app_id)
            return [m for m in marks if str(m.get("path", "")).startswith("/dossier/")]


class Inbox(_Reader):
    """In-app messages."""

    def notifications(
        self, user_id: int, org_id: str | None, *, limit: int = 200
    ) -> list[dict[str, Any]]:
        """In-app messages to the user, its org or whom it stands in for today (委派, ``for``
        names them), newest first, each with its application (None: about none)."""
        with self._uow() as uow:
            today = self.clock().astimezone(CHINA_TZ).date()
            mine, names = addressed_to(uow.session, user_id, org_id, today)
            rows = uow.session.execute(
                select(Notification, Application.id)
                .outerjoin(Application, Application.instance_id == Notification.instance_id)
                .where(Notification.channel == "inapp", mine)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
                .limit(limit)
            ).all()
            return [
                {
                    "id": n.id,
                    "at": iso(n.created_at),
                    "kind": n.kind,
                    "text": n.text,
                    "read": n.read_at is not None,
                    "application_id": str(app_id) if app_id is not None else None,
                    "for": names.get(n.user_id or 0) if n.user_id != user_id else None,
                }
                for n, app_id in rows
            ]


class Worklists(_Reader):
    """Who or what the tasks of a worklist are about."""

    def last_level_reviews(
        self, tasks: Iterable[TaskSummary]
    ) -> tuple[list[TaskSummary], dict[str, dict[str, Any]]]:
        """Of these 本级审查 tasks, those whose org is the top of its chain (approval there ends
        the review: 批量审核, no 审核推荐), with the subjects of all of them."""
        tasks = list(tasks)
        subjects = self.task_subjects(tasks)
        top = [t for t in tasks if subjects.get(t.id, {}).get("last_level") == t.org_id]
        return top, subjects

    def level_decision_tab(
        self, org_id: str, tab: str, *, offset: int = 0, limit: int | None = None
    ) -> tuple[dict[str, int], list[Any]]:
        """The applications this org decided at 本级审查, by its latest decision on each (the
        guide's tabs 审查通过 / 退回 / 评审不通过: "approve", "return", "reject"): how many each
        tab holds, and the rows of ``tab`` alone, newest first, ``limit`` of them from
        ``offset`` (none for a tab that is not a decision); the other rows are not read."""
        with self._uow() as uow:
            latest = _latest_level_decisions(uow.session, org_id)
            counts = {d: 0 for d in LEVEL_DECISIONS}
            for event in latest.values():
                counts[event.action] += 1
            if tab not in counts:
                return counts, []
            mine = [(app_id, e) for app_id, e in latest.items() if e.action == tab]
            end = None if limit is None else offset + limit
            return counts, _decision_rows(uow.session, dict(mine[offset:end]))

    def task_subjects(self, tasks: Iterable[TaskSummary]) -> dict[str, dict[str, Any]]:
        """Task id -> who or what the task is about (applicant, unit, application)."""
        tasks = list(tasks)
        app_ids = {int(t.application_id) for t in tasks if t.application_id}
        inst_ids = {int(t.instance_id) for t in tasks if not t.application_id}
        with self._uow() as uow:
            apps = _application_subjects(uow.session, app_ids)
            keys = dict(
                uow.session.execute(
                    select(ProcessInstance.id, ProcessInstance.business_key).where(
                        ProcessInstance.id.in_(inst_ids)
                    )
                ).all()
            )
            names = _business_key_names(uow.session, keys.values())
        out: dict[str, dict[str, Any]] = {}
        for t in tasks:
            if t.application_id and int(t.application_id) in apps:
                out[t.id] = apps[int(t.application_id)]
            else:
                key = keys.get(int(t.instance_id))
                out[t.id] = {"applicant": None, "subject": names.get(key) if key else None}
        return out


def _latest_level_decisions(session: Any, org_id: str) -> dict[int, Any]:
    """Application id -> this org's latest 本级审查 decision on it, newest first."""
    events = session.execute(
        select(
            AuditEvent.application_id,
            AuditEvent.action,
            AuditEvent.at,
            AuditEvent.actor_name,
            AuditEvent.opinion,
        )
        .where(
            AuditEvent.org_id == org_id,
            AuditEvent.task_name == "level_review",
            AuditEvent.action.in_(LEVEL_DECISIONS),
            AuditEvent.application_id.is_not(None),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    ).all()
    latest: dict[int, Any] = {}
    for event in events:
        latest.setdefault(event.application_id, event)
    return latest


def _decision_rows(session: Any, mine: dict[int, Any]) -> list[dict[str, Any]]:
    """Rows of a decision's tab (application id -> its decision event, in order), with each
    application's subject and status."""
    apps = _application_subjects(session, set(mine))
    status = dict(
        session.execute(
            select(Application.id, Application.status).where(Application.id.in_(set(mine)))
        ).all()
    )
    return [
        {
            **apps.get(app_id, {}),
            "application_id": str(app_id),
            "status": status.get(app_id),
            "at": iso(event.at),
            "actor": event.actor_name,
            "opinion": event.opinion,
        }
        for app_id, event in mine.items()
    ]
