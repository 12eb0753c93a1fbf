"""The statements every save and every completion sends, built once with bind parameters.

Building a SQLAlchemy statement (and its cache key) costs more than running a small one on
SQLite, so the hot path of a reviewer's decision reuses these; each run only binds values.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Delete,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    case,
    delete,
    insert,
    select,
    update,
)

from storage import Application, HumanTask, ProcessInstance, TaskTransfer, Timer


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


@cache
def task_to_complete() -> Select[HumanTask, ProcessInstance, int, str]:
    """A task's index row, its instance, holder (转办) and application status: ``task_id``."""
    return (
        select(HumanTask, ProcessInstance, TaskTransfer.holder_id, Application.status)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .outerjoin(TaskTransfer, TaskTransfer.task_id == HumanTask.id)
        .outerjoin(Application, Application.id == ProcessInstance.application_id)
        .where(HumanTask.id == bindparam("task_id"))
    )


SWAPPED = (
    "process_version_id",
    "state",
    "status",
    "problem",
    "error_task",
    "revision",
    "updated_at",
)


@cache
def instance_swap() -> Update:
    """The instance's compare-and-swap on ``revision``: ``key``, ``read`` and ``new_<column>``
    for each column of SWAPPED."""
    table = _table(ProcessInstance)
    return (
        update(table)
        .where(table.c.id == bindparam("key"), table.c.revision == bindparam("read"))
        .values({name: bindparam(f"new_{name}") for name in SWAPPED})
    )


@cache
def tasks_gone() -> Delete:
    """Index rows by id: ``ids``."""
    table = _table(HumanTask)
    return delete(table).where(table.c.id.in_(bindparam("ids", expanding=True)))


@cache
def transfers_gone() -> Delete:
    """Transfers (转办) of tasks by id: ``ids``."""
    table = _table(TaskTransfer)
    return delete(table).where(table.c.task_id.in_(bindparam("ids", expanding=True)))


@cache
def tasks_new() -> Insert:
    """Index rows (one parameter set each)."""
    return insert(_table(HumanTask))


TASK_COLUMNS = (
    "id",
    "instance_id",
    "process_id",
    "name",
    "title",
    "lane",
    "org_id",
    "user_id",
    "application_id",
    "form",
    "ui_form",
    "created_at",
)


@cache
def task_moved_on() -> Update:
    """One index row becomes the next task's (``old_id``; ``new_<column>`` for each of
    TASK_COLUMNS): a step that hands over to one next step writes one statement, not two."""
    table = _table(HumanTask)
    return (
        update(table)
        .where(table.c.id == bindparam("old_id"))
        .values({name: bindparam(f"new_{name}") for name in TASK_COLUMNS})
    )


@cache
def timers_gone() -> Update:
    """An instance's pending timers by task id (``key``, ``ids``): fired or cancelled."""
    table = _table(Timer)
    return (
        update(table)
        .where(
            table.c.instance_id == bindparam("key"),
            table.c.status == "pending",
            table.c.task_id.in_(bindparam("ids", expanding=True)),
        )
        .values(status=case((table.c.fired_at.is_(None), "cancelled"), else_="fired"))
    )


@cache
def application_update(columns: frozenset[str]) -> Update:
    """The application's row by ``key``, setting these columns (bound by their names)."""
    table = _table(Application)
    return (
        update(table)
        .where(table.c.id == bindparam("key"))
        .values({name: bindparam(f"new_{name}") for name in sorted(columns)})
    )
