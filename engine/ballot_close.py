"""The end of a ballot and what follows: tallies, results publicity, objections.

When a session's last seat votes, ``BallotClose.vote_cast`` (called in that vote's transaction)
tallies every application and delivers ``ballot_tallied`` to each instance with the counts,
whether it passed, and — for a pass — the results publicity window: from today (China time),
at least the rules file's working days on the working-day calendar, released at midnight after
its last day by the diagram's durable timer. ``ResultObjections`` records an objection raised
during that window; the diagram sends it to the office's ``review_objection`` task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import ballots, policy
from engine.audit import audit_event
from engine.clock import CHINA_TZ, Clock
from engine.designer_files import DesignerFiles
from engine.errors import ConflictError, ForbiddenError, InvalidDataError, NotFoundError
from engine.ids import parse_id
from engine.messages import deliver
from engine.process_runtime import ProcessRuntime
from engine.review_sessions import cycle_rules
from engine.validators import load_calendar
from engine.views import Actor
from engine.workdays import CalendarPolicy, window_closed_at
from storage import (
    Application,
    ProcessInstance,
    ReviewCycle,
    ReviewSession,
    SessionApplication,
    UnitOfWorkFactory,
)

OBJECTION_MAX = 4000


class BallotClose:
    """Counts a cast vote and, after a session's last, tallies and moves every application on."""

    def __init__(
        self,
        runtime: ProcessRuntime,
        files: DesignerFiles,
        *,
        clock: Clock,
        calendar_policy: CalendarPolicy | None = None,
    ) -> None:
        self.runtime = runtime
        self.files = files
        self.clock = clock
        self.calendar_policy = calendar_policy or CalendarPolicy()

    def publicity_window(self, session: Session, workdays: int) -> dict[str, str]:
        """Results publicity from today: start, last day, and the instant it has closed."""
        start = self.clock().astimezone(CHINA_TZ).date()
        end = load_calendar(session, self.calendar_policy).earliest_end(start, workdays)
        return {
            "publicity_start": start.isoformat(),
            "publicity_end": end.isoformat(),
            "publicity_release": window_closed_at(end).isoformat(),
        }

    def vote_cast(self, session: Session, review_session_id: int) -> None:
        """Count one vote; when it was the session's last, tally and deliver the results.

        The vote just recorded is flushed first, so the tally counts it."""
        session.flush()
        if not ballots.count_cast(session, review_session_id):
            return
        row = session.get_one(ReviewSession, review_session_id)
        cycle = session.get_one(ReviewCycle, row.cycle_id)
        rules = cycle_rules(self.runtime, self.files, session, cycle)
        now = self.clock()
        results = ballots.tally(session, review_session_id, rules)
        window = self.publicity_window(session, rules.result_publicity_workdays)
        row.status, row.tallied_at = "tallied", now
        session.add(
            audit_event(
                now,
                None,
                "session_tallied",
                org_id=row.office_org_id,
                detail={
                    "session_id": row.id,
                    "passed": sum(1 for t in results if t.passed),
                    "applications": len(results),
                },
            )
        )
        for result in results:
            app = session.get_one(Application, result.application_id)
            inst = session.get(ProcessInstance, app.instance_id) if app.instance_id else None
            if inst is None:
                continue
            event = audit_event(
                now,
                None,
                "ballot_tallied",
                org_id=row.office_org_id,
                instance_id=inst.id,
                application_id=app.id,
                opinion=result.summary(),
                detail={"session_id": row.id, **result.as_payload()},
            )
            payload = {**result.as_payload(), "session_id": row.id}
            if result.passed:
                payload.update(window)
            deliver(self.runtime, session, inst, "ballot_tallied", payload, [event])


def _objection_text(body: Mapping[str, Any]) -> str:
    text = body.get("objection") if isinstance(body, Mapping) else None
    if not isinstance(text, str) or not text.strip():
        raise InvalidDataError("请填写异议内容", fields={"objection": "必填"})
    if len(text) > OBJECTION_MAX:
        raise InvalidDataError("异议内容过长", fields={"objection": f"不超过 {OBJECTION_MAX} 字"})
    return text.strip()


class ResultObjections:
    """Objections to a result during its publicity (评审结果公示期间的异议)."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, runtime: ProcessRuntime, *, clock: Clock
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.clock = clock

    def record(
        self, application_id: int | str, body: Mapping[str, Any], actor: Actor
    ) -> dict[str, Any]:
        """Record an objection; the application goes to its office for a decision (409 when its
        result is not in publicity)."""
        text = _objection_text(body)
        key = parse_id(application_id)
        with self._uow() as uow:
            session = uow.session
            app = session.get(Application, key) if key is not None else None
            if app is None:
                raise NotFoundError("申报不存在")
            office = session.scalars(
                select(ReviewSession.office_org_id)
                .join(SessionApplication, SessionApplication.session_id == ReviewSession.id)
                .where(SessionApplication.application_id == app.id)
                .order_by(ReviewSession.id.desc())
                .limit(1)
            ).first()
            if not (office and policy.may_run_review(actor, office)):
                raise ForbiddenError("只有该评委会办公室可以登记异议")
            inst = session.get(ProcessInstance, app.instance_id) if app.instance_id else None
            now = self.clock()
            event = audit_event(
                now,
                actor,
                "result_objection",
                application_id=app.id,
                instance_id=inst.id if inst else None,
                opinion=text,
            )
            payload = {"text": text, "recorded_by": actor.name, "recorded_at": now.isoformat()}
            if inst is None or not deliver(
                self.runtime, session, inst, "result_objection", payload, [event]
            ):
                raise ConflictError(
                    "该申报不在评审结果公示期，不能登记异议", code="not_in_result_publicity"
                )
            uow.commit()
            return {"application_id": str(app.id), "status": app.status}
