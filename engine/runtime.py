"""Pure SpiffWorkflow plumbing: parse, build, (de)serialize, advance, inspect.

Specs are parsed once per deployed version and shared read-only; instances are
serialized without their spec. Timers never fire on Spiff's own wall clock: only the
engine fires them (see ``fire_timer``), so tests and the scheduler share one clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.lanes import lane_keys
from engine.scripts import ScriptLimitExceeded, script_engine
from engine.waits import Snapshot, WaitingTimer, Waits, snapshot, waiting_message, waits_of  # noqa: F401

HARDENED_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False
)


class ZWorkflow(BpmnWorkflow):
    """BpmnWorkflow whose timers fire only when the engine says so."""

    timers_enabled = False

    def refresh_timers(self) -> None:
        if self.timers_enabled:
            super().refresh_timers()


class _EngineClockTimer:
    """Mixed before a Spiff timer definition: inside a ZWorkflow, ``has_fired`` only computes
    and caches the due time (event_value) and never compares it with the wall clock; the
    engine decides. Spiff checks a timer against datetime.now() when an instance first
    reaches it; with the engine's own clock (tests, the scheduler) that would release a wait
    the engine has not fired. Our parsed specs get these subclasses (``load_spec``); Spiff's
    own classes stay as they are."""

    def has_fired(self, my_task: Task) -> bool:
        fired = super().has_fired(my_task)  # type: ignore[misc]
        top = my_task.workflow.top_workflow
        if isinstance(top, ZWorkflow) and not top.timers_enabled:
            return False
        return bool(fired)

    def details(self, my_task: Task) -> Any:
        event = super().details(my_task)  # type: ignore[misc]
        event.event_type = type(self).__mro__[2].__name__  # the Spiff class it stands for
        return event


class EngineTimeDate(_EngineClockTimer, TimeDateEventDefinition):
    """A timeDate timer that waits for the engine."""


class EngineDuration(_EngineClockTimer, DurationTimerEventDefinition):
    """A timeDuration timer that waits for the engine."""


_ENGINE_TIMERS: dict[type, type] = {
    TimeDateEventDefinition: EngineTimeDate,
    DurationTimerEventDefinition: EngineDuration,
}


def _engine_timers(task_specs: Iterator[Any]) -> None:
    """Give each freshly parsed timer catch event the engine's timer class (same fields)."""
    for ts in task_specs:
        event_def = getattr(ts, "event_definition", None)
        engine_class = _ENGINE_TIMERS.get(type(event_def))
        if engine_class is not None:
            replacement: Any = object.__new__(engine_class)
            replacement.__dict__.update(vars(event_def))
            ts.event_definition = replacement


@dataclass(frozen=True)
class UserTaskMeta:
    """What the engine needs to know about one user task spec."""

    name: str
    title: str
    lane: str | None
    form: str | None
    ui_form: str | None
    org_variable: str | None
    user_variable: str | None
    status_expr: str | None
    validator: str | None
    prefill: bool
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadedSpec:
    """A parsed process version: spec objects plus user-task metadata."""

    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    user_tasks: dict[str, UserTaskMeta]
    wait_status: dict[str, str]
    has_timers: bool = False


def validator_names(value: str | None) -> list[str]:
    """The validators a user task names: one or several, separated by spaces or commas."""
    return [n for n in (value or "").replace(",", " ").split() if n]


def parse_xml(data: bytes) -> etree._Element:
    """Parse XML without DTDs, entities or network; refuse DOCTYPE declarations."""
    root = etree.fromstring(data, HARDENED_XML)
    if root.getroottree().docinfo.internalDTD is not None:
        raise ValueError("不允许 DOCTYPE/ENTITY 声明")
    return root


