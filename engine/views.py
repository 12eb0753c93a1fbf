"""Frozen DTOs the engine hands to the web layer; never Spiff or ORM objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with offset (naive database values are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def jsonable(value: Any) -> Any:
    """Task data made safe for JSON: unknown objects become their text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class Actor:
    """The authenticated caller."""

    id: int
    username: str
    name: str
    role: str
    org_id: str | None
    org_status: str = "active"


@dataclass(frozen=True)
class TaskSummary:
    id: str
    name: str
    title: str
    process: str
    instance_id: str
    application_id: str | None
    org_id: str | None
    created_at: str | None
    lane: str | None = None
    # 转办 / 委派: who transferred it to whom and why; ``stand_in_for`` when acting for them.
    handoff: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TaskDetail:
    summary: TaskSummary
    form: dict[str, Any]
    ui_schema: dict[str, Any] | None
    data: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = self.summary.as_dict()
        out.update(form=self.form, ui_schema=self.ui_schema, data=self.data, context=self.context)
        return out


@dataclass(frozen=True)
class CompleteResult:
    instance_id: str
    status: str
    next_tasks: list[TaskSummary]
    problem: str | None = None
    # The review session a completed ballot task voted in (internal; not in the answer).
    ballot_session_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "status": self.status,
            "next_tasks": [t.as_dict() for t in self.next_tasks],
            "problem": self.problem,
        }
