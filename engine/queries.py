"""Read side of the engine: worklists from the task index, one task with its form."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import committees, eligibility, forms, marks, roles, runtime, statuses
from engine.clock import CHINA_TZ
from engine.errors import ForbiddenError, InvalidDataError, NotFoundError, TaskNotReadyError
from engine.form_resolver import SHARED_FILES_PROCESS
from engine.ids import parse_id
from engine.policy import may_act, task_filter_for
from engine.views import Actor, TaskDetail, TaskSummary, iso, jsonable
from storage import AuditEvent, HumanTask, ProcessInstance, ProcessVersion


def summary_of(row: HumanTask) -> TaskSummary:
    """The API shape of a task index row."""
    return TaskSummary(
        id=row.id,
        name=row.name,
        title=row.title,
        process=row.process_id,
        instance_id=str(row.instance_id),
        application_id=str(row.application_id) if row.application_id is not None else None,
        org_id=row.org_id,
        created_at=iso(row.created_at),
        lane=row.lane,
    )


class TaskQueries:
    """Mixed into WorkflowEngine; needs ``_uow``, ``version``, ``_serializer``."""

    def instance_data(self, session: Session, instance_id: int | None) -> dict[str, Any]:
        """An instance's most recent task data ({} when there is no such instance)."""
        inst = session.get(ProcessInstance, instance_id) if instance_id else None
        if inst is None:
            return {}
        self.version(session, inst.process_version_id)  # its spec must be loaded to read it
        return dict(runtime.latest_data(runtime.load(self._serializer, inst.state, None)))

    def files_version(self, session: Session, instance_id: int | None = None) -> Any:
        """The version whose designer files apply: an instance's own; outside any instance,
        the current version of the process applications file into (None: nothing deployed)."""
        inst = session.get(ProcessInstance, instance_id) if instance_id else None
        if inst is not None:
            return self.version(session, inst.process_version_id)
        try:
            version_id = self.current_version_id(session, SHARED_FILES_PROCESS)
        except NotFoundError:
            return None
        return self.version(session, version_id)

    def eligibility_rules(self, version: Any) -> dict[str, Any]:
        """A version's eligibility thresholds (bpmn/rules/eligibility.json)."""
        return self.resolver.eligibility_rules(version)

    def committees(self, version: Any) -> committees.Catalogue:
        """A version's committee catalogue (bpmn/rules/committees.json)."""
        return self.resolver.committees(version)

    def current_committees(self) -> committees.Catalogue:
        """The committee catalogue new applications file under."""
        with self._uow() as uow:
            return self.resolver.committees(self.files_version(uow.session))

    def designer_form(
        self, name: str, instance_id: int | str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A form's JSON Schema and UI schema (e.g. "dossier") as an instance's version has
        it, or as the current version has it outside any instance."""
        with self._uow() as uow:
            version = self.files_version(uow.session, parse_id(instance_id))
            return self.resolver.form(version, name)

    def committees_listing(self) -> list[dict[str, Any]]:
        """GET /committees: every committee of the catalogue."""
        return [c.public() for c in self.current_committees().committees]

    def dossier_form(self, version: Any) -> dict[str, Any]:
        """A version's dossier JSON Schema, for labelling items."""
        return self.resolver.form(version, "dossier")[0]

    def status_titles(self) -> dict[str, str]:
        """Status -> the name of the user task that sets it, over every deployed version
        (newest first), for statuses that only a diagram names."""
        out: dict[str, str] = {}
        with self._uow() as uow:
            session = uow.session
            ids = session.scalars(select(ProcessVersion.id).order_by(ProcessVersion.id.desc()))
            for version_id in ids.all():
                tasks = self.version(session, version_id).loaded.user_tasks.values()
                for status, title in statuses.status_titles(tasks).items():
                    out.setdefault(status, title)
        return out

    @staticmethod
    def submission_form(version: Any) -> dict[str, Any] | None:
        """The applicant's form of a process: its prefilled user task's schema, if any."""
        for meta in version.loaded.user_tasks.values():
            if meta.prefill and meta.form:
                return version.forms.get(meta.form)
        return None

    def list_tasks(
        self,
        actor: Actor,
        *,
        name: str | None = None,
        application: str | None = None,
        process: str | None = None,
        org: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[TaskSummary], int]:
        """Ready tasks the actor may complete, newest last; served from the index only."""
        flt = task_filter_for(actor)
        if not flt["lanes"]:
            return [], 0
        conds = [HumanTask.lane.in_(flt["lanes"])]
        if "user_id" in flt:
            conds.append(HumanTask.user_id == flt["user_id"])
        else:
            conds.append(HumanTask.org_id == flt["org_id"])
        if name:
            conds.append(HumanTask.name == name)
        if process:
            conds.append(HumanTask.process_id == process)
        if org:
            conds.append(HumanTask.org_id == org)
        if application:
            key = parse_id(application)
            if key is None:
                raise InvalidDataError(
                    "申报编号格式不正确", fields={"application": "应为申报编号 (an application id)"}
                )
            conds.append(HumanTask.application_id == key)
        with self._uow() as uow:
            total = uow.session.scalar(select(func.count()).select_from(HumanTask).where(*conds))
            rows = uow.session.scalars(
                select(HumanTask)
                .where(*conds)
                .order_by(HumanTask.created_at, HumanTask.id)
                .limit(limit)
                .offset(offset)
            ).all()
            return [summary_of(r) for r in rows], int(total or 0)

    def get_task(self, task_id: str, actor: Actor) -> TaskDetail:
        """One ready task with its form, UI schema and current values."""
        with self._uow() as uow:
            session = uow.session
            row = session.get(HumanTask, task_id)
            if row is None:
                done = session.scalars(
                    select(AuditEvent.id).where(AuditEvent.task_id == task_id).limit(1)
                ).first()
                if done is not None:
                    raise TaskNotReadyError("该任务已处理 (task is no longer ready)")
                raise NotFoundError("任务不存在 (unknown task)")
            if not may_act(actor, row):
                raise ForbiddenError("无权查看该任务 (not your task)")
            inst = session.get(ProcessInstance, row.instance_id)
            version = self.version(session, inst.process_version_id)
            meta = version.loaded.user_tasks[row.name]
            schema = version.forms.get(meta.form or "", {})
            ui = version.forms.get(meta.ui_form) if meta.ui_form else None
            wf = runtime.load(self._serializer, inst.state, None)
            task = runtime.find_task(wf, task_id)
            data: dict[str, Any] = task.data if task is not None else {}
            values = forms.prefill(schema, data) if meta.prefill else {}
            context = {k: v for k, v in data.items() if k not in (schema.get("properties") or {})}
            returned = context.pop("returned_version", None)
            submission = self.submission_form(version)
            if "marks" in (schema.get("properties") or {}):
                schema = _with_mark_choices(
                    schema, marks.options(data, submission, self.dossier_form(version))
                )
                if isinstance(returned, dict):
                    context["changes_since_return"] = marks.changes(
                        returned, data, submission, self.dossier_form(version)
                    )
            context["return_marks"] = last_return_marks(session, instance_id=inst.id)
            if isinstance(data.get("dossier"), dict) and row.lane != roles.APPLICANT_LANE:
                today = self.clock().astimezone(CHINA_TZ).date()
                rules = self.eligibility_rules(version)
                found = eligibility.hints(rules, data["dossier"], data, today)
                binding = {h["check"] for h in eligibility.blocking(rules, found, data)}
                waived = eligibility.waived(rules, data)
                for hint in found:
                    hint["binding"] = hint["check"] in binding
                    hint["waived"] = hint["check"] in waived
                context["hints"] = found
            return TaskDetail(summary_of(row), schema, ui, values, jsonable(context))


def last_return_marks(
    session: Session, *, instance_id: int | None = None, application_id: int | None = None
) -> list[dict[str, Any]]:
    """The marks (path, note, label) of the latest return on an instance or application."""
    query = select(AuditEvent.detail).where(AuditEvent.action == "return")
    if instance_id is not None:
        query = query.where(AuditEvent.instance_id == instance_id)
    else:
        query = query.where(AuditEvent.application_id == application_id)
    detail = session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).first()
    found = (detail or {}).get("marks") if isinstance(detail, dict) else None
    return list(found) if isinstance(found, list) else []


def _with_mark_choices(schema: dict[str, Any], choices: list[dict[str, str]]) -> dict[str, Any]:
    """The review form with this application's items offered for a mark's path."""
    out = deepcopy(schema)
    path = (((out["properties"]["marks"].get("items") or {}).get("properties")) or {}).get("path")
    if isinstance(path, dict) and choices:
        path["oneOf"] = choices
    return out