def _meta(task_spec: Any, lanes: dict[str, str]) -> UserTaskMeta:
    props = dict((task_spec.extensions or {}).get("properties") or {})
    return UserTaskMeta(
        name=task_spec.bpmn_id,
        title=task_spec.bpmn_name or task_spec.bpmn_id,
        lane=lanes.get(task_spec.bpmn_id, task_spec.lane),
        form=props.get("formJsonSchemaFilename"),
        ui_form=props.get("formUiSchemaFilename"),
        org_variable=props.get("orgVariable"),
        user_variable=props.get("userVariable"),
        status_expr=props.get("status"),
        validator=props.get("validator"),
        prefill=props.get("prefill", "").lower() == "true",
        properties=props,
    )


def all_task_specs(loaded_spec: Any, subs: dict[str, Any]) -> Iterator[Any]:
    """Every task spec of the process and its subprocesses."""
    for s in [loaded_spec, *[v for v in subs.values() if v is not None]]:
        yield from s.task_specs.values()


def load_spec(process_id: str, root: etree._Element, filename: str) -> LoadedSpec:
    """Build spec objects from an already hardened-parsed BPMN tree (XSD-validated)."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_xml(etree.ElementTree(root), filename)
    spec = parser.get_spec(process_id)
    subs = parser.get_subprocess_specs(process_id)
    _engine_timers(all_task_specs(spec, subs))
    user_tasks: dict[str, UserTaskMeta] = {}
    wait_status: dict[str, str] = {}
    lanes = lane_keys(root)
    for ts in all_task_specs(spec, subs):
        if isinstance(ts, UserTaskMixin):
            user_tasks[ts.bpmn_id] = _meta(ts, lanes)
        elif isinstance(
            getattr(ts, "event_definition", None), TimerEventDefinition | MessageEventDefinition
        ):
            # A waiting catch event may name the status its wait shows (``status`` property).
            props = (getattr(ts, "extensions", None) or {}).get("properties") or {}
            if "status" in props:
                wait_status[ts.bpmn_id] = props["status"]
    has_timers = any(
        isinstance(getattr(ts, "event_definition", None), TimerEventDefinition)
        for ts in all_task_specs(spec, subs)
    )
    return LoadedSpec(process_id, spec, subs, user_tasks, wait_status, has_timers=has_timers)


def make_serializer(lookup: Callable[[str], LoadedSpec]) -> BpmnWorkflowSerializer:
    """A serializer that stores instances without their spec (looked up by key)."""

    class InstanceOnlyConverter(BpmnWorkflowConverter):
        def to_dict(self, wf: ZWorkflow) -> dict:
            dct = WorkflowConverter.to_dict(self, wf)
            dct["spec_key"] = wf.spec_key
            dct["subprocesses"] = self.mapping_to_dict(wf.subprocesses)
            dct["bpmn_events"] = self.registry.convert(wf.bpmn_events)
            return dct

        def from_dict(self, dct: dict) -> ZWorkflow:
            loaded = lookup(dct["spec_key"])
            wf = self.target_class(loaded.spec, loaded.subprocess_specs, deserializing=True)
            wf.spec_key = dct["spec_key"]
            wf.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=wf)
            wf.task_tree = wf.tasks.get(UUID(dct["root"]))
            self.set_default_attributes(wf, dct)
            self.subprocesses_from_dict(dct["subprocesses"], wf)
            wf.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
            return wf

    config = dict(SPIFF_CONFIG)
    config.pop(BpmnWorkflow, None)
    config[ZWorkflow] = InstanceOnlyConverter
    for spiff_class, engine_class in _ENGINE_TIMERS.items():
        config[engine_class] = config[spiff_class]
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def new_workflow(loaded: LoadedSpec, spec_key: str, data: dict, script_engine: Any) -> ZWorkflow:
    """Create an instance with initial data on the root task (not yet advanced)."""
    wf = ZWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=script_engine)
    wf.spec_key = spec_key
    wf.task_tree.data.update(data)
    return wf


def dump(serializer: BpmnWorkflowSerializer, wf: ZWorkflow) -> str:
    """Serialize an instance (without its spec) to JSON text."""
    return serializer.serialize_json(wf)


def load(serializer: BpmnWorkflowSerializer, state: str, script_engine: Any) -> ZWorkflow:
    """Restore an instance and re-attach the script engine (Spiff does not keep it)."""
    wf = serializer.deserialize_json(state)
    wf.script_engine = script_engine
    return wf


def record_error(exc: WorkflowException) -> None:
    """Keep a failing script's message, line and type on its task (survives serialization)."""
    task = getattr(exc, "task", None)
    if task is not None:
        task._set_internal_data(
            error_message=_limit_message(exc) or str(exc),
            error_line=getattr(exc, "line_number", None),
            error_type=getattr(exc, "error_type", None),
        )


