"""Access rules, one function each; web pages and the API both ask them."""

from __future__ import annotations

from engine.views import Actor
from storage import HumanTask

REVIEWER_ROLES = {"dept", "hrss", "office"}
# Validate, deploy and promote process definitions, view their diagrams. Designers get no
# operator powers (instances, timers); admins are operators and designers both.
DEPLOY_ROLES = {"admin", "designer"}
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


def may_deploy(actor: Actor) -> bool:
    """Whether this user may validate, deploy and promote process definitions."""
    return actor.role in DEPLOY_ROLES


def withdraw_side(actor: Actor, applicant_id: int, unit_org_id: str | None) -> str | None:
    """Who the actor withdraws an application as: its applicant, its unit, or nobody (None)."""
    if actor.role == "applicant" and actor.id == applicant_id:
        return "applicant"
    if actor.role == "unit" and actor.org_status == "active" and actor.org_id == unit_org_id:
        return "unit"
    return None


# Who sees the dashboard of the whole review, and over which applications.
DASHBOARD_SCOPES = {"admin": "all", "platform": "all", "office": "committees", "hrss": "chain"}


def dashboard_scope(actor: Actor) -> str | None:
    """Which applications the actor's dashboard counts: ``all`` (the platform), ``committees``
    (an office: those of the committees it is the office of), ``chain`` (an HRSS department:
    those whose review chain passes it), or None (no dashboard for this role)."""
    if actor.role in ("office", "hrss") and (actor.org_status != "active" or not actor.org_id):
        return None
    return DASHBOARD_SCOPES.get(actor.role)


def may_see_dashboard(actor: Actor) -> bool:
    """Whether this user may open the dashboard."""
    return dashboard_scope(actor) is not None
