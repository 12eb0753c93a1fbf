"""The engine's DTOs as API.md's JSON (and as the dicts the pages render): field names stay
those of the API, whatever the engine calls them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from engine.dtos import (
    ApplicationDetail,
    ApplicationSummary,
    Failure,
    InstanceDetail,
    InstanceSummary,
    ItemOutcome,
)


def application_json(app: ApplicationSummary) -> dict[str, Any]:
    """An application as lists show it (API.md "Application")."""
    out = asdict(app)
    out["chain"] = list(app.chain)
    return out


def application_detail_json(detail: ApplicationDetail) -> dict[str, Any]:
    """One application with tasks, timeline and state (API.md "ApplicationDetail")."""
    out = application_json(detail.summary)
    out.update(
        current_tasks=[t.as_dict() for t in detail.current_tasks],
        timeline=[{**asdict(e), "marks": [dict(m) for m in e.marks]} for e in detail.timeline],
        return_marks=list(detail.return_marks),
        submitted=detail.submitted,
        committee=detail.committee,
        payment=detail.payment,
        paper=detail.paper,
        exceptional_conditions=list(detail.exceptional_conditions),
        publicity_release_at=detail.publicity_release_at,
        can_export_review_form=detail.can_export_review_form,
        can_urge=detail.can_urge,
        cycle=detail.cycle,
        certificate=dict(detail.certificate) if detail.certificate else None,
    )
    return out


def instance_json(inst: InstanceSummary) -> dict[str, Any]:
    """A process instance for operators (API.md "Instance"): the deploy number is "version"."""
    return {
        "id": inst.id,
        "process": inst.process,
        "version": inst.version_number,
        "status": inst.status,
        "application_id": inst.application_id,
        "business_key": inst.business_key,
        "updated_at": inst.updated_at,
        "problem": inst.problem,
        "problems": list(inst.problems),
    }


def instance_detail_json(detail: InstanceDetail) -> dict[str, Any]:
    """One instance with its tasks, timers, data and history (API.md "InstanceDetail")."""
    out = instance_json(detail.summary)
    out.update(
        tasks=[asdict(t) for t in detail.tasks],
        timers=[asdict(t) for t in detail.timers],
        history=[asdict(e) for e in detail.history],
        data=detail.data,
        reset_candidates=list(detail.reset_candidates),
        reset_targets=[dict(t) for t in detail.reset_targets],
        can=asdict(detail.can),
    )
    return out


def _error(failure: Failure, *, with_fields: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"code": failure.code, "message": failure.message}
    if with_fields and failure.fields:
        out["fields"] = dict(failure.fields)
    return out


def task_results_json(outcomes: Iterable[ItemOutcome]) -> list[dict[str, Any]]:
    """Batch completion, one entry per task (API.md "BatchResults")."""
    return [
        {
            "task_id": o.id,
            "ok": o.ok,
            "error": _error(o.failure, with_fields=True) if o.failure else None,
        }
        for o in outcomes
    ]


def bulk_results_json(outcomes: Iterable[ItemOutcome]) -> list[dict[str, Any]]:
    """A bulk operator action, one entry per instance (API.md "BulkResults")."""
    return [
        {"id": o.id, "ok": o.ok, "error": _error(o.failure, with_fields=False)}
        if o.failure
        else {"id": o.id, "ok": o.ok, "result": o.result}
        for o in outcomes
    ]
