"""A timer firing takes the completion's path: the batch reads its instances and their
applications once, each firing writes only what changed, and what it leaves behind is what a
full walk of the saved instance gives."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from engine import runtime
from storage import HumanTask, ProcessInstance, Timer, db
from tests.flows import deploy, register_unit, status_of
from tests.helpers import start_process
from tests.integration.test_completion_path import _deadline_process, _statements
from tests.integration.test_publicity_wait import RELEASE, _move, _waiting_application
from tests.integration.test_scheduler_sweep import deploy_probe, start_probes, sweep


def _rows_of(app: Any, inst_id: int) -> tuple[dict[str, str], set[str]]:
    """The instance's timer rows (name: status) and its task index rows' names."""
    with app.app_context():
        timers = db.session.execute(
            select(Timer.name, Timer.status).where(Timer.instance_id == inst_id)
        )
        tasks = db.session.scalars(select(HumanTask.name).where(HumanTask.instance_id == inst_id))
        return dict(timers.all()), set(tasks.all())


def _walked(app: Any, inst_id: int) -> tuple[set[str], set[str]]:
    """What a full walk of the saved instance waits on: (timer names, ready task names)."""
    with app.app_context():
        inst = db.session.get_one(ProcessInstance, inst_id)
        now = runtime.snapshot(app.extensions["runtime"].load(db.session, inst, scripts=False))
        return {t.name for t in now.timers}, {t.task_spec.name for t in now.ready}


def _sweep_counting(app: Any, fires: int) -> Counter[str]:
    """Sweep once, expecting ``fires`` firings: the kinds of the statements it sent."""
    seen, stop = _statements(app)
    try:
        assert sweep(app) == fires
    finally:
        stop()
    return Counter(seen)


def test_a_batch_reads_its_instances_once_and_nothing_per_timer(app, clock):
    deploy_probe(app)
    ids = start_probes(app, 5, clock.now + timedelta(minutes=1))
    clock.advance(minutes=2)
    kinds = _sweep_counting(app, 5)
    # one batch: its instances (with their applications' statuses) in one statement, and no
    # read of the index, the pending timers or an application per firing
    assert kinds["SELECT process_instance"] == 1, kinds
    assert kinds["SELECT human_task"] == 0 and kinds["SELECT application"] == 0, kinds
    assert kinds["SELECT timer"] <= 2, kinds  # the claim (PostgreSQL locks first) and its rows
    assert kinds["UPDATE process_instance"] == 5, kinds
    for inst_id in ids:
        assert _rows_of(app, inst_id) == ({"wait": "fired"}, set())


def test_a_deadline_takes_the_task_off_the_worklist_as_a_full_walk_would(app, api, clock):
    assert deploy(api, {"deadline_probe.bpmn": _deadline_process()}).status == 201
    unit = register_unit(api)
    due = (clock.now + timedelta(minutes=1)).isoformat()
    with time_machine.travel(clock(), tick=False):  # Spiff's first look uses the wall clock
        inst_id = start_process(app, "deadline_probe", {"unit_org_id": unit["unit_id"], "far": due})
    assert _rows_of(app, inst_id) == ({"deadline": "pending"}, {"approve"})
    assert api.tasks(unit["username"], name="approve")
    clock.advance(minutes=2)
    api.tokens.clear()
    assert sweep(app) == 1
    # the deadline fired, the task it interrupted left the index, nothing else waits
    assert _rows_of(app, inst_id) == ({"deadline": "fired"}, set())
    assert _walked(app, inst_id) == (set(), set())
    assert api.tasks(unit["username"], name="approve") == []
    with app.app_context():
        assert db.session.get_one(ProcessInstance, inst_id).status == "completed"


def test_the_publicity_release_moves_its_application_without_reading_it(app, api, clock):
    unit, person, app_id = _waiting_application(api, clock)
    _move(api, clock, RELEASE + timedelta(seconds=1))
    kinds = _sweep_counting(app, 1)
    assert kinds["SELECT application"] == 0 and kinds["UPDATE application"] == 1, kinds
    assert status_of(api, person, app_id) == "publicity"
    assert api.only_task(unit["username"], application=app_id, name="publicity_result")
