"""Task index rows as the API shows them; the marks of the latest return."""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import save_statements as statements
from engine.errors import ForbiddenError, NotFoundError, TaskNotReadyError
from engine.handoff_state import act_terms, holder_terms
from engine.policy import may_act
from engine.views import Actor, TaskSummary, iso
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


def ready_task_row(
    session: Session, task_id: str, actor: Actor, *, to_act: bool, today: date | None = None
) -> HumanTask:
    """The index row of a ready task the actor may open (``to_act``: complete) it.

    404 for an unknown task, 409 when it was done already, 403 when it is not the actor's
    (a transferred task is its holder's, and on ``today`` its stand-in's).
    """
    row = session.get(HumanTask, task_id)
    if row is None:
        _gone(session, task_id, to_act=to_act)
    if not may_act(actor, row, **act_terms(session, task_id, actor, today)):
        raise ForbiddenError(f"无权{'处理' if to_act else '查看'}该任务")
    return row


def _gone(session: Session, task_id: str, *, to_act: bool) -> NoReturn:
    """409 for a task done already, 404 for one that never was."""
    done = session.scalars(select(AuditEvent.id).where(AuditEvent.task_id == task_id).limit(1))
    if done.first() is not None:
        again = "，不能重复提交" if to_act else ""
        raise TaskNotReadyError(f"该任务已处理{again} (task is no longer ready)")
    raise NotFoundError("任务不存在")


@dataclass(frozen=True)
class TaskToComplete:
    """A ready task the actor may complete, with what completing it reads first."""

    row: HumanTask
    instance: ProcessInstance
    holder_id: int | None  # the account it was transferred to (转办), if any
    application_status: str | None  # its application's status (None: no application)


def task_to_complete(
    session: Session, task_id: str, actor: Actor, *, today: date
) -> TaskToComplete:
    """``ready_task_row(to_act=True)``, its instance, holder and application status read in
    one statement (404, 409 and 403 as there)."""
    found = session.execute(statements.task_to_complete(), {"task_id": task_id}).first()
    if found is None:
        _gone(session, task_id, to_act=True)
    row, inst, holder, app_status = found
    if not may_act(actor, row, **holder_terms(session, holder, actor, today)):
        raise ForbiddenError("无权处理该任务")
    return TaskToComplete(row, inst, holder, app_status)


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


def with_mark_choices(schema: dict[str, Any], choices: list[dict[str, str]]) -> dict[str, Any]:
    """The review form with this application's items offered for a mark's path."""
    out = deepcopy(schema)
    path = (((out["properties"]["marks"].get("items") or {}).get("properties")) or {}).get("path")
    if isinstance(path, dict) and choices:
        path["oneOf"] = choices
    return out
