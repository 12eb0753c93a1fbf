"""Tasks: worklists from the task index, one task with its form, completing tasks."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select

from engine import eligibility, forms, marks, roles, runtime
from engine.clock import CHINA_TZ, Clock
from engine.designer_files import DesignerFiles
from engine.dtos import Failure, ItemOutcome
from engine.errors import (
    ConcurrentUpdateError,
    EngineError,
    InvalidDataError,
)
from engine.handoff_state import stands_in_for, with_handoffs
from engine.ids import parse_id
from engine.policy import task_filter_for
from engine.process_runtime import ProcessRuntime
from engine.queries import last_return_marks, ready_task_row, summary_of, with_mark_choices
from engine.views import Actor, CompleteResult, TaskDetail, TaskSummary, jsonable
from storage import HumanTask, ProcessInstance, TaskTransfer, UnitOfWorkFactory

if TYPE_CHECKING:
    from engine.ballot_close import BallotClose

# Attempts at one completion when another task of the same instance moved it meanwhile
# (parallel ballots of one application), with a short random pause between them.
RETRIES = 8
RETRY_PAUSE = 0.02


class Tasks:
    """What a user sees of their work, and completing it (one transaction per task)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        runtime: ProcessRuntime,
        files: DesignerFiles,
        *,
        clock: Clock,
        ballot_close: BallotClose | None = None,
    ) -> None:
        self._uow = uow_factory
        self.runtime = runtime
        self.files = files
        self.clock = clock
        self.ballot_close = ballot_close

    def list_tasks(
        self,
        actor: Actor,
        *,
        name: str | None = None,
        application: str | None = None,
        process: str | None = None,
        org: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[TaskSummary], int]:
        """Ready tasks the actor may complete, newest last; served from the index only.

        The page is read in (created_at, id) order off the worklist indexes; the total is
        counted only when the page does not tell it (a full page, or an empty later one)."""
        flt = task_filter_for(actor)
        if not flt["lanes"]:
            return [], 0
        lanes = flt["lanes"]
        # One lane (every role but a few) as an equality: the index then yields the order.
        lane = HumanTask.lane == lanes[0] if len(lanes) == 1 else HumanTask.lane.in_(lanes)
        conds: list[ColumnElement[bool]] = [lane]
        today = self.clock().astimezone(CHINA_TZ).date()
        if "user_id" in flt:
            conds.append(HumanTask.user_id == flt["user_id"])
        else:
            conds.append(HumanTask.org_id == flt["org_id"])
        if name:
            conds.append(HumanTask.name == name)
        if process:
            conds.append(HumanTask.process_id == process)
        if org:
            conds.append(HumanTask.org_id == org)
        if application:
            key = parse_id(application)
            if key is None:
                raise InvalidDataError("申报编号格式不正确", fields={"application": "应为申报编号"})
            conds.append(HumanTask.application_id == key)
        with self._uow() as uow:
            if "org_id" in flt:
                # 转办: a transferred task is only its holder's (and its stand-in's, 委派).
                mine = [actor.id, *stands_in_for(uow.session, actor.id, today)]
                others = select(TaskTransfer.task_id).where(TaskTransfer.holder_id.not_in(mine))
                conds.append(HumanTask.id.not_in(others))
            rows = uow.session.scalars(
                select(HumanTask)
                .where(*conds)
                .order_by(HumanTask.created_at, HumanTask.id)
                .limit(limit)
                .offset(offset)
            ).all()
            if rows and len(rows) < limit:
                total = offset + len(rows)  # the last page: nothing after it
            elif not rows and not offset:
                total = 0
            else:
                count = select(func.count()).select_from(HumanTask).where(*conds)
                total = int(uow.session.scalar(count) or 0)
            items = with_handoffs(uow.session, [summary_of(r) for r in rows], actor)
            return items, total

    def get_task(self, task_id: str, actor: Actor) -> TaskDetail:
        """One ready task with its form, UI schema and current values."""
        with self._uow() as uow:
            session = uow.session
            today = self.clock().astimezone(CHINA_TZ).date()
            row = ready_task_row(session, task_id, actor, to_act=False, today=today)
            inst = session.get_one(ProcessInstance, row.instance_id)
            deployed = self.runtime.deployed_spec(session, inst.process_version_id)
            meta = deployed.loaded.user_tasks[row.name]
            schema = deployed.forms.get(meta.form or "", {})
            ui = deployed.forms.get(meta.ui_form) if meta.ui_form else None
            wf = self.runtime.load(session, inst, scripts=False)
            task = runtime.find_task(wf, task_id)
            data: dict[str, Any] = task.data if task is not None else {}
            values = forms.prefill(schema, data) if meta.prefill else {}
            context = {k: v for k, v in data.items() if k not in (schema.get("properties") or {})}
            returned = context.pop("returned_version", None)
            submission = self.files.submission_form(deployed)
            if "marks" in (schema.get("properties") or {}):
                schema = with_mark_choices(
                    schema, marks.options(data, submission, self.files.dossier_form(deployed))
                )
                if isinstance(returned, dict):
                    context["changes_since_return"] = marks.changes(
                        returned, data, submission, self.files.dossier_form(deployed)
                    )
            context["return_marks"] = last_return_marks(session, instance_id=inst.id)
            if isinstance(data.get("dossier"), dict) and row.lane != roles.APPLICANT_LANE:
                today = self.clock().astimezone(CHINA_TZ).date()
                rules = self.files.eligibility_rules(deployed)
                found = eligibility.hints(rules, data["dossier"], data, today)
                binding = {h["check"] for h in eligibility.blocking(rules, found, data)}
                waived = eligibility.waived(rules, data)
                for hint in found:
                    hint["binding"] = hint["check"] in binding
                    hint["waived"] = hint["check"] in waived
                context["hints"] = found
            (summary,) = with_handoffs(session, [summary_of(row)], actor)
            return TaskDetail(summary, schema, ui, values, jsonable(context))

    def complete(self, task_id: str, data: Mapping[str, Any], *, actor: Actor) -> CompleteResult:
        """Validate and complete one ready user task, run forward, save: one commit."""
        for attempt in range(RETRIES):
            try:
                with self._uow() as uow:
                    result = self.runtime.complete(uow.session, task_id, data, actor)
                    if result.ballot_session_id is not None and self.ballot_close is not None:
                        self.ballot_close.vote_cast(uow.session, result.ballot_session_id)
                    uow.commit()
                return result
            except ConcurrentUpdateError:
                # Another task of the same instance was completed meanwhile (parallel ballots):
                # try again on the new state; a task no longer ready then answers 409 itself.
                if attempt == RETRIES - 1:
                    raise
                time.sleep(random.uniform(0, RETRY_PAUSE * (attempt + 1)))
        raise AssertionError("unreachable")

    def complete_many(
        self, task_ids: Iterable[str], data: Mapping[str, Any], *, actor: Actor
    ) -> list[ItemOutcome]:
        """Complete several tasks with the same data; each succeeds or fails on its own."""
        results = []
        for task_id in task_ids:
            try:
                self.complete(str(task_id), data, actor=actor)
            except EngineError as exc:
                results.append(ItemOutcome(str(task_id), False, failure=Failure.of(exc)))
            else:
                results.append(ItemOutcome(str(task_id), True))
        return results
