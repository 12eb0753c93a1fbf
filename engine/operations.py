"""Operator verbs: inspect, retry, reset, suspend, resume, terminate, migrate (one or many).

Every action needs a reason and leaves an audit event; each instance is its own
transaction, so a bulk action moves what it can and reports the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import policy, runtime, statuses
from engine.audit import require_reason
from engine.clock import Clock
from engine.dtos import Failure, InstanceDetail, InstanceSummary, ItemOutcome
from engine.errors import (
    ConflictError,
    EngineError,
    ForbiddenError,
    InvalidDataError,
    NotFoundError,
)
from engine.ids import parse_id
from engine.instance_changes import data_changes, reopen_dossier
from engine.instance_views import instance_detail, summary
from engine.process_runtime import ProcessRuntime
from engine.views import Actor
from storage import (
    ProcessInstance,
    ProcessVersion,
    UnitOfWorkFactory,
)


def _require_operator(actor: Actor) -> None:
    if not policy.may_operate(actor):
        raise ForbiddenError("只有平台运维人员可以操作流程实例")


class Operations:
    """Operators inspect and act on instances; each action is one audited transaction."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        runtime: ProcessRuntime,
        *,
        clock: Clock,
        scheduler_running: Callable[[], bool] = lambda: True,
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.clock = clock
        self.scheduler_running = scheduler_running

    def list_instances(
        self,
        actor: Actor,
        *,
        status: str | None = None,
        stuck: bool = False,
        process: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[InstanceSummary], int]:
        """Instances for operators; ``stuck`` keeps those with a problem (reason shown)."""
        _require_operator(actor)
        if status and status not in statuses.INSTANCE_STATUSES:
            raise InvalidDataError(
                "未知的实例状态",
                fields={"status": f"应为以下之一：{'、'.join(statuses.INSTANCE_STATUSES)}"},
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
                query.where(statuses.live_instances()).order_by(ProcessInstance.updated_at)
            ).all()
            stuck_rows = [s for s in (self._summary(session, r) for r in candidates) if s.problems]
            return stuck_rows[offset : offset + limit], len(stuck_rows)

    def start_bare(
        self, process_id: str, data: Mapping[str, Any], *, actor: Actor, version: int | None = None
    ) -> int:
        """Start an instance outside any application (trial runs, system processes)."""
        if not policy.may_operate(actor):
            raise ForbiddenError("只有平台管理员可以直接启动流程")
        if version is not None and parse_id(version) is None:
            raise NotFoundError(f"{process_id} 没有这个版本")
        with self._uow() as uow:
            version_id = None
            if version is not None:
                version_id = uow.session.scalars(
                    select(ProcessVersion.id).where(
                        ProcessVersion.process_id == process_id, ProcessVersion.number == version
                    )
                ).first()
                if version_id is None:
                    raise NotFoundError(f"{process_id} 没有第 {version} 版")
            inst_id = self.runtime.start(
                uow.session, process_id, actor=actor, data=dict(data), version_id=version_id
            )
            uow.commit()
        return inst_id

    def _instance(self, session: Session, instance_id: int | str) -> ProcessInstance:
        key = parse_id(instance_id)
        inst = session.get(ProcessInstance, key) if key is not None else None
        if inst is None:
            raise NotFoundError("流程实例不存在")
        return inst

    def get_instance(self, instance_id: int | str, actor: Actor) -> InstanceDetail:
        """One instance with its tasks, timers, data and history."""
        _require_operator(actor)
        with self._uow() as uow:
            session = uow.session
            inst = self._instance(session, instance_id)
            wf = self.runtime.load(session, inst, scripts=False)
            return instance_detail(session, inst, wf, self.clock(), self._summary(session, inst))

    def _summary(self, session: Session, inst: ProcessInstance) -> InstanceSummary:
        return summary(session, inst, self.clock(), self.scheduler_running)

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
            if not statuses.is_live_instance(inst.status):
                raise ConflictError(
                    f"流程实例已{'办结' if inst.status == 'completed' else '终止'}，不能{action}",
                    code=f"instance_{inst.status}",
                )
            read_revision = inst.revision
            deployed = self.runtime.deployed_spec(session, inst.process_version_id)
            wf = self.runtime.load(session, inst)
            new_status = act(session, inst, wf)
            event = self.runtime.event(actor, inst, action, reason=why)
            event.detail = detail or None
            saved = self.runtime.save(
                session,
                inst,
                wf,
                deployed,
                read_revision=read_revision,
                audit=[event],
                base_status=new_status,
            )
            uow.commit()
        return {
            "id": str(inst.id),
            "status": saved.status,
            "action": action,
            "problem": saved.problem,
        }

    def retry(
        self,
        instance_id: int | str,
        actor: Actor,
        reason: Any,
        data: Mapping[str, Any] | None = None,
    ) -> dict:
        """Merge data into the errored task and run it again."""
        if data is not None and not isinstance(data, Mapping):
            raise InvalidDataError("data 必须是对象", fields={"data": "应为 JSON 对象"})
        changes: list[dict[str, Any]] = []

        def act(session: Session, inst: ProcessInstance, wf: runtime.ZWorkflow) -> str | None:
            errored = runtime.snapshot(wf).errored
            if inst.status != "error" or not errored:
                raise ConflictError("实例没有出错的任务，无需重试", code="not_in_error")
            for task in errored:
                changes.extend(data_changes(task.task_spec.bpmn_id, task.data, data or {}))
                task.data.update(dict(data or {}))
                task.internal_data.pop("error_message", None)
                task._set_state(TaskState.READY)
            self.runtime.advance(wf)
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
                    f"实例中没有可回退到的任务 {task_name!r} (unknown task)",
                    fields={"task": f"流程中没有任务 {task_name}"},
                )
            wf.reset_from_task_id(runs[-1].id)
            self.runtime.advance(wf)
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
            reopened = reopen_dossier(session, inst.id, self.clock())
            if reopened is not None:
                detail["dossier"] = reopened
            return "terminated"

        return self._operate(instance_id, actor, reason, "terminate", act, detail)

    # ----- migration ----------------------------------------------------------------
    def _migration_problems(self, wf: runtime.ZWorkflow, target: Any) -> list[str]:
        top, sp_diffs = diff_workflow(
            self.runtime.registry, wf, target.loaded.spec, target.loaded.subprocess_specs
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
            raise InvalidDataError("请指定目标版本号", fields={"version": "应为版本号（正整数）"})
        with self._uow() as uow:
            session = uow.session
            inst = self._instance(session, instance_id)
            if not statuses.is_live_instance(inst.status):
                raise ConflictError("已结束的实例不能迁移", code=f"instance_{inst.status}")
            target_row = session.scalars(
                select(ProcessVersion).where(
                    ProcessVersion.process_id == inst.process_id, ProcessVersion.number == version
                )
            ).first()
            if target_row is None:
                raise InvalidDataError(
                    f"{inst.process_id} 没有第 {version} 版", fields={"version": "没有这个版本"}
                )
            current = self.runtime.deployed_spec(session, inst.process_version_id)
            target = self.runtime.deployed_spec(session, target_row.id)
            wf = self.runtime.load(session, inst)
            problems = self._migration_problems(wf, target)
            report = {
                "id": str(inst.id),
                "from_version": current.number,
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
            read_revision = inst.revision
            top, sp_diffs = diff_workflow(
                self.runtime.registry, wf, target.loaded.spec, target.loaded.subprocess_specs
            )
            migrate_workflow(top, wf, target.loaded.spec)
            for sp_id, sp in wf.subprocesses.items():
                migrate_workflow(sp_diffs[sp_id], sp, target.loaded.subprocess_specs[sp.spec.name])
            wf.subprocess_specs = target.loaded.subprocess_specs
            wf.spec_key = str(target.id)
            self.runtime.advance(wf)
            event = self.runtime.event(actor, inst, "migrate", reason=why)
            event.detail = {"from": current.number, "to": version}
            self.runtime.save(session, inst, wf, target, read_revision=read_revision, audit=[event])
            uow.commit()
        return report

    def bulk(
        self, action: str, ids: Iterable[str], actor: Actor, reason: Any, **kwargs: Any
    ) -> list[ItemOutcome]:
        """Apply one action to many instances, each on its own; report per instance."""
        verbs: dict[str, Callable[..., dict[str, Any]]] = {
            "retry": self.retry,
            "suspend": self.suspend,
            "resume": self.resume,
            "terminate": self.terminate,
            "migrate": self.migrate,
        }
        if action not in verbs:
            raise InvalidDataError(f"未知操作 {action!r}", fields={"action": "未知操作"})
        _require_operator(actor)
        require_reason(reason)
        out = []
        for instance_id in ids:
            try:
                result = verbs[action](str(instance_id), actor, reason, **kwargs)
            except EngineError as exc:
                out.append(ItemOutcome(str(instance_id), False, failure=Failure.of(exc)))
            else:
                out.append(ItemOutcome(str(instance_id), result.get("ok", True), result=result))
        return out