def _limit_message(exc: BaseException) -> str | None:
    """The sandbox's own (Chinese) words when a script was stopped for its budget."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ScriptLimitExceeded):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def advance(wf: ZWorkflow) -> None:
    """Run gateways, scripts and subprocess starts until only waits or people remain."""
    wf.do_engine_steps()


def find_task(wf: ZWorkflow, task_id: str) -> Task | None:
    """Find a task by its id string, anywhere in the instance."""
    try:
        return wf.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError, TaskNotFoundException):
        return None


def fire_timer(wf: ZWorkflow, task_id: str) -> bool:
    """Fire one waiting timer now, whatever its due time; False if it is not waiting."""
    task = find_task(wf, task_id)
    if task is None or task.state != TaskState.WAITING:
        return False
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    task._set_internal_data(event_value=past)
    wf.timers_enabled = True
    try:
        task.task_spec._update(task)
    finally:
        wf.timers_enabled = False
    wf.do_engine_steps()
    return True


def latest_data(wf: ZWorkflow) -> dict:
    """The instance's most recent task data (the end state once completed)."""
    if wf.is_completed() and wf.data:
        return wf.data
    if wf.last_task is not None:
        return wf.last_task.data
    return wf.task_tree.data


# Replays run with no registered functions; the environment holds no state, so one will do.
_BARE_ENGINE = script_engine({})


def compact(
    wf: ZWorkflow, now: Snapshot, loaded: LoadedSpec, entry_task: str | None = None
) -> tuple[ZWorkflow | None, str | None]:
    """A history-free copy of an instance that has looped back to its first user task.

    SpiffWorkflow never prunes its task tree, so every return round makes each later step
    slower. When the only thing left is a user task that already ran earlier in this instance
    (the applicant's form after a return), the instance is replayed from its start data up to
    that task, the task gets the current data, and the history lives on in the audit table.
    The replay runs with no registered functions, so no side effect runs twice: a script that
    calls one fails the replay. If the replay fails or does not reach
    the same single task, the instance is kept as it is (None).

    ``entry_task`` is the first user task a replay of this version reaches, when the caller
    learned it before; the answer carries it (learned now, or as given) so the caller can keep
    it. The shared ``loaded`` spec is never written.
    """
    if len(now.ready) != 1 or wf.subprocesses or now.timers or now.errored:
        return None, entry_task
    target = now.ready[0]
    name = target.task_spec.name
    if entry_task not in (None, name):
        return None, entry_task
    if not any(
        t.task_spec.name == name and t.state == TaskState.COMPLETED for t in wf.tasks.values()
    ):
        return None, entry_task
    fresh = new_workflow(loaded, wf.spec_key, dict(wf.task_tree.data), _BARE_ENGINE)
    try:
        advance(fresh)
    except WorkflowException:
        return None, entry_task
    replayed = snapshot(fresh)
    again = replayed.ready
    if entry_task is None and len(again) == 1:
        entry_task = again[0].task_spec.name
    if len(again) != 1 or again[0].task_spec.name != name or replayed.errored:
        return None, entry_task
    if len(fresh.tasks) >= len(wf.tasks):
        return None, entry_task
    again[0].data = deepcopy(target.data)
    fresh.script_engine = wf.script_engine
    return fresh, entry_task
