"""The one rule of who may act on a task; web pages and the API both ask it."""

from __future__ import annotations

from engine.views import Actor
from storage import HumanTask

REVIEWER_ROLES = {"dept", "hrss", "office"}
LANE_ROLES = {
    "applicant": {"applicant"},
    "unit": {"unit"},
    "reviewer": REVIEWER_ROLES,
    "platform": {"admin", "platform"},
}


def may_act(actor: Actor, task: HumanTask) -> bool:
    """Whether this user may see and complete this ready task."""
    if actor.role not in LANE_ROLES.get(task.lane or "", set()):
        return False
    if task.lane == "applicant":
        return task.user_id == actor.id
    if actor.org_status != "active" and task.lane != "platform":
        return False
    return task.org_id is not None and task.org_id == actor.org_id


def task_filter_for(actor: Actor) -> dict:
    """Column filters that select the tasks an actor may act on (for worklists)."""
    if actor.role == "applicant":
        return {"lane": "applicant", "user_id": actor.id}
    lanes = [lane for lane, roles in LANE_ROLES.items() if actor.role in roles]
    return {"lanes": lanes, "org_id": actor.org_id}
