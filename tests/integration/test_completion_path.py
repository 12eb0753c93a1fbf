"""A completion writes only what changed and reads nothing back (engine/completion.py), and
what it answers and leaves behind is what a full re-read would give."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy import event, select

from engine import runtime
from storage import HumanTask, ProcessInstance, Timer, db
from tests.committee_flows import attend, form_session, load_experts, to_expert_review, vote
from tests.flows import application_at_unit_review, deploy, register_unit, unit_returns
from tests.helpers import start_process
from tests.samples import HEAD, user_task

FAR = "2099-01-01T00:00:00+08:00"


def _statements(app: Any) -> tuple[list[str], Any]:
    """A list every SQL statement sent from now on is appended to, and its remover."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_conn: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        verb = statement.split(None, 1)[0].upper()
        table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
        seen.append(f"{verb} {table.group(1) if table else ''}")

    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


def test_a_completion_reads_its_rows_once_and_never_reads_back(app, api):
    unit, _, app_id = application_at_unit_review(api)
    task = api.only_task(unit["username"], application=app_id, name="unit_review")
    seen, stop = _statements(app)
    try:
        r = api.complete(
            task["id"], unit["username"], decision="return", opinion="补充", return_reason="补充"
        )
    finally:
        stop()
    assert r.status == 200, r
    kinds = Counter(seen)
    # one read of the task with its instance, holder and application; none after the save
    assert kinds["SELECT human_task"] == 1
    assert kinds["SELECT process_instance"] == 0 and kinds["SELECT task_transfer"] == 0
    assert kinds["SELECT application"] == 0 and kinds["SELECT timer"] == 0
    assert kinds["UPDATE process_instance"] == 1 and kinds["UPDATE application"] == 1


def test_the_answer_lists_the_next_tasks_as_the_worklist_does(app, api):
    unit, person, app_id = application_at_unit_review(api)
    r = unit_returns(api, unit, app_id, "补充")
    assert r.status == 200, r
    listed = api.tasks(person["username"], application=app_id)
    assert r.json["next_tasks"] == [{k: t[k] for k in r.json["next_tasks"][0]} for t in listed]
    assert r.json["status"] == "running"


def test_parallel_ballots_keep_their_rows_and_creation_times(app, api):
    _, _, app_id = to_expert_review(api)  # from its kept starting point, then the experts
    load_experts(app, 7)
    r = form_session(api, [f"exp_{i}" for i in range(1, 8)])
    assert r.status == 201, r
    assert attend(api, r.json["session_id"], [f"exp_{i}" for i in range(1, 6)]).status == 200
    before = {
        e: api.only_task(e, application=app_id, name="expert_vote") for e in ("exp_2", "exp_3")
    }
    r = vote(api, "exp_1", app_id, "agree")
    assert r.status == 200, r
    answered = {t["id"]: t for t in r.json["next_tasks"]}
    assert len(answered) == 4
    for expert, task in before.items():
        assert answered[task["id"]]["created_at"] == task["created_at"], expert
        assert api.only_task(expert, application=app_id, name="expert_vote")["id"] == task["id"]
    with app.app_context():
        inst_id = int(r.json["instance_id"])
        rows = db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == inst_id))
        assert set(rows) == set(answered)


def _deadline_process() -> str:
    """start -> approve (lane unit; an interrupting timer on it) -> a timer wait -> end."""
    body = (
        '<bpmn:process id="deadline_probe" isExecutable="true">'
        '<bpmn:laneSet id="ls"><bpmn:lane id="lane_unit" name="unit">'
        + "".join(
            f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>"
            for n in ("start", "approve", "deadline", "cool_down", "end", "late")
        )
        + "</bpmn:lane></bpmn:laneSet>"
        '<bpmn:startEvent id="start"/>'
        + user_task()
        + '<bpmn:boundaryEvent id="deadline" attachedToRef="approve">'
        "<bpmn:timerEventDefinition><bpmn:timeDate>far</bpmn:timeDate>"
        "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:intermediateCatchEvent id="cool_down"><bpmn:timerEventDefinition>'
        "<bpmn:timeDate>far</bpmn:timeDate></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:endEvent id="end"/><bpmn:endEvent id="late"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="cool_down"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="cool_down" targetRef="end"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="deadline" targetRef="late"/>'
        "</bpmn:process>\n"
    )
    return HEAD + body + "</bpmn:definitions>\n"


def _timers(app: Any, inst_id: int) -> dict[str, str]:
    with app.app_context():
        rows = db.session.execute(
            select(Timer.name, Timer.status).where(Timer.instance_id == inst_id)
        )
        return dict(rows.all())


def test_a_completion_cancels_the_timer_it_leaves_and_records_the_one_it_reaches(app, api):
    assert deploy(api, {"deadline_probe.bpmn": _deadline_process()}).status == 201
    unit = register_unit(api)
    inst_id = start_process(app, "deadline_probe", {"unit_org_id": unit["unit_id"], "far": FAR})
    assert _timers(app, inst_id) == {"deadline": "pending"}
    task = api.only_task(unit["username"], name="approve")
    r = api.complete(task["id"], unit["username"], decision="approve", opinion="同意")
    assert r.status == 200, r
    assert r.json["status"] == "waiting" and r.json["next_tasks"] == []
    assert _timers(app, inst_id) == {"deadline": "cancelled", "cool_down": "pending"}
    # the rows are what a full walk of the saved instance gives
    with app.app_context():
        inst = db.session.get_one(ProcessInstance, inst_id)
        wf = app.extensions["runtime"].load(db.session, inst, scripts=False)
        assert {t.name for t in runtime.snapshot(wf).timers} == {"cool_down"}


def test_the_moved_on_statement_sets_every_index_column():
    from engine import save_statements

    assert set(save_statements.TASK_COLUMNS) == {c.name for c in HumanTask.__table__.columns}
