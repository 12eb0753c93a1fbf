"""Durable timers: list them, fire one (operators), fire every due one (the scheduler).

Firing claims the timer row first (``UPDATE ... WHERE status='pending'``) inside the same
transaction that advances and saves the instance. Whoever loses the claim skips; a crash or
an error mid-fire rolls the claim back with everything else, so the next sweep fires it:
a timer fires exactly once, with several schedulers, retries or crashes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from engine import policy
from engine.audit import require_reason
from engine.clock import Clock
from engine.errors import (
    ConcurrentUpdateError,
    ConflictError,
    ForbiddenError,
    InvalidDataError,
    NotFoundError,
)
from engine.ids import parse_id
from engine.process_runtime import ProcessRuntime
from engine.views import Actor, iso
from storage import ProcessInstance, Timer, UnitOfWorkFactory, rows_changed

log = logging.getLogger(__name__)

HELD = ("suspended", "terminated", "error")  # instances whose timers wait, unfired
TIMER_STATUSES = ("pending", "fired", "cancelled")


@dataclass(frozen=True)
class TimerView:
    """One durable timer as operators see it."""

    id: str
    instance_id: str
    application_id: str | None
    name: str
    task_id: str
    due_at: str | None
    status: str
    fired_at: str | None
    created_at: str | None
    instance_status: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _utc(value: datetime) -> datetime:
    # SQLite hands timestamps back naive; everything stored is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _view(row: Row) -> TimerView:
    timer, inst_status, app_id = row
    return TimerView(
        id=str(timer.id),
        instance_id=str(timer.instance_id),
        application_id=str(app_id) if app_id is not None else None,
        name=timer.name,
        task_id=timer.task_id,
        due_at=iso(timer.due_at),
        status=timer.status,
        fired_at=iso(timer.fired_at),
        created_at=iso(timer.created_at),
        instance_status=inst_status,
    )


def _pending(column: Any, *conds: Any) -> Any:
    """Select ``column`` of pending timers whose instance may run (not HELD)."""
    return (
        select(column)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(Timer.status == "pending", ProcessInstance.status.not_in(HELD), *conds)
    )


class Timers:
    """List timers, fire one (operators), fire every due one (the scheduler)."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, runtime: ProcessRuntime, *, clock: Clock
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.clock = clock

    def _now(self) -> datetime:
        return _utc(self.clock())

    def list_timers(
        self,
        status: str | None = None,
        *,
        actor: Actor | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[TimerView], int]:
        """Timers by due time; status is pending, fired, cancelled or overdue."""
        if actor is not None and not policy.oversees(actor):
            raise ForbiddenError("仅平台运维人员可查看定时器")
        conds = []
        if status == "overdue":
            conds += [Timer.status == "pending", Timer.due_at <= self._now()]
        elif status in TIMER_STATUSES:
            conds.append(Timer.status == status)
        elif status:
            allowed = "、".join((*TIMER_STATUSES, "overdue"))
            raise InvalidDataError("未知的状态", fields={"status": f"应为以下之一：{allowed}"})
        with self._uow() as uow:
            total = uow.session.scalar(select(func.count(Timer.id)).where(*conds))
            rows = uow.session.execute(
                self._timer_query()
                .where(*conds)
                .order_by(Timer.due_at, Timer.id)
                .limit(limit)
                .offset(offset)
            ).all()
            return [_view(r) for r in rows], int(total or 0)

    def fire_timer(
        self,
        timer_id: int | str,
        *,
        actor: Actor | None = None,
        reason: str | None = None,
        force: bool = False,
    ) -> TimerView:
        """Fire one timer now (operators: overdue ones only unless force); 409 otherwise.

        A person firing by hand must give a reason (422 without); ``actor=None`` is the system.
        """
        if actor is not None and not policy.may_operate(actor):
            raise ForbiddenError("仅平台管理员可手动触发定时器")
        if actor is not None:
            reason = require_reason(reason)
        key = parse_id(timer_id)
        if key is None or self._claim_and_fire(key, actor, reason, strict=True, force=force) == "":
            raise NotFoundError("定时器不存在")
        with self._uow() as uow:
            row = uow.session.execute(self._timer_query().where(Timer.id == key)).one()
            return _view(row)

    def fire_due_timers(self, *, limit: int = 500) -> int:
        """Fire every due timer of an instance that may run, one transaction per timer."""
        query = _pending(Timer.id, Timer.due_at <= self._now())
        with self._uow() as uow:
            ids = uow.session.scalars(query.order_by(Timer.due_at, Timer.id).limit(limit)).all()
        return sum(self._sweep_one(timer_id) for timer_id in ids)

    def upcoming_due_times(self, within: timedelta) -> list[tuple[datetime, timedelta]]:
        """Each distinct due time in the next ``within`` and how long until it (date jobs)."""
        now = self._now()
        query = _pending(Timer.due_at, Timer.due_at > now, Timer.due_at <= now + within)
        with self._uow() as uow:
            dues = uow.session.scalars(query.distinct()).all()
        return sorted({(_utc(due), _utc(due) - now) for due in dues})

    # ----- internals --------------------------------------------------------------------
    @staticmethod
    def _timer_query() -> Any:
        return select(Timer, ProcessInstance.status, ProcessInstance.application_id).join(
            ProcessInstance, ProcessInstance.id == Timer.instance_id
        )

    def _sweep_one(self, timer_id: int) -> int:
        try:
            outcome = self._claim_and_fire(timer_id, None, None, strict=False, force=False)
            return int(outcome == "fired")
        except ConflictError as exc:
            log.info("timer %s: instance changed meanwhile, retried next sweep (%s)", timer_id, exc)
        except SQLAlchemyError as exc:
            log.warning("timer %s: database error, retried next sweep: %s", timer_id, exc)
        except Exception as exc:
            # The scheduler's per-instance boundary (STYLE B2/B8): one broken instance must not
            # stop the sweep nor be retried every second; park it in `error` for operators.
            log.exception("timer %s: firing failed; instance set to error", timer_id)
            self._mark_broken(timer_id, f"timer failed: {type(exc).__name__}: {exc}")
        return 0

    def _claim_and_fire(
        self, timer_id: int, actor: Actor | None, reason: str | None, *, strict: bool, force: bool
    ) -> str:
        """Claim, fire and save in one transaction: "fired", "cancelled", "skipped" or ""."""
        with self._uow() as uow:
            session = uow.session
            now = self._now()
            if strict and not self._check_fireable(session, timer_id, now, force):
                return ""  # no such timer
            conds = [Timer.id == timer_id, Timer.status == "pending"]
            if not force:
                conds.append(Timer.due_at <= now)
            claim = (
                update(Timer)
                .where(*conds)
                .values(status="fired", fired_at=now)
                .execution_options(synchronize_session=False)
            )
            try:
                claimed = rows_changed(session, claim)
            except OperationalError as exc:  # SQLite: another writer held the lock too long
                raise ConcurrentUpdateError("定时器正被处理，请稍后重试") from exc
            if claimed != 1:
                if strict:
                    raise ConflictError("定时器已被触发", code="timer_fired")
                return "skipped"
            columns = (Timer.id, Timer.instance_id, Timer.task_id, Timer.name, Timer.due_at)
            timer = session.execute(select(*columns).where(Timer.id == timer_id)).one()
            inst = session.get_one(ProcessInstance, timer.instance_id)
            if inst.status in HELD:
                if strict:
                    raise ConflictError(
                        f"流程实例状态为 {inst.status}，定时器暂不触发",
                        code="instance_" + inst.status,
                    )
                return "skipped"  # leaving without commit releases the claim
            outcome = self.runtime.fire(session, inst, timer, actor, reason, forced=force)
            if outcome == "cancelled":
                log.warning("timer %s: task %s no longer waits; cancelled", timer_id, timer.task_id)
            uow.commit()
        return outcome

    @staticmethod
    def _check_fireable(session: Session, timer_id: int, now: datetime, force: bool) -> bool:
        row = session.execute(
            select(Timer.status, Timer.due_at).where(Timer.id == timer_id)
        ).one_or_none()
        if row is None:
            return False
        if row.status != "pending":
            raise ConflictError(
                f"定时器已{row.status} (timer {row.status})", code="timer_" + row.status
            )
        if not force and _utc(row.due_at) > now:
            due = iso(_utc(row.due_at))
            raise ConflictError(
                f"定时器尚未到期（到期时间 {due}），不能提前触发",
                code="timer_not_due",
            )
        return True

    def _mark_broken(self, timer_id: int, problem: str) -> None:
        """Park the timer's instance in `error` (fresh transaction) so sweeps skip it."""
        with self._uow() as uow:
            session = uow.session
            timer = session.get(Timer, timer_id)
            inst = session.get(ProcessInstance, timer.instance_id) if timer else None
            if timer is None or inst is None:
                return
            session.execute(
                update(ProcessInstance)
                .where(ProcessInstance.id == inst.id, ProcessInstance.status.not_in(HELD))
                .values(
                    status="error",
                    problem=problem[:2000],
                    error_task=timer.name,
                    revision=ProcessInstance.revision + 1,
                    updated_at=self._now(),
                )
                .execution_options(synchronize_session=False)
            )
            event = self.runtime.event(None, inst, "timer_failed", reason=problem[:2000])
            event.task_id, event.task_name = timer.task_id, timer.name
            event.detail = {"timer_id": str(timer_id)}
            session.add(event)
            uow.commit()
