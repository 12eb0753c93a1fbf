"""Durable timers: list them, fire one (operators), fire every due one (the scheduler).

Firing claims the timer row (``status`` from pending to fired) inside the same transaction
that advances and saves the instance. Whoever loses the claim skips; a crash or an error
mid-fire rolls the claim back with everything else, so a later sweep fires it: a timer fires
exactly once, with several schedulers, workers, retries or crashes. The scheduler's sweep
claims due timers a batch at a time and fires them in parallel workers
(engine/timer_batches.py); an operator fires one timer in a transaction of its own.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine import policy
from engine.audit import require_reason
from engine.clock import Clock, as_utc
from engine.errors import (
    ConcurrentUpdateError,
    ConflictError,
    ForbiddenError,
    InvalidDataError,
    NotFoundError,
)
from engine.ids import parse_id
from engine.process_runtime import ProcessRuntime
from engine.timer_batches import HELD, TimerBatches, pending
from engine.views import Actor, iso
from storage import ProcessInstance, Timer, UnitOfWorkFactory, rows_changed

log = logging.getLogger(__name__)

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


class Timers:
    """List timers, fire one (operators), fire every due one (the scheduler)."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, runtime: ProcessRuntime, *, clock: Clock
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.clock = clock
        self._batches = TimerBatches(uow_factory, runtime, clock)

    def _now(self) -> datetime:
        return as_utc(self.clock())

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
        if key is None or not self._claim_and_fire(key, actor, reason, force=force):
            raise NotFoundError("定时器不存在")
        with self._uow() as uow:
            row = uow.session.execute(self._timer_query().where(Timer.id == key)).one()
            return _view(row)

    def fire_due_timers(self, *, limit: int = 500, batch: int = 20, workers: int = 1) -> int:
        """Fire up to ``limit`` due timers of instances that may run: ``batch`` claimed and
        fired per transaction, by ``workers`` threads; how many fired."""
        return self._batches.fire_due(limit, batch, workers)

    def upcoming_due_times(self, within: timedelta) -> list[tuple[datetime, timedelta]]:
        """Each distinct due time in the next ``within`` and how long until it (date jobs)."""
        now = self._now()
        query = pending(Timer.due_at, Timer.due_at > now, Timer.due_at <= now + within)
        with self._uow() as uow:
            dues = uow.session.scalars(query.distinct()).all()
        return sorted({(as_utc(due), as_utc(due) - now) for due in dues})

    # ----- internals --------------------------------------------------------------------
    @staticmethod
    def _timer_query() -> Any:
        return select(Timer, ProcessInstance.status, ProcessInstance.application_id).join(
            ProcessInstance, ProcessInstance.id == Timer.instance_id
        )

    def _claim_and_fire(
        self, timer_id: int, actor: Actor | None, reason: str | None, *, force: bool
    ) -> bool:
        """Claim, fire and save one timer in one transaction; False when there is no such timer.

        :raises ConflictError: the timer is not pending, not due (unless force), or its
            instance is held.
        """
        with self._uow() as uow:
            session = uow.session
            now = self._now()
            if not self._check_fireable(session, timer_id, now, force):
                return False
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
                raise ConflictError("定时器已被触发", code="timer_fired")
            columns = (Timer.id, Timer.instance_id, Timer.task_id, Timer.name, Timer.due_at)
            timer = session.execute(select(*columns).where(Timer.id == timer_id)).one()
            inst = session.get_one(ProcessInstance, timer.instance_id)
            if inst.status in HELD:  # leaving without commit releases the claim
                raise ConflictError(
                    f"流程实例状态为 {inst.status}，定时器暂不触发",
                    code="instance_" + inst.status,
                )
            outcome = self.runtime.fire(session, inst, timer, actor, reason, forced=force)
            if outcome == "cancelled":
                log.warning("timer %s: task %s no longer waits; cancelled", timer_id, timer.task_id)
            uow.commit()
        return True

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
        if not force and as_utc(row.due_at) > now:
            due = iso(as_utc(row.due_at))
            raise ConflictError(
                f"定时器尚未到期（到期时间 {due}），不能提前触发",
                code="timer_not_due",
            )
        return True
