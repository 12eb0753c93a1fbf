"""The save invariant: state, task index, timers, projection, audit, outbox in ONE commit.

The instance row is written first with a compare-and-swap on ``revision``; when another
request saved in between, nothing of this verb is written and the caller gets 409.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.task import Task
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine import roles, runtime
from engine import save_statements as statements
from engine.errors import ConcurrentUpdateError
from engine.scripts import ScriptLimitExceeded
from engine.workdays import parse_date
from storage import Application, HumanTask, ProcessInstance, TaskTransfer, Timer, rows_changed

log = logging.getLogger(__name__)


@dataclass
class DeployedSpec:
    """A deployed process version as the engine runs it: its parsed spec and forms."""

    id: int
    process_id: str
    number: int
    loaded: runtime.LoadedSpec
    forms: dict[str, Any]


@dataclass(frozen=True)
class Loaded:
    """What a verb read before running an instance forward, so that saving it need not read
    the same rows again: the instance's waits as loaded (its index rows and pending timers),
    its application's status, and whether a task leaving the index may have been transferred.
    """

    waits: runtime.Waits
    application_status: str | None
    transferred: bool


@dataclass(frozen=True)
class Saved:
    """A save's outcome: the instance's status and problem, and the index rows it left."""

    status: str
    problem: str | None
    tasks: list[dict[str, Any]]
    at: datetime  # when it was saved (the new index rows' created_at)


def instance_status(
    wf: runtime.ZWorkflow, now: runtime.Snapshot, current: str
) -> tuple[str, str | None, str | None]:
    """(status, problem, errored task name) derived from the workflow."""
    if current in ("terminated", "suspended"):
        return current, None, None
    if now.errored:
        task = now.errored[0]
        message = task.internal_data.get("error_message") or "task failed"
        return "error", message, task.task_spec.bpmn_id
    if wf.is_completed():
        return "completed", None, None
    if now.ready:
        return "running", None, None
    return "waiting", None, None


def task_row_values(
    task: Task, deployed: DeployedSpec, inst_id: int, app_id: int | None, engine: Any = None
) -> dict:
    """Index columns for one ready user task."""
    meta = deployed.loaded.user_tasks[task.task_spec.bpmn_id]
    org_id = user_id = None
    if meta.lane == roles.APPLICANT_LANE:
        user_id = task.data.get("applicant_user_id")
    elif meta.user_variable:
        # A personal task (an expert's ballot): a variable, or an expression over the task's
        # data, gives the one account that acts.
        user_id = _user_of(meta.user_variable, task.data, engine)
    elif meta.org_variable:
        value = task.data.get(meta.org_variable)
        org_id = str(value) if value is not None else None
    return dict(
        id=str(task.id),
        instance_id=inst_id,
        process_id=deployed.process_id,
        name=meta.name,
        title=meta.title,
        lane=meta.lane,
        org_id=org_id,
        user_id=int(user_id) if user_id is not None else None,
        application_id=app_id,
        form=meta.form,
        ui_form=meta.ui_form,
    )


def _user_of(expr: str, data: dict, engine: Any) -> int | None:
    if expr.isidentifier():
        value = data.get(expr)
    elif engine is None:
        return None
    else:
        try:
            value = engine.environment.evaluate(expr, dict(data))
        except (NameError, TypeError, ValueError, KeyError, AttributeError, IndexError):
            return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _eval_status(expr: str, data: dict, engine: Any) -> str | None:
    env = engine.environment
    try:
        value = env.evaluate(expr, dict(data))
    except (NameError, TypeError, ValueError, KeyError, AttributeError, IndexError):
        # A status expression that does not fit this data leaves the status unchanged.
        return None
    except ScriptLimitExceeded:
        log.warning("status expression stopped by the sandbox: %.80r", expr)
        return None
    return str(value) if value else None


class Saver:
    """Writes one verb's outcome; the caller commits."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    def write_instance(
        self,
        inst: ProcessInstance,
        state: str,
        status: str,
        problem: str | None,
        error_task: str | None,
        read_revision: int,
        version_id: int,
    ) -> None:
        """Compare-and-swap the instance row; ConcurrentUpdateError when it moved."""
        values = {
            "key": inst.id,
            "read": read_revision,
            "new_process_version_id": version_id,
            "new_state": state,
            "new_status": status,
            "new_problem": problem,
            "new_error_task": error_task,
            "new_revision": read_revision + 1,
            "new_updated_at": self.now,
        }
        try:
            changed = rows_changed(self.session, statements.instance_swap(), values)
        except OperationalError as exc:
            # SQLite answers a concurrent writer with "database is locked".
            raise ConcurrentUpdateError("该事项已被他人处理，请刷新后重试") from exc
        if changed != 1:
            raise ConcurrentUpdateError("该事项已被他人处理，请刷新后重试")

    def sync_tasks(self, inst_id: int, ready: list[dict]) -> None:
        """Make the task index hold exactly the ready user tasks of the instance."""
        existing = set(
            self.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == inst_id))
        )
        wanted = {row["id"]: row for row in ready}
        gone = existing - wanted.keys()
        if gone:
            self.session.execute(delete(HumanTask).where(HumanTask.id.in_(gone)))
            # A transfer (转办) ends with its task; a later task of the step is the org's again.
            self.session.execute(delete(TaskTransfer).where(TaskTransfer.task_id.in_(gone)))
        for task_id in wanted.keys() - existing:
            self.session.add(HumanTask(created_at=self.now, **wanted[task_id]))

    def move_tasks(self, before: frozenset[str], ready: list[dict], transferred: bool) -> None:
        """``sync_tasks`` when the index rows are known to be ``before`` (the ready tasks as
        the instance was loaded): delete the gone, insert the new, read nothing."""
        wanted = {row["id"]: row for row in ready}
        gone = sorted(before - wanted.keys())
        new = [{**row, "created_at": self.now} for key, row in wanted.items() if key not in before]
        if gone and (transferred or len(gone) > 1):
            self.session.execute(statements.transfers_gone(), {"ids": gone})
        if len(gone) == 1 and len(new) == 1:
            moved = {f"new_{name}": new[0][name] for name in statements.TASK_COLUMNS}
            self.session.execute(statements.task_moved_on(), {"old_id": gone[0], **moved})
            return
        if gone:
            self.session.execute(statements.tasks_gone(), {"ids": gone})
        if new:
            self.session.execute(statements.tasks_new(), new)

    def move_timers(
        self, inst_id: int, before: frozenset[str], waiting: list[runtime.WaitingTimer]
    ) -> None:
        """``sync_timers`` when the pending rows are known to be ``before``: only what
        changed is written, nothing is read."""
        gone = sorted(before - {t.task_id for t in waiting})
        if gone:
            self.session.execute(statements.timers_gone(), {"key": inst_id, "ids": gone})
        self._add_timers(inst_id, [t for t in waiting if t.task_id not in before])

    def sync_timers(self, inst_id: int, waiting: list[runtime.WaitingTimer]) -> None:
        """Pending timer rows mirror the timers the instance waits on."""
        rows = self.session.scalars(
            select(Timer).where(Timer.instance_id == inst_id, Timer.status == "pending")
        ).all()
        by_task = {t.task_id: t for t in waiting}
        for row in rows:
            if row.task_id not in by_task:
                row.status = "fired" if row.fired_at else "cancelled"
        known = {row.task_id for row in rows}
        self._add_timers(inst_id, [t for t in waiting if t.task_id not in known])

    def _add_timers(self, inst_id: int, timers: list[runtime.WaitingTimer]) -> None:
        """A pending row for each timer the instance now waits on."""
        for timer in timers:
            self.session.add(
                Timer(
                    instance_id=inst_id,
                    task_id=timer.task_id,
                    name=timer.name,
                    due_at=timer.due_at,
                    status="pending",
                    created_at=self.now,
                )
            )

    def project_application(
        self,
        app_id: int,
        wf: runtime.ZWorkflow,
        deployed: DeployedSpec,
        inst_status: str,
        now: runtime.Snapshot,
    ) -> tuple[str | None, str | None]:
        """Update the application's status, stage, chain; return (before, after) status."""
        app = self.session.get(Application, app_id)
        if app is None:
            return None, None
        before = app.status
        for key, value in self._projection(wf, deployed, inst_status, now, before).items():
            setattr(app, key, value)
        return before, app.status

    def update_application(
        self,
        app_id: int,
        before: str,
        wf: runtime.ZWorkflow,
        deployed: DeployedSpec,
        inst_status: str,
        now: runtime.Snapshot,
    ) -> str:
        """``project_application`` when the application's status was read already (``before``)
        and its row is not in the session: one UPDATE. The status after is answered."""
        values = self._projection(wf, deployed, inst_status, now, before)
        stmt = statements.application_update(frozenset(values))
        self.session.execute(stmt, {"key": app_id, **{f"new_{k}": v for k, v in values.items()}})
        return str(values["status"])

    def _projection(
        self,
        wf: runtime.ZWorkflow,
        deployed: DeployedSpec,
        inst_status: str,
        now: runtime.Snapshot,
        current: str,
    ) -> dict[str, Any]:
        """The application's columns the instance decides: status, stage, chain ..."""
        ready = now.ready if inst_status != "terminated" else []
        status, stage = self._app_status(wf, deployed, inst_status, now, current)
        values: dict[str, Any] = {"status": status, "stage": stage, "updated_at": self.now}
        data = ready[0].data if ready else wf.last_task.data if wf.last_task else {}
        if isinstance(data.get("exceptional"), bool):
            values["exceptional"] = data["exceptional"]
        if data.get("review_chain"):
            values["chain"] = list(data["review_chain"])
        if isinstance(data.get("publicity_end"), str):
            with contextlib.suppress(ValueError):
                values["publicity_end"] = parse_date(data["publicity_end"])
        return values

    @staticmethod
    def _app_status(
        wf: runtime.ZWorkflow,
        deployed: DeployedSpec,
        inst_status: str,
        now: runtime.Snapshot,
        current: str,
    ) -> tuple[str, str | None]:
        if inst_status == "terminated":
            return "terminated", None
        if wf.is_completed():
            outcome = (wf.last_task.data if wf.last_task else {}).get("outcome") or wf.data.get(
                "outcome"
            )
            # The end state's outcome names the status (rejected, withdrawn, completed).
            return (str(outcome) if outcome else "completed"), None
        for task in now.ready:
            meta = deployed.loaded.user_tasks[task.task_spec.bpmn_id]
            if meta.status_expr:
                value = _eval_status(meta.status_expr, task.data, wf.script_engine)
                if value:
                    return value, meta.name
        for timer in now.timers:
            expr = deployed.loaded.wait_status.get(timer.name)
            task = runtime.find_task(wf, timer.task_id)
            value = _eval_status(expr, task.data, wf.script_engine) if expr and task else None
            if value:
                return value, timer.name
        for task in now.messages:
            expr = deployed.loaded.wait_status.get(task.task_spec.bpmn_id)
            value = _eval_status(expr, task.data, wf.script_engine) if expr else None
            if value:
                return value, task.task_spec.bpmn_id
        return current, None
