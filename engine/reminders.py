"""Reminders for tasks that wait too long, 催办 (urge), and delivery of the SMS outbox.

Both run from scheduler jobs. Reminders are written to the outbox at most once per task per
day (``notification.dedup_key`` is unique); SMS rows are claimed before they are sent, so two
notifiers never send the same row twice, and a gateway error is retried with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from engine import roles
from engine.applications import visible_application
from engine.audit import audit_event
from engine.clock import CHINA_TZ, Clock, as_utc
from engine.errors import ConflictError, EngineError
from engine.handoff_state import holder_of
from engine.notices import phone_of, queue_notice
from engine.policy import may_act
from engine.timers import HELD
from engine.validators import load_calendar
from engine.views import Actor
from engine.workdays import CalendarPolicy, WorkCalendar
from storage import HumanTask, Notification, ProcessInstance, UnitOfWorkFactory, rows_changed

log = logging.getLogger(__name__)

SENDING_TIMEOUT = timedelta(minutes=10)  # a claimed row older than this is sent again
RETRY_BASE = timedelta(seconds=30)  # wait 30 s, 60 s, 120 s ... between attempts


class DeliveryError(EngineError):
    """The SMS gateway did not accept a message (retried later)."""

    code = "delivery_failed"


@dataclass(frozen=True)
class SmsMessage:
    """One outbox row to deliver; ``key`` lets the gateway drop duplicates."""

    id: int
    key: str
    phone: str
    kind: str
    text: str


def waited_workdays(calendar: WorkCalendar, created: datetime, today: date) -> int:
    """Working days that have passed since the day a task arrived (that day not counted)."""
    arrived = as_utc(created).astimezone(CHINA_TZ).date()
    return calendar.count_workdays(arrived + timedelta(days=1), today) if today > arrived else 0


def _reminder_text(row: Any, waited: int) -> str:
    if row.name == "confirm_payment":
        return f"缴费提醒：您的职称申报已通过审查，请尽快缴费并确认（已等待 {waited} 个工作日）。"
    ref = f"（申报编号 {row.application_id}）" if row.application_id else ""
    return f"催办提醒：「{row.title}」{ref}已等待 {waited} 个工作日，请尽快办理。"


class Notices:
    """The outbox: reminders of late tasks, 催办 by a user, delivery of SMS rows."""

    def __init__(self, uow_factory: UnitOfWorkFactory, *, clock: Clock) -> None:
        self._uow = uow_factory
        self.clock = clock

    def send_reminders(self, *, after_workdays: int, policy: CalendarPolicy) -> int:
        """Remind whoever holds a task waiting over N working days; return reminders written."""
        now = as_utc(self.clock())
        today = now.astimezone(CHINA_TZ).date()
        # Working days never outnumber calendar days: older than N days is a safe pre-filter.
        cutoff = now - timedelta(days=after_workdays)
        counting = CalendarPolicy(count_start_day=True, makeup_days_count=policy.makeup_days_count)
        with self._uow() as uow:
            calendar = load_calendar(uow.session, counting)
            rows = uow.session.execute(
                select(
                    HumanTask.id,
                    HumanTask.name,
                    HumanTask.title,
                    HumanTask.lane,
                    HumanTask.org_id,
                    HumanTask.user_id,
                    HumanTask.application_id,
                    HumanTask.instance_id,
                    HumanTask.created_at,
                )
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(
                    HumanTask.created_at <= cutoff,
                    ProcessInstance.status.not_in(HELD),
                    or_(
                        HumanTask.lane != roles.APPLICANT_LANE, HumanTask.name == "confirm_payment"
                    ),
                )
                .order_by(HumanTask.created_at, HumanTask.id)
            ).all()
            late = []
            for row in rows:
                waited = waited_workdays(calendar, row.created_at, today)
                if waited >= after_workdays:
                    late.append((row, waited))
        return sum(self._remind(row, waited, today, now) for row, waited in late)

    def _remind(self, row: Any, waited: int, today: date, now: datetime) -> int:
        key = f"reminder:{row.id}:{today.isoformat()}"
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(Notification.id).where(Notification.dedup_key == key)):
                return 0
            user_id = row.user_id if row.lane == roles.APPLICANT_LANE else None
            org_id = None if row.lane == roles.APPLICANT_LANE else row.org_id
            holder = holder_of(session, row.id)
            if holder is not None:  # 转办: the holder is reminded (and its stand-in, 委派)
                user_id, org_id = holder, None
            if user_id is None and org_id is None:
                return 0
            queue_notice(
                session,
                now=now,
                user_id=user_id,
                org_id=org_id,
                phone=phone_of(session, user_id, org_id),
                kind="reminder",
                text=_reminder_text(row, waited),
                instance_id=row.instance_id,
                dedup_key=key,
            )
            try:
                uow.commit()
            except IntegrityError:
                log.info("reminder for task %s already written today", row.id)
                return 0
        return 1

    def deliver_sms(
        self, send: Callable[[SmsMessage], None], *, limit: int = 100, max_attempts: int = 5
    ) -> int:
        """Send pending SMS rows through ``send``; mark each sent, retried or failed."""
        now = as_utc(self.clock())
        with self._uow() as uow:
            session = uow.session
            session.execute(
                update(Notification)
                .where(
                    Notification.channel == "sms",
                    Notification.status == "sending",
                    Notification.sent_at <= now - SENDING_TIMEOUT,
                )
                .values(status="pending")
                .execution_options(synchronize_session=False)
            )
            candidates = session.execute(
                select(Notification.id, Notification.attempts, Notification.sent_at)
                .where(Notification.channel == "sms", Notification.status == "pending")
                .order_by(Notification.id)
                .limit(limit)
            ).all()
            uow.commit()
        ready = [
            c.id
            for c in candidates
            if c.sent_at is None or as_utc(c.sent_at) + RETRY_BASE * 2 ** (c.attempts - 1) <= now
        ]
        return sum(self._deliver_one(nid, send, now, max_attempts) for nid in ready)

    def _deliver_one(
        self, nid: int, send: Callable[[SmsMessage], None], now: datetime, max_attempts: int
    ) -> int:
        with self._uow() as uow:
            claimed = rows_changed(
                uow.session,
                update(Notification)
                .where(Notification.id == nid, Notification.status == "pending")
                .values(status="sending", attempts=Notification.attempts + 1, sent_at=now)
                .execution_options(synchronize_session=False),
            )
            if claimed != 1:
                return 0  # another notifier took it
            row = uow.session.execute(
                select(
                    Notification.phone, Notification.kind, Notification.text, Notification.attempts
                ).where(Notification.id == nid)
            ).one()
            uow.commit()
        message = SmsMessage(
            nid, f"zhiping-notification-{nid}", row.phone or "", row.kind, row.text
        )
        attempts = row.attempts
        try:
            send(message)
        except DeliveryError as exc:
            status = "failed" if attempts >= max_attempts else "pending"
            log.warning("sms %s attempt %s failed (%s): %s", nid, attempts, status, exc.message)
            self._set_sms_status(nid, status, None)
            return 0
        self._set_sms_status(nid, "sent", as_utc(self.clock()))
        return 1

    def _set_sms_status(self, nid: int, status: str, sent_at: datetime | None) -> None:
        with self._uow() as uow:
            values: dict[str, Any] = {"status": status}
            if sent_at is not None:
                values["sent_at"] = sent_at
            uow.session.execute(
                update(Notification)
                .where(Notification.id == nid, Notification.status == "sending")
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            uow.commit()

    def urge(self, application_id: int | str, actor: Actor) -> dict[str, Any]:
        """催办: remind whoever holds the application's current tasks, once per task per day."""
        now = self.clock()
        today = now.astimezone(CHINA_TZ).date().isoformat()
        with self._uow() as uow:
            session = uow.session
            app = visible_application(session, application_id, actor)
            tasks = session.scalars(
                select(HumanTask).where(HumanTask.application_id == app.id)
            ).all()
            urged = skipped = 0
            for task in tasks:
                key = f"urge:{task.id}:{today}"
                holder = holder_of(session, task.id)
                if may_act(actor, task, holder_id=holder) or session.scalar(
                    select(Notification.id).where(Notification.dedup_key == key)
                ):
                    skipped += 1
                    continue
                text = (
                    f"催办：{actor.name}提醒您尽快办理「{task.title}」"
                    f"（申报编号 {app.id}，{app.series}{app.level} {app.specialty}）。"
                )
                queue_notice(
                    session,
                    now=now,
                    user_id=holder or task.user_id,
                    org_id=None if holder or task.user_id else task.org_id,
                    phone=phone_of(session, holder or task.user_id, task.org_id),
                    kind="urge",
                    text=text,
                    instance_id=task.instance_id,
                    dedup_key=key,
                )
                urged += 1
            if urged:
                session.add(
                    audit_event(
                        now,
                        actor,
                        "urge",
                        application_id=app.id,
                        instance_id=app.instance_id,
                        detail={"tasks": urged},
                    )
                )
            uow.commit()
        if not urged:
            raise ConflictError("当前没有可催办的事项，或今天已催办过", code="already_urged")
        return {"urged": urged, "skipped": skipped}
