"""Helpers of engine/read_models.py: subjects of worklist rows, names of business keys,
a dossier's or entrustment's last decision."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from engine.ids import parse_id
from engine.views import iso
from storage import Application, AuditEvent, Dossier, Org, ProcessInstance, User


def _application_subjects(session: Any, app_ids: set[int]) -> dict[int, dict[str, Any]]:
    rows = session.execute(
        select(
            Application.id,
            Application.series,
            Application.level,
            Application.specialty,
            Application.chain,
            Application.exceptional,
            User.name,
        )
        .join(User, User.id == Application.applicant_id)
        .where(Application.id.in_(app_ids))
    )
    return {
        row.id: {
            "applicant": row.name,
            "subject": f"{row.series} · {row.level} · {row.specialty}",
            # the top of the review chain: its approval ends the review (no 审核推荐)
            "last_level": (list(row.chain or []) or [None])[-1],
            "exceptional": bool(row.exceptional),
        }
        for row in rows
    }


def _business_key_names(session: Any, keys: Iterable[str | None]) -> dict[str, str]:
    """business_key -> a readable name: dossier-<id> is its applicant, a unit id its name."""
    present = {k for k in keys if k}
    dossiers = {
        n for k in present if k.startswith("dossier-") and (n := parse_id(k[8:])) is not None
    }
    names: dict[str, str] = {}
    for dossier_id, name in session.execute(
        select(Dossier.id, User.name)
        .join(User, User.id == Dossier.user_id)
        .where(Dossier.id.in_(dossiers))
    ):
        names[f"dossier-{dossier_id}"] = f"{name} 的业绩档案"
    for org_id, name in session.execute(select(Org.id, Org.name).where(Org.id.in_(present))):
        names[org_id] = name
    return names


def _last_decision(
    session: Any, process_id: str, business_key: str, task_name: str
) -> dict[str, Any] | None:
    event = session.scalars(
        select(AuditEvent)
        .join(ProcessInstance, ProcessInstance.id == AuditEvent.instance_id)
        .where(
            ProcessInstance.process_id == process_id,
            ProcessInstance.business_key == business_key,
            AuditEvent.task_name == task_name,
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).first()
    if event is None:
        return None
    detail = event.detail or {}
    return {
        "at": iso(event.at),
        "actor": event.actor_name,
        "action": event.action,
        "opinion": event.opinion,
        "reason": event.reason or detail.get("reject_reason") or detail.get("return_reason"),
        "marks": [m for m in detail.get("marks") or [] if isinstance(m, dict)],
    }


def _entrustment_state(org_status: str, under_review: bool, last: dict[str, Any] | None) -> str:
    """pending, under_review, rejected or active."""
    if org_status == "active":
        return "active"
    if under_review:
        return "under_review"
    if last is not None and last["action"] == "reject":
        return "rejected"
    return "pending"
