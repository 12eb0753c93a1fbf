"""Due timers fired in batches by parallel workers, each batch claimed and fired in ONE commit.

A worker claims up to ``batch`` due timers (PostgreSQL: ``SELECT ... LIMIT n FOR UPDATE SKIP
LOCKED``, then ``UPDATE timer SET status='fired' ... RETURNING id``; SQLite: that UPDATE with
the SELECT as its subquery), fires each in a savepoint of the same transaction and commits
once. On PostgreSQL a concurrent
claimer skips the rows another one holds, so workers, threads or scheduler processes, share
the list without waiting on each other; on SQLite the claim takes the database's write lock, so
the next claimer waits for the commit and then sees the rows as fired. Either way a timer is
claimed by one transaction, and a crash or a rollback puts every timer of the batch back to
pending with everything else: a timer fires exactly once.

One timer's failure stays its own: its savepoint rolls back, the timer goes back to pending
(retried next sweep), or, for a bug, its instance is parked in ``error`` as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock, as_utc
from engine.errors import ConflictError
from engine.process_runtime import ProcessRuntime
from storage import Application, AuditEvent, ProcessInstance, Timer, UnitOfWorkFactory

log = logging.getLogger("engine.timers")

HELD = ("suspended", "terminated", "error")  # instances whose timers wait, unfired
_NEW_DUES = "zhiping.new_timer_dues"  # Session.info key: due times of timers flushed


def pending(column: Any, *conds: Any) -> Any:
    """Select ``column`` of pending timers whose instance may run (not HELD)."""
    return (
        select(column)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(Timer.status == "pending", ProcessInstance.status.not_in(HELD), *conds)
    )


class _Budget:
    """How many timers a sweep may still claim, shared by its workers."""

    def __init__(self, limit: int) -> None:
        self._left = limit
        self._lock = threading.Lock()

    def take(self, wanted: int) -> int:
        with self._lock:
            granted = max(0, min(wanted, self._left))
            self._left -= granted
            return granted

    def give_back(self, unused: int) -> None:
        with self._lock:
            self._left += unused


class TimerBatches:
    """Claim due timers a batch at a time and fire them, in one or more worker threads."""

    def __init__(self, uow_factory: UnitOfWorkFactory, runtime: ProcessRuntime, clock: Clock):
        self._uow = uow_factory
        self.runtime = runtime
        self.clock = clock

    def fire_due(self, limit: int, batch: int, workers: int) -> int:
        """Fire up to ``limit`` due timers, ``batch`` per commit, in ``workers`` threads."""
        budget = _Budget(limit)
        if workers <= 1:
            return self._drain(budget, batch)
        with ThreadPoolExecutor(workers, thread_name_prefix="timer-worker") as pool:
            return sum(pool.map(lambda _: self._drain(budget, batch), range(workers)))

    def _drain(self, budget: _Budget, batch: int) -> int:
        fired = 0
        while wanted := budget.take(max(1, batch)):
            try:
                done, claimed = self._fire_batch(wanted)
            except SQLAlchemyError as exc:  # the batch rolled back: all of it pending again
                log.warning("timer batch: database error, retried next sweep: %s", exc)
                return fired
            fired += done
            budget.give_back(wanted - claimed)
            if claimed < wanted:
                break  # nothing more is due (or other workers hold the rest)
        return fired

    def _fire_batch(self, count: int) -> tuple[int, int]:
        """Claim up to ``count`` due timers and fire them in one transaction: (fired, claimed)."""
        with self._uow() as uow:
            session = uow.session
            ids = self._claim(session, as_utc(self.clock()), count)
            if not ids:
                return 0, 0
            columns = (Timer.id, Timer.instance_id, Timer.task_id, Timer.name, Timer.due_at)
            # Instance order everywhere: two workers lock instances in the same order, so a
            # second timer of an instance another batch holds waits instead of deadlocking.
            timers = session.execute(
                select(*columns).where(Timer.id.in_(ids)).order_by(Timer.instance_id, Timer.id)
            ).all()
            # The batch's instances and their applications' statuses in one statement; each
            # _fire_one finds its instance in the session (kept referenced here: the session's
            # identity map holds rows weakly) and the save need not read the application.
            loaded = session.execute(
                select(ProcessInstance, Application.status)
                .outerjoin(Application, Application.id == ProcessInstance.application_id)
                .where(ProcessInstance.id.in_({t.instance_id for t in timers}))
            ).all()
            statuses = {inst.id: status for inst, status in loaded}
            events: list[AuditEvent] = []
            seen: set[int] = set()
            fired = [
                t.id
                for t in timers
                if self._fire_one(session, t, events, seen, statuses.get(t.instance_id)) == "fired"
            ]
            if fired:
                session.execute(
                    update(Timer)
                    .where(Timer.id.in_(fired))
                    .values(fired_at=as_utc(self.clock()))  # when the batch commits
                    .execution_options(synchronize_session=False)
                )
            # The audit chain's head is locked from the flush that appends to it until the
            # commit: appending the batch's events in the last flush holds it once, briefly.
            session.add_all(events)
            uow.commit()
        return len(fired), len(ids)

    @staticmethod
    def _claim(session: Session, now: datetime, count: int) -> list[int]:
        due = pending(Timer.id, Timer.due_at <= now).order_by(Timer.due_at, Timer.id).limit(count)
        if session.get_bind().dialect.name == "postgresql":
            # Lock the batch's rows, skipping those other claimers hold, until this commits.
            # (Not as an IN subquery of the UPDATE: PostgreSQL may rescan it per row, and each
            # rescan skips the rows just claimed and locks the next ones, the whole list.)
            ids = session.scalars(due.with_for_update(skip_locked=True, of=Timer)).all()
            if not ids:
                return []
            target = Timer.id.in_(ids)
        else:  # SQLite: the UPDATE takes the write lock first, so its subquery sees the latest
            target = Timer.id.in_(due.scalar_subquery())
        claim = (
            update(Timer)
            .where(target, Timer.status == "pending")
            .values(status="fired", fired_at=now)
            .returning(Timer.id)
            .execution_options(synchronize_session=False)
        )
        return list(session.scalars(claim).all())

    def _fire_one(
        self,
        session: Session,
        timer: Any,
        events: list[AuditEvent],
        fired_instances: set[int],
        application_status: str | None,
    ) -> str:
        """Fire one claimed timer in a savepoint: "fired", "cancelled" or "skipped"."""
        try:
            with session.begin_nested():
                # Reload only an instance this batch already saved (its row and its
                # application moved on since).
                again = timer.instance_id in fired_instances
                inst = session.get_one(ProcessInstance, timer.instance_id, populate_existing=again)
                fired_instances.add(timer.instance_id)
                if inst.status in HELD:
                    raise _Held(inst.status)
                outcome = self.runtime.fire(
                    session,
                    inst,
                    timer,
                    None,
                    None,
                    forced=False,
                    application_status=None if again else application_status,
                )
                events.extend(_take_audit_events(session))
        except _Held:
            outcome = "skipped"
        except ConflictError as exc:
            log.info("timer %s: instance changed meanwhile, retried next sweep (%s)", timer.id, exc)
            outcome = "skipped"
        except SQLAlchemyError as exc:
            log.warning("timer %s: database error, retried next sweep: %s", timer.id, exc)
            outcome = "skipped"
        except Exception as exc:
            # The scheduler's per-instance boundary (STYLE B2/B8): one broken instance must not
            # stop the sweep nor be retried every second; park it in `error` for operators.
            log.exception("timer %s: firing failed; instance set to error", timer.id)
            self._park(session, timer, f"timer failed: {type(exc).__name__}: {exc}", events)
            outcome = "skipped"
        if outcome == "skipped":
            _unclaim(session, timer.id)
        elif outcome == "cancelled":
            log.warning("timer %s: task %s no longer waits; cancelled", timer.id, timer.task_id)
        return outcome

    def _park(self, session: Session, timer: Any, problem: str, events: list[AuditEvent]) -> None:
        """Set the timer's instance to `error` (in the batch's transaction) so sweeps skip it."""
        inst = session.get(ProcessInstance, timer.instance_id, populate_existing=True)
        if inst is None:
            return
        session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == inst.id, ProcessInstance.status.not_in(HELD))
            .values(
                status="error",
                problem=problem[:2000],
                error_task=timer.name,
                revision=ProcessInstance.revision + 1,
                updated_at=as_utc(self.clock()),
            )
            .execution_options(synchronize_session=False)
        )
        event_row = self.runtime.event(None, inst, "timer_failed", reason=problem[:2000])
        event_row.task_id, event_row.task_name = timer.task_id, timer.name
        event_row.detail = {"timer_id": str(timer.id)}
        events.append(event_row)


class _Held(Exception):
    """The instance was suspended, terminated or failed since the claim: leave its timer."""


def _unclaim(session: Session, timer_id: int) -> None:
    session.execute(
        update(Timer)
        .where(Timer.id == timer_id)
        .values(status="pending", fired_at=None)
        .execution_options(synchronize_session=False)
    )


def _take_audit_events(session: Session) -> list[AuditEvent]:
    """The audit events added to ``session`` and not yet flushed, taken out of it."""
    taken = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    for obj in taken:
        session.expunge(obj)
    return sorted(taken, key=lambda e: e.at)


def watch_new_timers(
    sessions: sessionmaker[Session],
    clock: Clock,
    notify: Callable[[list[tuple[datetime, timedelta]]], None],
) -> None:
    """After each commit of a ``sessions`` session that created pending timers, call
    ``notify`` with each distinct due time and how long until it (for on-time date jobs)."""

    @event.listens_for(sessions, "after_flush")
    def _collect(session: Session, _context: Any) -> None:
        dues = [o.due_at for o in session.new if isinstance(o, Timer) and o.status == "pending"]
        if dues:
            session.info.setdefault(_NEW_DUES, set()).update(as_utc(d) for d in dues)

    @event.listens_for(sessions, "after_commit")
    def _publish(session: Session) -> None:
        dues = session.info.pop(_NEW_DUES, None)
        if not dues:
            return
        now = as_utc(clock())
        try:
            notify(sorted((due, due - now) for due in dues))
        except Exception:  # the commit happened: a missed date job only waits for the sweep
            log.exception("new timers: planning their date jobs failed")

    @event.listens_for(sessions, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_NEW_DUES, None)
