"""Settings live in the objects that use them: nothing is patched into a library or a module
global by building an app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)

from engine import PasswordHasher, runtime
from engine.scripts import script_engine
from tests.integration.test_scheduler_sweep import PROBE


def test_each_hasher_keeps_its_own_cost():
    cheap, dear = PasswordHasher(2**4), PasswordHasher(2**8)
    assert cheap.hash("x-Pass-1").startswith("scrypt$16$")
    assert dear.hash("x-Pass-1").startswith("scrypt$256$")
    # A stored hash is checked with its own cost, whichever hasher checks it.
    assert dear.check(cheap.hash("x-Pass-1"), "x-Pass-1")
    assert not dear.check(cheap.hash("x-Pass-1"), "other")


def test_a_bad_cost_is_refused():
    for bad in (0, 1, 3, 1000):
        try:
            PasswordHasher(bad)
        except ValueError:
            continue
        raise AssertionError(f"N={bad} accepted")


def _probe(due: datetime) -> tuple[runtime.LoadedSpec, runtime.ZWorkflow]:
    xml = PROBE.replace("SCRIPT", "fired = True").encode()
    loaded = runtime.load_spec("timer_probe", runtime.parse_xml(xml), "timer_probe.bpmn")
    wf = runtime.new_workflow(loaded, "1", {"due": due.isoformat()}, script_engine({}))
    return loaded, wf


def test_spiff_timer_classes_are_left_as_spiff_ships_them():
    # Loading a spec gives its own timers the engine's classes ...
    loaded, _ = _probe(datetime.now(UTC))
    wait = loaded.spec.task_specs["wait"].event_definition
    assert isinstance(wait, runtime.EngineTimeDate)
    # ... while Spiff's classes are not patched: a plain Spiff workflow fires on its clock.
    for cls in (TimeDateEventDefinition, DurationTimerEventDefinition):
        assert not hasattr(cls.has_fired, "__wrapped__")
        assert "has_fired" in vars(cls)
    plain = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=script_engine({}))
    plain.task_tree.data["due"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    plain.do_engine_steps()
    assert plain.is_completed()


def test_a_due_timer_waits_for_the_engine_and_keeps_spiffs_event_name():
    _, wf = _probe(datetime.now(UTC) - timedelta(days=1))  # due yesterday by the wall clock
    runtime.advance(wf)
    (timer,) = runtime.snapshot(wf).timers
    assert not wf.is_completed()
    assert {e.event_type for e in wf.waiting_events()} == {"TimeDateEventDefinition"}
    assert runtime.fire_timer(wf, timer.task_id)
    assert wf.is_completed()
