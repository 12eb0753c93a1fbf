"""Audit events: who did what, when, with which opinion; appended, never changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.errors import InvalidDataError
from engine.views import Actor
from storage import AuditEvent


def audit_event(now: datetime, actor: Actor | None, action: str, **fields: Any) -> AuditEvent:
    """An event by an actor (or the system when None); ``fields`` are AuditEvent columns."""
    fields.setdefault("org_id", actor.org_id if actor else None)
    return AuditEvent(
        at=now,
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else "系统",
        action=action,
        **fields,
    )


def require_reason(reason: Any) -> str:
    """The trimmed reason of an operator or designer action; 422 when missing."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidDataError(
            "请填写操作原因 (reason required)", fields={"reason": "必填 (required)"}
        )
    return reason.strip()
