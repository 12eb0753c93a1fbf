"""Review sessions (评审会): form a panel for a cycle, record attendance, open the ballot.

The office of a cycle's committee forms a session from the committee's expert pool, picked by
name or drawn at random by specialty, at least the designers' smallest panel. The session
takes the cycle's applications whose paper has been received and that wait for a session
(status ``expert_review``, in no session still open). Recusals are worked out for every
(expert, application) pair at once and kept with their reasons. Attendance with fewer than the
quorum (two thirds of the panel, from the rules file) is refused; otherwise each application's
instance receives the message ``ballot_open`` naming its present, non-recused experts, whose
``expert_vote`` tasks the diagram then creates. Engine/ballot_close.py ends the ballot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import panels, policy
from engine.audit import audit_event
from engine.clock import Clock
from engine.designer_files import DesignerFiles
from engine.errors import ConflictError, ForbiddenError, InvalidDataError, NotFoundError
from engine.ids import parse_id
from engine.messages import deliver
from engine.process_runtime import ProcessRuntime
from engine.review_rules import ReviewRules
from engine.session_input import session_date, usernames
from engine.session_rows import OPEN_SESSION_STATUSES, SessionView, applicants, pool, session_view
from engine.views import Actor
from storage import (
    Application,
    BallotSeat,
    ProcessInstance,
    Recusal,
    ReviewCycle,
    ReviewSession,
    SessionApplication,
    SessionExpert,
    UnitOfWorkFactory,
    User,
    lock_row,
)

WAITING_STATUS = "expert_review"


def cycle_rules(
    runtime: ProcessRuntime, files: DesignerFiles, session: Session, cycle: ReviewCycle
) -> ReviewRules:
    """The committee's review rules of the process version a cycle runs on."""
    return files.review_rules(runtime.deployed_spec(session, cycle.version_id))


