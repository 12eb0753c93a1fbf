"""Hand-off state read inside other verbs' sessions: who holds a transferred task (转办),
whom an account stands in for today (委派), whether an application was copied to it (抄送).

Stand-ins go one step only: B standing in for A acts on A's tasks, never on the tasks of
whoever A stands in for, and B's own stand-in does not act on A's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from engine.views import Actor, TaskSummary, iso
from storage import ApplicationCopy, Notification, StandIn, TaskTransfer, User


def stands_in_for(session: Session, user_id: int, today: date) -> list[int]:
    """The accounts this one stands in for on ``today`` (China date)."""
    return list(
        session.scalars(
            select(StandIn.user_id).where(
                StandIn.stand_in_id == user_id,
                StandIn.starts_on <= today,
                StandIn.ends_on >= today,
            )
        )
    )


def holder_of(session: Session, task_id: str) -> int | None:
    """The account a task was transferred to (None: the org's, as the diagram made it)."""
    row = session.get(TaskTransfer, task_id)
    return row.holder_id if row is not None else None


def act_terms(session: Session, task_id: str, actor: Actor, today: date | None) -> dict[str, Any]:
    """The hand-off arguments of ``policy.may_act`` for this task and actor."""
    return holder_terms(session, holder_of(session, task_id), actor, today)


def holder_terms(
    session: Session, holder: int | None, actor: Actor, today: date | None
) -> dict[str, Any]:
    """``act_terms`` when the task's holder (None: not transferred) was read already."""
    if holder is None or holder == actor.id or today is None:
        return {"holder_id": holder}
    return {"holder_id": holder, "stands_in_for": stands_in_for(session, actor.id, today)}


def is_copied(session: Session, application_id: int, user_id: int) -> bool:
    """Whether the application was copied to the account."""
    return (
        session.scalar(
            select(ApplicationCopy.id).where(
                ApplicationCopy.application_id == application_id,
                ApplicationCopy.user_id == user_id,
            )
        )
        is not None
    )


def with_handoffs(
    session: Session, summaries: Iterable[TaskSummary], actor: Actor
) -> list[TaskSummary]:
    """Task summaries marked 已转办 (transferred, by whom and why) and 代办 (委派自 X)."""
    items = list(summaries)
    rows = {
        t.task_id: t
        for t in session.scalars(
            select(TaskTransfer).where(TaskTransfer.task_id.in_([s.id for s in items]))
        )
    }
    if not rows:
        return items
    ids = {r.holder_id for r in rows.values()} | {r.from_id for r in rows.values()}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    out = []
    for summary in items:
        row = rows.get(summary.id)
        if row is None:
            out.append(summary)
            continue
        mark: dict[str, Any] = {
            "holder": names.get(row.holder_id),
            "from": names.get(row.from_id),
            "reason": row.reason,
            "at": iso(row.at),
            "stand_in_for": names.get(row.holder_id) if row.holder_id != actor.id else None,
        }
        out.append(replace(summary, handoff=mark))
    return out


def handoff_note(action: str, detail: dict[str, Any]) -> str | None:
    """What the timeline says of a hand-off: to whom a task was transferred or an application
    copied, or on whose behalf a stand-in acted (Chinese)."""
    if action == "task_transferred":
        return f"转办给 {detail.get('to_name') or detail.get('to')}"
    if action == "application_cc":
        return f"抄送给 {'、'.join(detail.get('to_names') or detail.get('to') or [])}"
    if detail.get("on_behalf_of"):
        return f"代 {detail.get('on_behalf_of_name') or detail['on_behalf_of']} 办理（委派）"
    return None


def addressed_to(
    session: Session, user_id: int, org_id: str | None, today: date
) -> tuple[ColumnElement[bool], dict[int, str]]:
    """Which in-app messages an account reads: its own, its org's (``org_id``) and, on
    ``today``, those of the accounts it stands in for (委派), whose names come second."""
    absent = stands_in_for(session, user_id, today)
    mine: ColumnElement[bool] = Notification.user_id.in_([user_id, *absent])
    if org_id:
        mine = or_(mine, and_(Notification.user_id.is_(None), Notification.org_id == org_id))
    if not absent:
        return mine, {}
    return mine, dict(session.execute(select(User.id, User.name).where(User.id.in_(absent))).all())
