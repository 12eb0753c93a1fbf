"""Operator verbs: inspect, retry, reset, suspend, resume, terminate, migrate (one or many).

Every action needs a reason and leaves an audit event; each instance is its own
transaction, so a bulk action moves what it can and reports the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import runtime
from engine.audit import require_reason
from engine.errors import (
    ConflictError,
    EngineError,
    ForbiddenError,
    InvalidDataError,
    NotFoundError,
)
from engine.ids import parse_id
from engine.notices import phone_of, queue_notice
from engine.views import Actor, iso, jsonable
from storage import (
    AuditEvent,
    Dossier,
    HumanTask,
    Org,
    ProcessInstance,
    ProcessVersion,
    Timer,
    User,
)

ACTIVE = ("running", "waiting", "error", "suspended")
INSTANCE_STATUSES = (*ACTIVE, "completed", "terminated")
OVERDUE_GRACE = timedelta(minutes=5)
LONG_SUSPENSION = timedelta(days=7)


def _require_operator(actor: Actor) -> None:
    if not actor.is_admin:
        raise ForbiddenError("只有平台运维人员可以操作流程实例")


def _data_changes(
    task_name: str, before: Mapping[str, Any], merged: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The keys a retry changes in one task's data, each with its old and new value."""
    return [
        {
            "task": task_name,
            "key": str(key),
            "old": jsonable(before.get(key)),
            "new": jsonable(value),
            "was_set": key in before,
        }
        for key, value in merged.items()
        if key not in before or before[key] != value
    ]


