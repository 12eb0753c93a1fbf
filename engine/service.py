"""The engine verbs. Each verb: load -> act -> run forward -> save, in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine import eligibility, forms, marks, runtime
from engine.audit import AuditVerbs, audit_event
from engine.calendar_admin import CalendarVerbs
from engine.clock import Clock, system_clock
from engine.deployments import DeploymentVerbs
from engine.diagram import DiagramViews
from engine.errors import (
    ConflictError,
    EngineError,
    ForbiddenError,
    NotFoundError,
    TaskNotReadyError,
)
from engine.files import check_file_refs
from engine.functions import REGISTERED, ProcessFunctions
from engine.ids import parse_id
from engine.operations import OperationVerbs
from engine.persist import LoadedVersion, Saver, instance_status, task_row_values
from engine.policy import may_act
from engine.queries import TaskQueries, summary_of
from engine.reminders import ReminderVerbs
from engine.sandbox import SandboxLimits
from engine.scripts import DEFAULT_LIMITS, script_engine
from engine.specs import SpecValidator
from engine.timers import TimerVerbs
from engine.validators import EligibilityGate, default_validators
from engine.views import Actor, CompleteResult
from storage import AuditEvent, HumanTask, ProcessInstance, ProcessVersion

FormValidator = Callable[[Session, Mapping[str, Any], Mapping[str, Any], Mapping[str, str]], None]


AUDITED_FIELDS = ("decision", "note", "copies", "paid", "receipt_no", "marks")


def _audited(key: str) -> bool:
    """Form fields worth keeping in the audit trail beside the opinion."""
    return (
        key in AUDITED_FIELDS
        or key in eligibility.REVIEW_CHECKS
        or key.endswith("_reason")
        or key.startswith("publicity_")
    )


class UnitOfWork(Protocol):
    session: Session

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class WorkflowEngine(
    DeploymentVerbs,
    DiagramViews,
    OperationVerbs,
    TimerVerbs,
    ReminderVerbs,
    CalendarVerbs,
    AuditVerbs,
    TaskQueries,
):
    """Runs deployed BPMN processes over the database, one transaction per verb."""

    def __init__(
        self,
        uow_factory: Callable[[], AbstractContextManager[Any]],
        *,
        bpmn_dir: Path,
        clock: Clock = system_clock,
        validators: Mapping[str, FormValidator] | None = None,
        sandbox_limits: SandboxLimits = DEFAULT_LIMITS,
    ) -> None:
        self._uow = uow_factory
        self.sandbox_limits = sandbox_limits
        self.bpmn_dir = bpmn_dir
        self.clock = clock
        self.validators: dict[str, FormValidator] = dict(
            default_validators() if validators is None else validators
        )
        self.validators.setdefault("eligibility", EligibilityGate(self.eligibility_rules, clock))
        self._versions: dict[int, LoadedVersion] = {}
        self._serializer = runtime.make_serializer(self._spec_for_key)
        self.spec_validator = SpecValidator(REGISTERED, self.validators)

    def database_ok(self) -> bool:
        """Whether the database answers a trivial query."""
        with self._uow() as uow:
            try:
                uow.session.execute(text("SELECT 1"))
            except SQLAlchemyError:
                return False
            return True

    # ----- versions -------------------------------------------------------------------
    def _spec_for_key(self, key: str) -> runtime.LoadedSpec:
        return self._versions[int(key)].loaded

    def version(self, session: Session, version_id: int) -> LoadedVersion:
        """A deployed version, parsed once per process and cached."""
        cached = self._versions.get(version_id)
        if cached is not None:
            return cached
        row = session.get(ProcessVersion, version_id)
        if row is None:
            raise NotFoundError(f"unknown process version {version_id}")
        root = runtime.parse_xml(row.bpmn_xml.encode("utf-8"))
        loaded = runtime.load_spec(row.process_id, root, f"{row.process_id}.bpmn")
        forms_parsed = {k: json.loads(v) for k, v in (row.files or {}).items()}
        cached = LoadedVersion(row.id, row.process_id, row.version, loaded, forms_parsed)
        self._versions[version_id] = cached
        return cached

    def start_bare(
        self, process_id: str, data: Mapping[str, Any], *, actor: Actor, version: int | None = None
    ) -> int:
        """Start an instance outside any application (trial runs, system processes)."""
        if not actor.is_admin:
            raise ForbiddenError("只有平台管理员可以直接启动流程")
        if version is not None and parse_id(version) is None:
            raise NotFoundError(f"{process_id} 没有这个版本")
        with self._uow() as uow:
            version_id = None
            if version is not None:
                version_id = uow.session.scalars(
                    select(ProcessVersion.id).where(
                        ProcessVersion.process_id == process_id, ProcessVersion.version == version
                    )
                ).first()
                if version_id is None:
                    raise NotFoundError(f"{process_id} 没有第 {version} 版")
            inst_id = self._start(
                uow.session, process_id, actor, dict(data), None, None, version_id
            )
            uow.commit()
        return inst_id

    # ----- running --------------------------------------------------------------------
    def _script_engine(self, session: Session, instance_id: int | None) -> Any:
        functions = ProcessFunctions(session, self.clock, instance_id, self.committees()).table()
        return script_engine(functions, self.sandbox_limits)

    def _advance(self, wf: runtime.ZWorkflow) -> None:
        try:
            runtime.advance(wf)
        except WorkflowException as exc:
            runtime.record_error(exc)

    def _save(
        self,
        session: Session,
        inst: ProcessInstance,
        wf: runtime.ZWorkflow,
        version: LoadedVersion,
        *,
        read_version: int,
        audit: list[AuditEvent],
        base_status: str | None = None,
    ) -> tuple[str, str | None]:
        """Write state, index, timers, projection and audit; the caller commits.

        ``base_status`` overrides the stored status an operator action starts from
        (suspend, resume, terminate); the ORM row itself is never modified.
        """
        saver = Saver(session, self.clock())
        now = runtime.snapshot(wf)
        compacted = runtime.compact(wf, now, version.loaded)
        if compacted is not None:
            wf, now = compacted, runtime.snapshot(compacted)
        status, problem, error_task = instance_status(wf, now, base_status or inst.status)
        state = runtime.dump(self._serializer, wf)
        saver.write_instance(inst, state, status, problem, error_task, read_version, version.id)
        live = status != "terminated"
        ready = now.ready if live else []
        saver.sync_tasks(
            inst.id, [task_row_values(t, version, inst.id, inst.application_id) for t in ready]
        )
        if version.loaded.has_timers or inst.process_version_id != version.id:
            saver.sync_timers(inst.id, now.timers if live else [])
        before = after = None
        if inst.application_id is not None:
            before, after = saver.project_application(inst.application_id, wf, version, status, now)
        for event in audit:
            event.before_status = event.before_status or before
            event.after_status = after or status
            session.add(event)
        return status, problem

    def start(
        self,
        process_id: str,
        *,
        actor: Actor | None,
        data: Mapping[str, Any],
        application_id: int | None = None,
        business_key: str | None = None,
        version_id: int | None = None,
        session: Session | None = None,
    ) -> int:
        """Start an instance; pass ``session`` to join a caller's unit of work."""
        if session is not None:
            return self._start(
                session, process_id, actor, data, application_id, business_key, version_id
            )
        with self._uow() as uow:
            inst_id = self._start(
                uow.session, process_id, actor, data, application_id, business_key, version_id
            )
            uow.commit()
        return inst_id

    def _start(
        self,
        session: Session,
        process_id: str,
        actor: Actor | None,
        data: Mapping[str, Any],
        application_id: int | None,
        business_key: str | None,
        version_id: int | None,
    ) -> int:
        version = self.version(session, version_id or self.current_version_id(session, process_id))
        if version.process_id != process_id:
            raise NotFoundError(f"version {version_id} is not a version of {process_id!r}")
        now = self.clock()
        inst = ProcessInstance(
            process_version_id=version.id,
            process_id=process_id,
            status="running",
            state="{}",
            version=0,
            business_key=business_key,
            application_id=application_id,
            started_by=actor.id if actor else None,
            created_at=now,
            updated_at=now,
        )
        session.add(inst)
        # The instance row is written after the scripts ran, so no lock is held meanwhile.
        functions = ProcessFunctions(session, self.clock, None, self.committees())
        engine = script_engine(functions.table(), self.sandbox_limits)
        wf = runtime.new_workflow(version.loaded, str(version.id), dict(data), engine)
        self._advance(wf)
        session.flush()
        functions.bind_instance(inst.id)
        audit = [self._event(actor, inst, "start", None, None)]
        self._save(session, inst, wf, version, read_version=0, audit=audit)
        return inst.id

    def _event(
        self,
        actor: Actor | None,
        inst: ProcessInstance,
        action: str,
        task: HumanTask | None,
        data: Mapping[str, Any] | None,
        reason: str | None = None,
    ) -> AuditEvent:
        data = data or {}
        return audit_event(
            self.clock(),
            actor,
            action,
            instance_id=inst.id,
            application_id=inst.application_id,
            task_id=task.id if task else None,
            task_name=task.name if task else None,
            opinion=data.get("opinion"),
            reason=reason,
            detail={k: v for k, v in data.items() if _audited(k)} or None,
        )

    # ----- completing tasks -----------------------------------------------------------
    def _task_row(self, session: Session, task_id: str, actor: Actor) -> HumanTask:
        row = session.get(HumanTask, task_id)
        if row is None:
            done = session.scalars(
                select(AuditEvent.id).where(AuditEvent.task_id == task_id).limit(1)
            ).first()
            if done is not None:
                raise TaskNotReadyError("该任务已处理，不能重复提交")
            raise NotFoundError("任务不存在")
        if not may_act(actor, row):
            raise ForbiddenError("无权处理该任务")
        return row

    def complete(self, task_id: str, data: Mapping[str, Any], *, actor: Actor) -> CompleteResult:
        """Validate and complete one ready user task, run forward, save."""
        with self._uow() as uow:
            result = self._complete(uow.session, task_id, data, actor)
            uow.commit()
        return result

    def _complete(
        self, session: Session, task_id: str, data: Mapping[str, Any], actor: Actor
    ) -> CompleteResult:
        row = self._task_row(session, task_id, actor)
        inst = session.get(ProcessInstance, row.instance_id)
        if inst.status in ("suspended", "terminated", "completed", "error"):
            raise ConflictError(
                "流程实例已挂起、出错或已结束，暂不能办理任务", code="instance_" + inst.status
            )
        read_version = inst.version
        version = self.version(session, inst.process_version_id)
        meta = version.loaded.user_tasks[row.name]
        schema = version.forms.get(meta.form or "", {})
        if not isinstance(data, Mapping):
            forms.check(schema, data)
        wf = runtime.load(self._serializer, inst.state, self._script_engine(session, inst.id))
        task = runtime.find_task(wf, task_id)
        if task is None or task.state != TaskState.READY:
            raise TaskNotReadyError("该任务已处理，不能重复提交")
        # A prefilled form keeps its current values for fields the caller leaves out.
        current = forms.prefill(schema, task.data) if meta.prefill else {}
        data = forms.with_defaults(schema, {**current, **data})
        forms.check(schema, data)
        self._check_files(session, schema, data, actor)
        # Validators also see the application's data; the form's own fields come only from
        # this submission, never from an earlier step's values of the same names.
        own = schema.get("properties") or {}
        context = {**{k: v for k, v in task.data.items() if k not in own}, **data}
        for name in runtime.validator_names(meta.validator):
            self.validators[name](session, context, schema, meta.properties)
        if "marks" in (schema.get("properties") or {}):
            self._take_marks(version, task.data, data)
        task.data.update(dict(data))
        try:
            task.run()
        except WorkflowException as exc:
            runtime.record_error(exc)
        else:
            self._advance(wf)
        audit = [self._event(actor, inst, str(data.get("decision") or row.name), row, data)]
        status, problem = self._save(
            session, inst, wf, version, read_version=read_version, audit=audit
        )
        session.flush()
        next_rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id)).all()
        return CompleteResult(str(inst.id), status, [summary_of(r) for r in next_rows], problem)

    def _take_marks(
        self, version: LoadedVersion, current: Mapping[str, Any], data: dict[str, Any]
    ) -> None:
        """Check a review's marks (422 on ``marks``) and label them; a return also keeps the
        version it returned (the applicant's form values and the dossier) for the diff."""
        submission = self.submission_form(version)
        data["marks"] = marks.check(data.get("marks"), current, submission, self.dossier_form())
        if data.get("decision") == "return":
            data["returned_version"] = marks.roots(current, submission)

    def _check_files(self, session: Session, schema: Mapping, data: Mapping, actor: Actor) -> None:
        check_file_refs(session, schema, data, actor)

    def complete_many(
        self, task_ids: Iterable[str], data: Mapping[str, Any], *, actor: Actor
    ) -> list[dict[str, Any]]:
        """Complete several tasks with the same data; each succeeds or fails on its own."""
        results = []
        for task_id in task_ids:
            try:
                self.complete(str(task_id), data, actor=actor)
            except EngineError as exc:
                results.append(
                    {
                        "task_id": task_id,
                        "ok": False,
                        "error": {
                            "code": exc.code,
                            "message": exc.message,
                            **({"fields": exc.fields} if exc.fields else {}),
                        },
                    }
                )
            else:
                results.append({"task_id": task_id, "ok": True, "error": None})
        return results
