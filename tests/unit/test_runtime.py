"""engine/runtime.py on its own: parse, load, start, advance, store, restore, inspect, fire,
compact. No Flask app and no database; scripts run in the production script engine."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from lxml import etree
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine import runtime
from engine.scripts import script_engine
from tests.samples import BILLION_LAUGHS, XXE, process
from tests.unit.test_processes import (
    CHECKS,
    FUTURE,
    SUBMIT,
    approve,
    load,
    ret,
    start_title,
    submit_and_unit_approve,
)


def sample(script: str = "x = 1", *, before_task: bool = True) -> runtime.LoadedSpec:
    xml = process(script=script, before_task=before_task)
    return runtime.load_spec("sample", runtime.parse_xml(xml), "sample.bpmn")


@pytest.fixture(scope="module")
def specs():
    return {pid: load(pid) for pid in ("title_application", "dossier_review")}


def names(tasks):
    return [t.task_spec.name for t in tasks]


# --------------------------------------------------------------------------- parse and load


@pytest.mark.parametrize("doc", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_parse_refuses_doctype_declarations(doc):
    with pytest.raises((ValueError, etree.XMLSyntaxError)):
        runtime.parse_xml(doc)


def test_load_spec_describes_every_user_task_and_timer(specs):
    loaded = specs["title_application"]
    assert loaded.process_id == "title_application"
    assert set(loaded.user_tasks) == {
        "submit_application",
        "unit_review",
        "publicity_result",
        "level_review",
        "recommend",
        "confirm_payment",
        "verify_payment",
        "receive_paper",
        "expert_vote",
        "review_objection",
    }
    unit = loaded.user_tasks["unit_review"]
    assert (unit.lane, unit.form, unit.ui_form) == (
        "unit",
        "unit_review.schema.json",
        "unit_review.ui.json",
    )
    assert unit.org_variable == "unit_org_id" and unit.title != unit.name
    assert "eligibility" in runtime.validator_names(unit.validator)
    assert unit.status_expr and unit.properties["formJsonSchemaFilename"] == unit.form
    submit = loaded.user_tasks["submit_application"]
    assert submit.prefill and submit.lane == "applicant" and submit.org_variable is None
    # timers and message catch events that name the status their wait shows
    assert set(loaded.wait_status) == {
        "publicity_wait",
        "wait_panel",
        "wait_tally",
        "result_publicity_wait",
    }
    vote = loaded.user_tasks["expert_vote"]
    assert (vote.lane, vote.user_variable, vote.properties["ballot"]) == (
        "expert",
        "ballot_experts[ballot_index]",
        "true",
    )
    assert loaded.has_timers
    assert not specs["dossier_review"].has_timers


def test_validator_names_split_on_spaces_and_commas():
    assert runtime.validator_names("publicity_window, eligibility  x") == [
        "publicity_window",
        "eligibility",
        "x",
    ]
    assert runtime.validator_names(None) == runtime.validator_names("") == []


# --------------------------------------------------------------------------- start and advance


def test_new_workflow_holds_its_data_and_waits_to_be_advanced():
    loaded = sample()
    wf = runtime.new_workflow(loaded, "7", {"who": "王五"}, script_engine({}))
    assert wf.spec_key == "7"
    assert wf.task_tree.data == {"who": "王五"}
    assert runtime.snapshot(wf).ready == []  # nothing has run yet
    runtime.advance(wf)
    (ready,) = runtime.snapshot(wf).ready
    assert ready.task_spec.name == "approve"
    assert ready.data == {"who": "王五", "x": 1}  # the script ran in the sandbox


def test_snapshot_sorts_ready_tasks_timers_and_errors(specs):
    run = start_title(specs, False, over=False)
    assert names(runtime.snapshot(run.wf).ready) == ["submit_application"]
    submit_and_unit_approve(run)
    now = runtime.snapshot(run.wf)
    assert now.ready == [] and now.errored == []
    (timer,) = now.timers
    assert timer.name == "publicity_wait"
    assert timer.due_at == datetime.fromisoformat(FUTURE)
    assert timer.due_at.tzinfo == UTC
    assert runtime.find_task(run.wf, timer.task_id).state == TaskState.WAITING


def test_a_failing_script_keeps_its_message_on_the_task_through_a_round_trip():
    loaded = sample("x = 1 / 0")
    wf = runtime.new_workflow(loaded, "1", {}, script_engine({}))
    with pytest.raises(WorkflowException) as caught:
        runtime.advance(wf)
    runtime.record_error(caught.value)
    serializer = runtime.make_serializer(lambda key: loaded)
    wf = runtime.load(serializer, runtime.dump(serializer, wf), script_engine({}))
    (errored,) = runtime.snapshot(wf).errored
    assert errored.task_spec.name == "compute"
    assert "division" in errored._get_internal_data("error_message")
    assert errored._get_internal_data("error_type") == "ZeroDivisionError"


# --------------------------------------------------------------------------- store and restore


def test_an_instance_is_stored_without_its_spec_and_restored_by_key(specs):
    run = start_title(specs, False)
    run.complete("submit_application", **SUBMIT)
    serializer = runtime.make_serializer(lambda key: specs[key])
    state = runtime.dump(serializer, run.wf)
    stored = json.loads(state)
    assert stored["spec_key"] == "title_application"
    assert "spec" not in stored and "subprocess_specs" not in stored
    assert "<bpmn" not in state
    engine = script_engine({})
    again = runtime.load(serializer, state, engine)
    assert again.script_engine is engine  # Spiff does not store it: load puts it back
    assert again.spec is specs["title_application"].spec  # the cached spec, not a copy
    before, after = runtime.snapshot(run.wf).ready, runtime.snapshot(again).ready
    assert [(t.id, t.task_spec.name, t.data) for t in after] == [
        (t.id, t.task_spec.name, t.data) for t in before
    ]


def test_find_task_answers_none_for_ids_that_are_not_tasks(specs):
    run = start_title(specs, False)
    (ready,) = runtime.snapshot(run.wf).ready
    assert runtime.find_task(run.wf, str(ready.id)) is ready
    for bad in ("", "not-a-uuid", str(uuid4())):
        assert runtime.find_task(run.wf, bad) is None


def test_latest_data_follows_the_instance_to_its_end():
    loaded = sample(before_task=False)
    wf = runtime.new_workflow(loaded, "1", {"a": 1}, script_engine({}))
    runtime.advance(wf)
    assert runtime.latest_data(wf)["a"] == 1
    (task,) = runtime.snapshot(wf).ready
    task.data.update(approve())
    task.run()
    runtime.advance(wf)
    assert wf.is_completed()
    end = runtime.latest_data(wf)
    assert (end["a"], end["x"], end["decision"]) == (1, 1, "approve")


# --------------------------------------------------------------------------- timers


def test_only_the_engine_fires_a_timer_whatever_its_due_time(specs):
    run = start_title(specs, False, over=False)
    submit_and_unit_approve(run)
    (timer,) = runtime.snapshot(run.wf).timers
    run.wf.refresh_timers()  # Spiff's own wall-clock check: off in a ZWorkflow
    runtime.advance(run.wf)
    assert runtime.snapshot(run.wf).timers == [timer]
    assert runtime.fire_timer(run.wf, str(uuid4())) is False  # not a task
    assert runtime.fire_timer(run.wf, timer.task_id) is True  # long before FUTURE
    assert runtime.fire_timer(run.wf, timer.task_id) is False  # no longer waiting
    assert names(runtime.snapshot(run.wf).ready) == ["publicity_result"]
    assert runtime.snapshot(run.wf).timers == []
    assert run.wf.timers_enabled is False


# --------------------------------------------------------------------------- compact


def test_compact_replays_a_returned_instance_to_its_first_task_with_the_current_data(specs):
    loaded = specs["title_application"]
    run = start_title(specs, False)
    first = runtime.snapshot(run.wf)
    assert runtime.compact(run.wf, first, loaded) == (None, None)  # nothing ran twice yet
    run.complete("submit_application", **SUBMIT)
    run.complete("unit_review", **ret("请补充继续教育证明"))
    now = runtime.snapshot(run.wf)
    (back,) = now.ready
    assert back.task_spec.name == "submit_application" and back.data["return_count"] == 1
    fresh, entry = runtime.compact(run.wf, now, loaded)
    assert fresh is not None
    assert len(fresh.tasks) < len(run.wf.tasks)
    (ready,) = runtime.snapshot(fresh).ready
    assert ready.task_spec.name == "submit_application"
    assert ready.data == back.data  # the current data, return count and reason included
    assert fresh.script_engine is run.wf.script_engine
    assert entry == "submit_application"  # learned for the caller to keep
    assert not hasattr(loaded, "entry_task")  # the shared, cached spec is never written
    # the compacted instance goes on as the original would
    ready.data.update(SUBMIT)
    ready.run()
    runtime.advance(fresh)
    assert names(runtime.snapshot(fresh).ready) == ["unit_review"]


def test_compact_keeps_an_instance_that_waits_on_anything_else(specs):
    loaded = specs["title_application"]
    run = start_title(specs, False, over=False)
    submit_and_unit_approve(run)  # waits on the publicity timer
    assert runtime.compact(run.wf, runtime.snapshot(run.wf), loaded)[0] is None
    run = start_title(specs, False)
    submit_and_unit_approve(run)
    run.complete("level_review", **approve(**CHECKS))  # at recommend, never seen before
    assert runtime.compact(run.wf, runtime.snapshot(run.wf), loaded)[0] is None
