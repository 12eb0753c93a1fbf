"""Reminders (催办) once per task per day, and SMS outbox delivery through a real HTTP gateway."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from engine import CalendarPolicy, UnknownYearError
from storage import HumanTask, Notification, ProcessInstance, db
from tests.flows import (
    CHAIN,
    file_application,
    level,
    register_applicant,
    register_unit,
    submit,
    unit_approves,
)
from web.notifier import gateway_sender, log_sender

NINE_AM = 1  # 09:00 in Ningbo is 01:00 UTC


def _remind(app, after: int = 3) -> int:
    with app.app_context():
        return app.extensions["notices"].send_reminders(
            after_workdays=after, policy=CalendarPolicy()
        )


def _reminders(app) -> list[Notification]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(Notification.kind == "reminder").order_by(Notification.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def _at(clock, api, day: int, month: int = 12) -> None:
    clock.now = datetime(2026, month, day, NINE_AM, tzinfo=UTC)
    api.tokens.clear()


def test_unit_is_reminded_after_three_working_days_once_a_day(app, api, clock):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)  # unit_review arrives Thursday 2026-11-26
    _at(clock, api, 30, 11)  # Monday: Friday and Monday have passed, 2 working days
    assert _remind(app) == 0
    _at(clock, api, 1)  # Tuesday: 3 working days
    assert _remind(app) == 1
    assert _remind(app) == 0  # at most once per task per day
    rows = _reminders(app)
    assert {(r.channel, r.org_id, r.status) for r in rows} == {
        ("inapp", rows[0].org_id, "delivered"),
        ("sms", rows[0].org_id, "pending"),
    }
    assert rows[0].org_id.startswith("unit-") and "已等待 3 个工作日" in rows[0].text
    assert f"申报编号 {app_id}" in rows[0].text
    _at(clock, api, 2)
    assert _remind(app) == 1
    unit_approves(api, unit, app_id)
    _at(clock, api, 3)
    assert _remind(app) == 0  # the task is done; level_review arrived only today


def test_suspended_instances_and_fresh_tasks_are_not_reminded(app, api, clock):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    with app.app_context():
        db.session.execute(update(ProcessInstance).values(status="suspended"))
        db.session.commit()
    _at(clock, api, 10)
    assert _remind(app) == 0


def test_applicant_is_reminded_to_pay_and_reviewers_without_phone_in_app_only(app, api, clock):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    unit_approves(api, unit, app_id)
    for org in CHAIN[:-1]:
        level(api, org, app_id)
    _at(clock, api, 2)
    # Still waiting: the last level's review (an org without a phone number).
    assert _remind(app) == 1
    assert [(r.channel, r.org_id) for r in _reminders(app)] == [("inapp", "nb-hrss")]
    level(api, "nb-hrss", app_id)  # review and recommend: confirm_payment arrives 12-02
    _at(clock, api, 7)  # Thursday, Friday, Monday
    assert _remind(app) == 1
    payment = [r for r in _reminders(app) if r.user_id is not None]
    assert {r.channel for r in payment} == {"inapp", "sms"}
    assert all("缴费" in r.text and r.phone in (None, "13800138000") for r in payment)


def test_a_reminder_written_meanwhile_by_another_scheduler_is_not_doubled(app, api, clock):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    submit(api, person, file_application(api, person))
    _at(clock, api, 1)
    with app.app_context():
        task_id = db.session.scalars(select(HumanTask.id)).one()
        db.session.add(
            Notification(
                created_at=clock.now,
                org_id="x",
                channel="sms",
                kind="reminder",
                text="x",
                dedup_key=f"reminder:{task_id}:2026-12-01:sms",
                status="pending",
            )
        )
        db.session.commit()
    assert _remind(app) == 0
    assert len(_reminders(app)) == 1


def test_reminders_refuse_to_count_in_an_unknown_year(app, api, clock):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    submit(api, person, file_application(api, person))
    clock.now = datetime(2027, 1, 6, NINE_AM, tzinfo=UTC)
    with pytest.raises(UnknownYearError) as err:
        _remind(app)
    assert err.value.year == 2027


# ----- SMS delivery -------------------------------------------------------------------------
class _Gateway(BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def gateway() -> Iterator[tuple[str, type[_Gateway]]]:
    _Gateway.answers, _Gateway.received = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    # shutdown() waits for serve_forever's next look at its flag: look often.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms", _Gateway
    server.shutdown()
    server.server_close()


def _outbox(app, clock, count: int = 1) -> list[int]:
    with app.app_context():
        rows = [
            Notification(
                created_at=clock.now,
                channel="sms",
                kind="reminder",
                text=f"催办提醒 {n}",
                phone="13800138000",
                status="pending",
            )
            for n in range(count)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [r.id for r in rows]


def _deliver(app, send, **kw) -> int:
    with app.app_context():
        return app.extensions["notices"].deliver_sms(send, **kw)


def _sms(app, nid: int) -> Notification:
    with app.app_context():
        row = db.session.get(Notification, nid)
        db.session.expunge(row)
        return row


def test_sms_are_posted_once_to_the_gateway(app, clock, gateway):
    url, handler = gateway
    ids = _outbox(app, clock, 2)
    assert _deliver(app, gateway_sender(url)) == 2
    assert _deliver(app, gateway_sender(url)) == 0
    assert [m["id"] for m in handler.received] == [f"zhiping-notification-{i}" for i in ids]
    assert handler.received[0]["phone"] == "13800138000" and "催办" in handler.received[0]["text"]
    assert {(_sms(app, i).status, _sms(app, i).attempts) for i in ids} == {("sent", 1)}


def test_gateway_errors_are_retried_with_backoff_then_given_up(app, clock, gateway):
    url, handler = gateway
    handler.answers = [500, 503, 500]
    (nid,) = _outbox(app, clock)
    send = gateway_sender(url)
    assert _deliver(app, send, max_attempts=3) == 0
    assert (_sms(app, nid).status, _sms(app, nid).attempts) == ("pending", 1)
    assert _deliver(app, send, max_attempts=3) == 0  # backoff: not yet
    assert len(handler.received) == 1
    clock.advance(seconds=31)
    assert _deliver(app, send, max_attempts=3) == 0
    clock.advance(seconds=61)
    assert _deliver(app, send, max_attempts=3) == 0
    assert (_sms(app, nid).status, _sms(app, nid).attempts) == ("failed", 3)
    assert len(handler.received) == 3


def test_unreachable_gateway_and_stuck_rows(app, clock, caplog):
    (nid,) = _outbox(app, clock)
    assert _deliver(app, gateway_sender("http://127.0.0.1:9/sms", timeout=2)) == 0
    assert _sms(app, nid).status == "pending"
    with app.app_context():  # a notifier died after claiming the row
        db.session.execute(
            update(Notification)
            .where(Notification.id == nid)
            .values(status="sending", sent_at=clock.now - timedelta(minutes=11))
        )
        db.session.commit()
    with caplog.at_level("INFO", logger="web.notifier"):
        assert _deliver(app, log_sender) == 1
    assert _sms(app, nid).status == "sent"
    assert "SMS to 13800138000" in caplog.text
