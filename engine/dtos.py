"""Frozen DTOs for applications, process instances, timelines and batch results.

The engine answers with these; web turns them into API.md's JSON (web/answers.py) and the
pages read them through the same JSON. Times are ISO 8601 strings, ids strings, as in the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import EngineError
from engine.views import TaskSummary


# ----- applications --------------------------------------------------------------------
@dataclass(frozen=True)
class Party:
    """A person or org an application names (its applicant, its unit)."""

    id: str | None
    name: str | None


@dataclass(frozen=True)
class ApplicationSummary:
    """One application as lists show it."""

    id: str
    status: str
    stage: str | None
    series: str
    level: str
    specialty: str
    applicant: Party
    unit: Party
    chain: tuple[str, ...]
    instance_id: str
    publicity_end: str | None
    review_form: Mapping[str, Any] | None
    exceptional: bool
    created_at: str | None
    updated_at: str | None


@dataclass(frozen=True)
class TimelineEntry:
    """One recorded decision on an application."""

    at: str | None
    actor: str | None
    org: str | None
    action: str
    task: str | None
    opinion: str | None
    reason: str | None
    status_after: str | None
    marks: tuple[Mapping[str, Any], ...]
    checks: Mapping[str, Any] | None
    note: str | None = None  # 转办 / 抄送 / 委派: to whom, or on whose behalf (Chinese)


@dataclass(frozen=True)
class ApplicationDetail:
    """One application with its current tasks, timeline, form values, fee and paper state."""

    summary: ApplicationSummary
    current_tasks: tuple[TaskSummary, ...]
    timeline: tuple[TimelineEntry, ...]
    return_marks: tuple[Mapping[str, Any], ...]
    submitted: Mapping[str, Any]
    committee: Mapping[str, Any] | None
    payment: Mapping[str, Any] | None
    paper: Mapping[str, Any] | None
    exceptional_conditions: tuple[Any, ...]
    publicity_release_at: str | None
    can_export_review_form: bool
    can_urge: bool
    cycle: Mapping[str, Any] | None = None  # the annual cycle (申报年度) it was filed in
    # The 职称证书 once issued (engine/certificate_issue.py certificate_of), else None.
    certificate: Mapping[str, Any] | None = None


# ----- process instances (operators) ---------------------------------------------------
@dataclass(frozen=True)
class InstanceSummary:
    """One process instance as the operators' list shows it, with what is wrong with it."""

    id: str
    process: str
    version_number: int  # the deploy number of the version it runs on
    status: str
    application_id: str | None
    business_key: str | None
    updated_at: str | None
    problems: tuple[str, ...]

    @property
    def problem(self) -> str | None:
        """The problems in one line (None when there are none)."""
        return "；".join(self.problems) or None


@dataclass(frozen=True)
class InstanceTask:
    """A task of the instance that is ready, waiting, started or failed."""

    id: str
    name: str
    title: str | None
    state: str
    error: str | None


@dataclass(frozen=True)
class InstanceTimer:
    id: str
    name: str
    due_at: str | None
    status: str
    overdue: bool


@dataclass(frozen=True)
class HistoryEntry:
    """One audit event of an instance."""

    at: str | None
    actor: str | None
    action: str
    task: str | None
    opinion: str | None
    reason: str | None
    detail: Mapping[str, Any] | None


@dataclass(frozen=True)
class OperatorActions:
    """Which operator actions fit an instance's status."""

    retry: bool
    reset: bool
    suspend: bool
    resume: bool
    terminate: bool
    migrate: bool


@dataclass(frozen=True)
class InstanceDetail:
    summary: InstanceSummary
    tasks: tuple[InstanceTask, ...]
    timers: tuple[InstanceTimer, ...]
    history: tuple[HistoryEntry, ...]
    data: Mapping[str, Any]
    reset_candidates: tuple[str, ...]
    reset_targets: tuple[Mapping[str, str], ...]  # user tasks to go back to, with titles
    can: OperatorActions


# ----- batch results -------------------------------------------------------------------
@dataclass(frozen=True)
class Failure:
    """Why one item of a batch failed: the engine error's code, message and fields."""

    code: str
    message: str
    fields: Mapping[str, str]

    @classmethod
    def of(cls, exc: EngineError) -> Failure:
        return cls(exc.code, exc.message, dict(exc.fields))


@dataclass(frozen=True)
class ItemOutcome:
    """One item of a batch (a task completed, an instance operated on): done or why not."""

    id: str
    ok: bool
    failure: Failure | None = None
    result: Mapping[str, Any] | None = None
