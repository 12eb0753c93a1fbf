"""Completing one user task: the path every reviewer's decision takes.

One statement reads the task's index row, its instance, its holder (转办) and its
application's status; the form is checked; the task runs and the instance runs forward; the
save then writes only what changed (the instance's compare-and-swap, the index rows that
came and went, the timers only when they moved, the application in one UPDATE, the audit
event) and the answer is built from the rows written, not read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import ballots, forms, marks, runtime
from engine.clock import CHINA_TZ
from engine.errors import ConflictError, TaskNotReadyError
from engine.files import check_file_refs
from engine.persist import DeployedSpec, Loaded
from engine.queries import task_to_complete
from engine.views import Actor, CompleteResult, TaskSummary, iso
from storage import HumanTask, User

if TYPE_CHECKING:
    from engine.process_runtime import ProcessRuntime

CLOSED = ("suspended", "terminated", "completed", "error")  # no task completes in these


def complete_task(
    process: ProcessRuntime, session: Session, task_id: str, data: Mapping[str, Any], actor: Actor
) -> CompleteResult:
    """Validate and complete one ready user task, run forward, save (the caller commits)."""
    now = process.clock()
    found = task_to_complete(session, task_id, actor, today=now.astimezone(CHINA_TZ).date())
    row, inst = found.row, found.instance
    if inst.status in CLOSED:
        raise ConflictError(
            "流程实例已挂起、出错或已结束，暂不能办理任务", code="instance_" + inst.status
        )
    read_revision = inst.revision
    deployed = process.deployed_spec(session, inst.process_version_id)
    meta = deployed.loaded.user_tasks[row.name]
    schema = deployed.forms.get(meta.form or "", {})
    if not isinstance(data, Mapping):
        forms.check(schema, data)
    wf = process.load(session, inst)
    task = runtime.find_task(wf, task_id)
    if task is None or task.state != TaskState.READY:
        raise TaskNotReadyError("该任务已处理，不能重复提交")
    waits = runtime.waits_of(wf)
    # A prefilled form keeps its current values for fields the caller leaves out.
    current = forms.prefill(schema, task.data) if meta.prefill else {}
    data = forms.with_defaults(schema, {**current, **data})
    forms.check(schema, data)
    check_file_refs(session, schema, data, actor)
    # Validators also see the application's data; the form's own fields come only from
    # this submission, never from an earlier step's values of the same names.
    own = schema.get("properties") or {}
    context = {**{k: v for k, v in task.data.items() if k not in own}, **data}
    validators = runtime.validator_names(meta.validator)
    files = process.files.files_of(deployed) if validators else {}
    for name in validators:
        process.validators[name](session, context, schema, meta.properties, files)
    if "marks" in own:
        _take_marks(process, deployed, task.data, data)
    ballot_session = None
    if meta.properties.get("ballot") == "true":
        # A secret ballot: the vote leaves the workflow here (engine/ballots.py).
        ballot_session = ballots.record_vote(
            session, task.data, inst.application_id, actor.id, data
        )
        data = dict(ballots.CAST)
    task.data.update(dict(data))
    try:
        task.run()
    except WorkflowException as exc:
        runtime.record_error(exc)
    else:
        process.advance(wf)
    audit = [process.event(actor, inst, str(data.get("decision") or row.name), row, data)]
    if found.holder_id is not None and found.holder_id != actor.id:
        # A stand-in (委派) completes the transferred task of its holder.
        absent = session.get_one(User, found.holder_id)
        behalf = {"on_behalf_of": absent.username, "on_behalf_of_name": absent.name}
        audit[0].detail = {**(audit[0].detail or {}), **behalf}
    loaded = Loaded(waits, found.application_status, found.holder_id is not None)
    saved = process.save(
        session, inst, wf, deployed, read_revision=read_revision, audit=audit, loaded=loaded
    )
    return CompleteResult(
        str(inst.id),
        saved.status,
        _next_tasks(session, saved.tasks, waits.ready, iso(saved.at)),
        saved.problem,
        ballot_session_id=ballot_session,
    )


def _next_tasks(
    session: Session, rows: list[dict[str, Any]], before: frozenset[str], now: str | None
) -> list[TaskSummary]:
    """The instance's ready tasks after the save, as the API shows them: the new ones from
    the rows just written, those that were ready already with their own creation time."""
    kept = [row["id"] for row in rows if row["id"] in before]
    created = (
        dict(
            session.execute(
                select(HumanTask.id, HumanTask.created_at).where(HumanTask.id.in_(kept))
            ).all()
        )
        if kept
        else {}
    )
    return [
        TaskSummary(
            id=row["id"],
            name=row["name"],
            title=row["title"],
            process=row["process_id"],
            instance_id=str(row["instance_id"]),
            application_id=None if row["application_id"] is None else str(row["application_id"]),
            org_id=row["org_id"],
            created_at=iso(created[row["id"]]) if row["id"] in created else now,
            lane=row["lane"],
        )
        for row in rows
    ]


def _take_marks(
    process: ProcessRuntime,
    deployed: DeployedSpec,
    current: Mapping[str, Any],
    data: dict[str, Any],
) -> None:
    """Check a review's marks (422 on ``marks``) and label them; a return also keeps the
    version it returned (the applicant's form values and the dossier) for the diff."""
    submission = process.files.submission_form(deployed)
    data["marks"] = marks.check(
        data.get("marks"), current, submission, process.files.dossier_form(deployed)
    )
    if data.get("decision") == "return":
        data["returned_version"] = marks.roots(current, submission)
