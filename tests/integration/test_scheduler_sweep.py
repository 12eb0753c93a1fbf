"""The sweep on a bare timer process: exactly once under concurrency, isolation of failures."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select, update

from engine import ConflictError
from storage import AuditEvent, ProcessInstance, Timer, db
from tests.helpers import start_process

PROBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs_timer_probe"
    targetNamespace="http://zhiping.example/tests">
  <bpmn:process id="timer_probe" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_timer">
        <bpmn:timeDate xsi:type="bpmn:tFormalExpression">due</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="after"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def deploy_probe(app: Flask, script: str = "fired = True") -> None:
    """Deploy `timer_probe`: start -> timer at `due` -> script -> end."""
    xml = PROBE.replace("SCRIPT", script).encode()
    with app.app_context():
        app.extensions["deployments"].deploy({"timer_probe.bpmn": xml}, actor="tests")


def start_probes(app: Flask, count: int, due: datetime) -> list[int]:
    """Start instances that wait for `due` (Spiff's first look uses the wall clock)."""
    clock = app.extensions["runtime"].clock
    with time_machine.travel(clock(), tick=False):
        return [start_process(app, "timer_probe", {"due": due.isoformat()}) for _ in range(count)]


def sweep(app: Flask) -> int:
    with app.app_context():
        return app.extensions["timers"].fire_due_timers()


def sweep_twice_at_once(app: Flask, **options: int) -> tuple[list[int], int]:
    """Two sweeps started together in threads (``options`` for ``fire_due_timers``), then a
    third alone: what each of the two fired, and what was left for the third (SQLite may
    have answered "busy" to a claim: retried, never doubled)."""
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        with app.app_context():
            barrier.wait()
            counts.append(app.extensions["timers"].fire_due_timers(**options))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return counts, sweep(app)


def _fired_per_instance(app: Flask) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.instance_id, func.count(AuditEvent.id))
            .where(AuditEvent.action == "timer_fired")
            .group_by(AuditEvent.instance_id)
        ).all()
    return dict(rows)


def test_two_sweeps_in_threads_fire_each_of_50_timers_exactly_once(app, clock):
    deploy_probe(app)
    ids = start_probes(app, 50, clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)
    counts, leftover = sweep_twice_at_once(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert leftover == 0  # row locks serialise the claims: nothing is left over
    assert len(counts) == 2 and sum(counts) + leftover == 50
    assert _fired_per_instance(app) == {i: 1 for i in ids}
    with app.app_context():
        rows = db.session.execute(
            select(ProcessInstance.status, ProcessInstance.revision).where(
                ProcessInstance.id.in_(ids)
            )
        ).all()
        assert set(rows) == {("completed", 2)}
        assert db.session.scalar(select(func.count()).where(Timer.status == "fired")) == 50


def test_a_broken_instance_is_parked_in_error_and_the_others_fire(app, clock):
    deploy_probe(app)
    first, second, third = start_probes(app, 3, clock.now + timedelta(minutes=1))
    with app.app_context():
        db.session.execute(
            update(ProcessInstance).where(ProcessInstance.id == second).values(state="{not json")
        )
        db.session.commit()
    clock.advance(minutes=5)
    assert sweep(app) == 2
    assert sweep(app) == 0  # the broken one is not retried every tick
    assert _fired_per_instance(app) == {first: 1, third: 1}
    with app.app_context():
        broken = db.session.get(ProcessInstance, second)
        assert broken.status == "error" and "timer failed" in broken.problem
        timer = db.session.scalars(select(Timer).where(Timer.instance_id == second)).one()
        assert timer.status == "pending"
        assert db.session.scalar(
            select(func.count()).where(
                AuditEvent.action == "timer_failed", AuditEvent.instance_id == second
            )
        )


def test_a_failing_script_after_the_timer_leaves_the_instance_in_error(app, clock):
    deploy_probe(app, "x = 1 / 0")
    (inst,) = start_probes(app, 1, clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)
    assert sweep(app) == 1
    with app.app_context():
        row = db.session.get(ProcessInstance, inst)
        assert row.status == "error" and row.error_task == "after"
        assert "division by zero" in row.problem
        timer = db.session.scalars(select(Timer).where(Timer.instance_id == inst)).one()
        assert timer.status == "fired"
    assert sweep(app) == 0


def test_a_timer_row_whose_task_no_longer_waits_is_cancelled(app, clock):
    deploy_probe(app)
    (inst,) = start_probes(app, 1, clock.now + timedelta(days=1))
    with app.app_context():
        db.session.add(
            Timer(
                instance_id=inst,
                task_id="00000000-0000-0000-0000-000000000000",
                name="ghost",
                due_at=clock.now,
                status="pending",
                created_at=clock.now,
            )
        )
        db.session.commit()
    assert sweep(app) == 0
    with app.app_context():
        statuses = dict(
            db.session.execute(
                select(Timer.name, Timer.status).where(Timer.instance_id == inst)
            ).all()
        )
        assert statuses == {"ghost": "cancelled", "wait": "pending"}


def test_upcoming_due_times_for_date_jobs(app, clock):
    deploy_probe(app)
    start_probes(app, 2, clock.now + timedelta(seconds=30))
    start_probes(app, 1, clock.now + timedelta(seconds=50))
    start_probes(app, 1, clock.now + timedelta(hours=2))
    with app.app_context():
        upcoming = app.extensions["timers"].upcoming_due_times(timedelta(minutes=1))
    assert upcoming == [
        (clock.now + timedelta(seconds=30), timedelta(seconds=30)),
        (clock.now + timedelta(seconds=50), timedelta(seconds=50)),
    ]


def test_force_fires_before_the_due_time_and_is_recorded(app, clock):
    deploy_probe(app)
    (inst,) = start_probes(app, 1, clock.now + timedelta(days=2))
    timers = app.extensions["timers"]
    with app.app_context():
        timer_id = db.session.scalars(select(Timer.id).where(Timer.instance_id == inst)).one()
        with pytest.raises(ConflictError) as refused:
            timers.fire_timer(timer_id)
        assert refused.value.code == "timer_not_due"
        view = timers.fire_timer(timer_id, force=True, reason="试运行")
        assert (view.status, view.instance_status) == ("fired", "completed")
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "timer_fired")
        ).one()
        assert event.detail["forced"] is True and event.reason == "试运行"