class OperationVerbs:
    """Mixed into WorkflowEngine."""

    scheduler_running: Callable[[], bool] = staticmethod(lambda: True)

    # ----- reading ------------------------------------------------------------------
    def _problems(self, session: Session, inst: ProcessInstance) -> list[str]:
        now = self.clock()
        out = []
        if inst.status == "error":
            out.append(f"任务 {inst.error_task} 出错：{inst.problem}")
        overdue = session.scalars(
            select(Timer).where(
                Timer.instance_id == inst.id,
                Timer.status == "pending",
                Timer.due_at < now - OVERDUE_GRACE,
            )
        ).first()
        if overdue is not None:
            out.append(f"定时器 {overdue.name} 已到期未触发（到期 {iso(overdue.due_at)}）")
            if not self.scheduler_running():
                out.append("调度器未运行")
        for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id)):
            if task.org_id and not self._org_has_active_user(session, task.org_id):
                out.append(f"任务 {task.name} 所属机构 {task.org_id} 没有可办理的在岗账号")
        updated = (
            inst.updated_at
            if inst.updated_at.tzinfo
            else inst.updated_at.replace(tzinfo=now.tzinfo)
        )
        if inst.status == "suspended" and now - updated > LONG_SUSPENSION:
            out.append(f"已挂起超过 {LONG_SUSPENSION.days} 天")
        return out

    @staticmethod
    def _org_has_active_user(session: Session, org_id: str) -> bool:
        org = session.get(Org, org_id)
        if org is None or org.status != "active":
            return False
        return (
            session.scalars(
                select(User.id).where(User.org_id == org_id, User.active.is_(True))
            ).first()
            is not None
        )

    def _summary(self, session: Session, inst: ProcessInstance) -> dict[str, Any]:
        version = session.get(ProcessVersion, inst.process_version_id)
        problems = self._problems(session, inst)
        return {
            "id": str(inst.id),
            "process": inst.process_id,
            "version": version.version,
            "status": inst.status,
            "application_id": str(inst.application_id) if inst.application_id is not None else None,
            "business_key": inst.business_key,
            "updated_at": iso(inst.updated_at),
            "problem": "；".join(problems) or None,
            "problems": problems,
        }

    def list_instances(
        self,
        actor: Actor,
        *,
        status: str | None = None,
        stuck: bool = False,
        process: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Instances for operators; ``stuck`` keeps those with a problem (reason shown)."""
        _require_operator(actor)
        if status and status not in INSTANCE_STATUSES:
            raise InvalidDataError(
                "未知的实例状态",
                fields={"status": f"one of {', '.join(INSTANCE_STATUSES)}"},
            )
        with self._uow() as uow:
            session = uow.session
            query = select(ProcessInstance)
            if status:
                query = query.where(ProcessInstance.status == status)
            if process:
                query = query.where(ProcessInstance.process_id == process)
            if not stuck:
                total = session.scalar(select(func.count()).select_from(query.subquery()))
                rows = session.scalars(
                    query.order_by(ProcessInstance.updated_at.desc()).limit(limit).offset(offset)
                ).all()
                return [self._summary(session, r) for r in rows], int(total or 0)
            candidates = session.scalars(
                query.where(ProcessInstance.status.in_(ACTIVE)).order_by(ProcessInstance.updated_at)
            ).all()
            stuck_rows = [
                s for s in (self._summary(session, r) for r in candidates) if s["problems"]
            ]
            return stuck_rows[offset : offset + limit], len(stuck_rows)

    def _instance(self, session: Session, instance_id: int | str) -> ProcessInstance:
        key = parse_id(instance_id)
        inst = session.get(ProcessInstance, key) if key is not None else None
        if inst is None:
            raise NotFoundError("流程实例不存在")
        return inst

    def get_instance(self, instance_id: int | str, actor: Actor) -> dict[str, Any]:
        """One instance with its tasks, timers, data and history."""
        _require_operator(actor)
        with self._uow() as uow:
            session = uow.session
            inst = self._instance(session, instance_id)
            self.version(session, inst.process_version_id)
            wf = runtime.load(self._serializer, inst.state, None)
            tasks = [
                {
                    "id": str(t.id),
                    "name": t.task_spec.bpmn_id,
                    "title": t.task_spec.bpmn_name,
                    "state": TaskState.get_name(t.state),
                    "error": t.internal_data.get("error_message"),
                }
                for t in wf.get_tasks(
                    state=TaskState.READY | TaskState.WAITING | TaskState.ERROR | TaskState.STARTED
                )
                if t.task_spec.bpmn_id
            ]
            timers = [
                {
                    "id": str(t.id),
                    "name": t.name,
                    "due_at": iso(t.due_at),
                    "status": t.status,
                    "overdue": t.status == "pending" and _aware(t.due_at) <= self.clock(),
                }
                for t in session.scalars(select(Timer).where(Timer.instance_id == inst.id))
            ]
            history = [
                {
                    "at": iso(e.at),
                    "actor": e.actor_name,
                    "action": e.action,
                    "task": e.task_name,
                    "opinion": e.opinion,
                    "reason": e.reason,
                    "detail": e.detail,
                }
                for e in session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.instance_id == inst.id)
                    .order_by(AuditEvent.at, AuditEvent.id)
                )
            ]
            out = self._summary(session, inst)
            out.update(
                tasks=tasks, timers=timers, history=history, data=jsonable(runtime.latest_data(wf))
            )
            states = TaskState.COMPLETED | TaskState.READY | TaskState.ERROR
            out["reset_candidates"] = sorted(
                {t.task_spec.bpmn_id for t in wf.get_tasks(state=states) if t.task_spec.bpmn_id}
            )
            out["can"] = _allowed(inst.status)
            return out

    # ----- acting -------------------------------------------------------------------
    def _operate(
        self,
        instance_id: int | str,
        actor: Actor,
        reason: Any,
        action: str,
        act: Callable[[Session, ProcessInstance, runtime.ZWorkflow], str | None],
        detail: dict[str, Any] | None = None,
    ) -> dict:
        """Load, act, save with one audit event; ``act`` may fill ``detail`` for the event."""
        _require_operator(actor)
        why = require_reason(reason)
        with self._uow() as uow:
            session = uow.session
            inst = self._instance(session, instance_id)
            if inst.status in ("completed", "terminated"):
                raise ConflictError(
                    f"流程实例已{'办结' if inst.status == 'completed' else '终止'}，不能{action}",
                    code=f"instance_{inst.status}",
                )
            read_version = inst.version
            version = self.version(session, inst.process_version_id)
            wf = runtime.load(self._serializer, inst.state, self._script_engine(session, inst.id))
            new_status = act(session, inst, wf)
            event = self._event(actor, inst, action, None, None, reason=why)
            event.detail = detail or None
            status, problem = self._save(
                session,
                inst,
                wf,
                version,
                read_version=read_version,
                audit=[event],
                base_status=new_status,
            )
            uow.commit()
        return {"id": str(inst.id), "status": status, "action": action, "problem": problem}

    def retry(
        self,
        instance_id: int | str,
        actor: Actor,
        reason: Any,
        data: Mapping[str, Any] | None = None,
    ) -> dict:
        """Merge data into the errored task and run it again."""
        if data is not None and not isinstance(data, Mapping):
            raise InvalidDataError("data 必须是对象", fields={"data": "expected an object"})
        changes: list[dict[str, Any]] = []

        def act(session: Session, inst: ProcessInstance, wf: runtime.ZWorkflow) -> str | None:
            errored = runtime.snapshot(wf).errored
            if inst.status != "error" or not errored:
                raise ConflictError("实例没有出错的任务，无需重试", code="not_in_error")
            for task in errored:
                changes.extend(_data_changes(task.task_spec.bpmn_id, task.data, data or {}))
                task.data.update(dict(data or {}))
                task.internal_data.pop("error_message", None)
                task._set_state(TaskState.READY)
            self._advance(wf)
            return "running"

        detail: dict[str, Any] = {"data_changes": changes}
        return self._operate(instance_id, actor, reason, "retry", act, detail)

    def reset(self, instance_id: int | str, actor: Actor, reason: Any, task_name: Any) -> dict:
        """Move the instance back to the latest run of a task (by its BPMN id)."""

        def act(session: Session, inst: ProcessInstance, wf: runtime.ZWorkflow) -> str | None:
            if not isinstance(task_name, str) or not task_name:
                raise InvalidDataError("请指定任务", fields={"task": "必填"})
            runs = [
                t
                for t in wf.get_tasks()
                if t.task_spec.bpmn_id == task_name
                and t.state in (TaskState.COMPLETED, TaskState.READY, TaskState.ERROR)
            ]
            if not runs:
                raise InvalidDataError(
                    f"实例中没有可回退到的任务 {task_name!r}",
                    fields={"task": f"unknown task {task_name}"},
                )
            wf.reset_from_task_id(runs[-1].id)
            self._advance(wf)
            return "running" if inst.status != "suspended" else None

        return self._operate(instance_id, actor, reason, "reset", act)

    def suspend(self, instance_id: int | str, actor: Actor, reason: Any) -> dict:
        """Stop task completion and timers until resumed."""

        def act(session: Session, inst: ProcessInstance, wf: runtime.ZWorkflow) -> str | None:
            if inst.status == "suspended":
                raise ConflictError("实例已挂起", code="instance_suspended")
            return "suspended"

        return self._operate(instance_id, actor, reason, "suspend", act)

    def resume(self, instance_id: int | str, actor: Actor, reason: Any) -> dict:
        """Let a suspended instance go on (refused while a task is in error)."""

        def act(session: Session, inst: ProcessInstance, wf: runtime.ZWorkflow) -> str | None:
            if inst.status != "suspended":
                raise ConflictError("实例未挂起", code="not_suspended")
            return "running"

        return self._operate(instance_id, actor, reason, "resume", act)

    def terminate(self, instance_id: int | str, actor: Actor, reason: Any) -> dict:
        """Cancel every open task; the instance and its application end as terminated.

        A dossier under that review goes back to draft, and its applicant is told.
        """
        detail: dict[str, Any] = {}

        def act(session: Session, inst: ProcessInstance, wf: runtime.ZWorkflow) -> str | None:
            wf.cancel()
            reopened = _reopen_dossier(session, inst.id, self.clock())
            if reopened is not None:
                detail["dossier"] = reopened
            return "terminated"

        return self._operate(instance_id, actor, reason, "terminate", act, detail)

    # ----- migration ----------------------------------------------------------------
    def _migration_problems(self, wf: runtime.ZWorkflow, target: Any) -> list[str]:
        top, sp_diffs = diff_workflow(
            self._serializer.registry, wf, target.loaded.spec, target.loaded.subprocess_specs
        )
        problems = [
            f"任务 {t.task_spec.bpmn_id or t.task_spec.name} 在目标版本中不存在"
            for t in top.removed
        ]
        for sp_id, diff in sp_diffs.items():
            if diff is None:
                problems.append(f"子流程 {wf.subprocesses[sp_id].spec.name} 在目标版本中不存在")
            else:
                problems += [f"任务 {t.task_spec.bpmn_id} 在目标版本中不存在" for t in diff.removed]
        return problems

    def migrate(
        self, instance_id: int | str, actor: Actor, reason: Any, version: Any, dry_run: bool = False
    ) -> dict:
        """Move an instance to another version of its process (report only with dry_run)."""
        _require_operator(actor)
        why = require_reason(reason)
        if not isinstance(version, int) or isinstance(version, bool) or parse_id(version) is None:
            raise InvalidDataError(
                "请指定目标版本号", fields={"version": "expected a version number"}
            )
        with self._uow() as uow:
            session = uow.session
            inst = self._instance(session, instance_id)
            if inst.status in ("completed", "terminated"):
                raise ConflictError("已结束的实例不能迁移", code=f"instance_{inst.status}")
            target_row = session.scalars(
                select(ProcessVersion).where(
                    ProcessVersion.process_id == inst.process_id, ProcessVersion.version == version
                )
            ).first()
            if target_row is None:
                raise InvalidDataError(
                    f"{inst.process_id} 没有第 {version} 版", fields={"version": "unknown version"}
                )
            current = self.version(session, inst.process_version_id)
            target = self.version(session, target_row.id)
            wf = runtime.load(self._serializer, inst.state, self._script_engine(session, inst.id))
            problems = self._migration_problems(wf, target)
            report = {
                "id": str(inst.id),
                "from_version": current.version,
                "to_version": version,
                "ok": not problems,
                "problems": problems,
                "dry_run": dry_run,
            }
            if problems and not dry_run:
                raise InvalidDataError(
                    "该实例不能迁移到目标版本：" + "；".join(problems),
                    fields={"version": "；".join(problems)},
                )
            if dry_run or current.id == target.id:
                return report
            read_version = inst.version
            top, sp_diffs = diff_workflow(
                self._serializer.registry, wf, target.loaded.spec, target.loaded.subprocess_specs
            )
            migrate_workflow(top, wf, target.loaded.spec)
            for sp_id, sp in wf.subprocesses.items():
                migrate_workflow(sp_diffs[sp_id], sp, target.loaded.subprocess_specs[sp.spec.name])
            wf.subprocess_specs = target.loaded.subprocess_specs
            wf.spec_key = str(target.id)
            self._advance(wf)
            event = self._event(actor, inst, "migrate", None, None, reason=why)
            event.detail = {"from": current.version, "to": version}
            self._save(session, inst, wf, target, read_version=read_version, audit=[event])
            uow.commit()
        return report

    def bulk(
        self, action: str, ids: Iterable[str], actor: Actor, reason: Any, **kwargs: Any
    ) -> list[dict[str, Any]]:
        """Apply one action to many instances, each on its own; report per instance."""
        verbs = {
            "retry": self.retry,
            "suspend": self.suspend,
            "resume": self.resume,
            "terminate": self.terminate,
            "migrate": self.migrate,
        }
        if action not in verbs:
            raise InvalidDataError(f"未知操作 {action!r}", fields={"action": "unknown action"})
        _require_operator(actor)
        require_reason(reason)
        out = []
        for instance_id in ids:
            try:
                result = verbs[action](str(instance_id), actor, reason, **kwargs)
            except EngineError as exc:
                out.append(
                    {
                        "id": str(instance_id),
                        "ok": False,
                        "error": {"code": exc.code, "message": exc.message},
                    }
                )
            else:
                out.append({"id": str(instance_id), "ok": result.get("ok", True), "result": result})
        return out


def _reopen_dossier(session: Session, instance_id: int, now: datetime) -> dict | None:
    """Return the dossier this review instance holds to draft; notify its applicant."""
    dossier = session.scalars(
        select(Dossier).where(Dossier.instance_id == instance_id, Dossier.status == "submitted")
    ).first()
    if dossier is None:
        return None
    dossier.status, dossier.updated_at = "draft", now
    queue_notice(
        session,
        now=now,
        user_id=dossier.user_id,
        org_id=None,
        phone=phone_of(session, dossier.user_id, None),
        kind="dossier_reopened",
        text="您的业绩档案审核已由平台运维人员终止，档案已退回为草稿状态，"
        "您可以修改后重新提交单位审核。",
        instance_id=instance_id,
    )
    return {"id": dossier.id, "before": "submitted", "after": "draft"}


def _aware(value: Any) -> Any:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _allowed(status: str) -> dict[str, bool]:
    """Which operator actions fit an instance's status."""
    live = status not in ("completed", "terminated")
    return {
        "retry": status == "error",
        "reset": live,
        "suspend": live and status != "suspended",
        "resume": status == "suspended",
        "terminate": live,
        "migrate": live,
    }
