"""Read side of the engine: worklists from the task index, one task with its form."""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import committees, eligibility, forms, marks, runtime
from engine.clock import CHINA_TZ
from engine.errors import ForbiddenError, InvalidDataError, NotFoundError, TaskNotReadyError
from engine.ids import parse_id
from engine.policy import may_act, task_filter_for
from engine.views import Actor, TaskDetail, TaskSummary, iso, jsonable
from storage import AuditEvent, HumanTask, ProcessInstance


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

    _rules: dict[str, Any] | None = None
    _committees: committees.Catalogue | None = None
    _dossier_form: dict[str, Any] | None = None

    def instance_data(self, session: Session, instance_id: int | None) -> dict[str, Any]:
        """An instance's most recent task data ({} when there is no such instance)."""
        inst = session.get(ProcessInstance, instance_id) if instance_id else None
        if inst is None:
            return {}
        self.version(session, inst.process_version_id)  # its spec must be loaded to read it
        return dict(runtime.latest_data(runtime.load(self._serializer, inst.state, None)))

    def eligibility_rules(self) -> dict[str, Any]:
        """Designer-owned thresholds from bpmn/rules/eligibility.json (read once)."""
        if self._rules is None:
            self._rules = eligibility.load_rules(self.bpmn_dir)
        return self._rules

    def committees(self) -> committees.Catalogue:
        """The designers' committee catalogue, bpmn/rules/committees.json (read once)."""
        if self._committees is None:
            self._committees = committees.load_catalogue(self.bpmn_dir)
        return self._committees

    def committees_listing(self) -> list[dict[str, Any]]:
        """GET /committees: every committee of the catalogue."""
        return [c.public() for c in self.committees().committees]

    def dossier_form(self) -> dict[str, Any]:
        """The dossier's JSON Schema from bpmn/forms (read once), for labelling items."""
        if self._dossier_form is None:
            path = self.bpmn_dir / "forms" / "dossier.schema.json"
            self._dossier_form = json.loads(path.read_text(encoding="utf-8"))
        return self._dossier_form

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
        conds = []
        if "user_id" in flt:
            conds += [HumanTask.lane == "applicant", HumanTask.user_id == flt["user_id"]]
        else:
            if actor.org_status != "active" and "platform" not in flt["lanes"]:
                return [], 0
            conds += [HumanTask.lane.in_(flt["lanes"]), HumanTask.org_id == flt["org_id"]]
        if name:
            conds.append(HumanTask.name == name)
        if process:
            conds.append(HumanTask.process_id == process)
        if org:
            conds.append(HumanTask.org_id == org)
        if application:
            key = parse_id(application)
            if key is None:
                raise InvalidDataError("申报编号格式不正确", fields={"application": "应为申报编号"})
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
                    raise TaskNotReadyError("该任务已处理")
                raise NotFoundError("任务不存在")
            if not may_act(actor, row):
                raise ForbiddenError("无权查看该任务")
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
                    schema, marks.options(data, submission, self.dossier_form())
                )
                if isinstance(returned, dict):
                    context["changes_since_return"] = marks.changes(
                        returned, data, submission, self.dossier_form()
                    )
            context["return_marks"] = last_return_marks(session, instance_id=inst.id)
            if isinstance(data.get("dossier"), dict) and row.lane != "applicant":
                today = self.clock().astimezone(CHINA_TZ).date()
                rules = self.eligibility_rules()
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