class ReviewSessions:
    """Form sessions, record attendance, show them (one transaction per verb)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        runtime: ProcessRuntime,
        files: DesignerFiles,
        *,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.files = files
        self.clock = clock

    # ----- reading ----------------------------------------------------------------------
    def _cycle(self, session: Session, cycle_id: int | str) -> ReviewCycle:
        key = parse_id(cycle_id)
        cycle = session.get(ReviewCycle, key) if key is not None else None
        if cycle is None:
            raise NotFoundError("申报年度不存在")
        return cycle

    def _office_of(self, session: Session, cycle: ReviewCycle) -> str:
        version = self.runtime.deployed_spec(session, cycle.version_id)
        committee = self.files.committees(version).get(cycle.committee_id)
        if committee is None:
            raise NotFoundError("评委会不存在")
        return committee.office_org_id

    def _run_by(
        self, session: Session, cycle_id: int | str, actor: Actor, *, read: bool = False
    ) -> tuple[ReviewCycle, str]:
        """The cycle and its committee's office, if the actor runs its sessions (or, to
        ``read``, oversees the platform); 404 / 403 otherwise."""
        cycle = self._cycle(session, cycle_id)
        office = self._office_of(session, cycle)
        if not (policy.may_run_review(actor, office) or (read and policy.oversees(actor))):
            raise ForbiddenError("只有该评委会办公室可以组织和查看评审会")
        return cycle, office

    def rules(self, session: Session, cycle: ReviewCycle) -> ReviewRules:
        """The review rules of the version the cycle runs on."""
        return cycle_rules(self.runtime, self.files, session, cycle)

    def _session_row(self, session: Session, session_id: int | str, actor: Actor) -> ReviewSession:
        key = parse_id(session_id)
        row = session.get(ReviewSession, key) if key is not None else None
        if row is None:
            raise NotFoundError("评审会不存在")
        if not (policy.may_run_review(actor, row.office_org_id) or policy.oversees(actor)):
            raise ForbiddenError("只有该评委会办公室可以查看评审会")
        return row

    def get_session(self, session_id: int | str, actor: Actor) -> SessionView:
        """A session's panel, attendance, recusals, progress and (once complete) tallies."""
        with self._uow() as uow:
            return session_view(uow.session, self._session_row(uow.session, session_id, actor))

    def list_sessions(self, cycle_id: int | str, actor: Actor) -> list[SessionView]:
        """The sessions of a cycle, newest first."""
        with self._uow() as uow:
            session = uow.session
            cycle, _office = self._run_by(session, cycle_id, actor, read=True)
            rows = session.scalars(
                select(ReviewSession)
                .where(ReviewSession.cycle_id == cycle.id)
                .order_by(ReviewSession.id.desc())
            ).all()
            return [session_view(session, r) for r in rows]

    def overview(self, cycle_id: int | str, actor: Actor) -> dict[str, Any]:
        """What a new session of the cycle would take: waiting applications, the pool, the
        rules (for the office's page)."""
        with self._uow() as uow:
            session = uow.session
            cycle, office = self._run_by(session, cycle_id, actor)
            rules = self.rules(session, cycle)
            experts = pool(session, office)
            return {
                "waiting": len(self.waiting_applications(session, cycle.id)),
                "pool": [
                    {"username": e.username, "name": e.name, "specialty": e.specialty}
                    for e in experts
                ],
                "min_panel_size": rules.min_panel_size,
            }

    def waiting_applications(self, session: Session, cycle_id: int) -> list[int]:
        """The cycle's applications waiting for a session (paper received, in no open one)."""
        taken = (
            select(SessionApplication.application_id)
            .join(ReviewSession, ReviewSession.id == SessionApplication.session_id)
            .where(ReviewSession.status.in_(OPEN_SESSION_STATUSES))
        )
        return list(
            session.scalars(
                select(Application.id)
                .where(
                    Application.cycle_id == cycle_id,
                    Application.status == WAITING_STATUS,
                    Application.id.not_in(taken),
                )
                .order_by(Application.id)
            )
        )

    # ----- forming ----------------------------------------------------------------------
    def _panel(
        self, body: Mapping[str, Any], experts: list[panels.Expert], rules: ReviewRules
    ) -> tuple[list[panels.Expert], str]:
        if "experts" in body and "draw" in body:
            raise InvalidDataError(
                "请选择指定专家或随机抽取其中一种", fields={"draw": "指定专家与随机抽取只能选一种"}
            )
        by_name = {e.username: e for e in experts}
        if "experts" in body:
            names = usernames(body.get("experts"), "experts")
            unknown = [n for n in names if n not in by_name]
            if unknown:
                raise InvalidDataError(
                    "名单中有不属于本评委会专家库的账号",
                    fields={"experts": "不在本评委会专家库：" + "、".join(unknown)},
                )
            chosen, how = [by_name[n] for n in names], "pick"
        else:
            spec = body.get("draw")
            if not isinstance(spec, Mapping):
                raise InvalidDataError(
                    "请指定专家或抽取方式", fields={"experts": "必填（或改为随机抽取）"}
                )
            size = spec.get("size")
            if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 500:
                raise InvalidDataError("抽取人数无效", fields={"draw.size": "应为 1 到 500 的整数"})
            specialty = spec.get("specialty")
            if specialty is not None and not isinstance(specialty, str):
                raise InvalidDataError("专业无效", fields={"draw.specialty": "应为文字"})
            candidates = panels.eligible(experts, specialty)
            if len(candidates) < size:
                raise InvalidDataError(
                    f"专家库中符合条件的专家只有 {len(candidates)} 人，不足 {size} 人",
                    fields={"draw.size": f"最多可抽取 {len(candidates)} 人"},
                )
            chosen, how = panels.draw(candidates, size), "draw"
        if len(chosen) < rules.min_panel_size:
            field = "experts" if how == "pick" else "draw.size"
            raise InvalidDataError(
                f"评审会专家不得少于 {rules.min_panel_size} 人",
                fields={field: f"至少 {rules.min_panel_size} 人"},
            )
        return chosen, how

    def form_session(
        self, cycle_id: int | str, body: Mapping[str, Any], actor: Actor
    ) -> SessionView:
        """Form a session of a cycle: its panel and applications, with every recusal."""
        if not isinstance(body, Mapping):
            raise InvalidDataError("请求内容应为 JSON 对象")
        with self._uow() as uow:
            session = uow.session
            cycle, office = self._run_by(session, cycle_id, actor)
            held_on = session_date(body)
            rules = self.rules(session, cycle)
            chosen, how = self._panel(body, pool(session, office), rules)
            # Two offices' clerks forming at once: the second waits here until the first has
            # committed, then finds the applications it took (each goes before one session).
            lock_row(session, ReviewCycle, cycle.id)
            app_ids = self.waiting_applications(session, cycle.id)
            if not app_ids:
                raise ConflictError(
                    "本申报年度暂无待评审的申报（纸质材料已登记、尚未上会）", code="no_applications"
                )
            now = self.clock()
            row = ReviewSession(
                cycle_id=cycle.id,
                committee_id=cycle.committee_id,
                office_org_id=office,
                held_on=held_on,
                status="formed",
                votes_expected=0,
                votes_cast=0,
                created_by=actor.id,
                created_at=now,
            )
            session.add(row)
            session.flush()
            session.add_all(
                SessionExpert(session_id=row.id, user_id=e.user_id, chosen_by=how, present=False)
                for e in chosen
            )
            session.add_all(
                SessionApplication(session_id=row.id, application_id=a) for a in app_ids
            )
            excluded = panels.exclusions(chosen, applicants(session, app_ids))
            session.add_all(
                Recusal(
                    session_id=row.id,
                    user_id=x.expert.user_id,
                    application_id=x.application_id,
                    reason=x.reason,
                )
                for x in excluded
            )
            detail = {
                "session_id": row.id,
                "cycle_id": cycle.id,
                "date": held_on.isoformat(),
                "chosen_by": how,
                "experts": [e.username for e in chosen],
                "applications": len(app_ids),
            }
            session.add(audit_event(now, actor, "session_formed", org_id=office, detail=detail))
            for x in excluded:
                session.add(
                    audit_event(
                        now,
                        actor,
                        "expert_recused",
                        org_id=office,
                        application_id=x.application_id,
                        reason=x.reason,
                        detail={"session_id": row.id, "expert": x.expert.username},
                    )
                )
            session.flush()
            view = session_view(session, row)
            uow.commit()
            return view

    # ----- attendance -------------------------------------------------------------------
    def record_attendance(
        self, session_id: int | str, body: Mapping[str, Any], actor: Actor
    ) -> SessionView:
        """Record who is present; with the quorum met, open the ballot on every application."""
        if not isinstance(body, Mapping):
            raise InvalidDataError("请求内容应为 JSON 对象")
        with self._uow() as uow:
            session = uow.session
            row = self._session_row(session, session_id, actor)
            if not policy.may_run_review(actor, row.office_org_id):
                raise ForbiddenError("只有该评委会办公室可以登记出席")
            if row.status != "formed":
                raise ConflictError("该评审会已开始投票，出席情况不能再更改", code="ballot_open")
            names = usernames(body.get("present"), "present")
            members = {
                u.username: m
                for m, u in session.execute(
                    select(SessionExpert, User)
                    .join(User, User.id == SessionExpert.user_id)
                    .where(SessionExpert.session_id == row.id)
                )
            }
            strangers = [n for n in names if n not in members]
            if strangers:
                raise InvalidDataError(
                    "出席名单中有不属于本评审会的专家",
                    fields={"present": "不是本评审会专家：" + "、".join(strangers)},
                )
            cycle = session.get_one(ReviewCycle, row.cycle_id)
            rules = self.rules(session, cycle)
            if not rules.quorum_met(len(members), len(names)):
                need = rules.least_present(len(members))
                raise InvalidDataError(
                    f"出席专家 {len(names)} 人，不足评审会专家 {len(members)} 人的三分之二（至少 {need} 人），不能表决",
                    fields={"present": f"至少 {need} 人出席方可表决"},
                    code="no_quorum",
                )
            present_ids = set()
            for name, member in members.items():
                member.present = name in names
                if member.present:
                    present_ids.add(member.user_id)
            recused: dict[int, set[int]] = {}
            for r in session.scalars(select(Recusal).where(Recusal.session_id == row.id)):
                recused.setdefault(r.application_id, set()).add(r.user_id)
            now = self.clock()
            skipped, expected = [], 0
            apps = session.scalars(
                select(SessionApplication).where(SessionApplication.session_id == row.id)
            ).all()
            for sa in apps:
                voters = sorted(present_ids - recused.get(sa.application_id, set()))
                app = session.get_one(Application, sa.application_id)
                inst = session.get(ProcessInstance, app.instance_id) if app.instance_id else None
                if not voters or inst is None:
                    skipped.append(str(sa.application_id))
                    session.delete(sa)
                    continue
                event = audit_event(
                    now,
                    actor,
                    "ballot_open",
                    instance_id=inst.id,
                    application_id=app.id,
                    detail={"session_id": row.id, "voters": len(voters)},
                )
                opened = deliver(
                    self.runtime,
                    session,
                    inst,
                    "ballot_open",
                    {"session_id": row.id, "experts": voters},
                    [event],
                )
                if not opened:
                    skipped.append(str(sa.application_id))
                    session.delete(sa)
                    continue
                session.add_all(
                    BallotSeat(session_id=row.id, application_id=app.id, user_id=u, voted=False)
                    for u in voters
                )
                expected += len(voters)
            if not expected:
                raise ConflictError(
                    "出席专家均须回避或没有可表决的申报，不能开始投票", code="nothing_to_vote"
                )
            row.status, row.votes_expected = "voting", expected
            session.add(
                audit_event(
                    now,
                    actor,
                    "attendance_recorded",
                    org_id=row.office_org_id,
                    detail={"session_id": row.id, "present": sorted(names), "panel": len(members)},
                )
            )
            session.flush()
            view = session_view(session, row)
            view.skipped = skipped
            uow.commit()
            return view
