"""Every access rule, one function each; web pages and the API both ask them, never decide.

The rules read the role table of engine/roles.py. Which applications a role sees is a named
``Scope``: one declaration from which both the SQL filter (worklists, lists, exports) and the
check of one loaded row are made, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlalchemy import String, cast, false, or_, true
from sqlalchemy.sql.elements import ColumnElement

from engine import roles
from engine.views import Actor
from storage import Application


class ApplicationRow(Protocol):
    id: int
    applicant_id: int
    unit_org_id: str
    chain: list[str] | None


class TaskRow(Protocol):
    lane: str | None
    user_id: int | None
    org_id: str | None


@dataclass(frozen=True)
class Scope:
    """The applications whose ``column`` equals (or, for a list, holds) the actor's ``attribute``.

    ``column`` None: every application.
    """

    column: str | None
    attribute: str = "id"
    holds: bool = False


SCOPES: dict[str, Scope] = {
    "own": Scope("applicant_id", "id"),
    "unit": Scope("unit_org_id", "org_id"),
    "chain": Scope("chain", "org_id", holds=True),
    "all": Scope(None),
}


def _scope(actor: Actor) -> Scope | None:
    name = roles.role_of(actor.role).sees
    return SCOPES.get(name) if name else None


def _list_holds(column: Any, value: str | None) -> ColumnElement[bool]:
    escaped = (value or "").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(column, String).like(f'%"{escaped}"%', escape="\\")


def application_filter(actor: Actor) -> ColumnElement[bool]:
    """SQL condition on ``Application`` selecting the applications the actor may see."""
    scope = _scope(actor)
    if scope is None:
        return false()
    if scope.column is None:
        return true()
    column = getattr(Application, scope.column)
    value = getattr(actor, scope.attribute)
    return _list_holds(column, value) if scope.holds else column == value


def chain_holds(org_id: str | None) -> ColumnElement[bool]:
    """SQL condition on ``Application``: the org is a level of its review chain."""
    return _list_holds(Application.chain, org_id)


def routed_through(org_id: str) -> ColumnElement[bool]:
    """SQL condition on ``Application``: the org is its unit or a level of its chain."""
    return or_(Application.unit_org_id == org_id, _list_holds(Application.chain, org_id))


def may_see_application(
    actor: Actor,
    app: ApplicationRow,
    *,
    copied: Callable[[], bool] | None = None,
    seated: Callable[[], bool] | None = None,
) -> bool:
    """Whether an application is routed to (or owned by) the actor, or, when ``copied`` is
    given and says so, was copied to it (抄送: read only), or, for a role that sits on review
    panels, when ``seated`` says a session seats the actor to vote on it."""
    scope = _scope(actor)
    if scope is not None and scope.column is None:
        return True
    if scope is not None and scope.column is not None:
        have = getattr(app, scope.column)
        value = getattr(actor, scope.attribute)
        if value in (have or []) if scope.holds else have == value:
            return True
    if seated is not None and roles.role_of(actor.role).sits_on_panels and seated():
        return True
    return copied is not None and may_hand_off(actor) and copied()


def may_see_file(
    actor: Actor,
    owner_id: int | None,
    owner_org_id: str | None,
    owner_applications: Iterable[ApplicationRow] = (),
    *,
    copied: Callable[[ApplicationRow], bool] | None = None,
    seated: Callable[[ApplicationRow], bool] | None = None,
) -> bool:
    """Whether the actor may download a stored file: its own, its org's (for roles that see
    their org's applications), or of someone whose application the actor sees, by its role,
    a copy (抄送: ``copied``) or a seat on the panel voting on it (``seated``)."""
    if owner_id is not None and owner_id == actor.id:
        return True
    scope = _scope(actor)
    if scope is not None and scope.column is None:
        return True
    if scope is not None and scope.column == "unit_org_id":
        return owner_org_id is not None and owner_org_id == actor.org_id

    def sees(app: ApplicationRow) -> bool:
        return may_see_application(
            actor,
            app,
            copied=None if copied is None else partial(copied, app),
            seated=None if seated is None else partial(seated, app),
        )

    return owner_id is not None and any(sees(app) for app in owner_applications)


def may_use_file(actor: Actor, owner_id: int | None, owner_org_id: str | None) -> bool:
    """Whether the actor may put a stored file into a form: its own, or its org's for roles
    acting for their org."""
    if owner_id is not None and owner_id == actor.id:
        return True
    return owner_org_id is not None and owner_org_id == message_org(actor)


def awaiting_activation(actor: Actor) -> bool:
    """Whether the actor's self-registered org is not approved yet (only the entrustment
    certificate, the account itself and messages are open to it)."""
    return roles.role_of(actor.role).registers_org and actor.org_status != "active"


def may_act(
    actor: Actor,
    task: TaskRow,
    *,
    holder_id: int | None = None,
    stands_in_for: Collection[int] = (),
) -> bool:
    """Whether this user may see and complete this ready task.

    ``holder_id``: the account an org task was transferred to (转办); then only that account,
    or whoever stands in for it today (``stands_in_for``, 委派), may act on it.
    """
    if actor.role not in roles.lane_roles(task.lane):
        return False
    if not roles.role_of(actor.role).acts_for_org:
        return task.user_id == actor.id
    if actor.org_status != "active" and task.lane != roles.PLATFORM_LANE:
        return False
    if task.org_id is None or task.org_id != actor.org_id:
        return False
    return holder_id is None or holder_id == actor.id or holder_id in stands_in_for


def may_hand_off(actor: Actor) -> bool:
    """Whether the actor holds org tasks it may transfer, may name a stand-in while away and
    may copy applications (units and reviewers of an active org; not applicants or experts)."""
    role = roles.role_of(actor.role)
    return role.acts_for_org and bool(role.lanes) and actor.org_status == "active"


def may_transfer(actor: Actor, task: TaskRow) -> bool:
    """Whether a task the actor may act on can be transferred: an org task, not a personal one."""
    return may_hand_off(actor) and task.user_id is None and task.org_id is not None


def may_receive_task(role: str, org_id: str | None, active: bool, task: TaskRow) -> bool:
    """Whether an account (role, org, active) may be handed this org task (转办 target)."""
    if not active or not roles.role_of(role).acts_for_org:
        return False
    return role in roles.lane_roles(task.lane) and org_id is not None and org_id == task.org_id


def may_stand_in_for(actor: Actor, role: str, org_id: str | None, active: bool) -> bool:
    """Whether an account (role, org, active) may act for the actor while it is away."""
    return active and role == actor.role and org_id is not None and org_id == actor.org_id


def may_receive_copy(role: str, active: bool) -> bool:
    """Whether an account may be copied an application (抄送): accounts acting for an org."""
    return active and roles.role_of(role).acts_for_org and bool(roles.role_of(role).lanes)


def task_filter_for(actor: Actor) -> dict[str, Any]:
    """Column filters that select the tasks an actor may act on (for worklists).

    ``{"lanes": [...], "user_id": id}`` for roles acting as themselves; ``{"lanes": [...],
    "org_id": org}`` for roles acting for their org (no lanes while their org is inactive).
    """
    role = roles.role_of(actor.role)
    lanes = sorted(role.lanes)
    if not role.acts_for_org:
        return {"lanes": lanes, "user_id": actor.id}
    if actor.org_status != "active":
        lanes = [lane for lane in lanes if lane == roles.PLATFORM_LANE]
    return {"lanes": lanes, "org_id": actor.org_id}


def has_worklist(actor: Actor) -> bool:
    """Whether the actor acts on tasks at all (designers do not)."""
    return bool(roles.role_of(actor.role).lanes)


def message_org(actor: Actor) -> str | None:
    """The org whose in-app messages the actor reads besides its own (None: only its own).

    An applicant's org is its unit: messages to the unit (about other people) are not its.
    """
    return actor.org_id if roles.role_of(actor.role).acts_for_org else None


def may_read_message(
    actor: Actor, to_user: int | None, to_org: str | None, stands_in_for: Collection[int] = ()
) -> bool:
    """Whether an in-app message addressed to a user or an org is the actor's (messages to an
    account the actor stands in for today are its too)."""
    if to_user is not None:
        return to_user == actor.id or to_user in stands_in_for
    org = message_org(actor)
    return org is not None and to_org == org


def may_file(actor: Actor) -> bool:
    """Whether the actor keeps a dossier and files applications."""
    return roles.role_of(actor.role).files_applications


def is_unit_account(actor: Actor) -> bool:
    """Whether the actor speaks for a self-registered org (entrustment, unit pages)."""
    return roles.role_of(actor.role).registers_org


def reviews_levels(actor: Actor) -> bool:
    """Whether the actor reviews a level of the chain (recommend, batch approve, fee pages)."""
    return roles.role_of(actor.role).reviews_levels


def may_list_applications(actor: Actor) -> bool:
    """Whether the actor has an applications page (it sees some applications)."""
    return _scope(actor) is not None


def oversees(actor: Actor) -> bool:
    """Whether the actor sees every application and timer (platform staff)."""
    return roles.role_of(actor.role).oversees


def may_operate(actor: Actor) -> bool:
    """Whether the actor may repair instances, fire timers, start bare processes and keep the
    working-day calendar."""
    return roles.role_of(actor.role).operates


def may_deploy(actor: Actor) -> bool:
    """Whether the actor may validate, deploy and promote process definitions."""
    return roles.role_of(actor.role).deploys


def may_manage_unit(actor: Actor, unit_org_id: str) -> bool:
    """Whether the actor may act for this self-registered unit (its entrustment)."""
    return actor.org_id == unit_org_id or may_operate(actor)


def may_see_fee(actor: Actor, org_id: str, *, write: bool) -> bool:
    """Whether the actor may read (or, with ``write``, switch) this reviewing org's fee."""
    own = actor.org_id == org_id and reviews_levels(actor)
    return own or may_operate(actor) or (not write and oversees(actor))


