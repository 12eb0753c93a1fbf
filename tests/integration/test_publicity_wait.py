"""The publicity wait through the API: a durable timer, released by the sweep, never early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from storage import AuditEvent, ProcessInstance, Timer, db
from tests.flows import (
    file_application,
    register_applicant,
    register_unit,
    status_of,
    submit,
    unit_approves,
)

NATIONAL_DAY_WINDOW = {"publicity_start": "2026-09-28", "publicity_end": "2026-10-09"}
# The window's last day is 2026-10-09; it has closed at midnight in Ningbo (UTC+8).
RELEASE = datetime(2026, 10, 9, 16, 0, tzinfo=UTC)


def _move(api, clock, when: datetime) -> None:
    """Move the engine's clock; API tokens (12 h) are issued afresh."""
    clock.now = when
    api.tokens.clear()


def _sweep(app) -> int:
    with app.app_context():
        return app.extensions["timers"].fire_due_timers()


def _waiting_application(api, clock):
    clock.now = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)  # Monday 10:00 in Ningbo
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    # The engine's clock is two months behind the wall clock here: the timer must still wait
    # (only the engine fires timers, never SpiffWorkflow's own datetime.now()).
    r = unit_approves(api, unit, app_id, **NATIONAL_DAY_WINDOW)
    assert r.status == 200, r
    return unit, person, app_id


def _timer_of(api, app_id: str) -> dict:
    items = api.get("/ops/timers?status=pending", "admin").json["items"]
    mine = [t for t in items if t["application_id"] == app_id]
    assert len(mine) == 1, items
    return mine[0]


def _timer_audits(app, instance_id: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.instance_id == int(instance_id), AuditEvent.action == "timer_fired"
            )
        )


def test_window_across_national_day_waits_then_climbs(app, api, clock):
    unit, person, app_id = _waiting_application(api, clock)
    detail = api.get(f"/applications/{app_id}", person["username"]).json
    assert detail["status"] == "publicity" and detail["publicity_end"] == "2026-10-09"
    assert datetime.fromisoformat(detail["publicity_release_at"]) == RELEASE
    assert api.tasks(unit["username"], application=app_id) == []
    timer = _timer_of(api, app_id)
    assert timer["name"] == "publicity_wait" and timer["status"] == "pending"
    assert datetime.fromisoformat(timer["due_at"]) == RELEASE

    _move(api, clock, datetime(2026, 10, 9, 15, 59, 59, tzinfo=UTC))  # 23:59:59, last day
    assert _sweep(app) == 0
    assert status_of(api, person, app_id) == "publicity"

    _move(api, clock, datetime(2026, 10, 9, 16, 0, 1, tzinfo=UTC))
    assert _sweep(app) == 1
    assert _sweep(app) == 0
    task = api.only_task(unit["username"], application=app_id, name="publicity_result")
    assert status_of(api, person, app_id) == "publicity"
    fired = api.get("/ops/timers?status=fired", "admin").json["items"]
    assert [t["id"] for t in fired] == [timer["id"]]
    assert _timer_audits(app, timer["instance_id"]) == 1

    r = api.complete(
        task["id"],
        unit["username"],
        decision="approve",
        opinion="公示期满无异议",
        publicity_objections="",
    )
    assert r.status == 200, r
    assert status_of(api, person, app_id) == "in_review"
    assert api.only_task("yz_water_1", application=app_id, name="level_review")
    timeline = api.get(f"/applications/{app_id}", person["username"]).json["timeline"]
    assert ("publicity_wait", "timer_fired", "系统") in [
        (e["task"], e["action"], e["actor"]) for e in timeline
    ]


def test_operator_cannot_fire_early_and_fires_an_overdue_timer_once(app, api, clock):
    _unit, person, app_id = _waiting_application(api, clock)
    timer = _timer_of(api, app_id)
    path = f"/ops/timers/{timer['id']}/fire"
    r = api.post(path, "admin", json={"reason": "想提前结束公示"})
    assert r.status == 409 and r.json["error"]["code"] == "timer_not_due"
    assert api.post(path, "platform_1", json={"reason": "x"}).status == 403
    assert api.get("/ops/timers", "yz_water_1").status == 403
    assert api.get("/ops/timers", "platform_1").status == 200
    assert api.post("/ops/timers/999999/fire", "admin", json={"reason": "x"}).status == 404
    assert api.post("/ops/timers/abc/fire", "admin", json={"reason": "x"}).status == 404
    assert api.get("/ops/timers?status=late", "admin").status == 422

    _move(api, clock, RELEASE.replace(hour=18))
    overdue = api.get("/ops/timers?status=overdue", "admin").json
    assert overdue["total"] == 1 and overdue["items"][0]["id"] == timer["id"]
    r = api.post(path, "admin", json={"reason": "调度器停机，手动放行"})
    assert r.status == 200, r
    assert r.json["status"] == "fired" and r.json["instance_status"] == "running"
    again = api.post(path, "admin", json={"reason": "再次放行"})
    assert again.status == 409 and again.json["error"]["code"] == "timer_fired"
    assert _sweep(app) == 0
    assert _timer_audits(app, timer["instance_id"]) == 1
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "timer_fired")
        ).one()
        assert (event.actor_name, event.reason) == ("平台管理员", "调度器停机，手动放行")
    assert status_of(api, person, app_id) == "publicity"


def test_suspended_instance_fires_nothing_until_resumed(app, api, clock):
    unit, _person, app_id = _waiting_application(api, clock)
    timer = _timer_of(api, app_id)
    with app.app_context():
        db.session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == int(timer["instance_id"]))
            .values(status="suspended")
        )
        db.session.commit()
    _move(api, clock, RELEASE.replace(day=12))
    assert _sweep(app) == 0
    r = api.post(f"/ops/timers/{timer['id']}/fire", "admin", json={"reason": "x"})
    assert r.status == 409 and r.json["error"]["code"] == "instance_suspended"
    assert _timer_of(api, app_id)["status"] == "pending"
    assert api.tasks(unit["username"], application=app_id) == []

    with app.app_context():
        db.session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == int(timer["instance_id"]))
            .values(status="waiting")
        )
        db.session.commit()
    assert _sweep(app) == 1
    assert api.only_task(unit["username"], application=app_id, name="publicity_result")


def test_timer_due_while_the_service_was_stopped_fires_once(app, api, clock):
    unit, _person, app_id = _waiting_application(api, clock)
    timer = _timer_of(api, app_id)
    _move(api, clock, clock.now + timedelta(days=30))  # the service was down for weeks
    assert _sweep(app) == 1
    assert _sweep(app) == 0
    assert _timer_audits(app, timer["instance_id"]) == 1
    assert len(api.tasks(unit["username"], application=app_id, name="publicity_result")) == 1
    with app.app_context():
        row = db.session.get(Timer, int(timer["id"]))
        assert row.status == "fired" and row.fired_at is not None


def test_window_reaching_an_unknown_year_is_refused_naming_it(api):
    unit = register_unit(api)
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    submit(api, person, app_id)
    r = unit_approves(api, unit, app_id, publicity_start="2026-12-28", publicity_end="2027-01-08")
    assert r.status == 422
    message = r.json["error"]["fields"]["publicity_end"]
    assert "2027" in message
    assert "联系平台管理员" in message and "2026 年 12 月 31 日之前" in message  # whom to ask
    assert status_of(api, person, app_id) == "unit_review"
    assert api.get("/ops/timers", "admin").json["total"] == 0
