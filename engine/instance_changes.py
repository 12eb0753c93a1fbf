"""What an operator's action changes beside the workflow: the retry's data diff, a dossier
returned to draft when its review is terminated."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.notices import phone_of, queue_notice
from engine.views import jsonable
from storage import Dossier


def data_changes(
    task_name: str, before: Mapping[str, Any], merged: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The keys a retry changes in one task's data, each with its old and new value."""
    return [
        {
            "task": task_name,
            "key": str(key),
            "old": jsonable(before.get(key)),
            "new": jsonable(value),
            "was_set": key in before,
        }
        for key, value in merged.items()
        if key not in before or before[key] != value
    ]


def reopen_dossier(session: Session, instance_id: int, now: datetime) -> dict | None:
    """Return the dossier this review instance holds to draft; notify its applicant."""
    dossier = session.scalars(
        select(Dossier).where(Dossier.instance_id == instance_id, Dossier.status == "submitted")
    ).first()
    if dossier is None:
        return None
    dossier.status, dossier.updated_at = "draft", now
    queue_notice(
        session,
        now=now,
        user_id=dossier.user_id,
        org_id=None,
        phone=phone_of(session, dossier.user_id, None),
        kind="dossier_reopened",
        text="您的业绩档案审核已由平台运维人员终止，档案已退回为草稿状态，"
        "您可以修改后重新提交单位审核。",
        instance_id=instance_id,
    )
    return {"id": dossier.id, "before": "submitted", "after": "draft"}
