"""Reviewers' hand-offs: 转办 (a task to a colleague), 委派 (a stand-in while away), 抄送 (an
application copied to someone for information). Each verb is one unit of work, audited, and
tells the people it concerns by in-app message.

Who may do what is engine/policy.py's (``may_transfer``, ``may_receive_task``,
``may_stand_in_for``, ``may_receive_copy``); what the state means to worklists and task
access is engine/handoff_state.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import policy
from engine.applications import visible_application
from engine.audit import audit_event
from engine.clock import CHINA_TZ, Clock
from engine.errors import ConflictError, ForbiddenError, InvalidDataError, NotFoundError
from engine.handoff_input import copy_request, stand_in_request, transfer_request
from engine.notices import message_user
from engine.queries import ready_task_row
from engine.views import Actor, iso
from storage import (
    Application,
    ApplicationCopy,
    HumanTask,
    Org,
    StandIn,
    TaskTransfer,
    UnitOfWorkFactory,
    User,
)


def _person(user: User) -> dict[str, Any]:
    return {"username": user.username, "name": user.name}


def _range(row: StandIn, today: date) -> dict[str, Any]:
    return {
        "from": row.starts_on.isoformat(),
        "until": row.ends_on.isoformat(),
        "active": row.starts_on <= today <= row.ends_on,
    }


def _subject(app: Application, applicant: User | None) -> str:
    who = applicant.name if applicant else ""
    return f"申报编号 {app.id}（{who} {app.series}{app.level} {app.specialty}）"


class Handoffs:
    """POST /tasks/<id>/transfer, PUT/GET/DELETE /me/stand-in, POST /applications/<id>/cc,
    GET /me/cc, and the choices the pages offer."""

    def __init__(self, uow_factory: UnitOfWorkFactory, *, clock: Clock) -> None:
        self._uow = uow_factory
        self.clock = clock

    def _today(self) -> date:
        return self.clock().astimezone(CHINA_TZ).date()

    # ----- 转办 -----------------------------------------------------------------------
    def _transferable(self, session: Session, task_id: str, actor: Actor) -> HumanTask:
        row = ready_task_row(session, task_id, actor, to_act=True, today=self._today())
        if not policy.may_transfer(actor, row):
            raise ForbiddenError("个人任务（申报人本人或专家本人的任务）不能转办")
        return row

    def _colleagues(self, session: Session, row: HumanTask, actor: Actor) -> list[User]:
        holder = session.get(TaskTransfer, row.id)
        keep = holder.holder_id if holder is not None else actor.id
        users = session.scalars(
            select(User).where(User.org_id == row.org_id, User.id != keep).order_by(User.id)
        ).all()
        return [u for u in users if policy.may_receive_task(u.role, u.org_id, u.active, row)]

    def transfer_candidates(self, task_id: str, actor: Actor) -> list[dict[str, Any]]:
        """The colleagues the actor may transfer this task to ([] when it may not)."""
        with self._uow() as uow:
            row = ready_task_row(uow.session, task_id, actor, to_act=True, today=self._today())
            if not policy.may_transfer(actor, row):
                return []
            return [_person(u) for u in self._colleagues(uow.session, row, actor)]

    def transfer(self, task_id: str, body: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        """转办: hand an org task to a colleague who may act on it; only they (and their
        stand-in) see and complete it from then on."""
        with self._uow() as uow:
            session = uow.session
            row = self._transferable(session, task_id, actor)
            to, reason = transfer_request(body)
            target = session.scalars(select(User).where(User.username == to)).first()
            if target is None or target.id not in {
                u.id for u in self._colleagues(session, row, actor)
            }:
                why = "不能转办给自己" if target is not None and target.id == actor.id else None
                raise InvalidDataError(
                    "转办对象不符合要求",
                    fields={"to": why or f"{to} 不是本单位可办理该任务的在岗同事"},
                )
            now = self.clock()
            held = session.get(TaskTransfer, row.id)
            if held is None:
                held = TaskTransfer(task_id=row.id, instance_id=row.instance_id)
                session.add(held)
            held.holder_id, held.from_id, held.reason, held.at = target.id, actor.id, reason, now
            detail = {"to": target.username, "to_name": target.name, "from": actor.username}
            session.add(
                audit_event(
                    now,
                    actor,
                    "task_transferred",
                    instance_id=row.instance_id,
                    application_id=row.application_id,
                    task_id=row.id,
                    task_name=row.name,
                    reason=reason,
                    detail=detail,
                )
            )
            message_user(
                session,
                now=now,
                user_id=target.id,
                kind="task_transferred",
                text=f"转办：{actor.name}将「{row.title}」转给您办理"
                + (f"（申报编号 {row.application_id}）" if row.application_id else "")
                + f"。转办原因：{reason}",
                instance_id=row.instance_id,
            )
            uow.commit()
            return {"task_id": row.id, "to": _person(target), "reason": reason, "at": iso(now)}

    # ----- 委派 -----------------------------------------------------------------------
    def _state(self, session: Session, actor: Actor) -> dict[str, Any]:
        today = self._today()
        own = session.get(StandIn, actor.id)
        stand_in = None
        if own is not None and own.ends_on >= today:  # an expired setting is no setting
            stand_in = {**_person(session.get_one(User, own.stand_in_id)), **_range(own, today)}
        rows = session.scalars(
            select(StandIn).where(StandIn.stand_in_id == actor.id, StandIn.ends_on >= today)
        ).all()
        absent = [{**_person(session.get_one(User, r.user_id)), **_range(r, today)} for r in rows]
        return {"stand_in": stand_in, "standing_in_for": absent}

    def stand_in(self, actor: Actor) -> dict[str, Any]:
        """The actor's stand-in (委派) and the colleagues it stands in for now or later."""
        with self._uow() as uow:
            return self._state(uow.session, actor)

    def stand_in_candidates(self, actor: Actor) -> list[dict[str, Any]]:
        """Colleagues of the same org and role who may stand in for the actor."""
        if not policy.may_hand_off(actor):
            return []
        with self._uow() as uow:
            users = uow.session.scalars(
                select(User).where(User.org_id == actor.org_id, User.id != actor.id)
            ).all()
            return [
                _person(u)
                for u in users
                if policy.may_stand_in_for(actor, u.role, u.org_id, u.active)
            ]

    def set_stand_in(self, body: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        """委派: name a colleague who acts for the actor from ``from`` to ``until``."""
        if not policy.may_hand_off(actor):
            raise ForbiddenError("只有单位和审核部门的账号可以设置委派")
        today = self._today()
        to, start, end = stand_in_request(body, today)
        with self._uow() as uow:
            session = uow.session
            target = session.scalars(select(User).where(User.username == to)).first()
            if target is None or target.id == actor.id:
                why = "不能委派给自己" if target is not None else f"没有用户 {to}"
                raise InvalidDataError("委派对象不符合要求", fields={"to": why})
            if not policy.may_stand_in_for(actor, target.role, target.org_id, target.active):
                raise InvalidDataError(
                    "委派对象不符合要求", fields={"to": f"{to} 不是本单位同一岗位的在岗同事"}
                )
            # No chains: a stand-in who is away then, or an actor who stands in for someone
            # then, would leave the tasks with nobody at work.
            away = session.get(StandIn, target.id)
            if away is not None and away.starts_on <= end and away.ends_on >= max(start, today):
                raise InvalidDataError(
                    "委派对象在此期间不在岗",
                    fields={"to": f"{target.name}在此期间也已委派他人代办，请另选同事"},
                )
            covering = session.scalars(
                select(StandIn).where(
                    StandIn.stand_in_id == actor.id,
                    StandIn.starts_on <= end,
                    StandIn.ends_on >= max(start, today),
                )
            ).first()
            if covering is not None:
                absent = session.get_one(User, covering.user_id)
                raise ConflictError(
                    f"您在此期间是{absent.name}的代办人，不能同时委派他人；"
                    f"请先请{absent.name}另行委派",
                    code="stand_in_chain",
                )
            now = self.clock()
            row = session.get(StandIn, actor.id)
            if row is None:
                row = StandIn(user_id=actor.id)
                session.add(row)
            row.stand_in_id, row.starts_on, row.ends_on, row.set_at = target.id, start, end, now
            span = f"{start.isoformat()} 至 {end.isoformat()}"
            detail = {"to": target.username, "from": start.isoformat(), "until": end.isoformat()}
            session.add(audit_event(now, actor, "stand_in_set", detail=detail))
            message_user(
                session,
                now=now,
                user_id=target.id,
                kind="stand_in_set",
                text=f"委派：{actor.name}在 {span} 期间不在岗，请您代为办理转给其本人的任务；"
                "期间发给其本人的消息您也会收到。",
            )
            session.flush()
            state = self._state(session, actor)
            uow.commit()
            return state

    def end_stand_in(self, actor: Actor) -> dict[str, Any]:
        """End the actor's 委派 now (404 when none is set)."""
        with self._uow() as uow:
            session = uow.session
            row = session.get(StandIn, actor.id)
            if row is None:
                raise NotFoundError("您没有设置委派")
            target = session.get_one(User, row.stand_in_id)
            now = self.clock()
            detail = {
                "to": target.username,
                "from": row.starts_on.isoformat(),
                "until": row.ends_on.isoformat(),
            }
            session.delete(row)
            session.add(audit_event(now, actor, "stand_in_ended", detail=detail))
            message_user(
                session,
                now=now,
                user_id=target.id,
                kind="stand_in_ended",
                text=f"委派结束：{actor.name}已回岗，您不再代其办理任务。",
            )
            session.flush()
            state = self._state(session, actor)
            uow.commit()
            return state

    # ----- 抄送 -----------------------------------------------------------------------
    def _copyable(self, session: Session, application_id: int | str, actor: Actor) -> Application:
        app = visible_application(session, application_id, actor)
        if not policy.may_hand_off(actor):
            raise ForbiddenError("只有单位和审核部门的账号可以抄送")
        return app

    def _recipients(self, session: Session, app: Application, actor: Actor) -> list[User]:
        orgs = {actor.org_id, app.unit_org_id, *(app.chain or [])}
        users = session.scalars(
            select(User).where(User.org_id.in_(orgs), User.id != actor.id).order_by(User.id)
        ).all()
        return [u for u in users if policy.may_receive_copy(u.role, u.active)]

    def copy_candidates(self, application_id: int | str, actor: Actor) -> list[dict[str, Any]]:
        """Whom the actor may copy the application to ([] when it may not copy it)."""
        with self._uow() as uow:
            session = uow.session
            app = visible_application(session, application_id, actor, copies=True)
            if not policy.may_hand_off(actor) or not policy.may_see_application(actor, app):
                return []  # a copy is for reading: no copying on
            names = dict(session.execute(select(Org.id, Org.name)).all())
            return [
                {**_person(u), "org": names.get(u.org_id or "", u.org_id)}
                for u in self._recipients(session, app, actor)
            ]

    def copy(
        self, application_id: int | str, body: Mapping[str, Any], actor: Actor
    ) -> dict[str, Any]:
        """抄送: each recipient gets an in-app message and may read the application."""
        with self._uow() as uow:
            session = uow.session
            app = self._copyable(session, application_id, actor)
            usernames, note = copy_request(body)
            allowed = {u.username: u for u in self._recipients(session, app, actor)}
            refused = [u for u in usernames if u not in allowed]
            if refused:
                raise InvalidDataError(
                    "抄送对象不符合要求",
                    fields={
                        "to": f"不能抄送给：{'、'.join(refused)}（须为本单位、申报单位或"
                        "审核链上各部门的在岗账号）"
                    },
                )
            now = self.clock()
            applicant = session.get(User, app.applicant_id)
            people = [allowed[u] for u in usernames]
            for person in people:
                row = session.scalars(
                    select(ApplicationCopy).where(
                        ApplicationCopy.application_id == app.id,
                        ApplicationCopy.user_id == person.id,
                    )
                ).first()
                if row is None:
                    row = ApplicationCopy(application_id=app.id, user_id=person.id)
                    session.add(row)
                row.by_id, row.note, row.at = actor.id, note, now
                message_user(
                    session,
                    now=now,
                    user_id=person.id,
                    kind="application_cc",
                    text=f"抄送：{actor.name}将{_subject(app, applicant)}抄送给您阅知"
                    + (f"。附言：{note}" if note else "。"),
                    instance_id=app.instance_id,
                )
            detail = {"to": usernames, "to_names": [p.name for p in people]}
            session.add(
                audit_event(
                    now,
                    actor,
                    "application_cc",
                    instance_id=app.instance_id,
                    application_id=app.id,
                    opinion=note,
                    detail=detail,
                )
            )
            uow.commit()
            return {"application_id": str(app.id), "to": usernames, "note": note, "at": iso(now)}

    def copies_to_me(
        self, actor: Actor, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """抄送我的: the applications copied to the actor, newest first."""
        mine = ApplicationCopy.user_id == actor.id
        with self._uow() as uow:
            session = uow.session
            total = session.scalar(select(func.count()).select_from(ApplicationCopy).where(mine))
            rows = session.execute(
                select(ApplicationCopy, Application)
                .join(Application, Application.id == ApplicationCopy.application_id)
                .where(mine)
                .order_by(ApplicationCopy.at.desc(), ApplicationCopy.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            ids = {c.by_id for c, _ in rows} | {a.applicant_id for _, a in rows}
            names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
            items = [
                {
                    "application_id": str(a.id),
                    "applicant": names.get(a.applicant_id),
                    "series": a.series,
                    "level": a.level,
                    "specialty": a.specialty,
                    "status": a.status,
                    "by": names.get(c.by_id),
                    "note": c.note,
                    "at": iso(c.at),
                }
                for c, a in rows
            ]
            return items, int(total or 0)
