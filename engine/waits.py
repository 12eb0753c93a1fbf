"""What an instance waits on: ready user tasks, waiting timers and messages, errored tasks.

One walk of the task tree (``snapshot``) that saving, status and the timer index share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState


@dataclass(frozen=True)
class WaitingTimer:
    task_id: str
    name: str
    due_at: datetime


def _waiting_timer(task: Task) -> WaitingTimer | None:
    event_def = getattr(task.task_spec, "event_definition", None)
    value = task._get_internal_data("event_value")
    if not isinstance(event_def, TimerEventDefinition) or not isinstance(value, str):
        return None
    due = datetime.fromisoformat(value)
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    return WaitingTimer(str(task.id), task.task_spec.bpmn_id, due.astimezone(UTC))


@dataclass(frozen=True)
class Snapshot:
    """What an instance waits on, from one walk of its task tree."""

    ready: list[Task]  # ready user tasks, subprocesses included
    timers: list[WaitingTimer]  # timer catch events waiting, with their due time
    errored: list[Task]
    messages: list[Task] = field(default_factory=list)  # message catch events waiting


def snapshot(wf: Any) -> Snapshot:
    """Ready user tasks, waiting timers and errored tasks of an instance."""
    ready: list[Task] = []
    timers: list[WaitingTimer] = []
    errored: list[Task] = []
    messages: list[Task] = []
    for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR):
        if task.state == TaskState.ERROR:
            errored.append(task)
        elif task.state == TaskState.READY and task.task_spec.manual:
            ready.append(task)
        elif task.state == TaskState.WAITING and (timer := _waiting_timer(task)) is not None:
            timers.append(timer)
        elif task.state == TaskState.WAITING and isinstance(
            getattr(task.task_spec, "event_definition", None), MessageEventDefinition
        ):
            messages.append(task)
    return Snapshot(ready, timers, errored, messages)


@dataclass(frozen=True)
class Waits:
    """The ids of what an instance waits on, without order: its ready user tasks (the task
    index rows saved with it) and its waiting timers (its pending timer rows)."""

    ready: frozenset[str]
    timers: frozenset[str]


def waits_of(wf: Any) -> Waits:
    """``Waits`` of an instance, from its task dictionaries (cheaper than ``snapshot``'s walk
    of the task tree, which also puts the tasks in order)."""
    ready: set[str] = set()
    timers: set[str] = set()
    for tasks in (wf.tasks, *(sp.tasks for sp in wf.subprocesses.values())):
        for task in tasks.values():
            if task.state == TaskState.READY and task.task_spec.manual:
                ready.add(str(task.id))
            elif task.state == TaskState.WAITING and _waiting_timer(task) is not None:
                timers.add(str(task.id))
    return Waits(frozenset(ready), frozenset(timers))


def waiting_message(wf: Any, name: str) -> Task | None:
    """The message catch event of this message name that the instance waits on, if any."""
    for task in wf.get_tasks(state=TaskState.WAITING):
        event_def = getattr(task.task_spec, "event_definition", None)
        if isinstance(event_def, MessageEventDefinition) and event_def.name == name:
            return task
    return None


__all__ = ["Snapshot", "WaitingTimer", "Waits", "snapshot", "waiting_message", "waits_of"]
