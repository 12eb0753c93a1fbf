"""Notices: an in-app message plus an SMS on the 12333 channel, written to the outbox in the
caller's transaction and delivered after commit by the notifier."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage import Notification, Org, User


def phone_of(session: Session, user_id: int | None, org_id: str | None) -> str | None:
    """The SMS number of a user, or else of an org."""
    if user_id is not None:
        user = session.get(User, user_id)
        return user.phone if user else None
    org = session.get(Org, org_id) if org_id else None
    return org.phone if org else None


def queue_notice(
    session: Session,
    *,
    now: datetime,
    user_id: int | None,
    org_id: str | None,
    phone: str | None,
    kind: str,
    text: str,
    instance_id: int | None,
    dedup_key: str | None = None,
) -> list[Notification]:
    """Add the in-app message and, where there is a number, the pending SMS (both returned)."""
    common = dict(
        created_at=now,
        user_id=user_id,
        org_id=org_id,
        kind=kind,
        text=text,
        instance_id=instance_id,
    )
    rows = [Notification(channel="inapp", status="delivered", dedup_key=dedup_key, **common)]
    if phone:
        rows.append(
            Notification(
                channel="sms",
                status="pending",
                phone=phone,
                dedup_key=f"{dedup_key}:sms" if dedup_key else None,
                **common,
            )
        )
    session.add_all(rows)
    return rows


def message_user(
    session: Session,
    *,
    now: datetime,
    user_id: int,
    kind: str,
    text: str,
    instance_id: int | None = None,
) -> list[Notification]:
    """An in-app message to one account, without an SMS (hand-offs: 转办, 委派, 抄送)."""
    return queue_notice(
        session,
        now=now,
        user_id=user_id,
        org_id=None,
        phone=None,
        kind=kind,
        text=text,
        instance_id=instance_id,
    )
