"""The read side of operations: an instance's problems, its list row and its detail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import runtime, statuses
from engine.dtos import (
    HistoryEntry,
    InstanceDetail,
    InstanceSummary,
    InstanceTask,
    InstanceTimer,
    OperatorActions,
)
from engine.views import iso, jsonable
from storage import AuditEvent, HumanTask, Org, ProcessInstance, ProcessVersion, Timer, User

OVERDUE_GRACE = timedelta(minutes=5)
LONG_SUSPENSION = timedelta(days=7)


def problems(
    session: Session, inst: ProcessInstance, now: datetime, scheduler_running: Callable[[], bool]
) -> list[str]:
    """What an operator should look at on an instance (empty when nothing)."""
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
        if not scheduler_running():
            out.append("调度器未运行")
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == inst.id)):
        if task.org_id and not _org_has_active_user(session, task.org_id):
            out.append(f"任务 {task.name} 所属机构 {task.org_id} 没有可办理的在岗账号")
    updated = (
        inst.updated_at if inst.updated_at.tzinfo else inst.updated_at.replace(tzinfo=now.tzinfo)
    )
    if inst.status == "suspended" and now - updated > LONG_SUSPENSION:
        out.append(f"已挂起超过 {LONG_SUSPENSION.days} 天")
    return out


def _org_has_active_user(session: Session, org_id: str) -> bool:
    org = session.get(Org, org_id)
    if org is None or org.status != "active":
        return False
    return (
        session.scalars(select(User.id).where(User.org_id == org_id, User.active.is_(True))).first()
        is not None
    )


def summary(
    session: Session, inst: ProcessInstance, now: datetime, scheduler_running: Callable[[], bool]
) -> InstanceSummary:
    """One instance as the operators' list shows it."""
    deployed_row = session.get_one(ProcessVersion, inst.process_version_id)
    return InstanceSummary(
        id=str(inst.id),
        process=inst.process_id,
        version_number=deployed_row.number,
        status=inst.status,
        application_id=str(inst.application_id) if inst.application_id is not None else None,
        business_key=inst.business_key,
        updated_at=iso(inst.updated_at),
        problems=tuple(problems(session, inst, now, scheduler_running)),
    )


def instance_detail(
    session: Session,
    inst: ProcessInstance,
    wf: runtime.ZWorkflow,
    now: datetime,
    head: InstanceSummary,
) -> InstanceDetail:
    """An instance's tasks, timers, history, data, reset targets and allowed actions."""
    tasks = tuple(
        InstanceTask(
            id=str(t.id),
            name=t.task_spec.bpmn_id,
            title=t.task_spec.bpmn_name,
            state=TaskState.get_name(t.state),
            error=t.internal_data.get("error_message"),
        )
        for t in wf.get_tasks(
            state=TaskState.READY | TaskState.WAITING | TaskState.ERROR | TaskState.STARTED
        )
        if t.task_spec.bpmn_id
    )
    timers = tuple(
        InstanceTimer(
            id=str(t.id),
            name=t.name,
            due_at=iso(t.due_at),
            status=t.status,
            overdue=t.status == "pending" and _aware(t.due_at) <= now,
        )
        for t in session.scalars(select(Timer).where(Timer.instance_id == inst.id))
    )
    history = tuple(
        HistoryEntry(
            at=iso(e.at),
            actor=e.actor_name,
            action=e.action,
            task=e.task_name,
            opinion=e.opinion,
            reason=e.reason,
            detail=e.detail,
        )
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.instance_id == inst.id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
    targets = reset_targets(wf)
    return InstanceDetail(
        summary=head,
        tasks=tasks,
        timers=timers,
        history=history,
        data=jsonable(runtime.latest_data(wf)),
        reset_candidates=tuple(sorted(t["task"] for t in targets)),
        reset_targets=tuple(targets),
        can=allowed(inst.status),
    )


def reset_targets(wf: runtime.ZWorkflow) -> list[dict[str, str]]:
    """The user tasks an operator may move the instance back to, by their BPMN title, in the
    order the instance reached them (gateways and scripts are no place for a person to redo)."""
    states = TaskState.COMPLETED | TaskState.READY | TaskState.ERROR
    seen: dict[str, str] = {}
    for task in wf.get_tasks(state=states):
        spec = task.task_spec
        if isinstance(spec, UserTask) and spec.bpmn_id and spec.bpmn_id not in seen:
            seen[spec.bpmn_id] = spec.bpmn_name or spec.bpmn_id
    return [{"task": bpmn_id, "title": title} for bpmn_id, title in seen.items()]


def _aware(value: Any) -> Any:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def allowed(status: str) -> OperatorActions:
    """Which operator actions fit an instance's status."""
    live = statuses.is_live_instance(status)
    return OperatorActions(
        retry=status == "error",
        reset=live,
        suspend=live and status != "suspended",
        resume=status == "suspended",
        terminate=live,
        migrate=live,
    )