def withdraw_side(actor: Actor, applicant_id: int, unit_org_id: str | None) -> str | None:
    """Who the actor withdraws an application as: its applicant, its unit, or nobody (None)."""
    if may_file(actor) and actor.id == applicant_id:
        return "applicant"
    if is_unit_account(actor) and actor.org_status == "active" and actor.org_id == unit_org_id:
        return "unit"
    return None


def may_revoke_certificate(
    actor: Actor, issuer_org_id: str | None, *, any_org: bool = False
) -> bool:
    """Whether the actor may revoke a certificate its issuing HRSS department (``issuer_org_id``)
    gave: that department's accounts and operators; ``any_org``: some certificate at all."""
    if may_operate(actor):
        return True
    if not roles.role_of(actor.role).issues_certificates or actor.org_status != "active":
        return False
    return any_org or (issuer_org_id is not None and actor.org_id == issuer_org_id)


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


def may_keep_cycles(actor: Actor, office_org_id: str) -> bool:
    """Whether the actor may open and close a committee's annual cycles (申报年度): an active
    account of the committee's office, or an operator."""
    own = actor.role == roles.OFFICE and actor.org_id == office_org_id
    return (own and actor.org_status == "active") or may_operate(actor)


def may_count_cycle(actor: Actor, office_org_id: str) -> bool:
    """Whether the actor sees how many applications a cycle holds (its office, overseers)."""
    return may_keep_cycles(actor, office_org_id) or oversees(actor)


def may_run_review(actor: Actor, office_org_id: str) -> bool:
    """Whether the actor runs a committee's review sessions (panel, attendance, objections):
    the same people who keep its cycles."""
    return may_keep_cycles(actor, office_org_id)


def keeps_cycles(actor: Actor) -> bool:
    """Whether the actor has the annual cycles page (a committee office's account, an
    operator); which committees it keeps is ``may_keep_cycles``."""
    office = actor.role == roles.OFFICE and actor.org_status == "active" and bool(actor.org_id)
    return office or may_operate(actor)
